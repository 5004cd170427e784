"""salesrules: a rules engine for sales operations, built as a plugin framework."""

__version__ = "0.1.0"

#: Version of the hook contract. A plugin may declare the contract it was
#: written against; the loader refuses plugins written for a newer major.
HOOK_CONTRACT = "1.0"

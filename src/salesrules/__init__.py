"""salesrules: a rules engine for sales operations, built as a plugin framework."""

__version__ = "0.1.0"

#: Version of the hook contract. A plugin may declare the contract it was
#: written against; the loader refuses plugins written for a newer major.
HOOK_CONTRACT = "2.0"

#: Older contract majors whose plugins still load, with a deprecation note.
SUPPORTED_CONTRACTS = ("1",)

"""``python -m salesrules.cli``: the same as the ``salesrules`` command."""

from . import entry

entry()

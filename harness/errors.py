"""The one exception type for mistakes a user can fix.

The CLI turns a ``UserError`` into a one-paragraph message on stderr and exit
status 2, with no traceback; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class UserError(Exception):
    """Bad input from the user: the message names the file, the field and the fix."""

    exit_code = 2


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """A " Did you mean 'x'?" suffix for an unknown name, or "" when nothing is close."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""

"""The exception types for mistakes a user can fix, and the findings of ``ladder verify``.

The CLI turns a ``UserError`` into a one-paragraph message on stderr and exit
status 2 (1 for ``Damaged``, a stored file that is broken), with no traceback;
anything else is a bug and keeps its traceback. ``Problem`` is one finding of
``ladder verify``, which lists them rather than stopping at the first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class UserError(Exception):
    """Bad input from the user: the message names the file, the field and the fix."""

    exit_code = 2


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """A " Did you mean 'x'?" suffix for an unknown name, or "" when nothing is close."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""


class Damaged(UserError):
    """A stored file (results, ledger, stored forecast) that is unreadable, torn or changed: exit status 1.

    The message names the file, what is wrong with it and the repair; nothing
    is written when one is raised.
    """

    exit_code = 1


@dataclass(frozen=True)
class Problem:
    """One finding of ``ladder verify``: the file, and one paragraph saying what is wrong with it and the repair."""

    path: Path
    message: str

    @classmethod
    def of(cls, path: Path, what: str, repair: str) -> Problem:
        """``'path' what. repair``: ``what`` is the words after the file name ("line 3 is not JSON")."""
        return cls(path, f"'{path}' {what}. {repair}")

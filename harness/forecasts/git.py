"""A git repository read through the ``git`` command: the few questions a check of a proposed change asks of it.

No git library: the ``git`` program is what CI and every contributor already have. Every answer is read from
commits (``git show REF:path``, ``git diff``, ``git log``), not from the working folder, so a check judges exactly
what was committed.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UserError

CHANGED = {"A": "added", "M": "modified", "D": "deleted", "T": "changed in type"}


@dataclass(frozen=True)
class Repo:
    """The repository whose work tree is ``root``."""

    root: Path

    @classmethod
    def around(cls, folder: Path) -> Repo:
        """The repository holding ``folder`` (or its nearest existing parent); ``UserError`` if there is none."""
        probe = folder.resolve()
        while not probe.is_dir() and probe != probe.parent:
            probe = probe.parent
        found = _git(probe, "rev-parse", "--show-toplevel", ok=(0, 128))
        if found.returncode != 0:
            raise UserError(
                f"'{folder}' is not inside a git repository. Run the command in a clone of the benchmark, or give "
                "--predictions inside one."
            )
        return cls(Path(found.stdout.decode().strip()).resolve())

    def inside(self, folder: Path) -> str:
        """``folder`` as a path inside the repository, with forward slashes ("predictions")."""
        target = folder.resolve()
        if not target.is_relative_to(self.root) or target == self.root:
            raise UserError(f"'{folder}' is not a folder inside the repository '{self.root}'; give --predictions DIR.")
        return target.relative_to(self.root).as_posix()

    def run(self, *args: str, ok: tuple[int, ...] = (0,)) -> bytes:
        """``git ARGS`` in the repository; its standard output."""
        return _git(self.root, *args, ok=ok).stdout

    def commit(self, ref: str, option: str) -> str:
        """The full hash of the commit ``ref`` names; ``UserError`` naming ``option`` if it names none."""
        found = _git(self.root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", ok=(0, 1, 128))
        if found.returncode != 0:
            raise UserError(
                f"{option} '{ref}' is not a commit in '{self.root}'. Fetch it first (git fetch origin); in CI, check "
                "out the full history (actions/checkout with fetch-depth: 0)."
            )
        return found.stdout.decode().strip()

    def show(self, commit: str, path: str) -> bytes | None:
        """The bytes of ``path`` in ``commit``; None when the commit has no such file."""
        if _git(self.root, "cat-file", "-e", f"{commit}:{path}", ok=(0, 1, 128)).returncode != 0:
            return None
        return self.run("cat-file", "blob", f"{commit}:{path}")

    def files(self, commit: str, *folders: str) -> list[str]:
        """The paths of every file under ``folders`` in ``commit``."""
        listed = self.run("ls-tree", "-r", "-z", "--name-only", commit, "--", *folders)
        return [p for p in listed.decode().split("\0") if p]

    def changes(self, base: str, head: str) -> list[tuple[str, str]]:
        """(status letter, path) of every file ``head`` changed since it left ``base`` (``git diff base...head``)."""
        fields = self.run("diff", "--name-status", "--no-renames", "-z", f"{base}...{head}").decode().split("\0")
        return [(fields[i][0], fields[i + 1]) for i in range(0, len(fields) - 1, 2)]

    def merge_base(self, a: str, b: str) -> str | None:
        found = _git(self.root, "merge-base", a, b, ok=(0, 1))
        return found.stdout.decode().strip() or None

    def is_ancestor(self, a: str, b: str) -> bool:
        """Whether commit ``a`` is ``b`` or one of its ancestors."""
        return _git(self.root, "merge-base", "--is-ancestor", a, b, ok=(0, 1)).returncode == 0

    def merging(self) -> str | None:
        """The commit being merged into the work tree (a ``git merge`` stopped on a conflict), if any."""
        found = _git(self.root, "rev-parse", "--verify", "--quiet", "MERGE_HEAD", ok=(0, 1, 128))
        return found.stdout.decode().strip() or None

    def conflicted(self, path: str) -> bool:
        """Whether ``path`` has an unresolved merge conflict in the work tree."""
        return bool(self.run("ls-files", "--unmerged", "--", path).strip())

    def last_change(self, commit: str, paths: list[str]) -> tuple[str, dt.datetime] | None:
        """(hash, committer time) of the newest commit in ``commit``'s history that touched any of ``paths``."""
        line = self.run("log", "-1", "--format=%H %cI", commit, "--", *paths).decode().strip()
        if not line:
            return None
        sha, when = line.split(" ", 1)
        return sha, dt.datetime.fromisoformat(when)


def _git(where: Path, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[bytes]:
    try:
        # Paths are taken literally: a ladder's name in a ledger line is never a pathspec pattern.
        env = {**os.environ, "GIT_LITERAL_PATHSPECS": "1"}
        done = subprocess.run(["git", "-C", str(where), *args], capture_output=True, check=False, env=env)
    except FileNotFoundError:
        raise UserError("The 'git' command is not installed; install git and run this again.") from None
    if done.returncode not in ok:
        raise UserError(f"'git {' '.join(args)}' failed in '{where}': {done.stderr.decode(errors='replace').strip()}")
    return done

"""Forecasts by pull request: a proposed change checked against its base, and re-chained after another landed.

``check`` is what CI runs on a pull request (``ladder check-change --base REF``). It reads both sides from git
commits, never from the working folder, and reports every problem at once:

- every stored forecast the change adds (``predictions/<ladder>/<forecaster>-<sha16>.yaml|json``) is recorded
  by one of the ledger's new lines, with its sha256, and validates against the ladders of the change itself;
  each line agrees with its file (forecaster, ladder, hash, track, name);
- the ledger only grew: the base's ledger, byte for byte, begins the new one, and the new one's hash chain holds
  (``ledger.scan_data``, the same check as ``ladder ledger verify``);
- nothing under ``results/`` changed, no round under ``rounds/`` changed or went (a new one may be added, with
  its blind forecasts), and no stored forecast the base holds changed or went;
- no new line is dated in the future (more than ``SKEW`` ahead of this machine's clock) or before what was
  already public about its ladder: the newest commit of the base that touched the ladder's file or results. A
  forecast dated before its ladder's results were published could claim to be blind; one dated before a
  forecast merged meanwhile cannot, which is why parallel pull requests both land.

``rebase`` is what the author of a pull request runs when another forecast was merged first: it writes the
base's ledger followed by this branch's own lines, re-chained onto it, each line's file and time unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.errors import Problem, UserError
from harness.files import atomic_write, sha256_bytes
from harness.forecasts.git import CHANGED, Repo
from harness.forecasts.ledger import LEDGER, RESERVED, STORED_NAME, Entry, Migration, Scan, chain, lock, scan_data
from harness.forecasts.schema import load_forecast
from harness.ladders.ladder import BUILTIN_IN_REPO, NAME_PATTERN, ladder_folders

# A forecast's time comes from its author's clock; CI's may differ by this much without the time being called
# "in the future".
SKEW = dt.timedelta(minutes=5)
HEADER = ("forecaster", "ladder", "ladder_hash", "track", "revealed_up_to")


@dataclass(frozen=True)
class Checked:
    """What ``check`` found: every problem, the new submissions, and the commits compared."""

    problems: list[Problem]
    added: list[Entry]
    others: list[str]  # files changed outside the record (code, docs): not checked here, for a reviewer
    base: str
    head: str


@dataclass(frozen=True)
class Change:
    """One proposed change as ``check`` sees it: the repository, the predictions folder in it, both commits."""

    repo: Repo
    predictions: str  # the predictions folder inside the repository, "predictions"
    base_ref: str  # as the user wrote it, for messages and fixes
    base: str
    head: str

    @property
    def ledger(self) -> str:
        return f"{self.predictions}/{LEDGER}"


def check(predictions: Path, base_ref: str, now: dt.datetime | None = None) -> Checked:
    """Check the change from ``base_ref`` to HEAD of the repository holding ``predictions``."""
    repo = Repo.around(predictions)
    base, head = repo.commit(base_ref, "--base"), repo.commit("HEAD", "HEAD")
    change = Change(repo, repo.inside(predictions), base_ref, base, head)
    old, new = (repo.show(commit, change.ledger) for commit in (change.base, change.head))
    if old is None and new is None:
        raise _no_ledger(change.ledger, base_ref)
    old, new = old or b"", new or b""
    problems, added, others = _paths(change)
    found, kept = _growth(change, old, new)
    problems += found
    scanned = scan_data(new, Path(change.ledger))
    if scanned.problem is not None:
        again = f"In this change: git checkout {base_ref} -- {change.ledger}, then submit again what it adds."
        problems.append(Problem(scanned.problem.path, f"{scanned.problem.message} {again}"))
    fresh = [(number, record) for number, record in enumerate(scanned.records, 1) if number > kept]
    problems += _submissions(change, fresh, added, now or dt.datetime.now(dt.UTC))
    entries = [record for _, record in fresh if isinstance(record, Entry)]
    return Checked(problems, entries, others, change.base, change.head)


def _paths(change: Change) -> tuple[list[Problem], set[str], list[str]]:
    """Problems of the files the change touches outside the ledger, the stored forecasts it adds, and the files it
    changes outside the record."""
    problems, added, others = [], set(), []
    for status, path in change.repo.changes(change.base, change.head):
        what, undo = f"is {CHANGED.get(status, 'changed')} by this change", _undo(change, status, path)
        top = path.split("/", 1)[0]
        if top == "results":
            problems.append(Problem.of(Path(path), f"{what}; a forecast's change never touches measured results", undo))
        elif top == "rounds" and status != "A":
            problems.append(Problem.of(Path(path), f"{what}; rounds are never changed once drawn", undo))
        elif path.startswith(change.predictions + "/") and path != change.ledger:
            parts = path[len(change.predictions) + 1 :].split("/")
            stored = len(parts) == 2 and STORED_NAME.match(parts[1]) is not None
            if status != "A":
                problems.append(Problem.of(Path(path), f"{what}; stored forecasts are immutable", undo))
            elif not stored:
                problems.append(
                    Problem.of(
                        Path(path),
                        f"{what} but is not a stored forecast: only {LEDGER} and <ladder>/<forecaster>-<sha16>.yaml "
                        f"or .json, written by 'ladder submit', belong in {change.predictions}/",
                        f"Move it out of {change.predictions}/ (git rm --cached {path}).",
                    )
                )
            else:
                added.add(path)
        elif path == change.ledger and status == "D":
            problems.append(Problem.of(Path(path), f"{what}; the ledger is append-only", undo))
        elif top not in ("results", "rounds") and path != change.ledger:
            others.append(path)
    return problems, added, others


def _undo(change: Change, status: str, path: str) -> str:
    if status == "A":
        return f"Leave it out of this change: git rm --cached {path}, then commit."
    return f"Restore it: git checkout {change.base_ref} -- {path}, then commit."


def _growth(change: Change, old: bytes, new: bytes) -> tuple[list[Problem], int]:
    """Whether the base's ledger begins the new one; the problem if not, and how many lines count as the base's."""
    if new.startswith(old):
        return [], old.count(b"\n")
    ref, path = change.base_ref, change.ledger
    fork = change.repo.merge_base(change.base, change.head)
    forked = change.repo.show(fork, path) or b"" if fork else None
    if forked is not None and old.startswith(forked) and new.startswith(forked):
        merged = old.count(b"\n") - forked.count(b"\n")
        what = (
            f"does not begin with {ref}'s ledger: {ref} gained {merged} line{'s' * (merged != 1)} since this branch "
            "left it (forecasts merged meanwhile), and this branch's new lines follow the older ledger"
        )
        fix = (
            f"Re-chain them onto {ref}'s: git merge {ref} (a conflict in {path} is expected), ladder ledger rebase "
            f"--onto {ref}, git add {path}, git commit; every stored forecast and its time stay as they are."
        )
        return [Problem.of(Path(path), what, fix)], forked.count(b"\n")
    olds, news = old.splitlines(keepends=True), new.splitlines(keepends=True)
    same = next((i for i, (a, b) in enumerate(zip(olds, news)) if a != b), min(len(olds), len(news)))
    how = "differs from" if same < len(news) else "is missing; it was"
    what = (
        f"line {same + 1} {how} {ref}'s line {same + 1}: the ledger is append-only, and no earlier line may change, "
        "be removed or move"
    )
    fix = f"Restore {ref}'s lines: git checkout {ref} -- {path}, then submit again what this change adds."
    return [Problem.of(Path(path), what, fix)], len(olds) if len(news) >= len(olds) else same


def _submissions(
    change: Change, fresh: list[tuple[int, Entry | Migration]], added: set[str], now: dt.datetime
) -> list[Problem]:
    """Problems of the ledger's new lines and of the stored forecasts they record (or that nothing records)."""
    problems, recorded = [], set()
    with tempfile.TemporaryDirectory() as scratch:
        snapshot = Path(scratch)
        for path in change.repo.files(change.head, BUILTIN_IN_REPO, "rounds"):  # the ladders as this change has them
            folder, _, name = path.rpartition("/")
            if folder in (BUILTIN_IN_REPO, "rounds") and name.endswith(".yaml"):
                atomic_write(snapshot / path, change.repo.show(change.head, path) or b"")
        with ladder_folders(snapshot / BUILTIN_IN_REPO, snapshot / "rounds"):
            for number, record in fresh:
                line = f"line {number}"
                if isinstance(record, Migration):
                    what = f"{line} is a migration record; a change may add only submissions (ladder submit)"
                    problems.append(Problem.of(Path(change.ledger), what, "Remove it."))
                    continue
                misnamed = _misnamed(change, line, record)
                if misnamed is not None:  # a path nothing else may touch (it could lead out of the folder)
                    problems.append(misnamed)
                    continue
                recorded.add(f"{change.predictions}/{record.file}")
                problems += _submission(change, line, record, added, snapshot)
                problems += _times(change, line, record, now)
    for path in sorted(added - recorded):
        what = "is a stored forecast that no new ledger line records"
        problems.append(Problem.of(Path(path), what, "Submit it with 'ladder submit FILE' and commit the ledger line."))
    return problems


def _submission(change: Change, line: str, entry: Entry, added: set[str], snapshot: Path) -> list[Problem]:
    """Problems of one new ledger line and its stored copy as the change holds it."""
    ledger, path = Path(change.ledger), f"{change.predictions}/{entry.file}"
    data = change.repo.show(change.head, path)
    if data is None:
        what = f"{line} records {path}, which this change does not hold"
        return [Problem.of(ledger, what, f"Commit it: git add {path}.")]
    problems = []
    if sha256_bytes(data) != entry.sha256:
        what = f"{line} records sha256 {entry.sha256[:12]} for {path}, whose sha256 is {sha256_bytes(data)[:12]}"
        problems.append(Problem.of(ledger, what, "Stored forecasts are immutable: submit the file again instead."))
    if path not in added:
        what = f"{line} records {path}, which {change.base_ref} already holds; a stored forecast is recorded once"
        problems.append(Problem.of(ledger, what, "Remove the line."))
    if RESERVED.get(entry.forecaster, "forecaster") != entry.kind:
        what = f"{line} is of kind '{entry.kind}' for forecaster '{entry.forecaster}'"
        problems.append(Problem.of(ledger, what, "Only the built-in forecasters' names are baselines or oracles."))
    copy = snapshot / path
    atomic_write(copy, data)
    try:
        forecast, _ = load_forecast(copy)
    except UserError as exc:  # every problem of the file, against the ladders of this change
        return [*problems, Problem(Path(path), str(exc).replace(f"{snapshot}/", ""))]
    for field in HEADER:
        mine, theirs = getattr(entry, field), getattr(forecast, field)
        if mine != theirs:
            what = f"{line} has {field} {mine!r}, but its file {path} says {theirs!r}"
            problems.append(Problem.of(ledger, what, "Submit the file with 'ladder submit' rather than by hand."))
    return problems


def _misnamed(change: Change, line: str, entry: Entry) -> Problem | None:
    """A problem if the line's file is not ``<ladder>/<forecaster>-<sha16>.yaml|json`` of its own fields."""
    ext = entry.file.rsplit(".", 1)[-1]
    named = f"{entry.ladder}/{entry.forecaster}-{entry.sha256[:16]}.{ext}"
    parts = entry.file.split("/")
    if entry.file == named and re.match(NAME_PATTERN, entry.ladder) and len(parts) == 2 and STORED_NAME.match(parts[1]):
        return None
    what = f"{line} names its file {entry.file!r}, not <ladder>/<forecaster>-<sha256[:16]>.yaml|json of its fields"
    return Problem.of(Path(change.ledger), what, "Submit the file with 'ladder submit' rather than by hand.")


def _times(change: Change, line: str, entry: Entry, now: dt.datetime) -> list[Problem]:
    """A new line's time: not ahead of now (give or take ``SKEW``), not before its ladder's public record."""
    ledger = Path(change.ledger)
    try:
        at = dt.datetime.fromisoformat(entry.submitted_at)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        what = f"{line} has submitted_at {entry.submitted_at!r}, not an ISO 8601 time with its zone"
        return [Problem.of(ledger, what, "Submit the file with 'ladder submit' rather than by hand.")]
    if at > now + SKEW:
        what = (
            f"{line} was submitted at {entry.submitted_at}, in the future: later than now "
            f"({now.isoformat(timespec='seconds')}) plus {SKEW.seconds // 60} minutes of clock skew"
        )
        return [Problem.of(ledger, what, "Set the clock right, remove the line and its file, and submit again.")]
    # The ladder's file wherever it has lived: the built-ins were in ladders/ before they moved into the package.
    folders = ("rounds", BUILTIN_IN_REPO, "ladders")
    public = change.repo.last_change(
        change.base, [f"results/{entry.ladder}", *(f"{folder}/{entry.ladder}.yaml" for folder in folders)]
    )
    if public is not None and at < public[1]:
        sha, when = public
        what = (
            f"{line} was submitted at {entry.submitted_at}, before {change.base_ref} made ladder '{entry.ladder}' "
            f"public as it is now (commit {sha[:12]}, {when.isoformat()}): a forecast cannot be dated before what "
            "it could have seen"
        )
        fix = f"Remove the line and its file (git checkout {change.base_ref} -- {change.ledger}), then submit again."
        return [Problem.of(ledger, what, fix)]
    return []


@dataclass(frozen=True)
class Rebased:
    """What ``rebase`` wrote: the ledger's path, the base's line count, this branch's lines, and whether it changed."""

    path: Path
    base_lines: int
    moved: list[Entry]
    changed: bool


def rebase(predictions: Path, onto_ref: str) -> Rebased:
    """Write the ledger of ``onto_ref`` followed by this branch's own submissions, re-chained onto it.

    The branch's own lines are the entries of HEAD's ledger that ``onto_ref``'s ledger does not hold (by sha256
    and forecaster); each keeps every field, its time included, and its stored file is untouched. ``onto_ref``
    must be merged into HEAD or being merged (a ``git merge`` stopped on the ledger's conflict), so that the
    result also holds the stored forecasts of the lines it gained.
    """
    repo = Repo.around(predictions)
    path = f"{repo.inside(predictions)}/{LEDGER}"
    onto, head = repo.commit(onto_ref, "--onto"), repo.commit("HEAD", "HEAD")
    merging = repo.merging()
    if not repo.is_ancestor(onto, head) and not (merging and repo.is_ancestor(onto, merging)):
        raise UserError(
            f"'{onto_ref}' is not merged into this branch. Run 'git merge {onto_ref}' first (a conflict in {path} is "
            f"expected; this command resolves it), then 'ladder ledger rebase --onto {onto_ref}' again."
        )
    if repo.show(onto, path) is None and repo.show(head, path) is None:
        raise _no_ledger(path, onto_ref)
    theirs = _intact(repo.show(onto, path) or b"", path, onto_ref)
    mine = _intact(repo.show(head, path) or b"", path, "HEAD")
    known = {_key(r) for r in theirs.records}
    own = [r for r in mine.records if _key(r) not in known]
    if any(isinstance(r, Migration) for r in own):
        raise UserError(f"HEAD's {path} holds a migration line that {onto_ref}'s does not; only submissions move.")
    result = (repo.show(onto, path) or b"") + b"".join(chain(own, theirs.head))
    target = repo.root / path
    current = target.read_bytes() if target.is_file() else None
    rebased = Rebased(target, len(theirs.records), own, current != result)
    if current == result:
        return rebased
    if current is not None and current != repo.show(head, path) and not repo.conflicted(path):
        raise UserError(
            f"'{target}' has changes that are not committed; commit them first (git add {path}, git commit), then "
            "run this again: the lines re-chained are those of HEAD."
        )
    with lock(target.parent):
        atomic_write(target, result)
    return rebased


def _no_ledger(path: str, ref: str) -> UserError:
    return UserError(
        f"Neither {ref} nor HEAD has {path}: run the command at the root of a clone of the benchmark, or give "
        "--predictions DIR, the predictions folder inside it."
    )


def _key(record: Entry | Migration) -> object:
    """What makes a line the same submission on both sides: its file's sha256 and forecaster (a migration: itself)."""
    return (record.sha256, record.forecaster) if isinstance(record, Entry) else record


def _intact(data: bytes, path: str, where: str) -> Scan:
    scanned = scan_data(data, Path(path))
    if scanned.problem is not None:
        raise UserError(f"In {where}: {scanned.problem.message}")
    return scanned

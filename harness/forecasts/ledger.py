"""The submission ledger: immutable copies of prediction files and a hash-chained, append-only log.

``predictions/ledger.jsonl`` is the record that makes a forecast provably
blind: it says when a file with a given sha256 was submitted and whether any
measured result of its ladder existed at that moment. The stored copy
``predictions/<ladder>/<forecaster>-<sha256[:16]>.<ext>`` is written once and
never replaced.

Tamper evidence. Every line is one record in canonical JSON (sorted keys) with
two hashes: ``prev``, the ``hash`` of the line before it (``GENESIS`` for the
first line), and ``hash``, the sha256 of the line's own canonical JSON without
``hash``. Changing any byte of a line breaks its own hash; rewriting a line and
its hash breaks the next line's ``prev``; deleting or reordering lines breaks
the chain where it happened. Only the newest line has no successor to vouch for
it: its hash is the ledger's head, which ``ladder ledger verify`` prints, and
the committed ledger in version control anchors it.

Torn writes. A line is appended with one write ending in its newline, under a
file lock, then synced, so a crash leaves either the whole line or a tail
without a newline. Readers refuse such a torn tail with a clear message, and
``repair`` removes it, re-recording first any stored copy that no complete line
describes (the copy is written before its line), so a complete line is never
touched.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from filelock import FileLock
from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config

from harness.errors import Damaged, Problem, UserError
from harness.files import atomic_write, sha256_bytes, sha256_file
from harness.forecasts.schema import Forecast, dump, load_forecast, read_stored
from harness.ladders.ladder import Ladder, load_ladder
from harness.training.store import ResultsStore

LEDGER = "ledger.jsonl"
GENESIS = "0" * 64  # the ``prev`` of the first line
Kind = Literal["forecaster", "baseline", "oracle"]
# Names the built-in forecasters submit under; nobody else may use them.
RESERVED = {
    "uninformed": "baseline", "extrapolator": "baseline", "two-step": "baseline", "progress": "baseline",
    "template-prior": "baseline", "oracle": "oracle",
}  # fmt: skip
STORED_NAME = re.compile(r"^(?P<forecaster>[a-z0-9][a-z0-9_-]*)-(?P<sha>[0-9a-f]{16})\.(yaml|json)$")
RESTORE = "Restore it from version control (git checkout -- {path}) or from a backup."


STRICT = ConfigDict(extra="forbid", strict=True)  # a ledger line's fields, exactly, with their JSON types


@with_config(STRICT)
@dataclass(frozen=True)
class Entry:
    """One submission: what was stored, when, and whether it was blind."""

    sha256: str
    submitted_at: str  # UTC, ISO 8601
    forecaster: str
    ladder: str
    ladder_hash: str
    track: str
    revealed_up_to: str | None
    file: str  # the stored copy, relative to the predictions folder
    results_existed: bool  # measured results of this ladder version existed at submission
    blind: bool  # nothing measured existed: the forecast cannot have seen the truth
    kind: Kind


@with_config(STRICT)
@dataclass(frozen=True)
class Migration:
    """The ledger was rewritten into the hash-chained format: how many entries, and the old file's sha256."""

    at: str  # UTC, ISO 8601
    entries: int
    old_sha256: str
    note: str


RECORDS = {"submission": Entry, "migration": Migration}
ADAPTERS = {name: TypeAdapter(cls) for name, cls in RECORDS.items()}


@dataclass(frozen=True)
class Scan:
    """A ledger file read line by line: its records up to the first problem, and that problem."""

    records: list[Entry | Migration]
    head: str  # the hash of the last good line (GENESIS when there is none)
    good_bytes: int  # length of the prefix of good, complete lines
    problem: Problem | None
    torn: bytes | None  # the unfinished last line, when that is the (only) problem
    whole: bool = False  # the unfinished line is a valid next line that lacks only its newline


def line_for(record: Entry | Migration, prev: str) -> tuple[bytes, str]:
    """The canonical ledger line (with its newline) of ``record`` following the line hashed ``prev``, and its hash."""
    body = {"type": _type_of(record), **asdict(record), "prev": prev}
    body["hash"] = sha256_bytes(_canonical(body))
    return _canonical(body) + b"\n", body["hash"]


def chain(records: list[Entry | Migration], prev: str) -> list[bytes]:
    """The lines of ``records`` in order, the first following the line hashed ``prev``."""
    lines = []
    for record in records:
        line, prev = line_for(record, prev)
        lines.append(line)
    return lines


def scan(predictions: Path) -> Scan:
    """Read and check ``predictions/ledger.jsonl`` up to its first problem (an absent ledger is empty and fine)."""
    path = predictions / LEDGER
    return scan_data(path.read_bytes() if path.exists() else b"", path)


def scan_data(data: bytes, path: Path) -> Scan:
    """Check the bytes of a ledger (read from disk, or from a git commit) up to the first problem; ``path`` names
    the file in messages."""
    records, prev, offset = [], GENESIS, 0
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]  # the part after the last newline is empty unless a write was torn
    for number, raw in enumerate(complete, start=1):
        try:
            record, prev = _check_line(raw, prev)
        except _BadLine as bad:
            problem = Problem.of(path, f"line {number} {bad.what}", bad.repair or RESTORE.format(path=path))
            return Scan(records, prev, offset, problem, None)
        records.append(record)
        offset += len(raw) + 1
    if tail:
        number = len(complete) + 1
        try:
            _check_line(tail, prev)
        except _BadLine:
            what = f"ends in an unfinished line {number} ({len(tail)} bytes, no newline), left by an interrupted write"
            repair = "Run 'ladder verify --repair' to remove it (a stored forecast it described is recorded first)."
            return Scan(records, prev, offset, Problem.of(path, what, repair), tail)
        what = f"line {number} is complete but lacks its final newline"
        repair = "Run 'ladder verify --repair' to add it."
        return Scan(records, prev, offset, Problem.of(path, what, repair), tail, whole=True)
    return Scan(records, prev, offset, None, None)


def lock(predictions: Path) -> FileLock:
    """The ledger's lock: every append and rewrite holds it. One object per folder in a process, so a caller that
    holds it (``ladder round new``, creating a round and submitting its forecasts as one step) may submit inside."""
    return FileLock(predictions / ".ledger.lock", timeout=60, is_singleton=True)


def read_ledger(predictions: Path) -> list[Entry]:
    """Every submission in the ledger, oldest first; ``Damaged`` if the ledger is torn or its chain is broken."""
    return _entries(_intact(predictions))


def _intact(predictions: Path) -> Scan:
    """The ledger's scan; ``Damaged`` naming its first problem if it has one."""
    result = scan(predictions)
    if result.problem is not None:
        raise Damaged(result.problem.message)
    return result


def _entries(result: Scan) -> list[Entry]:
    return [r for r in result.records if isinstance(r, Entry)]


def submit(
    path: Path, predictions: Path, out: Path, forecaster: str | None = None, kind: Kind = "forecaster"
) -> tuple[Entry, bool]:
    """Validate and record one prediction file; returns its entry and whether it is new.

    ``forecaster`` renames the forecast (the stored copy is then rewritten with
    that name). The same content by the same forecaster is recorded once.
    ``out`` is the results folder that says whether results of the ladder exist.
    """
    forecast, ladder = load_forecast(path)
    data = path.read_bytes()
    ext = "json" if path.suffix.lower() == ".json" else "yaml"
    if forecaster is not None and forecaster != forecast.forecaster:
        forecast = _renamed(forecast, forecaster, path)
        data = dump(forecast, ext)
    return add(forecast, ladder, data, ext, predictions, out, kind)


def add(
    forecast: Forecast,
    ladder: Ladder,
    data: bytes,
    ext: Literal["yaml", "json"],
    predictions: Path,
    out: Path,
    kind: Kind,
) -> tuple[Entry, bool]:
    """Store ``data`` (the file of ``forecast``) and append its ledger line, unless already recorded."""
    expected = RESERVED.get(forecast.forecaster, "forecaster")
    if kind == "forecaster" and expected != kind:
        raise UserError(
            f"Forecaster name '{forecast.forecaster}' is reserved for the built-in baselines ({', '.join(RESERVED)}); "
            "pick another with --forecaster NAME."
        )
    if expected != kind:
        raise ValueError(f"a {kind} forecast must use its reserved name, not '{forecast.forecaster}'")
    sha = sha256_bytes(data)
    predictions.mkdir(parents=True, exist_ok=True)
    with lock(predictions):
        ledger = _intact(predictions)
        for entry in _entries(ledger):
            if entry.sha256 == sha and entry.forecaster == forecast.forecaster:
                return entry, False
        copy = _inside(predictions, Path(ladder.name) / f"{forecast.forecaster}-{sha[:16]}.{ext}")
        if not copy.exists():
            atomic_write(copy, data)
        entry = _entry(forecast, sha, copy, predictions, out, kind, ladder)
        with open(predictions / LEDGER, "ab") as file:
            file.write(line_for(entry, ledger.head)[0])  # one write ending in the newline: a crash leaves a torn tail
            file.flush()
            os.fsync(file.fileno())
    return entry, True


def stored(predictions: Path, entry: Entry) -> Forecast:
    """An entry's stored copy, read back; it was valid when submitted, so a failure here means it was tampered with."""
    problem = _stored_problem(predictions, entry)
    if problem is not None:
        raise Damaged(problem.message)
    return read_stored(predictions / entry.file)


def problems(predictions: Path) -> list[Problem]:
    """Everything wrong with the ledger and the stored forecasts: the chain's first break, then each bad copy.

    A stored copy that no ledger line records is a problem too: it was written by
    a submission whose line never landed.
    """
    result = scan(predictions)
    found = [result.problem] if result.problem is not None else []
    entries = _entries(result)
    found += [p for p in (_stored_problem(predictions, e) for e in entries) if p is not None]
    if result.problem is None or result.torn is not None:
        for copy in orphans(predictions, entries):
            found.append(
                Problem.of(
                    copy,
                    "is a stored forecast that no ledger line records (its submission was interrupted)",
                    "Run 'ladder verify --repair' to record it now (marked blind only if no results exist now), "
                    "or delete it.",
                )
            )
    return found


def orphans(predictions: Path, entries: list[Entry]) -> list[Path]:
    """Stored copies under ``predictions/<ladder>/`` that no entry names."""
    named = {e.file for e in entries}
    return sorted(
        path
        for path in predictions.glob("*/*")
        if STORED_NAME.match(path.name) and path.relative_to(predictions).as_posix() not in named
    )


def repair(predictions: Path, out: Path) -> list[str]:
    """Make a ledger whose only problem is a torn tail or an unrecorded stored copy whole again; what was done.

    Complete lines are kept byte for byte. Each stored copy without a line is
    recorded now, with the time of the repair (its own submission time was lost
    with the torn line), and is blind only if no results of its ladder exist now.
    Anything else (a broken chain, a tampered copy) is refused: history cannot be
    repaired, only restored.
    """
    done: list[str] = []
    with lock(predictions):
        result = scan(predictions)
        if result.problem is not None and result.torn is None:
            raise Damaged(result.problem.message)
        path = predictions / LEDGER
        kept, prev = path.read_bytes()[: result.good_bytes], result.head
        records = list(result.records)
        if result.whole:  # a line that lacks only its newline is history: keep it
            record, prev = _check_line(result.torn, prev)
            kept += result.torn + b"\n"
            records.append(record)
        entries = [r for r in records if isinstance(r, Entry)]
        new = [_re_record(copy, predictions, out) for copy in orphans(predictions, entries)]
        if result.torn is None and not new:
            return done
        atomic_write(path, kept + b"".join(chain(new, prev)))
        if result.whole:
            done.append(f"added the missing newline after the last line of {path}")
        elif result.torn is not None:
            done.append(f"removed the unfinished last line of {path} ({len(result.torn)} bytes)")
        done += [f"recorded {predictions / e.file}, which no ledger line described, at {e.submitted_at}" for e in new]
    return done


def migrate(predictions: Path, now: dt.datetime | None = None) -> int:
    """Rewrite a ledger of the format before the hash chain into the chained format; how many entries it held.

    Every entry keeps its fields and its time, in its order; a last ``migration``
    line records the count and the sha256 of the old file, so the rewrite itself
    stays on the record. A ledger already chained is left alone (returns 0).
    """
    path = predictions / LEDGER
    with lock(predictions):
        if not path.exists() or scan(predictions).problem is None:
            return 0
        old = path.read_bytes()
        entries = []
        for number, raw in enumerate(old.decode("utf-8").splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                entries.append(ADAPTERS["submission"].validate_json(raw))
            except ValidationError as exc:
                raise Damaged(
                    f"'{path}' line {number} is neither a chained ledger line nor an entry of the format before the "
                    f"chain ({_first_error(exc)}), so it cannot be migrated. {RESTORE.format(path=path)}"
                ) from None
        at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
        note = "hash chain added: every entry above kept its fields, time and order"
        records = [*entries, Migration(at=at, entries=len(entries), old_sha256=sha256_bytes(old), note=note)]
        atomic_write(path, b"".join(chain(records, GENESIS)))
    return len(entries)


def head(predictions: Path) -> str:
    """The hash of the ledger's newest good line: publish it to pin the whole history."""
    return scan(predictions).head


class _BadLine(Exception):
    """What is wrong with one complete line (the words after "line N"), and the repair when it is not a restore."""

    def __init__(self, what: str, repair: str | None = None) -> None:
        super().__init__(what)
        self.what, self.repair = what, repair


def _check_line(raw: bytes, prev: str) -> tuple[Entry | Migration, str]:
    """The record of one complete line that follows the line hashed ``prev``, and its own hash; ``_BadLine`` if not."""
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise _BadLine("is not JSON (the file was edited or damaged)") from None
    if not isinstance(body, dict):
        raise _BadLine(f"holds {type(body).__name__}, not a ledger record")
    if "prev" not in body and "type" not in body:
        raise _BadLine("predates the hash chain", "Run 'ladder ledger migrate' once to add the chain.")
    kind = body.pop("type", None)
    if kind not in RECORDS:
        raise _BadLine(f"has type {kind!r}; a ledger line is one of {sorted(RECORDS)}")
    body.pop("hash", None)
    line_prev = body.pop("prev", None)
    try:
        record = ADAPTERS[kind].validate_json(json.dumps(body))
    except ValidationError as exc:
        raise _BadLine(f"is not a valid {kind} record ({_first_error(exc)})") from None
    if line_prev != prev:
        raise _BadLine(
            "does not follow the line before it (its 'prev' is not that line's hash): a line was deleted, moved or "
            "rewritten"
        )
    expected, own = line_for(record, prev)
    if raw + b"\n" != expected:  # the same record after the same line always gives the same bytes
        raise _BadLine("does not match its own hash (it was edited after it was written)")
    return record, own


def _stored_problem(predictions: Path, entry: Entry) -> Problem | None:
    path = predictions / entry.file
    if not path.is_file():
        return Problem.of(
            path, f"is missing; the ledger records it (sha256 {entry.sha256[:12]})", RESTORE.format(path=path)
        )
    if sha256_file(path) != entry.sha256:
        return Problem.of(
            path,
            f"no longer matches its ledger hash {entry.sha256[:12]}; stored forecasts are immutable",
            RESTORE.format(path=path),
        )
    return None


def _re_record(copy: Path, predictions: Path, out: Path) -> Entry:
    """An entry for a stored copy that lost its ledger line, at the time of now."""
    copy = copy.resolve()
    match = STORED_NAME.match(copy.name)
    sha = sha256_file(copy)
    if match is None or not sha.startswith(match["sha"]):
        raise Damaged(
            f"'{copy}' is named like a stored forecast but its sha256 {sha[:16]} does not match its name; it is not "
            "a copy this tool wrote. Move it out of the predictions folder, then repair again."
        )
    forecast = read_stored(copy)
    try:
        ladder = load_ladder(forecast.ladder)
    except UserError:
        ladder = None
    kind: Kind = RESERVED.get(forecast.forecaster, "forecaster")  # type: ignore[assignment]
    return _entry(forecast, sha, copy, predictions, out, kind, ladder)


def _entry(
    forecast: Forecast, sha: str, copy: Path, predictions: Path, out: Path, kind: Kind, ladder: Ladder | None
) -> Entry:
    """The entry of a stored copy made now; results count as existing unless the forecast's ladder proves otherwise.

    Blind here means no result existed and no training of the version had started in ``out``; scoring judges
    it again against the start recorded with the results it scores (``harness.forecasts.blindness``).
    """
    store = None if ladder is None or ladder.hash != forecast.ladder_hash else ResultsStore.of(ladder, out)
    existed = store is None or store.exists()
    started = store is not None and store.training_started()[0] is not None
    return Entry(
        sha256=sha,
        submitted_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        forecaster=forecast.forecaster,
        ladder=forecast.ladder,
        ladder_hash=forecast.ladder_hash,
        track=forecast.track,
        revealed_up_to=forecast.revealed_up_to,
        file=copy.relative_to(predictions.resolve()).as_posix(),
        results_existed=existed,
        blind=not existed and not started,
        kind=kind,
    )


def _type_of(record: Entry | Migration) -> str:
    return next(name for name, cls in RECORDS.items() if isinstance(record, cls))


def _canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, ensure_ascii=True).encode("ascii")


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "the line"
    return f"{where}: {err['msg']}"


def _renamed(forecast: Forecast, name: str, path: Path) -> Forecast:
    try:
        return Forecast.model_validate({**forecast.model_dump(), "forecaster": name})
    except ValueError:
        raise UserError(
            f"--forecaster '{name}' for '{path}' is not a valid name: use 1-64 lower-case letters, digits, '-' or "
            "'_', starting with a letter or digit."
        ) from None


def _inside(predictions: Path, relative: Path) -> Path:
    """``predictions / relative``, refusing anything that would resolve outside ``predictions``."""
    base = predictions.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):
        raise UserError(f"Refusing to write '{target}': it lies outside the predictions folder '{base}'.")
    return target

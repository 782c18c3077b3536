"""The submission ledger: immutable copies of prediction files and one append-only log line each.

``predictions/ledger.jsonl`` is the record that makes a forecast provably
blind: it says when a file with a given sha256 was submitted and whether any
measured result of its ladder existed at that moment. Lines are only ever
appended, under a file lock, so concurrent submissions all land intact; the
stored copy ``predictions/<ladder>/<forecaster>-<sha256[:16]>.<ext>`` is written
once and never replaced.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from filelock import FileLock

from harness.errors import UserError
from harness.files import atomic_write, sha256_bytes, sha256_file
from harness.forecasts.schema import Forecast, dump, load_forecast, read_stored
from harness.training.ladder import Ladder
from harness.training.store import ResultsStore

LEDGER = "ledger.jsonl"
Kind = Literal["forecaster", "baseline", "oracle"]
# Names the built-in forecasters submit under; nobody else may use them.
RESERVED = {"uninformed": "baseline", "extrapolator": "baseline", "oracle": "oracle"}


@dataclass(frozen=True)
class Entry:
    """One ledger line."""

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


def read_ledger(predictions: Path) -> list[Entry]:
    """Every entry of ``predictions/ledger.jsonl``, oldest first (an absent ledger is empty)."""
    path = predictions / LEDGER
    if not path.exists():
        return []
    return [Entry(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


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
    with FileLock(predictions / ".ledger.lock", timeout=60):
        for entry in read_ledger(predictions):
            if entry.sha256 == sha and entry.forecaster == forecast.forecaster:
                return entry, False
        copy = _inside(predictions, Path(ladder.name) / f"{forecast.forecaster}-{sha[:16]}.{ext}")
        if not copy.exists():
            atomic_write(copy, data)
        existed = ResultsStore.of(ladder, out).exists()
        entry = Entry(
            sha256=sha,
            submitted_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            forecaster=forecast.forecaster,
            ladder=ladder.name,
            ladder_hash=ladder.hash,
            track=forecast.track,
            revealed_up_to=forecast.revealed_up_to,
            file=copy.relative_to(predictions.resolve()).as_posix(),
            results_existed=existed,
            blind=not existed,
            kind=kind,
        )
        with open(predictions / LEDGER, "a", encoding="utf-8") as ledger:
            ledger.write(json.dumps(asdict(entry), sort_keys=True) + "\n")
            ledger.flush()
            os.fsync(ledger.fileno())
    return entry, True


def stored(predictions: Path, entry: Entry) -> Forecast:
    """An entry's stored copy, read back; it was valid when submitted, so a failure here means it was tampered with."""
    path = predictions / entry.file
    if not path.is_file() or sha256_file(path) != entry.sha256:
        raise UserError(
            f"Stored prediction '{path}' is missing or no longer matches its ledger hash {entry.sha256[:12]}; stored "
            "forecasts are immutable. Restore it from version control."
        )
    return read_stored(path)


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

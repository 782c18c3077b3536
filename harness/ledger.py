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
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import yaml
from filelock import FileLock

from harness.errors import UserError
from harness.forecast import Forecast, load_forecast, to_data
from harness.ladder import Ladder
from harness.store import atomic_write

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


def read_ledger(root: Path) -> list[Entry]:
    """Every entry of ``root/ledger.jsonl``, oldest first (an absent ledger is empty)."""
    path = root / LEDGER
    if not path.exists():
        return []
    return [Entry(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def results_exist(results_root: Path, ladder: Ladder) -> bool:
    """Whether any (rung, seed) of this exact ladder version has been measured under ``results_root``."""
    path = results_root / ladder.name / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("ladder_hash") == ladder.hash and bool(manifest.get("runs"))


def submit(path: Path, root: Path, results_root: Path, forecaster: str | None = None, kind: Kind = "forecaster") -> tuple[Entry, bool]:
    """Validate and record one prediction file; returns its entry and whether it is new.

    ``forecaster`` renames the forecast (the stored copy is then rewritten with
    that name). The same content by the same forecaster is recorded once.
    """
    forecast, ladder = load_forecast(path)
    data = path.read_bytes()
    if forecaster is not None and forecaster != forecast.forecaster:
        forecast = _renamed(forecast, forecaster, path)
        data = yaml.safe_dump(to_data(forecast), sort_keys=False).encode()
    return record(forecast, ladder, data, path.suffix.lower().lstrip(".") or "yaml", root, results_root, kind)


def record(forecast: Forecast, ladder: Ladder, data: bytes, ext: str, root: Path, results_root: Path, kind: Kind) -> tuple[Entry, bool]:
    """Store ``data`` (the file of ``forecast``) and append its ledger line, unless already recorded."""
    expected = RESERVED.get(forecast.forecaster, "forecaster")
    if kind == "forecaster" and expected != kind:
        raise UserError(f"Forecaster name '{forecast.forecaster}' is reserved for the built-in baselines ({', '.join(RESERVED)}); pick another with --forecaster NAME.")
    if expected != kind:
        raise ValueError(f"a {kind} forecast must use its reserved name, not '{forecast.forecaster}'")
    ext = "json" if ext == "json" else "yaml"
    sha = hashlib.sha256(data).hexdigest()
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(root / ".ledger.lock", timeout=60):
        for entry in read_ledger(root):
            if entry.sha256 == sha and entry.forecaster == forecast.forecaster:
                return entry, False
        copy = _inside(root, Path(ladder.name) / f"{forecast.forecaster}-{sha[:16]}.{ext}")
        if not copy.exists():
            atomic_write(copy, data)
        existed = results_exist(results_root, ladder)
        entry = Entry(
            sha256=sha,
            submitted_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            forecaster=forecast.forecaster,
            ladder=ladder.name,
            ladder_hash=ladder.hash,
            track=forecast.track,
            revealed_up_to=forecast.revealed_up_to,
            file=copy.relative_to(root.resolve()).as_posix(),
            results_existed=existed,
            blind=not existed,
            kind=kind,
        )
        with open(root / LEDGER, "a", encoding="utf-8") as ledger:
            ledger.write(json.dumps(asdict(entry), sort_keys=True) + "\n")
            ledger.flush()
            os.fsync(ledger.fileno())
    return entry, True


def _renamed(forecast: Forecast, name: str, path: Path) -> Forecast:
    try:
        return Forecast.model_validate({**forecast.model_dump(), "forecaster": name})
    except ValueError:
        raise UserError(f"--forecaster '{name}' for '{path}' is not a valid name: use 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit.") from None


def _inside(root: Path, relative: Path) -> Path:
    """``root / relative``, refusing anything that would resolve outside ``root``."""
    base = root.resolve()
    target = (base / relative).resolve()
    if not target.is_relative_to(base):
        raise UserError(f"Refusing to write '{target}': it lies outside the predictions folder '{base}'.")
    return target

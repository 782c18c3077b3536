"""A pair's progress as it trains: its step, written by the worker that trains it, for ``ladder run`` to show.

Workers are other processes (spawned, or Ray tasks on machines that share ``--out``), so progress travels the
way checkpoints do, through the pair's ``.partial`` folder: ``Reporter``, a Lightning callback, writes
``progress.json`` there (step, budget, seconds) when the job starts, when training starts and then every few
seconds, atomically. It reads nothing of the model and draws no random number, so curves and checkpoints are
those of a run without it. ``harness.training.watch`` reads the files in the driver. A job that shares no disk
with the driver (``Job.ship``) writes its report into its own scratch folder, where the driver cannot see it.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import lightning as L

from harness.errors import UserError
from harness.files import atomic_write

FILE = "progress.json"
EVERY_ENV = "LADDER_PROGRESS_EVERY"
EVERY_S = 180.0  # seconds between progress lines when the output is not a terminal
WRITE_S = 1.0  # a worker writes at most this long apart (half the line interval when that is shorter)


def every_s() -> float:
    """Seconds between progress lines without a terminal: ``LADDER_PROGRESS_EVERY``, else 180; 0 for none."""
    raw = os.environ.get(EVERY_ENV)
    if raw is None:
        return EVERY_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise UserError(
            f"{EVERY_ENV}={raw!r} is not a number of seconds. Set it to the seconds between progress lines (e.g. "
            f"{EVERY_ENV}=60), 0 for none, or unset it for {EVERY_S:.0f}."
        )
    return value


@dataclass(frozen=True)
class Progress:
    """One pair's last report: ``step`` of ``steps``, seconds since its job started, seconds per step so far."""

    step: int
    steps: int
    elapsed_s: float
    step_s: float | None  # None before the first step


def read(partial: Path) -> Progress | None:
    """The last report in a pair's ``.partial`` folder; None if there is none (not started, or finished)."""
    try:
        return Progress(**json.loads((partial / FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def clear(partial: Path) -> None:
    """Remove a pair's report: its job finished, or a run killed before left it behind."""
    (partial / FILE).unlink(missing_ok=True)


class Reporter(L.Callback):
    """Writes the pair's report when the job begins (``begin``), when training starts, and every ``every`` seconds.

    Only the first device's process writes. Time is wall-clock (``time.time``), so that a copy of the callback
    in another device's process measures from the same moment.
    """

    def __init__(self, partial: Path, steps: int) -> None:
        self.partial, self.steps = partial, steps
        lines = every_s()
        self.every = min(WRITE_S, lines / 2) if lines > 0 else WRITE_S
        self.started = self.fit_started = self.last = time.time()

    def begin(self) -> None:
        """Step 0 of the job, before its batches are read or generated."""
        self._write(0)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.fit_started = time.time()
        if trainer.is_global_zero:
            self._write(0)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        if trainer.is_global_zero and time.time() - self.last >= self.every:
            self._write(trainer.global_step)

    def _write(self, step: int) -> None:
        self.last = now = time.time()
        rate = (now - self.fit_started) / step if step else None
        report = Progress(step, self.steps, round(now - self.started, 3), rate)
        atomic_write(self.partial / FILE, json.dumps(asdict(report)).encode())

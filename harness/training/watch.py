"""What ``ladder run`` shows while pairs train: pairs done, each running pair's step, the time spent and left.

The driver reads the reports the workers leave in the pairs' ``.partial`` folders (``harness.training.progress``)
on a thread of its own, so it works the same for jobs in this process, in worker processes and on Ray (when the
nodes share no disk with it, their reports stay there and only finished pairs show). On a
terminal it keeps a live display (rich); otherwise (CI, logs) it prints a line per running pair every
``LADDER_PROGRESS_EVERY`` seconds (default 180; 0: none), and the run prints its line per finished pair as
before. The time left is the end of a simulated schedule: the running pairs' remaining steps at their own pace,
then the waiting pairs in the order they will start, each on the first free worker, at the pace measured on
their rung (or, before that, on the nearest wider rung, which goes first; an upper bound).
"""

from __future__ import annotations

import heapq
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import mean
from typing import TYPE_CHECKING

from harness.training import progress
from harness.training.progress import Progress
from harness.training.store import ResultsStore
from harness.training.train import Job

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

POLL_S = 1.0  # how often the live display reads the reports


def clock(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def step_seconds(rungs: Sequence[str], measured: dict[str, float], rung: str) -> float | None:
    """Seconds a step of ``rung`` takes: as measured on it, else on the nearest wider rung measured (wider rungs go
    first, so this overestimates), else on the nearest narrower one; None before anything is measured.

    ``rungs``: every rung of the ladder, narrowest first."""
    if rung in measured:
        return measured[rung]
    at = rungs.index(rung)
    for other in [*rungs[at + 1 :], *reversed(rungs[:at])]:
        if other in measured:
            return measured[other]
    return None


def time_left(running: Sequence[float], waiting: Sequence[float], slots: int) -> float:
    """Seconds until the last job ends: ``running`` jobs have that long left; the ``waiting`` ones, each taking that
    long, start in order on the first of ``slots`` workers to come free."""
    free = sorted(running) + [0.0] * max(0, slots - len(running))
    heapq.heapify(free)
    for seconds in waiting:
        heapq.heapreplace(free, free[0] + seconds)
    return max(free, default=0.0)


Pair = tuple[str, int]  # (rung, seed)


class Watch:
    """Shows a run's progress while its block runs; ``say`` prints a message above the display, ``finished`` records
    a pair whose result arrived."""

    def __init__(self, store: ResultsStore, jobs: Sequence[Job], workers: int | None, say: Callable[[str], None]):
        self.store, self.jobs, self.workers, self._say = store, list(jobs), workers, say
        self.rungs = [r.name for r in store.ladder.rungs]
        self.every = progress.every_s()
        self.paces: dict[Pair, float | None] = {}  # finished pairs: seconds a step took (None: it failed)
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.start = time.monotonic()
        self.thread: threading.Thread | None = None
        self.live = _display() if sys.stdout.isatty() else None
        self.bars: dict[Pair, TaskID] = {}

    def __enter__(self) -> Watch:
        for job in self.jobs:  # reports that a killed run left behind would read as pairs running now
            progress.clear(self._partial(job))
        if self.live is not None:
            self.live.start()
            self.overall = self.live.add_task(self.store.ladder.name, total=len(self.jobs), count="", times="")
        if self.live is not None or self.every > 0:
            self.thread = threading.Thread(target=self._loop, name="ladder-progress", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()
        if self.live is not None:
            self._show()
            self.live.stop()

    def say(self, message: str) -> None:
        """Print ``message``: above the live display, or through the run's ``say``."""
        (self.live.console.print if self.live is not None else self._say)(message)

    def finished(self, job: Job, wall_time_s: float | None) -> None:
        """A pair's result arrived (``wall_time_s`` None when it failed or was lost)."""
        with self.lock:
            self.paces[(job.rung.name, job.seed)] = wall_time_s / job.training.steps if wall_time_s else None

    def _partial(self, job: Job) -> Path:
        return self.store.pair_partial_dir(job.rung.name, job.seed)

    def _loop(self) -> None:
        while not self.stop.wait(POLL_S if self.live is not None else self.every):
            if self.live is not None:
                self._show()
            else:
                self._lines()

    def estimate(self) -> tuple[list[tuple[Job, Progress, float | None]], float | None]:
        """Each running pair with its report and seconds left, and the seconds left of the whole run (None where
        nothing is measured yet)."""
        with self.lock:
            paces = dict(self.paces)
        running, waiting = [], []
        for job in self.jobs:
            if (job.rung.name, job.seed) not in paces:
                report = progress.read(self._partial(job))
                (waiting if report is None else running).append((job, report))
        measured: dict[str, list[float]] = {}  # seconds a step took, per rung: finished pairs', running pairs'
        for (rung, _), pace in paces.items():
            if pace is not None:
                measured.setdefault(rung, []).append(pace)
        for job, report in running:
            if report.step_s is not None:
                measured.setdefault(job.rung.name, []).append(report.step_s)
        means = {rung: mean(values) for rung, values in measured.items()}

        def seconds(job: Job, steps: int, own: float | None = None) -> float | None:
            pace = own or step_seconds(self.rungs, means, job.rung.name)
            return None if pace is None else steps * pace

        rows = [(job, report, seconds(job, report.steps - report.step, report.step_s)) for job, report in running]
        later = [seconds(job, job.training.steps) for job, _ in waiting]
        ahead = [left for _, _, left in rows]
        if None in ahead or None in later:
            return rows, None
        return rows, time_left(ahead, later, self.workers or max(1, len(rows)))

    def _summary(self, total_left: float | None) -> tuple[str, str]:
        """The run's pairs done of all, and its time spent and left."""
        elapsed = clock(time.monotonic() - self.start)
        if len(self.paces) == len(self.jobs):
            left = "done"
        else:
            left = f"about {clock(total_left)} left" if total_left is not None else "time left not yet known"
        return f"{len(self.paces)}/{len(self.jobs)} pairs", f"{elapsed} in, {left}"

    def _lines(self) -> None:
        rows, total_left = self.estimate()
        for job, report, left in rows:
            rest = f", about {clock(left)} left" if left is not None else ""
            self._say(f"  {job.label}: step {report.step}/{report.steps} after {clock(report.elapsed_s)}{rest}")
        count, times = self._summary(total_left)
        self._say(f"  {self.store.ladder.name}: {count} done, {times}")

    def _show(self) -> None:
        rows, total_left = self.estimate()
        count, times = self._summary(total_left)
        self.live.update(self.overall, completed=len(self.paces), count=count, times=times)
        now = {(job.rung.name, job.seed) for job, _, _ in rows}
        for pair in [pair for pair in self.bars if pair not in now]:
            self.live.remove_task(self.bars.pop(pair))
        for job, report, left in rows:
            pair = (job.rung.name, job.seed)
            if pair not in self.bars:
                name = f"  {job.rung.name} seed {job.seed}"
                self.bars[pair] = self.live.add_task(name, total=report.steps, count="", times="")
            rest = f", about {clock(left)} left" if left is not None else ""
            count, times = f"{report.step}/{report.steps} steps", f"{clock(report.elapsed_s)} in{rest}"
            self.live.update(self.bars[pair], completed=report.step, count=count, times=times)


def _display() -> RichProgress:
    """rich's progress display: one bar for the pairs done, one per running pair."""
    from rich.console import Console
    from rich.progress import BarColumn, TextColumn
    from rich.progress import Progress as RichProgress

    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[count]}"))
    return RichProgress(*columns, TextColumn("{task.fields[times]}"), console=Console(highlight=False))

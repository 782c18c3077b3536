"""The measured ground truth of a ladder: its emergence and probability tables, computed from the results store.

This is where the stored results meet the pure analysis in
``harness.truth.emergence``: it reads the finished (rung, seed) pairs of a
results store, supplies each task's thresholds, and keeps
``emergence.parquet`` and ``probabilities.parquet`` beside the curves
(each rewritten only when its contents change). Figures of them are drawn by
``harness.board``.

``probabilities.parquet`` (``harness.truth.probability.COLUMNS``), one row per
(metric, task, rung): n_seeds measured, n_have of them with the capability,
fraction = n_have / n_seeds, low and high its 95% Jeffreys interval, and
bimodal (accuracy rows only, NA on loss rows): the seeds' final accuracies
split all-or-nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import UserError
from harness.files import write_table
from harness.ladders.ladder import Ladder
from harness.tasks import Task
from harness.training.store import ResultsStore
from harness.truth.emergence import emergence_table
from harness.truth.probability import probability_table

TABLE_FILE = "emergence.parquet"
PROBABILITIES_FILE = "probabilities.parquet"


@dataclass(frozen=True)
class GroundTruth:
    table: pd.DataFrame  # from emergence_table
    probabilities: pd.DataFrame  # from probability_table: per (metric, task, rung), the fraction and its interval
    curves: pd.DataFrame  # the curves of the finished pairs (curves.parquet rows)
    wall_times: pd.DataFrame  # rung, seed, wall_time_s, retimed (re-measured with ladder run --retime) per pair
    missing: list[tuple[str, int]]  # (rung, seed) pairs of the ladder's seeds that are not finished
    table_path: Path
    changed: bool  # whether this measurement changed a stored table (or wrote one for the first time)


def thresholds(tasks: tuple[Task, ...] | list[Task]) -> dict[str, dict[str, float]]:
    """metric -> task name -> threshold, of a ladder's tasks at their settings."""
    return {"accuracy": {t.name: t.threshold for t in tasks}, "loss": {t.name: t.loss_threshold for t in tasks}}


def chances(tasks: tuple[Task, ...] | list[Task]) -> dict[str, float]:
    """task name -> exact-match accuracy of uniform guessing, of a ladder's tasks at their settings."""
    return {t.name: t.chance for t in tasks}


def measure(ladder: Ladder, out: Path, write: bool = True) -> GroundTruth:
    """Emergence of every task over the finished pairs of ``ladder`` under the results folder ``out``.

    ``write=False`` only reads: a backtest, which must leave the results folder as it found it, measures so.
    """
    store = ResultsStore.of(ladder, out)
    manifest = store.manifest()
    if not manifest["runs"]:
        raise UserError(
            f"No finished results of ladder '{ladder.name}' under '{store.folder}'. "
            f"Train it first with 'ladder run --ladder {ladder.cli_name}', or pass --out to the results folder that "
            "holds them."
        )
    runs = pd.DataFrame(manifest["runs"].values())
    curves = store.curves().merge(runs[["rung", "seed"]], on=["rung", "seed"])  # finished pairs only
    seeds = sorted(set(ladder.spec.seeds) | set(runs["seed"]))
    done = set(zip(runs["rung"], runs["seed"]))
    missing = [(r.name, s) for s in seeds for r in ladder.rungs if (r.name, s) not in done]
    table = emergence_table(curves, thresholds(ladder.tasks))
    probabilities = probability_table(table, chances(ladder.tasks))
    table_path = store.folder / TABLE_FILE
    changed = False
    if write:  # both written, whichever changed
        changed = write_table(table_path, table)
        changed = write_table(store.folder / PROBABILITIES_FILE, probabilities) or changed
    retimed = runs["earlier_wall_times_s"].notna() if "earlier_wall_times_s" in runs else False
    walls = runs[["rung", "seed", "wall_time_s"]].assign(retimed=retimed)
    return GroundTruth(table, probabilities, curves, walls, missing, table_path, changed)

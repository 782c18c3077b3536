"""The measured ground truth of a ladder: its emergence table and map, written next to its curves.

This is where the stored results meet the pure analysis in ``harness.emergence``:
it reads the finished (rung, seed) pairs of a results store, supplies each
task's thresholds, and writes ``emergence.parquet`` and ``emergence_map.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.emergence import emergence_table
from harness.errors import UserError
from harness.ladder import Ladder
from harness.store import ResultsStore, atomic_write
from harness.tasks import TASKS


@dataclass(frozen=True)
class GroundTruth:
    table: pd.DataFrame  # from emergence_table
    curves: pd.DataFrame  # the curves of the finished pairs (curves.parquet rows)
    wall_times: pd.DataFrame  # rung, seed, wall_time_s of every finished pair
    missing: list[tuple[str, int]]  # (rung, seed) pairs of the ladder's seeds that are not finished
    table_path: Path
    map_path: Path


def thresholds(task_names: list[str]) -> dict[str, dict[str, float]]:
    """metric -> task -> threshold, from the task registry."""
    tasks = [TASKS.get(name) for name in task_names]
    return {"accuracy": {t.name: t.threshold for t in tasks}, "loss": {t.name: t.loss_threshold for t in tasks}}


def measure(ladder: Ladder, root: Path) -> GroundTruth:
    """Emergence of every task over the finished pairs under ``root``; writes the table and the map there."""
    from harness.plots import emergence_map  # matplotlib is slow to import; only this needs it

    store = ResultsStore(root, ladder)
    manifest = store.manifest()
    if not manifest["runs"]:
        raise UserError(
            f"No finished results of ladder '{ladder.name}' under '{root}'. "
            f"Train it first with 'ladder run --ladder {ladder.cli_name}', or pass --out to the results root that holds them."
        )
    runs = pd.DataFrame(manifest["runs"].values())
    curves = store.curves().merge(runs[["rung", "seed"]], on=["rung", "seed"])  # finished pairs only
    seeds = sorted(set(ladder.spec.seeds) | set(runs["seed"]))
    done = set(zip(runs["rung"], runs["seed"]))
    missing = [(r.name, s) for s in seeds for r in ladder.rungs if (r.name, s) not in done]
    table = emergence_table(curves, thresholds(list(ladder.spec.tasks)))
    table_path, map_path = root / "emergence.parquet", root / "emergence_map.png"
    atomic_write(table_path, table.to_parquet(index=False))
    atomic_write(map_path, emergence_map(table))
    return GroundTruth(table, curves, runs[["rung", "seed", "wall_time_s"]], missing, table_path, map_path)

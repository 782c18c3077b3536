"""Is a ladder's ground truth worth forecasting? The acceptance checks on its measured emergence.

A benchmark of emergence needs capabilities that appear at different sizes,
the same way on every seed, with something left unlearned at the top and
something learned at the bottom, within a training budget a user can afford.
Pure pandas over the tables of ``harness.truth.emergence``; no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.truth.emergence import rung_sizes, seed_points, summarize


@dataclass(frozen=True)
class Targets:
    min_seeds: int = 3
    min_inside: int = 6  # tasks emerging strictly inside the ladder on every seed
    min_intervals: int = 4  # distinct rung intervals among their median emergence points
    max_spread: float = 1.0  # seeds' emergence points within this many rung intervals
    early_position: float = 2.0  # "learned early": by the third rung (first two intervals) on every seed
    seed_budget_s: float = 15 * 60  # training time of one seed of the whole ladder


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def acceptance_checks(table: pd.DataFrame, wall_times: pd.DataFrame, targets: Targets = Targets()) -> list[Check]:
    """Every acceptance check on the accuracy metric.

    table: from ``emergence_table``. wall_times: one row per (rung, seed) with
    column ``wall_time_s`` (from the manifest).
    """
    acc = table[table["metric"] == "accuracy"]
    summary = summarize(acc).set_index("task")
    n_seeds = acc["seed"].nunique()
    inside = summary[summary["n_inside"] == summary["n_seeds"]]
    rungs = rung_sizes(acc)["rung"].tolist()
    # A point exactly on the top rung belongs to the last interval.
    intervals = sorted({min(int(np.floor(p)), len(rungs) - 2) for p in inside["median_position"]})
    spread = inside["spread"]
    unlearned = summary[summary["n_right"] == summary["n_seeds"]].index.tolist()
    early = _early_tasks(acc, targets.early_position)
    per_seed = wall_times.groupby("seed")["wall_time_s"].sum()
    slowest = float(per_seed.max()) if len(per_seed) else float("nan")
    return [
        Check("seeds", n_seeds >= targets.min_seeds, f"{n_seeds} seeds measured (target at least {targets.min_seeds})"),
        Check(
            "inside",
            len(inside) >= targets.min_inside,
            f"{len(inside)} tasks emerge strictly inside the ladder on every seed (target at least "
            f"{targets.min_inside}): " + (", ".join(inside.index) or "none"),
        ),
        Check(
            "intervals",
            len(intervals) >= targets.min_intervals,
            f"their median emergence points lie in {len(intervals)} distinct rung intervals (target at least "
            f"{targets.min_intervals}): " + (", ".join(f"{rungs[i]}-{rungs[i + 1]}" for i in intervals) or "none"),
        ),
        Check(
            "seeds agree",
            bool(len(inside)) and bool((spread <= targets.max_spread).all()),
            f"largest seed range {spread.max():.2f} rung intervals (target at most {targets.max_spread:g}): "
            + ", ".join(f"{t} {s:.2f}" for t, s in spread.items()),
        ),
        Check(
            "unlearned at top",
            bool(unlearned),
            "tasks below threshold at the top rung on every seed: " + (", ".join(unlearned) or "none"),
        ),
        Check(
            "learned early",
            bool(early),
            f"tasks every seed has by rung index {targets.early_position:g}: " + (", ".join(early) or "none"),
        ),
        Check(
            "time",
            slowest < targets.seed_budget_s,
            f"slowest seed trained the whole ladder in {slowest / 60:.1f} min (target under "
            f"{targets.seed_budget_s / 60:g} min)",
        ),
    ]


def _early_tasks(acc: pd.DataFrame, position: float) -> list[str]:
    """Tasks whose every seed is left-censored or emerges at or below ``position`` rung units."""
    points = seed_points(acc)
    ok = (points["censoring"] == "left") | (
        (points["censoring"] == "none") & (points["emergence_position"] <= position)
    )
    return sorted(t for t, g in ok.groupby(points["task"]) if g.all())

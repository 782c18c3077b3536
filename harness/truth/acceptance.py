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
    max_spread: float = 1.0  # seeds' robust emergence points within this many rung intervals
    early_position: float = 2.0  # "learned early": by the third rung (first two intervals) on every seed
    seed_budget_s: float = 15 * 60  # training time of one seed of the whole ladder
    max_budget_limited: float = 0.1  # share of interior questions whose run ended inside the jump


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def acceptance_checks(table: pd.DataFrame, wall_times: pd.DataFrame, targets: Targets = Targets()) -> list[Check]:
    """Every acceptance check on the accuracy metric, with the robust emergence estimate.

    table: from ``emergence_table`` (the seeds to judge, e.g. the held-out
    ones). wall_times: one row per (rung, seed) with column ``wall_time_s``
    (from the manifest).
    """
    acc = table[table["metric"] == "accuracy"]
    summary = summarize(acc, n_boot=0).set_index("task")
    n_seeds = acc["seed"].nunique()
    inside = sorted(summary.index[summary["n_inside"] == summary["n_seeds"]])
    rungs = rung_sizes(acc)["rung"].tolist()
    # A point exactly on the top rung belongs to the last interval.
    intervals = sorted({min(int(np.floor(summary.loc[t, "position"])), len(rungs) - 2) for t in inside})
    spread = summary.loc[inside, "spread"]
    unlearned = sorted(summary.index[summary["n_right"] == summary["n_seeds"]])
    early = _early_tasks(seed_points(acc), targets.early_position)
    interior = acc[acc["task"].isin(summary.index[summary["censoring"] == "none"])]
    limited = int(interior["budget_limited"].sum())
    share = limited / len(interior) if len(interior) else 0.0
    per_seed = wall_times[wall_times["seed"].isin(acc["seed"].unique())].groupby("seed")["wall_time_s"].sum()
    slowest = float(per_seed.max()) if len(per_seed) else float("nan")
    return [
        Check("seeds", n_seeds >= targets.min_seeds, f"{n_seeds} seeds measured (target at least {targets.min_seeds})"),
        Check(
            "inside",
            len(inside) >= targets.min_inside,
            f"{len(inside)} tasks emerge strictly inside the ladder on every seed (target at least "
            f"{targets.min_inside}): " + (", ".join(inside) or "none"),
        ),
        Check(
            "intervals",
            len(intervals) >= targets.min_intervals,
            f"their pooled emergence points lie in {len(intervals)} distinct rung intervals (target at least "
            f"{targets.min_intervals}): " + (", ".join(f"{rungs[i]}-{rungs[i + 1]}" for i in intervals) or "none"),
        ),
        Check(
            "seeds agree",
            bool(len(inside)) and bool((spread <= targets.max_spread).all()),
            f"largest seed range {spread.max() if len(spread) else float('nan'):.2f} rung intervals (target at most "
            f"{targets.max_spread:g}): " + ", ".join(f"{t} {s:.2f}" for t, s in spread.items()),
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
            "budget",
            share <= targets.max_budget_limited,
            f"{limited} of {len(interior)} (task, rung, seed) questions of tasks emerging inside the ladder ended "
            f"still rising below threshold ({share:.0%}, target at most {targets.max_budget_limited:.0%})",
        ),
        Check(
            "time",
            slowest < targets.seed_budget_s,
            f"slowest seed trained the whole ladder in {slowest / 60:.1f} min (target under "
            f"{targets.seed_budget_s / 60:g} min)",
        ),
    ]


def _early_tasks(points: pd.DataFrame, position: float) -> list[str]:
    """Tasks whose every seed is left-censored or has its robust point at or below ``position`` rung units."""
    ok = (points["robust_censoring"] == "left") | (
        (points["robust_censoring"] == "none") & (points["robust_position"] <= position)
    )
    return sorted(t for t, g in ok.groupby(points["task"]) if g.all())

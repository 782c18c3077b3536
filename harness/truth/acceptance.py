"""Is a ladder's ground truth worth forecasting? The acceptance checks on its measured emergence.

Whether a network of a given size gains a capability is a random event over
seeds; the truth is its probability, and a task's emergence point is the
pooled (robust) point over seeds of ``harness.truth.emergence``. The checks ask
whether that truth

- separates sizes: capabilities appear at several sizes inside the ladder,
  something is left unlearned at the top and something is learned early,
  within a budget a user can afford (``separation_checks``);
- is reproducible: the held-out seeds, which no tuning decision looked at,
  agree with the tuning seeds as well as random splits of the seeds agree with
  each other (``reproducibility_checks``, by permutation);
- is precise: each task's pooled point is known to within one rung interval
  (``precision_check``, a bootstrap over seeds).

How far single seeds spread (``seed_lottery``) is reported beside them and judged by nothing.
Pure pandas over the tables of ``harness.truth.emergence``; no torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import Enum

import numpy as np
import pandas as pd

from harness.truth.emergence import pooled_points, rung_sizes, seed_points, summarize
from harness.truth.reproducibility import CENSORED_AT, reproducibility


@dataclass(frozen=True)
class Targets:
    min_seeds: int = 3
    min_inside: int = 6  # tasks whose pooled point lies strictly inside the ladder
    min_intervals: int = 4  # distinct rung intervals among their median emergence points
    early_position: float = 2.0  # "learned early": pooled point by the third rung (within the first two intervals)
    seed_budget_s: float = 15 * 60  # training time of one seed of the whole ladder
    max_budget_limited: float = 0.1  # share of interior questions whose run ended inside the jump
    max_width: float = 1.0  # 95% bootstrap interval of each interior task's pooled point, in rung intervals
    alpha: float = 0.05  # level of the reproducibility tests (per task: divided by the number of interior tasks)


class Verdict(Enum):
    PASS = "pass"
    FAIL = "fail"
    NA = "n/a"  # the check does not apply to this ladder (e.g. reproducibility without tuning seeds)


@dataclass(frozen=True)
class Check:
    """One acceptance check: its verdict, what it found, and which seeds it judged."""

    name: str
    verdict: Verdict
    detail: str
    seeds: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS

    @property
    def failed(self) -> bool:
        return self.verdict is Verdict.FAIL


def check(name: str, passed: bool, detail: str, seeds: str = "") -> Check:
    return Check(name, Verdict.PASS if passed else Verdict.FAIL, detail, seeds)


@dataclass(frozen=True)
class Acceptance:
    """The checks of one ladder's results.

    judged: what ``--check`` decides on: separation, budget and time on the
    held-out seeds, reproducibility (tuning against held-out) and precision
    (all seeds). tuning: separation on the tuning seeds, shown for comparison.
    lottery: per interior task, the range of the seeds' own points (``seed_lottery``).
    """

    judged: list[Check]
    tuning: list[Check]
    lottery: pd.DataFrame
    tuning_seeds: list[int] = field(default_factory=list)
    held_out: list[int] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.judged if c.failed]


def accept(
    table: pd.DataFrame, wall_times: pd.DataFrame, tuning_seeds: list[int], targets: Targets = Targets()
) -> Acceptance:
    """Every acceptance check of an emergence table (accuracy), split into tuning and held-out seeds.

    tuning_seeds: the ladder's declared tuning seeds (``tuning_seeds``, measured or
    not); every other measured seed is held out. wall_times: one row per (rung, seed)
    with column ``wall_time_s`` and, optionally, ``retimed`` (its time re-measured with ``ladder run --retime``).
    """
    acc = table[table["metric"] == "accuracy"]
    tuning, held_out = split_seeds(acc, tuning_seeds)
    if held_out:
        judged = separation_checks(
            acc[acc["seed"].isin(held_out)], wall_times, targets, f"held-out {seed_text(held_out)}"
        )
    else:
        judged = [check("seeds", False, "no held-out seed measured: every measured seed is a tuning seed; train "
                        "seeds that are not in tuning_seeds", "held-out none")]  # fmt: skip
    judged += reproducibility_checks(acc, tuning_seeds, targets)
    judged.append(precision_check(acc, targets))
    compared = (
        separation_checks(acc[acc["seed"].isin(tuning)], wall_times, targets, f"tuning {seed_text(tuning)}")
        if tuning
        else []
    )
    return Acceptance(judged, compared, seed_lottery(acc), tuning, held_out)


def split_seeds(table: pd.DataFrame, tuning_seeds: list[int]) -> tuple[list[int], list[int]]:
    """The table's seeds as (tuning seeds, held-out seeds): those in ``tuning_seeds`` and all the others."""
    seeds = sorted(table["seed"].unique().tolist())
    return [s for s in seeds if s in set(tuning_seeds)], [s for s in seeds if s not in set(tuning_seeds)]


def interior_tasks(table: pd.DataFrame) -> list[str]:
    """Tasks of one metric's table whose pooled point over every seed of it lies inside the ladder."""
    pooled = pooled_points(table, n_boot=0)
    return sorted(pooled.loc[pooled["censoring"] == "none", "task"])


def separation_checks(table: pd.DataFrame, wall_times: pd.DataFrame, targets: Targets, seeds: str) -> list[Check]:
    """Do capabilities appear at several sizes, within budget, on these seeds? Accuracy rows of the seeds judged."""
    summary = summarize(table, n_boot=0).set_index("task")
    n_seeds = table["seed"].nunique()
    # Tasks count by their pooled point, as the scorer reads the truth; single seeds are the lottery's business.
    inside = sorted(summary.index[summary["censoring"] == "none"])
    rungs = rung_sizes(table)["rung"].tolist()
    # A point exactly on the top rung belongs to the last interval.
    intervals = sorted({min(int(np.floor(summary.loc[t, "position"])), len(rungs) - 2) for t in inside})
    unlearned = sorted(summary.index[summary["censoring"] == "right"])
    early = sorted(
        summary.index[
            (summary["censoring"] == "left")
            | ((summary["censoring"] == "none") & (summary["position"] <= targets.early_position))
        ]
    )
    interior = table[table["task"].isin(summary.index[summary["censoring"] == "none"])]
    limited = int(interior["budget_limited"].sum())
    share = limited / len(interior) if len(interior) else 0.0
    judged_walls = wall_times[wall_times["seed"].isin(table["seed"].unique())]
    per_seed = judged_walls.groupby("seed")["wall_time_s"].sum()
    slowest = float(per_seed.max()) if len(per_seed) else float("nan")
    retimed = (
        sorted(int(s) for s in judged_walls.loc[judged_walls["retimed"].astype(bool), "seed"].unique())
        if "retimed" in judged_walls
        else []
    )
    checks = [
        check("seeds", n_seeds >= targets.min_seeds, f"{n_seeds} seeds measured (target at least {targets.min_seeds})"),
        check(
            "inside",
            len(inside) >= targets.min_inside,
            f"{len(inside)} tasks emerge strictly inside the ladder, pooled over the seeds (target at least "
            f"{targets.min_inside}): " + (", ".join(inside) or "none"),
        ),
        check(
            "intervals",
            len(intervals) >= targets.min_intervals,
            f"their pooled emergence points lie in {len(intervals)} distinct rung intervals (target at least "
            f"{targets.min_intervals}): " + (", ".join(f"{rungs[i]}-{rungs[i + 1]}" for i in intervals) or "none"),
        ),
        check(
            "unlearned at top",
            bool(unlearned),
            "tasks whose pooled point lies above the ladder (fewer than half the seeds have them at the top rung): "
            + (", ".join(unlearned) or "none"),
        ),
        check(
            "learned early",
            bool(early),
            f"tasks whose pooled point is at or below rung index {targets.early_position:g}: "
            + (", ".join(early) or "none"),
        ),
        check(
            "budget",
            share <= targets.max_budget_limited,
            f"{limited} of {len(interior)} (task, rung, seed) questions of tasks emerging inside the ladder ended "
            f"still rising below threshold ({share:.0%}, target at most {targets.max_budget_limited:.0%})",
        ),
        check(
            "time",
            slowest < targets.seed_budget_s,
            f"slowest seed trained the whole ladder in {slowest / 60:.1f} min (target under "
            f"{targets.seed_budget_s / 60:g} min)"
            + (
                f"; pairs of seeds {seed_text(retimed)} were re-timed with 'ladder run --retime' (checkpoints "
                "byte-identical, earlier times kept in the manifest)"
                if retimed
                else ""
            ),
        ),
    ]
    return [replace(c, seeds=seeds) for c in checks]


def reproducibility_checks(table: pd.DataFrame, tuning_seeds: list[int], targets: Targets) -> list[Check]:
    """Do the held-out seeds agree with the tuning seeds as well as random splits of the seeds agree?

    table: accuracy rows of every measured seed. Two checks over the same splits
    (``harness.truth.reproducibility``): *reproducible points*, each interior
    task's pooled point on the tuning seeds against the held-out seeds, at
    ``alpha`` divided by the number of interior tasks (Bonferroni); and
    *reproducible Brier*, the tuning seeds' fractions as a forecast of the
    held-out seeds' outcomes over the whole table, at ``alpha``. n/a when the
    ladder declares no tuning seeds; failed when either group is not measured.
    """
    names = ("reproducible points", "reproducible Brier")
    tuning, held_out = split_seeds(table, tuning_seeds)
    who = f"tuning {seed_text(tuning)} vs held-out {seed_text(held_out)}"
    if not tuning_seeds:
        why = (
            "needs tuning seeds: the ladder declares none (tuning_seeds is empty), so there is no tuning split to "
            "compare; every seed is judged as held out"
        )
        return [Check(name, Verdict.NA, why, "-") for name in names]
    missing = (
        f"none of the tuning seeds {seed_text(sorted(tuning_seeds))} is measured" if not tuning
        else "no held-out seed is measured" if not held_out else ""
    )  # fmt: skip
    if missing:
        return [check(name, False, f"{missing}: train them to compare the two groups", who) for name in names]
    interior = interior_tasks(table)
    result = reproducibility(table, tuning, interior)
    splits = result.splits
    space = (
        f"all {splits.n_drawn} splits" if splits.exact else f"{splits.n_drawn:,} random splits and the observed one"
    ) + f" of the {len(tuning) + len(held_out)} seeds into {len(tuning)} and {len(held_out)}"
    level = targets.alpha / max(len(interior), 1)
    points = result.points.sort_values(["p", "task"])
    low = points[points["p"] < level]
    listed = ", ".join(f"{r.task} {r.distance:.2f} (p {r.p:.3f})" for r in points.itertuples())
    lead = f"below {level:.4f}: {', '.join(low['task'])}; " if len(low) else ""
    return [
        check(
            names[0],
            bool(interior) and not len(low),
            lead + f"each interior task's distance between its pooled points on the two groups, in rung intervals, "
            f"against {space}, p at least {targets.alpha:g}/{len(interior)} = {level:.4f} per task: "
            + (listed or "no task emerges inside the ladder"),
            who,
        ),
        check(
            names[1],
            result.brier_p >= targets.alpha,
            f"Brier {result.brier:.3f} of the tuning seeds' fractions forecasting each held-out seed at every "
            f"(task, rung), p {result.brier_p:.3f} against the same splits (target at least {targets.alpha:g})",
            who,
        ),
    ]


def precision_check(table: pd.DataFrame, targets: Targets) -> Check:
    """Is every interior task's pooled point known to within ``max_width`` rung intervals, over all seeds?

    The width of the 95% bootstrap interval over seeds (``pooled_points``), a
    censored draw counted at ``CENSORED_AT`` beyond the ladder's end. Widths
    shrink about as 1/sqrt(seeds), so a task of width w over n seeds needs about
    ceil(n (w / max_width)^2) seeds.
    """
    seeds = sorted(table["seed"].unique().tolist())
    who = f"all {len(seeds)}: {seed_text(seeds)}"
    pooled = pooled_points(table)
    inside = pooled[pooled["censoring"] == "none"].set_index("task")
    if not len(inside):
        return check("precise", False, "no task's pooled point lies inside the ladder", who)
    ends = (-CENSORED_AT, len(rung_sizes(table)) - 1 + CENSORED_AT)
    width = (np.clip(inside["high"], *ends) - np.clip(inside["low"], *ends)).sort_values(ascending=False)
    widest, n = width.index[0], int(inside.loc[width.index[0], "n_seeds"])
    needed = math.ceil(n * (width.iloc[0] / targets.max_width) ** 2)
    passed = bool(width.iloc[0] <= targets.max_width)
    lead = "" if passed else (
        f"{widest} is known to {width.iloc[0]:.2f} rung intervals over {n} seeds; about {needed} seeds would "
        f"narrow it to {targets.max_width:g} (width ~ 1/sqrt(seeds)); "
    )  # fmt: skip
    listed = ", ".join(f"{t} {w:.2f}" for t, w in width.items())
    return check(
        "precise",
        passed,
        lead + f"95% bootstrap interval of each interior task's pooled point, in rung intervals (target at most "
        f"{targets.max_width:g}): {listed}",
        who,
    )


def seed_lottery(table: pd.DataFrame) -> pd.DataFrame:
    """Per interior task (one metric, all seeds): how far the seeds' own robust points spread. Judged by nothing.

    Columns: task, n_seeds, lowest, highest, spread (rung positions; a censored
    seed counted at ``CENSORED_AT`` beyond the ladder's end), n_censored.
    """
    interior = interior_tasks(table)
    points = seed_points(table)
    points = points[points["task"].isin(interior)]
    last = len(rung_sizes(table)) - 1
    at = points["robust_position"].where(points["robust_censoring"] == "none")
    at = at.fillna(points["robust_censoring"].map({"left": -CENSORED_AT, "right": last + CENSORED_AT}))
    out = points.assign(at=at, censored=points["robust_censoring"] != "none").groupby("task").agg(
        n_seeds=("seed", "size"), lowest=("at", "min"), highest=("at", "max"), n_censored=("censored", "sum")
    )  # fmt: skip
    out["spread"] = out["highest"] - out["lowest"]
    return out.reset_index()[["task", "n_seeds", "lowest", "highest", "spread", "n_censored"]]


def seed_text(seeds: list[int]) -> str:
    """Seeds as short text, runs of three or more as ranges: [0, 1, 2, 6, 9] -> '0-2, 6, 9'; 'none' when empty."""
    runs: list[list[int]] = []
    for s in sorted(seeds):
        if runs and s == runs[-1][-1] + 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    parts = [f"{r[0]}-{r[-1]}" if len(r) >= 3 else ", ".join(map(str, r)) for r in runs]
    return ", ".join(parts) or "none"

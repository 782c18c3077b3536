"""Where and when each capability emerges, read off the measured learning curves.

Pure pandas and numpy over the tidy ``curves.parquet`` table; no torch.

Definitions, per task and seed, for one metric and its threshold (accuracy:
reached when the value is at or above it; loss: at or below it):

- A rung *has* the capability when its final value (last evaluation step)
  reaches the threshold.
- The *emergence point* is the size in parameters from which on every larger
  rung has the capability. It is interpolated linearly in log10(parameters)
  between the last rung without it and the first rung with it, at the point
  where the straight line between their final values meets the threshold.
  A rung with it below a rung without it does not count, and the row is
  flagged ``regressed``. A NaN (diverged) value never reaches a threshold.
- *Left-censored*: every rung has it (the point lies at or below the smallest
  rung). *Right-censored*: the top rung does not (the point lies above the
  ladder, or the capability never appears).
- The *emergence step* of a rung is the first evaluation step whose value
  reaches the threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

METRICS = {"accuracy": True, "loss": False}  # metric -> higher is better

# One row per (metric, task, seed, rung). The emergence_* columns, censoring and
# regressed describe the (metric, task, seed) and repeat on its rungs' rows.
COLUMNS = [
    "ladder", "metric", "threshold", "task", "seed", "rung", "params", "final", "reached", "emergence_step",
    "emergence_params", "emergence_position", "censoring", "regressed",
]  # fmt: skip


@dataclass(frozen=True)
class Point:
    """Emergence point of one (metric, task, seed) across the rungs.

    params: interpolated size, NaN when censored.
    """

    params: float
    censoring: str
    regressed: bool


def reached(values: np.ndarray, threshold: float, higher: bool) -> np.ndarray:
    """Whether each value meets the threshold; NaN never does."""
    with np.errstate(invalid="ignore"):
        return np.asarray(values >= threshold if higher else values <= threshold) & ~np.isnan(values)


def emergence_point(params: np.ndarray, final: np.ndarray, threshold: float, higher: bool) -> Point:
    """Emergence point from final values at rungs sorted by size: params (R,), final (R,)."""
    hit = reached(final, threshold, higher)  # (R,)
    misses = np.flatnonzero(~hit)
    first = misses[-1] + 1 if len(misses) else 0  # first rung of the run of rungs that all have it
    regressed = bool(hit[:first].any())
    if first == len(hit):
        return Point(math.nan, "right", regressed)
    if first == 0:
        return Point(math.nan, "left", regressed)
    lo, hi = first - 1, first
    # A non-finite value below (a diverged run) gives nothing to interpolate from: use the first rung that has it.
    frac = (threshold - final[lo]) / (final[hi] - final[lo]) if np.isfinite(final[lo]) else 1.0
    log_lo, log_hi = np.log10(params[lo]), np.log10(params[hi])
    return Point(float(10 ** (log_lo + frac * (log_hi - log_lo))), "none", regressed)


def rung_position(params: float, ladder_params: np.ndarray) -> float:
    """A size in rung units of the whole ladder (sorted sizes (R,)): 0 at the first rung, linear in log size."""
    return float(np.interp(np.log10(params), np.log10(ladder_params), np.arange(len(ladder_params))))


def emergence_step(steps: np.ndarray, values: np.ndarray, threshold: float, higher: bool) -> float:
    """First evaluation step whose value reaches the threshold (steps ascending), NaN if none."""
    hit = np.flatnonzero(reached(values, threshold, higher))
    return float(steps[hit[0]]) if len(hit) else math.nan


def emergence_table(curves: pd.DataFrame, thresholds: dict[str, dict[str, float]]) -> pd.DataFrame:
    """One row per (metric, task, seed, rung) with final value, emergence step and the seed's emergence point.

    curves: the tidy table of ``curves.parquet``. thresholds: metric -> task ->
    threshold; tasks or metrics missing from it are skipped.
    """
    ladder_params = np.sort(curves["params"].unique()).astype(float)  # every rung, even where a seed lacks one
    rows = []
    for (metric, task, seed), run in curves.groupby(["metric", "task", "seed"], sort=True):
        if metric not in METRICS or task not in thresholds.get(metric, {}):
            continue
        higher, threshold = METRICS[metric], thresholds[metric][task]
        per_rung = []
        for (rung, params), one in run.groupby(["rung", "params"], sort=False):
            one = one.sort_values("step")
            steps, values = one["step"].to_numpy(), one["value"].to_numpy()
            per_rung.append((params, rung, values[-1], emergence_step(steps, values, threshold, higher)))
        per_rung.sort()
        sizes = np.array([p for p, *_ in per_rung], dtype=float)
        finals = np.array([f for _, _, f, _ in per_rung], dtype=float)
        hits = reached(finals, threshold, higher)
        point = emergence_point(sizes, finals, threshold, higher)
        position = rung_position(point.params, ladder_params) if point.censoring == "none" else math.nan
        ladder = run["ladder"].iloc[0]
        for (params, rung, final, step), hit in zip(per_rung, hits):
            rows.append((
                ladder, metric, threshold, task, seed, rung, params, final, bool(hit), step,
                point.params, position, point.censoring, point.regressed,
            ))  # fmt: skip
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.astype(
        {
            "ladder": "string",
            "metric": "string",
            "task": "string",
            "rung": "string",
            "censoring": "string",
            "seed": "int64",
            "params": "int64",
        }
    )


def fraction_emerged(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Tasks by rungs (columns in size order): the fraction of seeds whose rung has the capability."""
    one = table[table["metric"] == metric]
    grid = one.pivot_table(index="task", columns="rung", values="reached", aggfunc="mean")
    return grid[rung_sizes(one)["rung"].tolist()]


def rung_sizes(table: pd.DataFrame) -> pd.DataFrame:
    """The rungs present in a table, smallest first: columns rung, params."""
    return table.drop_duplicates("rung").sort_values("params")[["rung", "params"]].reset_index(drop=True)


def seed_points(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (metric, task, seed): its emergence point and censoring."""
    cols = ["metric", "task", "seed", "emergence_params", "emergence_position", "censoring", "regressed"]
    return table[cols].drop_duplicates(["metric", "task", "seed"]).reset_index(drop=True)


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Per (metric, task) over seeds: median and range of emergence points, censoring counted.

    ``low``, ``median`` and ``high`` are log10 parameters; a left-censored point
    counts as -inf and a right-censored one as +inf, so the summary is itself
    censored where they decide it. ``spread`` is the seeds' range in rung units
    (NaN when any seed is censored).
    """
    out = []
    for (metric, task), g in seed_points(table).groupby(["metric", "task"], sort=True):
        censoring = g["censoring"]
        logs = np.where(
            censoring == "left", -np.inf, np.where(censoring == "right", np.inf, np.log10(g["emergence_params"]))
        )
        pos = g["emergence_position"].to_numpy()
        inside = bool((censoring == "none").all())
        out.append({
            "metric": metric, "task": task, "n_seeds": len(g),
            "n_left": int((censoring == "left").sum()), "n_inside": int((censoring == "none").sum()),
            "n_right": int((censoring == "right").sum()), "n_regressed": int(g["regressed"].sum()),
            "low": logs.min(), "median": float(np.median(logs)), "high": logs.max(),
            "median_position": float(np.median(pos)) if inside else math.nan,
            "spread": float(pos.max() - pos.min()) if inside else math.nan,
        })  # fmt: skip
    return pd.DataFrame(out)


def task_order(table: pd.DataFrame, metric: str = "accuracy") -> list[str]:
    """Tasks from earliest to latest median emergence (left-censored first, never-emerged last)."""
    summary = summarize(table[table["metric"] == metric])
    return summary.sort_values(["median", "task"], kind="stable")["task"].tolist()

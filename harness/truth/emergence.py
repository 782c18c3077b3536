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

That per-seed rule is strict: one unfinished or regressed rung above the jump
moves a seed's point by several rungs. The *robust* estimate is the one the
acceptance checks and the scorer use. Over the rungs, in size order, take the
fraction of seeds that have the capability and fit the closest non-decreasing
sequence to it (isotonic regression, weighted by seeds). The robust point is
where that fit reaches one half, linear in log10(parameters) between the last
rung below one half and the first at or above it; where the fit steps cleanly
from 0 to 1 there, it is placed as the strict rule places it, where the line
between the two rungs' (mean) final values meets the threshold. Censored left
when the smallest rung is already at one half, right when the top rung is below it.
Pooled over all seeds it is the task's emergence point, with a percentile
bootstrap interval over seeds; on one seed alone it is that seed's robust point
(a 0/1 sequence, so a lone rung out of order costs at most half a rung).

Budget flags: a rung is *lost* when it lacks the capability that a smaller rung
of the same seed has, and *budget-limited* when it lacks it but was still
improving over the last evaluation interval (accuracy up by at least
``RISING["accuracy"]``, or loss down by at least ``RISING["loss"]`` of its
value): the run ended inside the jump, and a longer run could answer otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import isotonic_regression

METRICS = {"accuracy": True, "loss": False}  # metric -> higher is better
# Improvement over the last evaluation interval that counts as still rising: accuracy gained (absolute),
# loss lost (a fraction of its previous value).
RISING = {"accuracy": 0.05, "loss": 0.2}
N_BOOT = 1000  # bootstrap draws over seeds for the robust point's interval
LEVEL = 0.95

# One row per (metric, task, seed, rung). The emergence_*, censoring, regressed and robust_*
# columns describe the (metric, task, seed) and repeat on its rungs' rows.
COLUMNS = [
    "ladder", "metric", "threshold", "task", "seed", "rung", "params", "final", "reached", "emergence_step",
    "lost", "rising", "budget_limited", "emergence_params", "emergence_position", "censoring", "regressed",
    "robust_params", "robust_position", "robust_censoring",
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


def robust_point(
    params: np.ndarray,
    have: np.ndarray,
    weights: np.ndarray | None = None,
    values: np.ndarray | None = None,
    threshold: float = 0.5,
) -> Point:
    """Where the isotonic fit of ``have`` against size reaches one half.

    params (R,): rung sizes, ascending. have (R,): fraction of seeds with the
    capability at each rung (0 or 1 for one seed). weights (R,): seeds behind
    each fraction (all equal when None). values (R,): the metric's final value
    at each rung (mean over the seeds), optional: where the fit steps cleanly
    from 0 to 1 (every seed agrees on both rungs), the point is placed where the
    line between those two values meets ``threshold``, as the strict rule does,
    rather than halfway. ``regressed`` says whether ``have`` itself went down
    anywhere (the fit smoothed it out).
    """
    fit = isotonic_regression(have, weights=weights, increasing=True).x  # (R,)
    regressed = bool((np.diff(have) < 0).any())
    above = np.flatnonzero(fit >= 0.5)
    if not len(above):
        return Point(math.nan, "right", regressed)
    hi = above[0]
    if hi == 0:
        return Point(math.nan, "left", regressed)
    lo = hi - 1
    frac = (0.5 - fit[lo]) / (fit[hi] - fit[lo])
    if values is not None and fit[lo] == 0 and fit[hi] == 1 and np.isfinite(values[[lo, hi]]).all():
        frac = (threshold - values[lo]) / (values[hi] - values[lo])
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
            step = emergence_step(steps, values, threshold, higher)
            per_rung.append((params, rung, values[-1], step, still_rising(values, metric)))
        per_rung.sort()
        sizes = np.array([p for p, *_ in per_rung], dtype=float)
        finals = np.array([f for _, _, f, *_ in per_rung], dtype=float)
        hits = reached(finals, threshold, higher)
        lost = ~hits & (np.cumsum(hits) > 0)  # (R,) a smaller rung of this seed has it, this one does not
        point = emergence_point(sizes, finals, threshold, higher)
        robust = robust_point(sizes, hits.astype(float), values=finals, threshold=threshold)
        position, robust_position = (
            rung_position(p.params, ladder_params) if p.censoring == "none" else math.nan for p in (point, robust)
        )
        ladder = run["ladder"].iloc[0]
        for (params, rung, final, step, rising), hit, gone in zip(per_rung, hits, lost):
            rows.append((
                ladder, metric, threshold, task, seed, rung, params, final, bool(hit), step,
                bool(gone), rising, rising and not hit, point.params, position, point.censoring, point.regressed,
                robust.params, robust_position, robust.censoring,
            ))  # fmt: skip
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.astype(
        {
            "ladder": "string",
            "metric": "string",
            "task": "string",
            "rung": "string",
            "censoring": "string",
            "robust_censoring": "string",
            "seed": "int64",
            "params": "int64",
        }
    )


def still_rising(values: np.ndarray, metric: str) -> bool:
    """Whether a curve (values at the evaluation steps, ascending) was still improving at its last evaluation."""
    if len(values) < 2 or not np.isfinite(values[-2:]).all():
        return False
    before, last = values[-2], values[-1]
    if METRICS[metric]:  # accuracy: gained in absolute terms
        return bool(last - before >= RISING[metric])
    return bool(before > 0 and (before - last) / before >= RISING[metric])  # loss: lost a share of its value


def fraction_emerged(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Tasks by rungs (columns in size order): the fraction of seeds whose rung has the capability."""
    one = table[table["metric"] == metric]
    grid = one.pivot_table(index="task", columns="rung", values="reached", aggfunc="mean")
    return grid[rung_sizes(one)["rung"].tolist()]


def rung_sizes(table: pd.DataFrame) -> pd.DataFrame:
    """The rungs present in a table, smallest first: columns rung, params."""
    return table.drop_duplicates("rung").sort_values("params")[["rung", "params"]].reset_index(drop=True)


def seed_points(table: pd.DataFrame) -> pd.DataFrame:
    """One row per (metric, task, seed): its strict and robust emergence points and their censoring."""
    cols = [
        "metric", "task", "seed", "emergence_params", "emergence_position", "censoring", "regressed",
        "robust_params", "robust_position", "robust_censoring",
    ]  # fmt: skip
    return table[cols].drop_duplicates(["metric", "task", "seed"]).reset_index(drop=True)


def pooled_points(table: pd.DataFrame, n_boot: int = N_BOOT, seed: int = 0) -> pd.DataFrame:
    """Per (metric, task): the robust emergence point pooled over every seed, with a bootstrap interval over seeds.

    Columns: metric, task, n_seeds, params (NaN when censored), log_params
    (-inf / +inf when censored left / right), position (rung units, likewise
    -inf / +inf), censoring, and low / high: the percentile interval
    (``LEVEL``) of position over ``n_boot`` resamplings of the seeds, each
    refitting the pooled point (a censored draw counts as -inf or +inf).
    """
    rng = np.random.default_rng(seed)
    ladder_params = rung_sizes(table)["params"].to_numpy(dtype=float)
    out = []
    for metric, task, (sizes, have, finals, seen, threshold) in _grids(table):
        point = _pooled(sizes, have, finals, seen, np.ones(len(have)), threshold)
        present = seen.any(axis=1)  # (S,) seeds with a finished rung: the bootstrap draws among them
        have, finals, seen, n = have[present], finals[present], seen[present], int(present.sum())
        counts = rng.multinomial(n, np.full(n, 1 / n), size=n_boot)  # (B, S) draws per seed
        draws = np.array(
            [_position(_pooled(sizes, have, finals, seen, c, threshold), ladder_params) for c in counts]
        )  # (B,)
        lo, hi = (
            np.quantile(draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], method="inverted_cdf") if n_boot else (math.nan,) * 2
        )
        position = _position(point, ladder_params)
        log_params = math.log10(point.params) if point.censoring == "none" else position
        out.append({
            "metric": metric, "task": task, "n_seeds": n, "params": point.params, "log_params": log_params,
            "position": position, "censoring": point.censoring, "low": float(lo), "high": float(hi),
        })  # fmt: skip
    return pd.DataFrame(out)


def pooled_log_sizes(table: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    """The pooled robust point of every (metric, task) under each row of seed ``weights``, in log10 parameters.

    weights (M, S): how often each of the table's seeds (ascending) counts, e.g. one
    bootstrap resample of the seeds per row. Returns metric, task, draw (0 .. M-1) and
    log_params (-inf / +inf when censored left / right), as ``pooled_points`` places them.
    """
    ladder_params = rung_sizes(table)["params"].to_numpy(dtype=float)
    rows = []
    for metric, task, (sizes, have, finals, seen, threshold) in _grids(table):
        for draw, w in enumerate(weights):
            point = _pooled(sizes, have, finals, seen, w, threshold)
            log = math.log10(point.params) if point.censoring == "none" else _position(point, ladder_params)
            rows.append((metric, task, draw, log))
    return pd.DataFrame(rows, columns=["metric", "task", "draw", "log_params"])


def _grids(
    table: pd.DataFrame,
) -> Iterator[tuple[str, str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]]]:
    """Per (metric, task): rung sizes (R,), have, finals and seen (S, R) over every seed of the table, and threshold.

    Rows follow the table's seeds in ascending order, so seed weights line up; a seed
    that lacks a rung (unfinished) is not ``seen`` there and weighs nothing.
    """
    seeds = np.sort(table["seed"].unique())
    for (metric, task), g in table.groupby(["metric", "task"], sort=True):
        sizes = np.unique(g["params"].to_numpy(dtype=float))  # (R,)
        at = (np.searchsorted(seeds, g["seed"].to_numpy()), np.searchsorted(sizes, g["params"].to_numpy(dtype=float)))
        have, finals = np.full((len(seeds), len(sizes)), np.nan), np.full((len(seeds), len(sizes)), np.nan)
        have[at], finals[at] = g["reached"].to_numpy(dtype=float), g["final"].to_numpy(dtype=float)  # (S, R)
        seen = ~np.isnan(have)  # a seed may lack an unfinished rung
        yield metric, task, (sizes, have, finals, seen, float(g["threshold"].iloc[0]))


def _pooled(
    sizes: np.ndarray, have: np.ndarray, finals: np.ndarray, seen: np.ndarray, weights: np.ndarray, threshold: float
) -> Point:
    """Robust point of seeds with the given weights: have, finals, seen (S, R); weights (S,) (bootstrap counts)."""
    w = seen * weights[:, None]  # (S, R)
    n = w.sum(axis=0)  # (R,) seeds behind each rung
    k = (np.nan_to_num(have) * w).sum(axis=0)  # (R,) of them with the capability
    keep = n > 0
    with np.errstate(invalid="ignore"):  # a diverged (NaN) final makes its rung's mean NaN: the fit then decides
        mean = (np.where(seen, finals, 0.0) * w).sum(axis=0) / np.where(keep, n, 1)  # (R,)
    return robust_point(sizes[keep], k[keep] / n[keep], n[keep], mean[keep], threshold)


def _position(point: Point, ladder_params: np.ndarray) -> float:
    """A point in rung units; -inf / +inf when censored left / right."""
    if point.censoring == "left":
        return -math.inf
    if point.censoring == "right":
        return math.inf
    return rung_position(point.params, ladder_params)


def summarize(table: pd.DataFrame, n_boot: int = N_BOOT) -> pd.DataFrame:
    """Per (metric, task): the pooled robust point with its bootstrap interval, and the seeds counted.

    Columns of ``pooled_points`` plus: log_low and log_high, the interval in
    log10 parameters (-inf / +inf where censored); n_left, n_inside, n_right,
    seeds by the censoring of their own robust point; spread, the range of
    those points in rung units (NaN unless every seed is inside); n_regressed,
    seeds whose rungs went down somewhere; n_budget_limited, (rung, seed)
    pairs that ended still rising below threshold.
    """
    pooled = pooled_points(table, n_boot)
    logs = np.log10(rung_sizes(table)["params"].to_numpy(dtype=float))
    pooled["log_low"], pooled["log_high"] = (_log_size(pooled[c].to_numpy(), logs) for c in ("low", "high"))
    points = seed_points(table)
    counts = points.groupby(["metric", "task"]).agg(
        n_left=("robust_censoring", lambda c: int((c == "left").sum())),
        n_inside=("robust_censoring", lambda c: int((c == "none").sum())),
        n_right=("robust_censoring", lambda c: int((c == "right").sum())),
        n_regressed=("regressed", "sum"),
        spread=("robust_position", lambda p: p.max() - p.min()),
    )
    counts.loc[counts["n_inside"] < points.groupby(["metric", "task"]).size(), "spread"] = math.nan
    limited = table.groupby(["metric", "task"])["budget_limited"].sum().rename("n_budget_limited")
    return pooled.join(counts.join(limited), on=["metric", "task"])


def _log_size(positions: np.ndarray, logs: np.ndarray) -> np.ndarray:
    """Rung positions (R units, +-inf kept) -> log10 parameters along the ladder's sizes logs (R,)."""
    finite = np.isfinite(positions)
    return np.where(finite, np.interp(np.where(finite, positions, 0), np.arange(len(logs)), logs), positions)


def task_order(table: pd.DataFrame, metric: str = "accuracy") -> list[str]:
    """Tasks from earliest to latest pooled emergence (left-censored first, never-emerged last)."""
    summary = pooled_points(table[table["metric"] == metric], n_boot=0)
    return summary.sort_values(["log_params", "task"], kind="stable")["task"].tolist()

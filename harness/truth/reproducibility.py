"""Does a ladder's truth hold on seeds nobody tuned on? Tuning seeds against held-out seeds, by permutation.

A ladder is tuned by looking at some seeds, and can end up fitted to their
luck: tasks placed where those seeds happened to learn them. If the tuning
seeds are exchangeable with the others, the observed split of the measured
seeds into tuning and held-out is one draw among every split into groups of
those sizes. So a statistic of the observed split is compared with its
distribution over every such split (an exact permutation test over seed
labels), or over ``MAX_SPLITS`` of them drawn from a generator with a fixed
seed where there are more. Its p-value is the share of splits whose statistic
is at least the observed one, the observed split counted among them (so p > 0).

Two statistics, both larger when the groups disagree more:

- per task, the distance between the two groups' pooled emergence points
  (``harness.truth.emergence``'s robust estimate) in rung positions, a censored
  point placed half a rung interval beyond the ladder's end (``CENSORED_AT``);
- over the whole table, the Brier score of the first group's fraction of seeds
  with the capability at each (task, rung), as a forecast of each seed of the
  second group's 0/1 outcome there.

Pure numpy and pandas; no torch.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.truth.emergence import pooled_log_sizes, rung_sizes

MAX_SPLITS = 2000  # enumerate every split up to this many, else draw this many at random
SPLIT_SEED = 31  # root of the drawn splits: fixed, so the same results always give the same p-values
CENSORED_AT = 0.5  # a censored pooled point sits this many rung intervals beyond the ladder's end
TIE = 1e-9  # statistics within this of the observed one count as at least as large (float noise)


@dataclass(frozen=True)
class Splits:
    """Splits of S seeds into a first group of k and the rest.

    first (M, S) bool: True where a seed is in the first group; row 0 is the
    observed split. exact: whether the rows are every split (M = C(S, k)), else
    the observed one and ``MAX_SPLITS`` drawn at random (M = MAX_SPLITS + 1).
    """

    first: np.ndarray
    exact: bool

    @property
    def n_drawn(self) -> int:
        """Splits in the permutation distribution besides the observed one when drawn; all of them when exact."""
        return len(self.first) if self.exact else len(self.first) - 1


@dataclass(frozen=True)
class Reproducibility:
    """The permutation tests of one tuning/held-out split.

    points: per task, its pooled point on the tuning seeds and on the held-out
    seeds (rung positions, censored ones at ``CENSORED_AT`` beyond the ends),
    their distance and its p-value. brier, brier_p: the table's statistic and its p-value.
    """

    points: pd.DataFrame
    brier: float
    brier_p: float
    splits: Splits


def seed_splits(observed: np.ndarray, limit: int = MAX_SPLITS, seed: int = SPLIT_SEED) -> Splits:
    """Every split of the seeds into groups of the observed sizes, or ``limit`` random ones beside the observed.

    observed (S,) bool: the first group of the observed split (the tuning seeds).
    """
    observed = np.asarray(observed, dtype=bool)
    n, k = len(observed), int(observed.sum())
    if math.comb(n, k) <= limit:
        first = np.zeros((math.comb(n, k), n), dtype=bool)
        for row, chosen in enumerate(itertools.combinations(range(n), k)):
            first[row, list(chosen)] = True
        at = int(np.flatnonzero((first == observed).all(axis=1))[0])
        first[[0, at]] = first[[at, 0]]  # the observed split first
        return Splits(first, exact=True)
    rng = np.random.default_rng(seed)
    chosen = rng.random((limit, n)).argsort(axis=1)[:, :k]  # (limit, k) a uniform k-subset per row
    drawn = np.zeros((limit, n), dtype=bool)
    np.put_along_axis(drawn, chosen, True, axis=1)
    return Splits(np.vstack([observed, drawn]), exact=False)


def p_value(statistics: np.ndarray) -> float:
    """Share of splits (M,) whose statistic is at least the observed one (row 0), the observed one included."""
    return float(np.mean(statistics >= statistics[0] - TIE))


def censored_positions(log_params: np.ndarray, logs: np.ndarray) -> np.ndarray:
    """log10 sizes (+-inf when censored) -> rung positions along the ladder's log sizes (R,), censored ones at
    ``CENSORED_AT`` rung intervals beyond the ends."""
    log_params = np.asarray(log_params, dtype=float)
    finite = np.isfinite(log_params)
    inside = np.interp(np.where(finite, log_params, logs[0]), logs, np.arange(len(logs)))
    return np.clip(np.where(finite, inside, log_params), -CENSORED_AT, len(logs) - 1 + CENSORED_AT)


def split_distances(table: pd.DataFrame, splits: Splits) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Per split and task: both groups' pooled points and their distance, in rung positions.

    table: one metric's rows, seeds in the order of ``splits`` (ascending).
    Returns the tasks (T), positions (2, M, T): first group, second group, and distances (M, T).
    """
    first = splits.first.astype(float)  # (M, S)
    weights = np.vstack([first, 1 - first])  # (2M, S): rows 0..M-1 the first groups, then their complements
    logs = np.log10(rung_sizes(table)["params"].to_numpy(dtype=float))
    long = pooled_log_sizes(table, weights)
    grid = long.pivot(index="draw", columns="task", values="log_params").sort_index()  # (2M, T)
    positions = censored_positions(grid.to_numpy(), logs).reshape(2, len(first), -1)  # (2, M, T)
    return grid.columns.tolist(), positions, np.abs(positions[0] - positions[1])


def split_briers(have: np.ndarray, splits: Splits) -> np.ndarray:
    """Per split (M,): Brier of the first group's fractions as a forecast of each second-group seed's outcomes.

    have (S, C): 1.0 / 0.0 where a seed's rung has the capability, NaN where
    that rung is not measured; C runs over every (task, rung). A column none of
    the first group measured is left out. Expanded so that it is one matrix
    product per term: for outcomes y in {0, 1}, (f - y)^2 = f^2 - 2 f y + y.
    """
    seen = ~np.isnan(have)  # (S, C)
    y = np.nan_to_num(have)
    first = splits.first.astype(float)  # (M, S)
    second = 1 - first
    n1, k1 = first @ seen, first @ y  # (M, C) seeds of the first group measured, and with the capability
    n2, k2 = second @ seen, second @ y
    keep = n1 > 0
    f = np.where(keep, k1 / np.where(keep, n1, 1), 0.0)  # (M, C) the forecast
    total = np.where(keep, f**2 * n2 - 2 * f * k2 + k2, 0.0).sum(axis=1)
    count = np.where(keep, n2, 0).sum(axis=1)
    return total / np.maximum(count, 1)


def reproducibility(table: pd.DataFrame, tuning: list[int], tasks: list[str]) -> Reproducibility:
    """Tuning seeds against held-out seeds on one metric's rows of every measured seed.

    tuning: the table's tuning seeds (every other seed is held out); both
    groups must be non-empty. tasks: those whose pooled points are compared
    (the ones inside the ladder); the Brier statistic covers every task.
    """
    seeds = np.sort(table["seed"].unique())
    observed = np.isin(seeds, tuning)
    if not observed.any() or observed.all():
        raise ValueError(f"need tuning and held-out seeds among {seeds.tolist()}; tuning seeds given: {tuning}")
    splits = seed_splits(observed)
    have = table.pivot_table(index="seed", columns=["task", "rung"], values="reached", aggfunc="mean")
    brier = split_briers(have.reindex(seeds).to_numpy(dtype=float), splits)
    rows = []
    if tasks:
        names, positions, distances = split_distances(table[table["task"].isin(tasks)], splits)
        for i, task in enumerate(names):
            p = p_value(distances[:, i])
            rows.append((task, positions[0, 0, i], positions[1, 0, i], distances[0, i], p))
    points = pd.DataFrame(rows, columns=["task", "tuning", "held_out", "distance", "p"])
    return Reproducibility(points, float(brier[0]), p_value(brier), splits)

"""The truth as a distribution: per (task, rung), the probability that a run of that size has the capability.

Whether a network of a given size gains a capability is a random event over
seeds (initialisation and data order), so the truth of a (task, rung) is a
probability, estimated by the fraction of seeds that have it, with a Jeffreys
interval. Where the seeds split all-or-nothing, some near chance and others at
the threshold or above with none in between (the signature Zhao et al. 2025
report near emergence), the (task, rung) is marked *bimodal*.

Pure pandas, numpy and scipy over the table of ``harness.truth.emergence``; no torch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import beta

LEVEL = 0.95

# One row per (metric, task, rung). bimodal is judged on the final accuracies only: missing (NA) on loss rows.
COLUMNS = ["metric", "task", "rung", "params", "n_seeds", "n_have", "fraction", "low", "high", "bimodal"]


def jeffreys_interval(k: np.ndarray, n: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed Jeffreys interval of a binomial proportion: k successes of n, element-wise.

    The quantiles of Beta(k + 1/2, n - k + 1/2), with the usual endpoints 0 when
    k = 0 and 1 when k = n (Brown, Cai and DasGupta 2001): close to its nominal
    coverage even at a handful of seeds, and never the zero-width interval the
    Wald interval gives at 0/n or n/n. NaN where n is 0.
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    tail = (1 - level) / 2
    with np.errstate(invalid="ignore"):
        low = np.where(k > 0, beta.ppf(tail, k + 0.5, n - k + 0.5), 0.0)
        high = np.where(k < n, beta.ppf(1 - tail, k + 0.5, n - k + 0.5), 1.0)
    empty = n <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def is_bimodal(finals: np.ndarray, chance: float, threshold: float) -> bool:
    """Whether seeds' final accuracies (S,) split all-or-nothing around ``threshold``.

    With the band's midpoint m = (chance + threshold) / 2: at least one seed
    below m (near chance), at least one at or above ``threshold`` (has the
    capability), and none in the middle band [m, threshold). Diverged (NaN)
    finals are left out.
    """
    finals = np.asarray(finals, dtype=float)
    finals = finals[np.isfinite(finals)]
    middle = (chance + threshold) / 2
    low, high = finals < middle, finals >= threshold
    return bool(low.any() and high.any() and (low | high).all())


def probability_table(table: pd.DataFrame, chance: dict[str, float]) -> pd.DataFrame:
    """Per (metric, task, rung): seeds measured, seeds with the capability, the fraction, its interval, bimodal.

    table: from ``emergence_table``. chance: task -> its exact-match accuracy by
    uniform guessing (``Task.chance``), which the bimodality rule needs; a task
    missing from it is a caller's bug and raises KeyError.
    """
    rows = []
    for (metric, task, rung, params), g in table.groupby(["metric", "task", "rung", "params"], sort=False):
        threshold = float(g["threshold"].iloc[0])
        bimodal = is_bimodal(g["final"].to_numpy(), chance[task], threshold) if metric == "accuracy" else pd.NA
        rows.append((metric, task, rung, params, len(g), int(g["reached"].sum()), bimodal))
    out = pd.DataFrame(rows, columns=["metric", "task", "rung", "params", "n_seeds", "n_have", "bimodal"])
    out["fraction"] = out["n_have"] / out["n_seeds"]
    out["low"], out["high"] = jeffreys_interval(out["n_have"].to_numpy(), out["n_seeds"].to_numpy())
    out = out.sort_values(["metric", "task", "params"], kind="stable").reset_index(drop=True)
    types = {"metric": "string", "task": "string", "rung": "string", "params": "int64", "n_seeds": "int64",
             "n_have": "int64", "bimodal": "boolean"}  # fmt: skip
    return out[COLUMNS].astype(types)

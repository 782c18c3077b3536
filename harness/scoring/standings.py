"""Standings across ladders: one ranking of forecasters over every resolved ladder and round they answered.

Forecasters answer different ladders, and ladders differ in difficulty, so raw
means are not comparable: a forecaster who answered only easy rounds would look
best. Following ForecastBench, each question's score is modelled as a two-way
fixed effect, score(forecaster, question) = question effect + forecaster
effect, fitted by least squares over the questions each forecaster answered. A
question is one task of one ladder version, scored per task as on the ladder's
leaderboard (Brier over its rungs, or pinball of its emergence size). The
forecaster effect is reported relative to the uninformed forecaster, which
answers every question, so it reads as "how much better than knowing nothing,
on the questions you answered, adjusted for how hard they were"; negative is
better. Intervals are 95% percentile intervals of a bootstrap that resamples
questions and refits. Pure pandas and numpy; no torch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REFERENCE = "uninformed"


def effects(scores: pd.DataFrame) -> pd.Series:
    """Forecaster effects relative to REFERENCE from (forecaster, question, value) rows (one per pair).

    Least squares on one-hot questions and forecasters, REFERENCE's column dropped so that its effect is 0.
    """
    forecasters = sorted(scores["forecaster"].unique())
    f_codes = scores["forecaster"].map({f: i for i, f in enumerate(forecasters)}).to_numpy()
    q_codes, questions = pd.factorize(scores["question"])
    fitted = _fit(f_codes, q_codes, len(questions), len(forecasters), forecasters.index(REFERENCE),
                  scores["value"].to_numpy(dtype=float))  # fmt: skip
    return pd.Series(fitted, index=forecasters)


def _fit(f: np.ndarray, q: np.ndarray, n_q: int, n_f: int, ref: int, y: np.ndarray) -> np.ndarray:
    """(n_f,) forecaster effects of y ~ question + forecaster, the reference's fixed at 0; NaN if unanswered."""
    design = np.zeros((len(y), n_q + n_f))
    design[np.arange(len(y)), q] = 1.0
    design[np.arange(len(y)), n_q + f] = 1.0
    design = np.delete(design, n_q + ref, axis=1)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    out = np.insert(coef[n_q:], ref, 0.0)
    out[np.bincount(f, minlength=n_f) == 0] = np.nan
    return out


def standings(scores: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per forecaster: ladders and questions answered, raw mean, effect with its 95% interval, rank.

    scores: ladder, task, forecaster, value (one lower-is-better score per question and forecaster);
    REFERENCE must have answered every question. Rows come out best first.
    """
    scores = scores.assign(question=scores["ladder"] + "/" + scores["task"]).reset_index(drop=True)
    missing = set(scores["question"]) - set(scores.loc[scores["forecaster"] == REFERENCE, "question"])
    if missing:
        raise ValueError(f"the {REFERENCE} forecaster has no score on {sorted(missing)}")
    forecasters = sorted(scores["forecaster"].unique())
    f_codes = scores["forecaster"].map({f: i for i, f in enumerate(forecasters)}).to_numpy()
    q_codes, questions = pd.factorize(scores["question"])
    y = scores["value"].to_numpy(dtype=float)
    rows_of = [np.flatnonzero(q_codes == k) for k in range(len(questions))]
    rng = np.random.default_rng(seed)
    boot = np.empty((n_boot, len(forecasters)))
    for b in range(n_boot):
        picked = rng.integers(0, len(questions), size=len(questions))  # questions drawn with replacement
        idx = np.concatenate([rows_of[k] for k in picked])
        relabel = np.repeat(np.arange(len(picked)), [len(rows_of[k]) for k in picked])  # each draw its own question
        boot[b] = _fit(f_codes[idx], relabel, len(picked), len(forecasters), forecasters.index(REFERENCE), y[idx])
    table = scores.groupby("forecaster").agg(
        ladders=("ladder", "nunique"), questions=("question", "nunique"), raw=("value", "mean")
    )
    table["effect"] = effects(scores)
    table["low"], table["high"] = np.nanpercentile(boot, [2.5, 97.5], axis=0)
    table = table.sort_values("effect").reset_index()
    table["rank"] = table["effect"].round(9).rank(method="min").astype("Int64")  # equal up to float noise: tied
    return table[["rank", "forecaster", "ladders", "questions", "raw", "effect", "low", "high"]]

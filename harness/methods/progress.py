"""The built-in ``progress`` method (internals track): the two-step, with what the progress measures say.

It asks whether reading the revealed rungs' insides adds anything to the best curve-fitting method, so it
changes the two-step's answers only where a progress measure has shown it tells who gets a capability:

1. **Evidence.** Per task, the features of ``harness.methods.evidence`` (each measure's level at the last
   checkpoint and its rise over the last stretch of training), with whether the pair got the capability: the
   revealed pairs of this ladder (their outcome is in the revealed curves) and every pair of the other
   resolved ladders with a measured internals table (``question.elsewhere``, leave one ladder out).
2. **Which measure, and at what level.** Per task, each feature's discrimination over that evidence (the area
   under the ROC curve, from the Mann-Whitney U, whichever way the feature points); the best one is used if
   it reaches MIN_AUC on at least MIN_EACH pairs with and MIN_EACH without the capability. A logistic
   regression of the outcome on that feature (``scipy.optimize``) gives the level at which the capability
   appears and how sharply.
3. **How the measure grows with size.** A share's level is read as its logit (a share saturates; its logit
   need not). The feature's mean over the seeds of each revealed rung as a line in log10 parameters over
   the revealed rungs (at least MIN_RUNGS), extended to the hidden rungs, with the
   line's prediction interval as its spread (it widens with the distance extrapolated). A line that does not
   approach the capability's level as size grows says nothing about the larger rungs: the task keeps the
   two-step's answers.
4. **The answers.** A hidden rung's probability is the logistic's mean over that spread (the probit
   approximation); the emergence size is where the line reaches the level; the steps follow the new
   probabilities as the two-step's do. The loss-size and accuracy answers, and every answer of a task no
   measure separates, are the two-step's. The description names the measure used for each task.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from harness.forecasts.schema import Forecast
from harness.methods import builtin
from harness.methods.evidence import ELSEWHERE, features
from harness.methods.question import Question
from harness.neurons.internals_table import MEASURES
from harness.truth.emergence import emergence_table

MIN_AUC = 0.75  # a measure that orders pairs by outcome worse than this is not used
MIN_EACH = 3  # pairs with, and pairs without, the capability needed to judge a measure
SHARE_CLIP = 1e-3  # a share's level is read as its logit, clipped this far from 0 and 1
MIN_RUNGS = 3  # revealed rungs needed to extend a measure (a line and its spread)
SD_FLOOR = 0.01  # the smallest residual spread of the line, in the feature's units
PENALTY = 0.1  # L2 on the logistic's slope (standardised feature): keeps it finite when the evidence separates


def progress(question: Question, leave_out: tuple[str, ...] = ()) -> Forecast:
    """The ``progress`` forecast of an internals-track question (see the module's docstring).

    ``leave_out``: measures not to use (``benchmarks/backtest_tables.py`` leaves out ``solved_share``, the
    probe's accuracy, to ask what the mechanistic measures alone add).
    """
    ladder, up_to = question.ladder, question.up_to
    limits = question.thresholds
    base = builtin.two_step(ladder, question.curves, up_to, limits["loss"], limits["accuracy"])
    own = _scaled(features(question.internals.table))
    evidence = _evidence(question, own)
    evidence = evidence[~evidence["feature"].str.rsplit(" ", n=1).str[0].isin(leave_out)]
    steps = builtin.revealed_steps(ladder, question.curves, question.revealed, limits["accuracy"])
    tasks, used = {}, []
    for task, forecast in base.tasks.items():
        choice = _choose(evidence[evidence["task"] == task])
        update = None if choice is None else _read_off(question, own[own["task"] == task], choice, steps[task])
        tasks[task] = forecast if update is None else forecast.model_copy(update=update)
        if update is not None:
            used.append(f"{task}: {choice[0]} (AUC {choice[1]:.2f} over {choice[2]} pairs)")
    description = (
        f"The two-step on the rungs up to {up_to}, with the probability and size of emergence read off a progress "
        f"measure where one separates the pairs with the capability from those without: "
        f"{'; '.join(used) or 'none did'}."
    )
    return Forecast(
        forecaster="progress", ladder=ladder.name, ladder_hash=ladder.hash, track="internals",
        revealed_up_to=up_to, tasks=tasks, description=description[:2000],
    )  # fmt: skip


def _read_off(question: Question, own: pd.DataFrame, choice: tuple, step: float) -> dict | None:
    """The answers a chosen feature gives one task (p_emerged, emergence and step quantiles of the hidden rungs),
    or None when it cannot be extended: a revealed rung without it, fewer than MIN_RUNGS revealed rungs, or a
    line that does not approach the capability as size grows (it says nothing about the larger rungs then).

    own: the question's own FEATURES rows of the task, scaled; choice: ``_choose``'s; step: the task's median
    log10 emergence step on the revealed rungs.
    """
    ladder, seen = question.ladder, question.revealed
    feature, _, _, (alpha, beta) = choice
    per_rung = own[own["feature"] == feature].groupby("rung")["value"].mean().reindex(seen)
    if per_rung.isna().any() or len(seen) < MIN_RUNGS:
        return None
    names = [r.name for r in ladder.rungs]
    log_all = np.log10([r.params for r in ladder.rungs])
    x = log_all[: len(seen)]
    a, b, sd = _line(x, per_rung.to_numpy(), log_all)  # sd: (R,) the feature's spread at each rung
    if beta * b <= 0:
        return None
    mean = alpha + beta * (a + b * log_all)  # (R,) the logistic's argument along the line
    p = 1 / (1 + np.exp(-mean / np.sqrt(1 + math.pi * (beta * sd) ** 2 / 8)))  # probit approximation
    # Where the logistic's argument reaches 0, as a falling line in log10 size (builtin.line_crossing).
    centre = builtin.line_crossing(-(alpha + beta * a), -beta * b, x, 0.0)
    return {
        "p_emerged": {n: round(float(v), builtin.DECIMALS) for n, v in zip(names, p) if n not in seen},
        "emergence_quantiles": builtin.size_quantiles(centre, x[-1]),
        "emergence_step_quantiles": builtin.steps_above(names, seen, p, step, ladder),
    }


def _scaled(table: pd.DataFrame) -> pd.DataFrame:
    """FEATURES rows with each share's level as its logit (clipped to SHARE_CLIP from 0 and 1), so a share that
    saturates as size grows is a line in log size where it is not one itself; rises stay differences."""
    share = table["feature"].isin([f"{name} level" for name, m in MEASURES.items() if m.share])
    logit = special.logit(table["value"].astype(float).clip(SHARE_CLIP, 1 - SHARE_CLIP))
    return table.assign(value=table["value"].astype(float).where(~share, logit))


def _evidence(question: Question, own: pd.DataFrame) -> pd.DataFrame:
    """Features with outcomes (task, feature, value, reached): the revealed pairs' (``own``: their scaled
    FEATURES rows), then the other ladders'."""
    outcome = emergence_table(question.curves, question.thresholds)
    outcome = outcome.loc[outcome["metric"] == "accuracy", ["task", "rung", "seed", "reached"]]
    own = own.merge(outcome.astype({"task": str, "rung": str}), on=["task", "rung", "seed"])
    cols = ["task", "feature", "value", "reached"]
    others = question.elsewhere if question.elsewhere is not None else pd.DataFrame(columns=ELSEWHERE)
    rows = pd.concat([own[cols], _scaled(others)[cols]], ignore_index=True).dropna()
    return rows.astype({"task": str, "feature": str, "value": float, "reached": bool})


def _choose(rows: pd.DataFrame) -> tuple[str, float, int, tuple[float, float]] | None:
    """The feature that best tells the pairs with the capability from those without, if one does well enough:
    (feature, AUC, pairs, (alpha, beta) of P(capability) = 1 / (1 + exp(-(alpha + beta * value))))."""
    best = None
    for feature, one in rows.groupby("feature", sort=True):
        got, not_got = one.loc[one["reached"], "value"], one.loc[~one["reached"], "value"]
        if min(len(got), len(not_got)) < MIN_EACH:
            continue
        auc = stats.mannwhitneyu(got, not_got).statistic / (len(got) * len(not_got))
        auc = max(auc, 1 - auc)  # a measure that falls as the capability appears tells as much
        if auc >= MIN_AUC and (best is None or auc > best[1]):
            best = (str(feature), float(auc), len(one), one)
    if best is None:
        return None
    feature, auc, n, one = best
    return feature, round(auc, 4), n, _logistic(one["value"].to_numpy(float), one["reached"].to_numpy(bool))


def _logistic(v: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(alpha, beta) of a logistic regression of ``y`` on ``v``, fitted on the standardised feature with a small
    L2 penalty on the slope, rounded (builtin.DECIMALS) so the forecast does not hang on the last float digit."""
    centre, scale = float(v.mean()), float(v.std()) or 1.0
    u = (v - centre) / scale

    def loss(theta: np.ndarray) -> float:
        z = theta[0] + theta[1] * u
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + PENALTY * theta[1] ** 2)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = optimize.minimize(loss, np.zeros(2), method="BFGS").x
    beta = b / scale
    return round(float(a - beta * centre), builtin.DECIMALS), round(float(beta), builtin.DECIMALS)


def _line(x: np.ndarray, v: np.ndarray, at: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Intercept and slope of the feature against log10 size over the revealed rungs (``stats.linregress``), and
    the standard deviation of a new rung's value at each of the sizes ``at``: the textbook prediction interval,
    s sqrt(1 + 1/n + (x - mean x)^2 / Sxx), which widens with the distance extrapolated."""
    fit = stats.linregress(x, v)
    n = len(x)
    s = math.sqrt(max(float(np.sum((v - fit.intercept - fit.slope * x) ** 2)) / (n - 2), SD_FLOOR**2))
    sxx = float(np.sum((x - x.mean()) ** 2))
    return float(fit.intercept), float(fit.slope), s * np.sqrt(1 + 1 / n + (at - x.mean()) ** 2 / sxx)

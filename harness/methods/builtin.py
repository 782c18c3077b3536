"""The built-in forecasters: uninformed, extrapolator, two-step, oracle and template-prior.

- uninformed: ``harness.forecasts.schema.uninformed``; the reference for skill scores.
- extrapolator (extrapolation track): sees the revealed rungs only. Per task it
  fits the final answer loss as a power law of parameters (a straight line in
  log-log, ``scipy.stats.linregress``) and the final accuracy as a logistic in
  log10 parameters (``scipy.optimize.curve_fit``), and extends both. Its
  emergence size is where the loss line crosses the task's loss threshold, with
  an uncertainty that grows with the distance extrapolated.
- oracle: reads the answers off the measured truth. It checks the scorer (it
  must score best) and is kept out of the ranking.
- two-step (extrapolation track), in the style of AI2's model ladders (Bhagia
  et al., 2024): per task, the answer loss as a power law of size fitted on the
  revealed rungs; across tasks, one sigmoid from loss (relative to each task's
  loss threshold, in log units) to accuracy, fitted on every revealed (task,
  rung); the questions are read off the composition. Where the extrapolator
  assumes accuracy crosses its threshold exactly where the loss crosses the
  loss threshold, the two-step learns that relation from the revealed rungs.
- template-prior (blind, for rounds): the measured truth of the ladder a round
  was drawn from, as if the new task settings changed nothing; it says how much
  a round's questions differ from what is already known.

Every forecaster but uninformed also answers the smooth-metric and step
questions. The smooth-metric size is where the answer loss crosses its
threshold: the extrapolator's own centre, the two-step's loss line at zero, the
template's or the truth's pooled loss point. The step of a rung is a mixture:
with the forecaster's probability p that the rung gets the capability, a normal
in log10 steps around the steps at which the capability appeared where it was
seen (the revealed rungs, the template's rung, the truth); with 1 - p, never
(past the budget). Its quantile at level L is the normal's at L / p below p,
and past the budget above.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import optimize, stats

from harness.forecasts.schema import LEVELS, Forecast, TaskForecast, uninformed
from harness.ladders.ladder import Ladder
from harness.scoring import rules
from harness.truth.emergence import emergence_step, pooled_points

__all__ = ["extrapolator", "knows_nothing", "oracle", "template_prior", "two_step", "uninformed"]
BEYOND = 0.5  # decades past the ladder's ends where the oracle puts a censored point
# Every number a built-in forecaster computes through a maths library (log10, scipy's fits) is rounded to
# at most DECIMALS decimals, so its file does not depend on a machine's last float digit. The oracle's
# probabilities and accuracies are fractions and means of stored values, the same on every machine, and
# stay exact so that it scores perfectly. A regenerated baseline within TOLERANCE of its last submission
# counts as the same forecast and is not submitted again.
DECIMALS = 4
TOLERANCE = 1e-3
SPREAD = 0.3  # decades per standard normal unit around the template's point (about one cpu rung interval)
STEP_SPREAD = 0.3  # decades of training steps per standard normal unit around an expected emergence step
LATE = 0.3  # decades before the end of training: where a capability not yet seen anywhere is expected, if at all


def knows_nothing(ladder: Ladder) -> Forecast:
    """The uninformed baseline as submitted by `ladder baselines` and `ladder round new`."""
    return uninformed(
        ladder,
        "uninformed",
        description="Probability 0.5 everywhere; quantiles spread evenly in log size over the ladder.",
    )


def oracle(ladder: Ladder, table: pd.DataFrame) -> Forecast:
    """The truth as a forecast: seed fractions, the pooled emergence points (accuracy and loss) at every
    quantile, the median emergence step of every rung, mean accuracy."""
    truth = rules.outcomes(_rows_of(ladder, table), ladder.spec.training.steps)
    steps = truth.steps.set_index(["task", "rung"])["log_step"]
    never = _ends(ladder)[2]
    tasks = {}
    for task, per_rung, centre, loss_centre in _measured(ladder, table):
        # Every quantile at the measured point minimises the pinball loss exactly (clipping keeps it exact).
        tasks[task] = TaskForecast(
            p_emerged={str(r): float(v) for r, v in per_rung["p"].items()},
            emergence_quantiles=dict.fromkeys(LEVELS, round(centre, DECIMALS)),
            loss_emergence_quantiles=dict.fromkeys(LEVELS, round(loss_centre, DECIMALS)),
            emergence_step_quantiles={
                str(r): dict.fromkeys(LEVELS, round(float(np.clip(steps[(task, r)], 0.0, never)), DECIMALS))
                for r in per_rung.index
            },
            accuracy={str(r): float(v) for r, v in per_rung["accuracy"].items()},
        )
    return Forecast(forecaster="oracle", ladder=ladder.name, ladder_hash=ladder.hash, track="blind", tasks=tasks,
                    description="Answers read off the measured results; checks the scorer, never ranked.")  # fmt: skip


def template_prior(ladder: Ladder, template: Ladder, table: pd.DataFrame) -> Forecast:
    """A round's forecast from its template's emergence ``table``: each task as the template's task of that name.

    Per rung, the template's fraction of seeds with the capability and its mean final accuracy; the
    emergence quantiles (of accuracy and of the loss) spread the template's pooled points by SPREAD decades
    per standard normal unit; each rung's step, the template rung's median step where it got there.
    """
    rows = _rows_of(ladder, table)
    steps = _seen_steps(rows[rows["metric"] == "accuracy"])
    never = _ends(ladder)[2]
    tasks = {}
    for task, per_rung, centre, loss_centre in _measured(ladder, table):
        tasks[task] = TaskForecast(
            p_emerged={str(r): round(float(v), DECIMALS) for r, v in per_rung["p"].items()},
            emergence_quantiles=_normal(centre, SPREAD),
            loss_emergence_quantiles=_normal(loss_centre, SPREAD),
            emergence_step_quantiles={
                str(r): _step_mixture(float(p), steps.get((task, r), steps.get(task, never - BEYOND - LATE)), never)
                for r, p in per_rung["p"].items()
            },
            accuracy={str(r): round(float(v), DECIMALS) for r, v in per_rung["accuracy"].items()},
        )
    description = (
        f"The measured answers of ladder '{template.name}' ({template.hash[:12]}), which this round was drawn from, "
        "as if the new task settings changed nothing."
    )
    return Forecast(forecaster="template-prior", ladder=ladder.name, ladder_hash=ladder.hash, track="blind",
                    tasks=tasks, description=description)  # fmt: skip


def _rows_of(ladder: Ladder, table: pd.DataFrame) -> pd.DataFrame:
    """The rows of an emergence ``table`` (both metrics) about ``ladder``'s tasks and rungs."""
    rows = table[table["task"].isin(ladder.spec.tasks)]
    return rows[rows["rung"].isin([r.name for r in ladder.rungs])]


def _ends(ladder: Ladder) -> tuple[float, float, float]:
    """Where censored answers go: BEYOND decades below the bottom rung and above the top (log10 parameters),
    and BEYOND decades past the training budget (log10 steps): "never"."""
    low, high = math.log10(ladder.rungs[0].params) - BEYOND, math.log10(ladder.rungs[-1].params) + BEYOND
    return low, high, math.log10(ladder.spec.training.steps) + BEYOND


def _normal(centre: float, spread: float) -> dict[float, float]:
    return {level: round(centre + spread * float(stats.norm.ppf(level)), DECIMALS) for level in LEVELS}


def _step_mixture(p: float, centre: float, never: float) -> dict[float, float]:
    """Quantiles of log10 steps: with probability ``p`` ~ N(centre, STEP_SPREAD), else never (``never``)."""
    quantiles = {}
    for level in LEVELS:
        q = centre + STEP_SPREAD * float(stats.norm.ppf(level / p)) if level < p else never
        quantiles[level] = round(float(np.clip(q, 0.0, never)), DECIMALS)
    return quantiles


def _seen_steps(accuracy: pd.DataFrame) -> dict:
    """Median log10 first step at the threshold where it was reached: per (task, rung), and per task over
    its rungs; from the accuracy rows of an emergence table."""
    got = accuracy[accuracy["emergence_step"].notna()]
    logs = np.log10(np.maximum(got["emergence_step"].to_numpy(dtype=float), 1.0))
    got = got.assign(log_step=logs)
    per_rung = got.groupby(["task", "rung"])["log_step"].median()
    per_task = got.groupby("task")["log_step"].median()
    return {**{k: float(v) for k, v in per_rung.items()}, **{k: float(v) for k, v in per_task.items()}}


def _measured(ladder: Ladder, table: pd.DataFrame) -> list[tuple[str, pd.DataFrame, float, float]]:
    """Per task of ``ladder`` measured in the emergence ``table``: per rung of ``ladder`` the fraction of seeds
    with the capability (``p``) and the mean final accuracy, and the pooled points of accuracy and of the loss in
    log10 parameters, clipped to BEYOND decades past the ladder's ends where they are censored."""
    rows = _rows_of(ladder, table)
    acc = rows[rows["metric"] == "accuracy"]
    low, high, _ = _ends(ladder)
    pooled = pooled_points(rows, n_boot=0).set_index(["metric", "task"])["log_params"]
    return [
        (str(task), per_task.groupby("rung").agg(p=("reached", "mean"), accuracy=("final", "mean")),
         float(np.clip(pooled[("accuracy", task)], low, high)), float(np.clip(pooled[("loss", task)], low, high)))
        for task, per_task in acc.groupby("task")
    ]  # fmt: skip


def extrapolator(
    ladder: Ladder, curves: pd.DataFrame, up_to: str, loss_thresholds: dict[str, float], thresholds: dict[str, float]
) -> Forecast:
    """Fit the revealed rungs (up to and including ``up_to``) and extend the fits to every rung above."""
    names = [r.name for r in ladder.rungs]
    log_all = np.log10([r.params for r in ladder.rungs])
    seen = names[: names.index(up_to) + 1]
    final = curves[curves["step"] == curves.groupby(["rung", "seed", "task", "metric"])["step"].transform("max")]
    final = final[final["rung"].isin(seen)]
    seen_steps = revealed_steps(ladder, curves, seen, thresholds)
    tasks = {}
    for task in ladder.spec.tasks:
        rows = final[final["task"] == task].groupby(["metric", "rung"])["value"].mean()
        x = log_all[: len(seen)]
        loss = rows["loss"].reindex(seen).to_numpy()
        acc = rows["accuracy"].reindex(seen).to_numpy()
        centre = _loss_crossing(x, loss, loss_thresholds[task])  # where the loss line crosses its threshold
        quantiles = size_quantiles(centre, x[-1])
        spread = 0.25 + 0.5 * max(0.0, centre - x[-1])  # decades, as size_quantiles: more uncertain further out
        p = stats.norm.cdf((log_all - centre) / spread)
        fitted = _logistic_fit(x, acc, thresholds[task])
        tasks[task] = TaskForecast(
            p_emerged={n: round(float(v), DECIMALS) for n, v in zip(names, p) if n not in seen},
            emergence_quantiles=quantiles,
            loss_emergence_quantiles=quantiles,  # the size is read off the loss: the two questions coincide
            emergence_step_quantiles=steps_above(names, seen, p, seen_steps[task], ladder),
            accuracy={n: round(float(fitted(v)), DECIMALS) for n, v in zip(names, log_all) if n not in seen},
        )
    description = f"Power-law fit of the answer loss and logistic fit of accuracy over rungs up to {up_to}, extended."
    return Forecast(
        forecaster="extrapolator", ladder=ladder.name, ladder_hash=ladder.hash, track="extrapolation",
        revealed_up_to=up_to, tasks=tasks, description=description,
    )  # fmt: skip


def two_step(
    ladder: Ladder, curves: pd.DataFrame, up_to: str, loss_thresholds: dict[str, float], thresholds: dict[str, float]
) -> Forecast:
    """Loss against size per task, then one loss-to-accuracy sigmoid across tasks, both on the revealed rungs.

    z = ln(loss / loss threshold) is 0 where the task's whole answer gets probability ``threshold``. Step 1:
    ln(loss) = a + b log10(N) per task (b at most 0). Step 2: accuracy = 1 / (1 + exp(k (z - m))) over every
    revealed (task, rung). A rung has the task when its predicted z is below the z at which the sigmoid
    reaches the task's threshold; the uncertainty of z grows with the decades extrapolated.
    """
    names = [r.name for r in ladder.rungs]
    log_all = np.log10([r.params for r in ladder.rungs])
    seen = names[: names.index(up_to) + 1]
    x = log_all[: len(seen)]
    final = curves[curves["step"] == curves.groupby(["rung", "seed", "task", "metric"])["step"].transform("max")]
    means = final[final["rung"].isin(seen)].groupby(["task", "metric", "rung"])["value"].mean()
    fits, pairs = {}, []
    for task in ladder.spec.tasks:
        loss = means[task]["loss"].reindex(seen).to_numpy()
        z = np.log(np.maximum(loss, 1e-12) / loss_thresholds[task])
        fits[task] = _line(x, z)
        pairs += list(zip(z, means[task]["accuracy"].reindex(seen).to_numpy()))
    k, m = _sigmoid_fit(np.array(pairs))
    seen_steps = revealed_steps(ladder, curves, seen, thresholds)
    tasks = {}
    for task, (a, b) in fits.items():
        z_needed = m + math.log(1 / thresholds[task] - 1) / k  # accuracy reaches the threshold at this z
        centre = line_crossing(a, b, x, z_needed)
        z_hat = a + b * log_all
        z_sd = 0.3 + 0.5 * np.maximum(0.0, log_all - x[-1])  # in z units, growing with the distance extrapolated
        p = stats.norm.cdf((z_needed - z_hat) / z_sd)
        accuracy = 1 / (1 + np.exp(k * (z_hat - m)))
        loss_centre = line_crossing(a, b, x, 0.0)  # the loss reaches its threshold where z = 0
        tasks[task] = TaskForecast(
            p_emerged={n: round(float(v), DECIMALS) for n, v in zip(names, p) if n not in seen},
            emergence_quantiles=size_quantiles(centre, x[-1]),
            loss_emergence_quantiles=size_quantiles(loss_centre, x[-1]),
            emergence_step_quantiles=steps_above(names, seen, p, seen_steps[task], ladder),
            accuracy={n: round(float(v), DECIMALS) for n, v in zip(names, accuracy) if n not in seen},
        )
    description = (
        f"Two steps on the rungs up to {up_to}: each task's answer loss as a power law of size, then one "
        f"loss-to-accuracy sigmoid across tasks (k={k:.2f}, midpoint z={m:.2f})."
    )
    return Forecast(
        forecaster="two-step", ladder=ladder.name, ladder_hash=ladder.hash, track="extrapolation",
        revealed_up_to=up_to, tasks=tasks, description=description,
    )  # fmt: skip


def size_quantiles(centre: float, top: float) -> dict[float, float]:
    """Emergence-size quantiles (log10 parameters) around ``centre``, spread 0.25 decades plus half the decades
    it lies beyond the top revealed rung ``top``: the further out, the less sure."""
    spread = 0.25 + 0.5 * max(0.0, centre - top)
    return {level: round(float(centre + spread * stats.norm.ppf(level)), 3) for level in LEVELS}


def line_crossing(a: float, b: float, x: np.ndarray, z: float) -> float:
    """log10 size where the line a + b x falls to ``z``: at the first revealed rung already there, else
    extended (at most 3 decades past the top revealed rung, where a flat line puts it)."""
    if a + b * x[-1] <= z:
        return float(x[np.argmax(a + b * x <= z)])
    return float(np.clip((z - a) / b, x[0], x[-1] + 3.0)) if b < 0 else float(x[-1] + 3.0)


def revealed_steps(
    ladder: Ladder, curves: pd.DataFrame, seen: list[str], thresholds: dict[str, float]
) -> dict[str, float]:
    """Per task: the median log10 first step at the accuracy threshold over the revealed (rung, seed) pairs
    that reached it; LATE decades before the end of training where none did."""
    acc = curves[(curves["metric"] == "accuracy") & curves["rung"].isin(seen)].sort_values("step")
    late = math.log10(ladder.spec.training.steps) - LATE
    found = {}
    for task in ladder.spec.tasks:
        steps = [
            emergence_step(g["step"].to_numpy(), g["value"].to_numpy(), thresholds[task], True)
            for _, g in acc[acc["task"] == task].groupby(["rung", "seed"])
        ]
        logs = [math.log10(max(s, 1.0)) for s in steps if not math.isnan(s)]
        found[task] = float(np.median(logs)) if logs else late
    return found


def steps_above(names: list[str], seen: list[str], p: np.ndarray, centre: float, ladder: Ladder) -> dict:
    """Step quantiles of every rung above the revealed ones: the mixture of its probability ``p`` (per rung)."""
    never = _ends(ladder)[2]
    return {n: _step_mixture(float(v), centre, never) for n, v in zip(names, p) if n not in seen}


def _line(x: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """Intercept and slope (at most 0: a loss that grows with size is taken as flat) of z against x."""
    ok = np.isfinite(z)
    if ok.sum() < 2:
        return float(z[ok][-1]) if ok.any() else 0.0, 0.0
    fit = stats.linregress(x[ok], z[ok])
    if fit.slope >= 0:
        return float(np.mean(z[ok])), 0.0
    return float(fit.intercept), float(fit.slope)


def _sigmoid_fit(pairs: np.ndarray) -> tuple[float, float]:
    """(k, m) of accuracy = 1 / (1 + exp(k (z - m))) fitted to (z, accuracy) rows; (4, 0) if the fit fails."""
    ok = np.isfinite(pairs).all(axis=1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (k, m), _ = optimize.curve_fit(
                lambda z, k, m: 1 / (1 + np.exp(k * (z - m))), pairs[ok, 0], pairs[ok, 1],
                p0=(4.0, 0.0), bounds=([0.5, -5.0], [50.0, 5.0]),
            )  # fmt: skip
    except (RuntimeError, ValueError, TypeError):
        return 4.0, 0.0
    return round(float(k), DECIMALS), round(float(m), DECIMALS)


def _loss_crossing(x: np.ndarray, loss: np.ndarray, threshold: float) -> float:
    """log10 size where a power law fitted to (x, loss) reaches ``threshold``, clamped to a sane range."""
    ok = np.isfinite(loss) & (loss > 0)
    if ok.sum() < 2:
        return float(x[-1] + 1.0)
    fit = stats.linregress(x[ok], np.log(loss[ok]))
    if loss[ok][-1] <= threshold:  # already there: at the first revealed rung that is
        return float(x[ok][np.argmax(loss[ok] <= threshold)])
    if fit.slope >= 0:  # not improving with size: not within reach
        return float(x[-1] + 3.0)
    return float(np.clip((math.log(threshold) - fit.intercept) / fit.slope, x[0], x[-1] + 3.0))


def _logistic_fit(x: np.ndarray, acc: np.ndarray, threshold: float) -> Callable[[np.ndarray], np.ndarray | float]:
    """Accuracy as a logistic in log10 size, fitted to the revealed rungs; a flat line if the fit fails."""

    def curve(v: np.ndarray | float, slope: float, mid: float) -> np.ndarray | float:
        return 1 / (1 + np.exp(-slope * (v - mid)))

    ok = np.isfinite(acc)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (slope, mid), _ = optimize.curve_fit(
                curve, x[ok], acc[ok], p0=(3.0, x[-1] + 0.5), bounds=([0.1, x[0] - 2], [30.0, x[-1] + 4])
            )
    except (RuntimeError, ValueError):
        last = float(acc[ok][-1]) if ok.any() else threshold
        return lambda v: last
    return lambda v: curve(v, slope, mid)

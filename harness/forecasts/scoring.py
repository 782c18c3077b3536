"""Proper scores of forecasts against measured emergence: pure functions over pandas tables.

Three kinds of question, all scored with proper rules:

- binary, per (task, rung): "does this rung have the capability?" The outcome
  is the fraction of seeds whose rung reached the threshold; the score is the
  Brier score (p - outcome)^2, reported also as a 0-100 Brier index,
  100 * (1 - sqrt(Brier)): 100 is perfect and 0.5 everywhere scores at least 50.
- emergence size, per task: quantiles of log10 parameters scored with the
  pinball (quantile) loss, in decades, against the robust emergence point
  pooled over seeds (``harness.truth.emergence``), which one seed's late jump
  cannot move far. Censoring: forecasts and outcomes are
  both clipped to the scored range [floor, top] in log10 parameters, so a
  quantile above the top rung costs nothing when the task never emerged, and
  one below the floor costs nothing when it was there from the start. Clipping
  both sides keeps the rule proper for what the ladder can show.
- expected accuracy, per (task, rung), if given: squared error against the
  mean final accuracy over seeds.

Missing answers are filled with the uninformed forecaster's (0.5, evenly spread
quantiles), so leaving a question out never helps; coverage says how much was
answered. Brier and pinball are averaged per task, then over tasks, with
bootstrap confidence intervals over tasks and skill relative to the uninformed
forecaster on the same questions. Accuracy error averages answered questions only.

Comparisons between forecasters are paired: every submission is scored on the
same bootstrap resamples of tasks, so a difference's interval reflects how the
two forecasts differ task by task, not how hard the tasks were. For Brier and
pinball, each submission gets its difference to the uninformed forecaster on
the same questions and to the leader of its group (the ranked submission with
the best point score among those answering the same questions), each with a
95% interval, and the share of resamples in which it scores best in its group.

Every table is long and tidy; one call scores any number of submissions at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.forecasts.score_names import COMPARISONS, N_BOOT, SCORES
from harness.truth.emergence import pooled_points

UNINFORMED_P = 0.5
BLIND = ""  # the floor of a blind-track submission inside the scorer's tables


@dataclass(frozen=True)
class Outcomes:
    """What was measured, as the scorer needs it.

    rungs: rung, log_params (ascending). binary: task, rung, outcome (fraction
    of seeds). sizes: task, log_size (log10 of the robust emergence point pooled
    over seeds, -inf/+inf when censored below/above). accuracy: task, rung,
    accuracy (mean over seeds).
    """

    rungs: pd.DataFrame
    binary: pd.DataFrame
    sizes: pd.DataFrame
    accuracy: pd.DataFrame

    @property
    def tasks(self) -> list[str]:
        return sorted(self.binary["task"].unique())


def outcomes(table: pd.DataFrame) -> Outcomes:
    """Outcomes from the accuracy rows of an emergence table (``harness.truth.emergence.emergence_table``)."""
    acc = table[table["metric"] == "accuracy"]
    rungs = acc.drop_duplicates("rung").sort_values("params")[["rung", "params"]]
    rungs = pd.DataFrame(
        {"rung": rungs["rung"].to_numpy(), "log_params": np.log10(rungs["params"].to_numpy(dtype=float))}
    )
    per_rung = acc.groupby(["task", "rung"], as_index=False).agg(
        outcome=("reached", "mean"), accuracy=("final", "mean")
    )
    pooled = pooled_points(acc, n_boot=0)
    sizes = pd.DataFrame({"task": pooled["task"].to_numpy(), "log_size": pooled["log_params"].to_numpy(dtype=float)})
    return Outcomes(rungs, per_rung[["task", "rung", "outcome"]], sizes, per_rung[["task", "rung", "accuracy"]])


def scored_rungs(rungs: list[str], floor: str | None) -> list[str]:
    """The rungs whose questions a forecast is scored on: every rung on the blind track (``floor`` None),
    else only those above ``floor``, the highest rung whose curves the forecaster saw."""
    return list(rungs) if floor is None else list(rungs[rungs.index(floor) + 1 :])


def pinball(q: np.ndarray, y: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Quantile loss of quantile ``q`` at ``level`` for outcome ``y`` (elementwise)."""
    diff = y - q
    return np.maximum(level * diff, (level - 1) * diff)


def brier_index(brier: np.ndarray | float) -> np.ndarray | float:
    return 100 * (1 - np.sqrt(brier))


@dataclass(frozen=True)
class _Questions:
    """Every submission's answers against the outcomes, question by question (see ``_questions``)."""

    subs: pd.DataFrame  # submission, floor, floor_log
    grid: pd.DataFrame  # one row per (submission, task, scored rung): p, outcome, brier, accuracies
    brier: pd.DataFrame  # brier, brier_ref per (submission, task)
    sizes: pd.DataFrame  # one row per (submission, task, level): q, log_size, pinball
    pin: pd.DataFrame  # pinball, pinball_ref per (submission, task)
    pin_answered: pd.Series  # share of tasks with emergence quantiles, per submission


def _questions(
    out: Outcomes,
    submissions: pd.DataFrame,
    probabilities: pd.DataFrame,
    quantiles: pd.DataFrame,
    accuracies: pd.DataFrame,
    uninformed_quantiles: pd.DataFrame,
) -> _Questions:
    """Score every answer, missing ones filled with the uninformed forecaster's, with the uninformed reference."""
    probabilities = probabilities.astype({"p": float})
    quantiles = quantiles.astype({"level": float, "q": float})
    accuracies = accuracies.astype({"accuracy": float})
    names, logs = out.rungs["rung"].tolist(), out.rungs["log_params"].to_numpy()
    floors = submissions["floor"].where(submissions["floor"].notna(), BLIND)
    # Quantiles and outcomes are clipped from the floor up (from the lowest rung on the blind track).
    subs = pd.DataFrame(
        {
            "submission": submissions["submission"],
            "floor": floors,
            "floor_log": floors.map(dict(zip(names, logs))).fillna(logs[0]),
        }
    )
    top = logs[-1]
    tasks = out.tasks
    scored = pd.DataFrame(
        [(f, r) for f in subs["floor"].unique() for r in scored_rungs(names, None if f == BLIND else f)],
        columns=["floor", "rung"],
    )
    grid = subs.merge(scored, on="floor").merge(out.binary, on="rung")
    grid = grid.merge(probabilities, on=["submission", "task", "rung"], how="left")
    grid = grid.merge(accuracies, on=["submission", "task", "rung"], how="left").merge(
        out.accuracy.rename(columns={"accuracy": "measured"}), on=["task", "rung"]
    )
    grid["answered"] = grid["p"].notna()
    grid["brier"] = (grid["p"].fillna(UNINFORMED_P) - grid["outcome"]) ** 2
    grid["brier_ref"] = (UNINFORMED_P - grid["outcome"]) ** 2
    brier = _per_task(grid, ["brier", "brier_ref"])

    # Emergence size: every (task, level), missing tasks given the uninformed quantiles.
    given = quantiles[["submission", "task"]].drop_duplicates()
    missing = (
        subs[["submission"]].merge(pd.DataFrame({"task": tasks}), how="cross").merge(given, how="left", indicator=True)
    )
    missing = missing[missing["_merge"] == "left_only"].drop(columns="_merge")
    filled = pd.concat(
        [quantiles.assign(answered=True), missing.merge(uninformed_quantiles, how="cross").assign(answered=False)]
    )
    sizes = filled.merge(subs, on="submission").merge(out.sizes, on="task")
    lo, y = sizes["floor_log"].to_numpy(), sizes["log_size"].to_numpy()
    level = sizes["level"].to_numpy()
    sizes["pinball"] = pinball(np.clip(sizes["q"].to_numpy(), lo, top), np.clip(y, lo, top), level)
    ref = (
        sizes[["submission", "task", "floor_log", "log_size"]]
        .drop_duplicates()
        .merge(uninformed_quantiles, how="cross")
    )
    ref_lo = ref["floor_log"].to_numpy()
    ref["pinball_ref"] = pinball(
        np.clip(ref["q"].to_numpy(), ref_lo, top),
        np.clip(ref["log_size"].to_numpy(), ref_lo, top),
        ref["level"].to_numpy(),
    )
    pin = _per_task(sizes, ["pinball"]).join(_per_task(ref, ["pinball_ref"]), how="outer")
    pin_answered = sizes.drop_duplicates(["submission", "task"]).groupby("submission")["answered"].mean()

    return _Questions(subs, grid, brier, sizes, pin, pin_answered)


def task_scores(
    out: Outcomes,
    submissions: pd.DataFrame,
    probabilities: pd.DataFrame,
    quantiles: pd.DataFrame,
    accuracies: pd.DataFrame,
    uninformed_quantiles: pd.DataFrame,
) -> pd.DataFrame:
    """Per (submission, task): score (brier, pinball), value, and ref (the uninformed forecaster's); tidy and long.

    The same questions and rules as ``score``, before averaging over tasks: what standings across ladders pool.
    """
    q = _questions(out, submissions, probabilities, quantiles, accuracies, uninformed_quantiles)
    frames = [
        q.brier.rename(columns={"brier": "value", "brier_ref": "ref"}).assign(score="brier"),
        q.pin.rename(columns={"pinball": "value", "pinball_ref": "ref"}).assign(score="pinball"),
    ]
    return pd.concat(frames).reset_index()[["submission", "task", "score", "value", "ref"]]


def score(
    out: Outcomes,
    submissions: pd.DataFrame,
    probabilities: pd.DataFrame,
    quantiles: pd.DataFrame,
    accuracies: pd.DataFrame,
    uninformed_quantiles: pd.DataFrame,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> pd.DataFrame:
    """Score every submission; one row per (submission, score).

    submissions: submission, floor (None on the blind track; on the
    extrapolation track the revealed rung, which with the rungs below it is
    not scored, see ``scored_rungs``) and optionally ranked (False for a
    submission left out of comparisons, the oracle; default True). probabilities: submission,
    task, rung, p. quantiles: submission, task, level, q (log10 parameters).
    accuracies: submission, task, rung, accuracy. uninformed_quantiles: level, q.
    Returns submission, score, value, ci_low, ci_high, coverage, n_questions, and on the brier and pinball
    rows the paired comparisons (COMPARISONS, see ``_compare``).
    """
    q = _questions(out, submissions, probabilities, quantiles, accuracies, uninformed_quantiles)
    tasks = out.tasks
    rows = []
    rng = np.random.default_rng(seed)
    counts = _bootstrap_weights(rng, len(tasks), n_boot)  # (T, B)
    ranked = submissions.set_index("submission")["ranked"] if "ranked" in submissions else None
    groups = q.subs.set_index("submission")["floor"]
    by_sub = q.grid.groupby("submission")
    for name, ref_name, frame, answered, n in (
        ("brier", "brier_ref", q.brier, by_sub["answered"].mean(), by_sub.size()),
        (
            "pinball",
            "pinball_ref",
            q.pin,
            q.pin_answered,
            q.sizes.drop_duplicates(["submission", "task"]).groupby("submission").size(),
        ),
    ):
        values = frame[name].unstack("task").reindex(columns=tasks)  # (S, T)
        refs = frame[ref_name].unstack("task").reindex(index=values.index, columns=tasks)
        boot = values.to_numpy() @ counts  # (S, B)
        boot_ref = refs.to_numpy() @ counts
        mean, ref_mean = values.mean(axis=1).to_numpy(), refs.mean(axis=1).to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            skill, boot_skill = 1 - mean / ref_mean, 1 - boot / boot_ref
        derived = {name: (mean, boot), f"{name}_skill": (skill, boot_skill)}
        if name == "brier":
            derived["brier_index"] = (brier_index(mean), brier_index(boot))
        for score_name, (point, draws) in derived.items():
            low, high = np.nanpercentile(draws, [2.5, 97.5], axis=1) if draws.size else (np.nan, np.nan)
            coverage, n_questions = answered.reindex(values.index).to_numpy(), n.reindex(values.index).to_numpy()
            row = pd.DataFrame({
                "submission": values.index, "score": score_name, "value": point, "ci_low": low, "ci_high": high,
                "coverage": coverage, "n_questions": n_questions,
            })  # fmt: skip
            if score_name == name:  # brier and pinball: lower is better
                keep = ranked.reindex(values.index).fillna(True) if ranked is not None else None
                row = row.join(_compare(values, refs, counts, groups.reindex(values.index), keep), on="submission")
            rows.append(row)

    rows.append(_accuracy_error(q.grid))
    result = pd.concat(rows, ignore_index=True)
    return result.sort_values(
        ["submission", "score"], key=lambda s: s.map(SCORES.index) if s.name == "score" else s
    ).reset_index(drop=True)


def _compare(
    values: pd.DataFrame, refs: pd.DataFrame, counts: np.ndarray, groups: pd.Series, ranked: pd.Series | None
) -> pd.DataFrame:
    """Paired comparisons of a lower-is-better score, one row per submission (COMPARISONS columns).

    values, refs: (S, T) per-task scores of the submissions and of the uninformed forecaster on the same
    questions; counts: (T, B) bootstrap weights shared by all; groups: each submission's set of questions
    (its floor); ranked: whether it takes part in the leader and the share ranked first (default: all).
    A difference is the submission's score minus the other's: negative means better.
    """
    v, r = values.to_numpy(), refs.to_numpy()  # (S, T)
    ranked = np.ones(len(v), bool) if ranked is None else ranked.to_numpy(dtype=bool)
    out = pd.DataFrame(index=values.index, columns=COMPARISONS, dtype=float)
    diff_u = v - r
    out["vs_uninformed"] = diff_u.mean(axis=1)
    out["vs_uninformed_low"], out["vs_uninformed_high"] = np.percentile(diff_u @ counts, [2.5, 97.5], axis=1)
    boot = v @ counts  # (S, B)
    for group in groups.unique():
        members = (groups == group).to_numpy()
        contenders = members & ranked
        if not contenders.any():
            continue
        mean = v.mean(axis=1)
        leader = np.flatnonzero(contenders)[np.argmin(mean[contenders])]
        diff_l = v[members] - v[leader]  # (S_g, T)
        rows = values.index[members]
        out.loc[rows, "vs_leader"] = diff_l.mean(axis=1)
        low, high = np.percentile(diff_l @ counts, [2.5, 97.5], axis=1)
        out.loc[rows, "vs_leader_low"], out.loc[rows, "vs_leader_high"] = low, high
        best = boot[contenders].min(axis=0)  # (B,) the best score in each resample
        out.loc[values.index[contenders], "p_first"] = (boot[contenders] == best).mean(axis=1)
    return out


def _per_task(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean of ``columns`` per (submission, task), indexed by both."""
    return frame.groupby(["submission", "task"])[columns].mean()


def _bootstrap_weights(rng: np.random.Generator, n_tasks: int, n_boot: int) -> np.ndarray:
    """(T, B) weights: column b averages the tasks of bootstrap resample b (tasks drawn with replacement)."""
    draws = rng.integers(0, n_tasks, size=(n_boot, n_tasks))  # (B, T) task indices
    counts = np.zeros((n_tasks, n_boot))
    np.add.at(counts, (draws, np.arange(n_boot)[:, None]), 1.0)
    return counts / n_tasks


def _accuracy_error(grid: pd.DataFrame) -> pd.DataFrame:
    """Mean squared error of expected accuracy over each submission's answered (task, rung) questions."""
    grid = grid.assign(sq=(grid["accuracy"] - grid["measured"]) ** 2)
    agg = grid.groupby("submission").agg(value=("sq", "mean"), answered=("sq", "count"), possible=("sq", "size"))
    return pd.DataFrame({
        "submission": agg.index, "score": "accuracy_mse", "value": agg["value"].to_numpy(),
        "ci_low": np.nan, "ci_high": np.nan,
        "coverage": (agg["answered"] / agg["possible"]).to_numpy(), "n_questions": agg["answered"].to_numpy(),
    })  # fmt: skip

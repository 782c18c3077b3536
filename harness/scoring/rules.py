"""Proper scores of forecasts against measured emergence: pure functions over pandas tables.

Five kinds of question, each scored with a proper rule:

- binary, per (task, rung): "does this rung have the capability?" The outcome
  is the fraction of seeds whose rung reached the threshold; the score is the
  Brier score (p - outcome)^2, reported also as a 0-100 Brier index,
  100 * (1 - sqrt(Brier)): 100 is perfect and 0.5 everywhere scores at least 50.
- emergence size, per task: quantiles of log10 parameters scored with the
  pinball (quantile) loss, in decades, against the robust emergence point of
  accuracy pooled over seeds (``harness.truth.emergence``), which one seed's
  late jump cannot move far. Censoring: forecasts and outcomes are both clipped
  to the scored range [floor, top] in log10 parameters, so a quantile above the
  top rung costs nothing when the task never emerged, and one below the floor
  costs nothing when it was there from the start. Clipping both sides keeps the
  rule proper for what the ladder can show (the quantiles of a clipped variable
  are the clipped quantiles).
- smooth-metric emergence size, per task: the same question and rule for the
  size at which the answer loss reaches its threshold (``pinball_loss``),
  censored both ways alike.
- emergence step, per (task, rung): quantiles of log10 training steps at which
  the rung first reaches the accuracy threshold, against the median over seeds
  (a seed that never reaches it counts as +inf, right-censored). Both are
  clipped to [0, log10 of the training budget], so a quantile beyond the budget
  costs nothing for a rung that never got there (``pinball_step``).
- expected accuracy, per (task, rung), if given: squared error against the
  mean final accuracy over seeds.

Missing answers are filled with the uninformed forecaster's (0.5, evenly spread
quantiles), so leaving a question out never helps; coverage says how much was
answered. Each score is averaged per task, then over tasks. Accuracy error
averages answered questions only and has no interval.

Intervals are bootstrap percentile intervals. Each resample draws the tasks
with replacement and, when the outcomes come with their per-seed table, also
the training seeds: the truth (fraction of seeds with the capability, pooled
emergence points, median emergence steps) is recomputed from the drawn seeds,
so a ladder whose seeds disagree gets wider intervals. Seeds are drawn in
``SEED_DRAWS`` resamples, each shared by an equal block of the task resamples,
since refitting the pooled points is the costly part; with seeds
that agree exactly every draw gives the same truth and the intervals are those
of the task bootstrap alone.

Comparisons between forecasters are paired: every submission is scored on the
same resamples, so a difference's interval reflects how the two forecasts
differ task by task, not how hard the tasks were. For every lower-is-better
score, each submission gets its difference to the uninformed forecaster on the
same questions and to the leader of its group (the ranked submission with the
best point score among those answering the same questions), each with a 95%
interval, and the share of resamples in which it scores best in its group.

Every table is long and tidy; one call scores any number of submissions at once.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harness.scoring.table import COMPARISONS, N_BOOT
from harness.scoring.table import names as score_names
from harness.truth.emergence import pooled_log_sizes

UNINFORMED_P = 0.5
BLIND = ""  # the floor of a blind-track submission inside the scorer's tables
SEED_DRAWS = 100  # distinct seed resamples behind the intervals (see the module docstring)


@dataclass(frozen=True)
class Outcomes:
    """What was measured, as the scorer needs it.

    rungs: rung, log_params (ascending). binary: task, rung, outcome (fraction
    of seeds) and n_seeds (how many; without it the noise-corrected Brier is not scored). sizes: task,
    log_size (log10 of the robust emergence point of
    accuracy pooled over seeds, -inf/+inf when censored below/above). accuracy:
    task, rung, accuracy (mean over seeds). loss_sizes: task, log_size of the
    answer loss, likewise. steps: task, rung, log_step (median over seeds of
    log10 of the first step at the accuracy threshold, at least 0; +inf when never,
    and when an even number of seeds puts never in the middle pair).
    log_steps: log10 of the training budget. table: the per-seed emergence
    table these came from, for resampling seeds (None: intervals over tasks only).
    Without loss_sizes or steps those questions are not scored.
    """

    rungs: pd.DataFrame
    binary: pd.DataFrame
    sizes: pd.DataFrame
    accuracy: pd.DataFrame
    loss_sizes: pd.DataFrame | None = None
    steps: pd.DataFrame | None = None
    log_steps: float = math.nan
    table: pd.DataFrame | None = None
    per_seed: _PerSeed | None = None  # the table as arrays, built once by ``outcomes``

    @property
    def tasks(self) -> list[str]:
        return sorted(self.binary["task"].unique())


@dataclass(frozen=True)
class Answers:
    """Every submission's answers, one tidy table per kind of question.

    submissions: submission, floor (None on the blind track; on the
    extrapolation and internals tracks the revealed rung, which with the rungs
    below it is not scored, see ``scored_rungs``), optionally group (the set of
    forecasts it is compared with, ``harness.forecasts.track.group``: the same
    track from the same floor; default: the same floor) and optionally ranked
    (False for a submission left out of comparisons, the oracle; default True). probabilities:
    submission, task, rung, p. quantiles and loss_quantiles: submission, task,
    level, q (log10 parameters). accuracies: submission, task, rung, accuracy.
    step_quantiles: submission, task, rung, level, q (log10 steps).
    """

    submissions: pd.DataFrame
    probabilities: pd.DataFrame
    quantiles: pd.DataFrame
    accuracies: pd.DataFrame
    loss_quantiles: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["submission", "task", "level", "q"])
    )
    step_quantiles: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["submission", "task", "rung", "level", "q"])
    )


@dataclass(frozen=True)
class Reference:
    """The uninformed forecaster's quantiles (level, q): of log10 parameters (the size and smooth-metric
    questions) and of log10 steps (the step questions)."""

    sizes: pd.DataFrame
    steps: pd.DataFrame | None = None


def outcomes(table: pd.DataFrame, steps: int | None = None) -> Outcomes:
    """Outcomes from an emergence table (``harness.truth.emergence.emergence_table``).

    ``steps``, the ladder's training budget, sets the range of the step questions; without it they are not scored.
    """
    acc = table[table["metric"] == "accuracy"]
    rungs = acc.drop_duplicates("rung").sort_values("params")[["rung", "params"]]
    rungs = pd.DataFrame(
        {"rung": rungs["rung"].to_numpy(), "log_params": np.log10(rungs["params"].to_numpy(dtype=float))}
    )
    per_seed = _PerSeed.of(table, rungs["rung"].tolist())
    truth = per_seed.truth(np.arange(len(per_seed.seeds))[None, :])[0]
    tasks, names = per_seed.tasks, per_seed.rungs
    grid = pd.MultiIndex.from_product([tasks, names], names=["task", "rung"]).to_frame(index=False)
    binary = grid.assign(outcome=truth.binary.ravel(), n_seeds=truth.n_seeds.ravel()).dropna(subset=["outcome"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a (task, rung) no seed finished: left out with its outcome
        accuracy = grid.assign(accuracy=np.nanmean(per_seed.final, axis=2).ravel()).loc[binary.index]
    has_loss = (table["metric"] == "loss").any()
    return Outcomes(
        rungs,
        binary.reset_index(drop=True),
        pd.DataFrame({"task": tasks, "log_size": truth.sizes}),
        accuracy.reset_index(drop=True),
        pd.DataFrame({"task": tasks, "log_size": truth.loss_sizes}) if has_loss else None,
        grid.assign(log_step=truth.steps.ravel()).loc[binary.index].reset_index(drop=True) if steps else None,
        math.log10(steps) if steps else math.nan,
        table,
        per_seed,
    )


@dataclass(frozen=True)
class _Truth:
    """The outcomes as dense arrays over the scorer's tasks (T) and rungs (R), in that order."""

    binary: np.ndarray  # (T, R) fraction of seeds with the capability
    n_seeds: np.ndarray  # (T, R) seeds behind each fraction (with repeats in a seed draw); NaN where not known
    sizes: np.ndarray  # (T,) log10 pooled emergence point of accuracy
    loss_sizes: np.ndarray  # (T,) of the answer loss
    steps: np.ndarray  # (T, R) median log10 emergence step


@dataclass(frozen=True)
class _PerSeed:
    """The accuracy rows of an emergence table as (T, R, S) arrays, and the table itself, to draw seeds from."""

    table: pd.DataFrame
    tasks: list[str]
    rungs: list[str]
    seeds: np.ndarray  # (S,) ascending
    reached: np.ndarray  # (T, R, S) 1/0, NaN where the pair is not finished
    final: np.ndarray  # (T, R, S) final accuracy
    log_step: np.ndarray  # (T, R, S) log10 first step at the threshold, NaN not finished

    @classmethod
    def of(cls, table: pd.DataFrame, rungs: list[str]) -> _PerSeed:
        """From an emergence table. A rung there at step 0 (log -inf) counts as there at step 1 (log 0), the
        bottom of the scored range, so that a median over seeds is never -inf + inf; never stays +inf."""
        acc = table[table["metric"] == "accuracy"]
        tasks, seeds = sorted(acc["task"].unique()), np.sort(acc["seed"].unique())
        index = pd.MultiIndex.from_product([tasks, rungs, seeds], names=["task", "rung", "seed"])
        rows = acc.set_index(["task", "rung", "seed"]).reindex(index)
        shape = (len(tasks), len(rungs), len(seeds))
        steps = rows["emergence_step"].to_numpy(dtype=float)
        with np.errstate(divide="ignore"):  # a rung there at step 0 is censored left: -inf
            log_step = np.where(np.isnan(steps), math.inf, np.log10(steps))
        log_step = np.maximum(log_step, 0.0)
        log_step[rows["reached"].isna().to_numpy()] = math.nan
        return cls(
            table, tasks, rungs, seeds,
            rows["reached"].to_numpy(dtype=float).reshape(shape),
            rows["final"].to_numpy(dtype=float).reshape(shape),
            log_step.reshape(shape),
        )  # fmt: skip

    def truth(self, draws: np.ndarray) -> list[_Truth]:
        """The outcomes of each row of ``draws`` (M, S): the indices of the seeds drawn (with repeats).

        Where no drawn seed finished a (task, rung), the cell keeps the outcome of every seed: an
        unfinished pair narrows what a draw can say there, it does not remove the question.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a (task, rung) no seed finished: NaN, never scored
            every_binary, every_step = np.nanmean(self.reached, axis=2), np.nanmedian(self.log_step, axis=2)
        every_n = (~np.isnan(self.reached)).sum(axis=2)
        weights = np.stack([np.bincount(d, minlength=len(self.seeds)) for d in draws]).astype(float)  # (M, S)
        pooled = pooled_log_sizes(self.table, weights)
        sizes = {
            metric: pooled[pooled["metric"] == metric]
            .pivot(index="draw", columns="task", values="log_params")
            .reindex(index=range(len(draws)), columns=self.tasks)
            .to_numpy(dtype=float)
            for metric in ("accuracy", "loss")
        }  # (M, T) each
        truths = []
        for m, drawn in enumerate(draws):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a (task, rung) no drawn seed finished: NaN
                binary_drawn = np.nanmean(self.reached[:, :, drawn], axis=2)
                steps = np.nanmedian(self.log_step[:, :, drawn], axis=2)
            binary, steps = (
                np.where(np.isnan(binary_drawn), every_binary, binary_drawn),
                np.where(np.isnan(steps), every_step, steps),
            )
            n = np.where(np.isnan(binary_drawn), every_n, (~np.isnan(self.reached[:, :, drawn])).sum(axis=2))
            truths.append(_Truth(binary, n, sizes["accuracy"][m], sizes["loss"][m], steps))
        return truths


def scored_rungs(rungs: list[str], floor: str | None) -> list[str]:
    """The rungs whose questions a forecast is scored on: every rung on the blind track (``floor`` None),
    else only those above ``floor``, the highest rung whose curves the forecaster saw."""
    return list(rungs) if floor is None else list(rungs[rungs.index(floor) + 1 :])


def pinball(q: np.ndarray, y: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Quantile loss of quantile ``q`` at ``level`` for outcome ``y`` (elementwise)."""
    diff = y - q
    return np.maximum(level * diff, (level - 1) * diff)


def seed_noise(fraction: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The unbiased estimate of the variance of a fraction of ``n`` seeds, p_hat (1 - p_hat) / (n - 1).

    Subtracted from the Brier against the fraction, it leaves an unbiased estimate of the squared error
    against the true probability p: E[(f - p_hat)^2] = (f - p)^2 + p (1 - p) / n, and E[p_hat (1 - p_hat)]
    = p (1 - p) (n - 1) / n. NaN where fewer than two seeds (or an unknown number) are behind the fraction.
    """
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n >= 2, fraction * (1 - fraction) / (n - 1), np.nan)


def brier_index(brier: np.ndarray | float) -> np.ndarray | float:
    return 100 * (1 - np.sqrt(brier))


@dataclass(frozen=True)
class _Rows:
    """One kind of quantile answer, one row per (question, level), as arrays: task and rung codes, the
    quantile already clipped to its range, level, the range [lo, top], whether it was answered; and the
    question of each row (``unit``: a task, or a (task, rung) for the step questions) with the (submission,
    task) key of each question. The outcomes change from one seed draw to the next; none of these do."""

    unit: np.ndarray  # (rows,) compact question index
    t: np.ndarray
    r: np.ndarray
    q: np.ndarray
    level: np.ndarray
    lo: np.ndarray
    top: float
    answered: np.ndarray
    per_unit: np.ndarray  # (questions,) rows of each question: its levels
    unit_key: np.ndarray  # (questions,) the (submission, task) key of each question
    per_key: np.ndarray  # (keys,) questions of each key

    def pinball(self, outcome: np.ndarray) -> np.ndarray:
        """(keys,) pinball loss per key: averaged over each question's levels, then over the key's questions,
        so a question weighs the same however many levels it was given. Outcome indexed by t (and r)."""
        y = outcome[self.t] if outcome.ndim == 1 else outcome[self.t, self.r]
        loss = pinball(self.q, np.clip(y, self.lo, self.top), self.level)
        return _group_mean(self.unit_key, _group_mean(self.unit, loss, self.per_unit), self.per_key)


@dataclass(frozen=True)
class _Questions:
    """Every submission's answers against every scored question, built once and scored against any truth."""

    subs: pd.DataFrame  # submission, floor, floor_log
    tasks: list[str]
    grid: pd.DataFrame  # one row per (submission, task, scored rung): key, t, r, p, answered, accuracy
    sizes: _Rows
    sizes_ref: _Rows
    loss: _Rows | None
    loss_ref: _Rows | None
    steps: _Rows | None
    steps_ref: _Rows | None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.subs), len(self.tasks)

    def per_task(self, truth: _Truth) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """score -> (values, references), each (S, T): per-task scores of the submissions and of the uninformed."""
        o = truth.binary[self.grid_t, self.grid_r]
        noise = seed_noise(o, truth.n_seeds[self.grid_t, self.grid_r])
        found = {
            "brier": (_group_mean(self.grid_key, (self.grid_p - o) ** 2, self.grid_per_key),
                      _group_mean(self.grid_key, (UNINFORMED_P - o) ** 2, self.grid_per_key)),
            "brier_true": (_group_mean(self.grid_key, (self.grid_p - o) ** 2 - noise, self.grid_per_key),
                           _group_mean(self.grid_key, (UNINFORMED_P - o) ** 2 - noise, self.grid_per_key)),
            "pinball": (self.sizes.pinball(truth.sizes), self.sizes_ref.pinball(truth.sizes)),
        }  # fmt: skip
        if self.loss is not None:
            found["pinball_loss"] = (self.loss.pinball(truth.loss_sizes), self.loss_ref.pinball(truth.loss_sizes))
        if self.steps is not None:
            found["pinball_step"] = (self.steps.pinball(truth.steps), self.steps_ref.pinball(truth.steps))
        return {name: (v.reshape(self.shape), r.reshape(self.shape)) for name, (v, r) in found.items()}

    @functools.cached_property  # read on every seed draw: converted once
    def grid_key(self) -> np.ndarray:
        return self.grid["key"].to_numpy()

    @functools.cached_property
    def grid_t(self) -> np.ndarray:
        return self.grid["t"].to_numpy()

    @functools.cached_property
    def grid_r(self) -> np.ndarray:
        return self.grid["r"].to_numpy()

    @functools.cached_property
    def grid_p(self) -> np.ndarray:
        return self.grid["p"].to_numpy(dtype=float)

    @functools.cached_property
    def grid_per_key(self) -> np.ndarray:
        return np.bincount(self.grid_key, minlength=len(self.subs) * len(self.tasks))


def _group_mean(key: np.ndarray, values: np.ndarray, per_key: np.ndarray) -> np.ndarray:
    """Mean of ``values`` per key in 0 .. len(per_key)-1, ``per_key`` rows each; NaN values left out."""
    n = len(per_key)
    with np.errstate(invalid="ignore", divide="ignore"):
        if not np.isnan(values).any():
            return np.bincount(key, values, n) / per_key
        ok = ~np.isnan(values)
        return np.bincount(key[ok], values[ok], n) / np.bincount(key[ok], minlength=n)


def _questions(out: Outcomes, answers: Answers, reference: Reference) -> _Questions:
    """Every answer, missing ones filled with the uninformed forecaster's, with the uninformed reference."""
    names, logs = out.rungs["rung"].tolist(), out.rungs["log_params"].to_numpy()
    tasks = out.tasks
    floors = answers.submissions["floor"].where(answers.submissions["floor"].notna(), BLIND)
    # Quantiles and outcomes are clipped from the floor up (from the lowest rung on the blind track).
    subs = pd.DataFrame({
        "submission": answers.submissions["submission"].to_numpy(), "floor": floors.to_numpy(),
        "floor_log": floors.map(dict(zip(names, logs))).fillna(logs[0]).to_numpy(), "s": range(len(floors)),
    })  # fmt: skip
    scored = pd.DataFrame(
        [(f, r) for f in subs["floor"].unique() for r in scored_rungs(names, None if f == BLIND else f)],
        columns=["floor", "rung"],
    )
    codes = {"t": {t: i for i, t in enumerate(tasks)}, "r": {r: i for i, r in enumerate(names)}}
    units = subs.merge(pd.DataFrame({"task": tasks}), how="cross")  # (submission, task)
    units = units.assign(t=units["task"].map(codes["t"]), key=units["s"] * len(tasks) + units["task"].map(codes["t"]))
    grid = units.merge(scored, on="floor").merge(out.binary[["task", "rung"]], on=["task", "rung"])  # measured only
    grid["r"] = grid["rung"].map(codes["r"])
    grid = grid.merge(answers.probabilities.astype({"p": float}), on=["submission", "task", "rung"], how="left")
    grid = grid.merge(answers.accuracies.astype({"accuracy": float}), on=["submission", "task", "rung"], how="left")
    grid["answered"] = grid["p"].notna()
    grid["p"] = grid["p"].fillna(UNINFORMED_P)
    n, top = len(subs) * len(tasks), float(logs[-1])
    by_task = functools.partial(_rows, units, keys=["submission", "task"], n=n, top=top)
    sizes = (by_task(answers.quantiles, reference.sizes), by_task(None, reference.sizes))
    loss = (by_task(answers.loss_quantiles, reference.sizes), by_task(None, reference.sizes))
    step_units = grid[["submission", "task", "rung", "key", "t", "r", "floor_log"]]
    by_rung = functools.partial(
        _rows, step_units, keys=["submission", "task", "rung"], n=n, top=out.log_steps, lo=0.0
    )  # steps are clipped to [step 1, the budget] whatever the floor
    has_steps = out.steps is not None and reference.steps is not None and math.isfinite(out.log_steps)
    steps = (by_rung(answers.step_quantiles, reference.steps), by_rung(None, reference.steps)) if has_steps else None
    return _Questions(
        subs, tasks, grid, *sizes, *(loss if out.loss_sizes is not None else (None, None)),
        *(steps or (None, None)),
    )  # fmt: skip


def _rows(
    units: pd.DataFrame,
    given: pd.DataFrame | None,
    fill: pd.DataFrame,
    keys: list[str],
    n: int,
    top: float,
    lo: float | None = None,
) -> _Rows:
    """Quantile rows of every unit: its given quantiles, or ``fill``'s (the uninformed) where it gave none.

    ``given`` None: every unit gets ``fill``, the reference. Each row is clipped to [``lo``, else its floor,
    ``top``]; ``n`` keys in all.
    """
    if given is None or given.empty:
        rows = units.merge(fill, how="cross").assign(answered=False)
    else:
        given = given.astype({"level": float, "q": float})
        answered = units.merge(given, on=keys).assign(answered=True)
        seen = given[keys].drop_duplicates()
        missing = units.merge(seen, on=keys, how="left", indicator=True)
        missing = missing[missing["_merge"] == "left_only"].drop(columns="_merge")
        rows = pd.concat([answered, missing.merge(fill, how="cross").assign(answered=False)], ignore_index=True)
    r = rows["r"].to_numpy() if "r" in rows else np.zeros(len(rows), int)
    low = np.full(len(rows), lo) if lo is not None else rows["floor_log"].to_numpy(dtype=float)
    key = rows["key"].to_numpy()
    questions, unit = np.unique(key * (r.max(initial=0) + 1) + r, return_inverse=True)
    unit_key = questions // (r.max(initial=0) + 1)
    return _Rows(
        unit.ravel(), rows["t"].to_numpy(), r, np.clip(rows["q"].to_numpy(dtype=float), low, top),
        rows["level"].to_numpy(dtype=float), low, top, rows["answered"].to_numpy(dtype=bool),
        np.bincount(unit.ravel(), minlength=len(questions)), unit_key, np.bincount(unit_key, minlength=n),
    )  # fmt: skip


def task_scores(out: Outcomes, answers: Answers, reference: Reference) -> pd.DataFrame:
    """Per (submission, task, score): value and ref (the uninformed forecaster's); tidy and long.

    The same questions and rules as ``score``, before averaging over tasks: what standings across ladders pool.
    """
    q = _questions(out, answers, reference)
    index = pd.MultiIndex.from_product([q.subs["submission"], q.tasks], names=["submission", "task"])
    frames = [
        pd.DataFrame({"value": v.ravel(), "ref": r.ravel()}, index=index).reset_index().assign(score=name)
        for name, (v, r) in q.per_task(_truth(out, q)).items()
        if not np.isnan(v).all()
    ]
    return pd.concat(frames, ignore_index=True)[["submission", "task", "score", "value", "ref"]]


def _truth(out: Outcomes, q: _Questions) -> _Truth:
    """The outcomes' tidy tables as dense arrays over the scorer's tasks and rungs (NaN where not measured)."""
    names = out.rungs["rung"].tolist()

    def dense(frame: pd.DataFrame | None, column: str, per_rung: bool) -> np.ndarray:
        if frame is None:
            return np.full((len(q.tasks), len(names)) if per_rung else len(q.tasks), np.nan)
        if per_rung:
            return frame.pivot_table(index="task", columns="rung", values=column, aggfunc="first").reindex(
                index=q.tasks, columns=names
            ).to_numpy(dtype=float)  # fmt: skip
        return frame.groupby("task")[column].first().reindex(q.tasks).to_numpy(dtype=float)

    counted = out.binary if "n_seeds" in out.binary else None  # hand-built outcomes may not say how many seeds
    return _Truth(
        dense(out.binary, "outcome", True), dense(counted, "n_seeds", True), dense(out.sizes, "log_size", False),
        dense(out.loss_sizes, "log_size", False), dense(out.steps, "log_step", True),
    )  # fmt: skip


def score(
    out: Outcomes,
    answers: Answers,
    reference: Reference,
    n_boot: int = N_BOOT,
    seed: int = 0,
    resample_seeds: bool = True,
) -> pd.DataFrame:
    """Score every submission; one row per (submission, score).

    Returns submission, score, value, ci_low, ci_high, coverage, n_questions, and on the rows of the
    lower-is-better question scores (``harness.scoring.table.question_scores``) the paired comparisons
    (COMPARISONS, see ``_compare``).
    ``resample_seeds``: draw training seeds too in each resample (when ``out`` has its per-seed table).
    """
    q = _questions(out, answers, reference)
    base = q.per_task(_truth(out, q))
    rng = np.random.default_rng(seed)
    counts = _bootstrap_weights(rng, len(q.tasks), n_boot)  # (T, B)
    boots = _boots(out, q, base, counts, seed) if resample_seeds else None
    ranked = answers.submissions.set_index("submission")["ranked"] if "ranked" in answers.submissions else None
    index = pd.Index(q.subs["submission"], name="submission")
    groups = q.subs.set_index("submission")["floor"]
    if "group" in answers.submissions:  # the same floor on two tracks: asked the same, told different things
        groups = answers.submissions.set_index("submission")["group"].reindex(groups.index)
    keep = ranked.reindex(index).fillna(True).to_numpy(dtype=bool) if ranked is not None else np.ones(len(index), bool)
    coverage = _coverage(q)
    rows = []
    for name, (values, refs) in base.items():
        if np.isnan(values).all():  # a score these outcomes cannot give (the noise-corrected Brier of one seed)
            continue
        boot, boot_ref = boots[name] if boots is not None else (values @ counts, refs @ counts)  # (S, B) each
        mean, ref_mean = np.nanmean(values, axis=1), np.nanmean(refs, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            skill, boot_skill = 1 - mean / ref_mean, 1 - boot / boot_ref
        derived = {name: (mean, boot), f"{name}_skill": (skill, boot_skill)}
        if name == "brier":
            derived["brier_index"] = (brier_index(mean), brier_index(boot))
        answered, n = coverage[name]
        for score_name, (point, draws) in derived.items():
            low, high = _interval(draws)
            row = pd.DataFrame({
                "submission": index, "score": score_name, "value": point, "ci_low": low, "ci_high": high,
                "coverage": answered, "n_questions": n,
            })  # fmt: skip
            if score_name == name:
                row = row.join(_compare(values, refs, boot, boot_ref, groups.reindex(index), keep), on="submission")
            rows.append(row)
    rows.append(_accuracy_error(q.grid, out))
    result = pd.concat(rows, ignore_index=True)
    return result.sort_values(
        ["submission", "score"], key=lambda s: s.map(score_names().index) if s.name == "score" else s
    ).reset_index(drop=True)


def _boots(
    out: Outcomes, q: _Questions, base: dict[str, tuple[np.ndarray, np.ndarray]], counts: np.ndarray, seed: int
) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """score -> (S, B) resampled means of the submissions and of the uninformed, seeds drawn too; None if
    the outcomes have no per-seed table or one seed."""
    if out.table is None:
        return None
    per_seed = out.per_seed or _PerSeed.of(out.table, out.rungs["rung"].tolist())
    n_seeds, n_boot = len(per_seed.seeds), counts.shape[1]
    if n_seeds < 2 or per_seed.tasks != q.tasks:
        return None
    rng = np.random.default_rng([seed, 1])  # a stream of its own: the task draws stay those of the plain bootstrap
    draws = np.sort(rng.integers(0, n_seeds, size=(min(SEED_DRAWS, n_boot), n_seeds)), axis=1)  # (D, S)
    distinct, which = np.unique(draws, axis=0, return_inverse=True)
    # Resample b takes seed draw b * D // B: the task draws are independent of b, so any fixed assignment
    # will do, and in the order of the distinct draws each one's resamples form one contiguous block.
    which = np.sort(which.ravel())[np.arange(n_boot) * len(draws) // n_boot]  # (B,) ascending
    edges = np.searchsorted(which, np.arange(len(distinct) + 1))
    boots = {name: (np.empty((len(q.subs), n_boot)), np.empty((len(q.subs), n_boot))) for name in base}
    for m, truth in enumerate(per_seed.truth(distinct)):
        cols = slice(edges[m], edges[m + 1])
        for name, (values, refs) in q.per_task(truth).items():
            boots[name][0][:, cols] = values @ counts[:, cols]
            boots[name][1][:, cols] = refs @ counts[:, cols]
    return boots


def _coverage(q: _Questions) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """score -> (share of questions answered, questions asked) per submission, in q.subs order."""
    s = len(q.subs)

    def share(key: np.ndarray, answered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        sub = key // len(q.tasks)
        n = np.bincount(sub, minlength=s)
        with np.errstate(invalid="ignore"):
            return np.bincount(sub, answered.astype(float), s) / n, n

    found = {"brier": share(q.grid["key"].to_numpy(), q.grid["answered"].to_numpy())}
    found["brier_true"] = found["brier"]  # the same rung questions
    for name, rows in (("pinball", q.sizes), ("pinball_loss", q.loss), ("pinball_step", q.steps)):
        if rows is not None:  # a question counts as answered when its rows were given (all or none are)
            answered = np.bincount(rows.unit, rows.answered.astype(float), len(rows.unit_key)) > 0
            found[name] = share(rows.unit_key, answered)
    return found


def _compare(
    values: np.ndarray,
    refs: np.ndarray,
    boot: np.ndarray,
    boot_ref: np.ndarray,
    groups: pd.Series,
    ranked: np.ndarray,
) -> pd.DataFrame:
    """Paired comparisons of a lower-is-better score, one row per submission (COMPARISONS columns).

    values, refs: (S, T) per-task scores of the submissions and of the uninformed forecaster on the same
    questions; boot, boot_ref: (S, B) their means in each resample (the same resamples for all); groups: each
    submission's set of questions (its floor); ranked: whether it takes part in the leader and the share
    ranked first. A difference is the submission's score minus the other's: negative means better.
    """
    out = pd.DataFrame(index=groups.index, columns=COMPARISONS, dtype=float)
    out["vs_uninformed"] = np.nanmean(values - refs, axis=1)
    out["vs_uninformed_low"], out["vs_uninformed_high"] = _interval(boot - boot_ref)
    mean = np.nanmean(values, axis=1)
    for group in groups.unique():
        members = (groups == group).to_numpy()
        contenders = members & ranked
        if not contenders.any():
            continue
        leader = np.flatnonzero(contenders)[np.argmin(mean[contenders])]
        rows = groups.index[members]
        out.loc[rows, "vs_leader"] = np.nanmean(values[members] - values[leader], axis=1)
        low, high = _interval(boot[members] - boot[leader])
        out.loc[rows, "vs_leader_low"], out.loc[rows, "vs_leader_high"] = low, high
        scored = ~np.isnan(boot[contenders]).any(axis=0)  # (B,) resamples in which every contender has a score
        best = boot[contenders][:, scored].min(axis=0)  # the best score in each of them
        out.loc[groups.index[contenders], "p_first"] = (boot[contenders][:, scored] == best).mean(axis=1)
    return out


def _interval(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 95% percentile interval of each row of ``draws`` (S, B), NaN draws left out.

    numpy's nanpercentile works row by row in Python; the plain one is used wherever no draw is NaN.
    """
    if not draws.size:
        return np.full(len(draws), np.nan), np.full(len(draws), np.nan)
    if not np.isnan(draws).any():
        return tuple(np.percentile(draws, [2.5, 97.5], axis=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a submission without any outcome: NaN
        return tuple(np.nanpercentile(draws, [2.5, 97.5], axis=1))


def _bootstrap_weights(rng: np.random.Generator, n_tasks: int, n_boot: int) -> np.ndarray:
    """(T, B) weights: column b averages the tasks of bootstrap resample b (tasks drawn with replacement)."""
    draws = rng.integers(0, n_tasks, size=(n_boot, n_tasks))  # (B, T) task indices
    counts = np.zeros((n_tasks, n_boot))
    np.add.at(counts, (draws, np.arange(n_boot)[:, None]), 1.0)
    return counts / n_tasks


def _accuracy_error(grid: pd.DataFrame, out: Outcomes) -> pd.DataFrame:
    """Mean squared error of expected accuracy over each submission's answered (task, rung) questions."""
    grid = grid.merge(out.accuracy.rename(columns={"accuracy": "measured"}), on=["task", "rung"])
    grid = grid.assign(sq=(grid["accuracy"] - grid["measured"]) ** 2)
    agg = grid.groupby("submission", sort=False).agg(
        value=("sq", "mean"), answered=("sq", "count"), possible=("sq", "size")
    )
    return pd.DataFrame({
        "submission": agg.index, "score": "accuracy_mse", "value": agg["value"].to_numpy(),
        "ci_low": np.nan, "ci_high": np.nan,
        "coverage": (agg["answered"] / agg["possible"]).to_numpy(), "n_questions": agg["answered"].to_numpy(),
    })  # fmt: skip

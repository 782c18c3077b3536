"""The scorer on hand-built outcomes: hand-computed values, censoring, missing answers, properness."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harness.scoring import rules
from harness.scoring.rules import Answers, Outcomes, Reference, brier_index, pinball, score

RUNGS = pd.DataFrame({"rung": ["r0", "r1", "r2"], "log_params": [3.0, 4.0, 5.0]})
UNIFORM_Q = pd.DataFrame({"level": [0.25, 0.5, 0.75], "q": [3.5, 4.0, 4.5]})


def outcomes(binary: dict[str, list[float]], sizes: dict[str, float]) -> Outcomes:
    rows = [(t, r, v) for t, vals in binary.items() for r, v in zip(RUNGS["rung"], vals)]
    b = pd.DataFrame(rows, columns=["task", "rung", "outcome"])
    s = pd.DataFrame({"task": list(sizes), "log_size": list(sizes.values())})
    return Outcomes(RUNGS, b, s, b.rename(columns={"outcome": "accuracy"}))


def answers(probs=(), quants=(), accs=(), floors=None, ranked=None, groups=None) -> Answers:
    subs = sorted({row[0] for row in [*probs, *quants, *accs]} | set(floors or {}))
    table = pd.DataFrame({"submission": subs, "floor": [(floors or {}).get(s) for s in subs]})
    if ranked is not None:
        table["ranked"] = [ranked.get(s, True) for s in subs]
    if groups is not None:
        table["group"] = [groups[s] for s in subs]
    return Answers(
        table,
        pd.DataFrame(list(probs), columns=["submission", "task", "rung", "p"]),
        pd.DataFrame(list(quants), columns=["submission", "task", "level", "q"]),
        pd.DataFrame(list(accs), columns=["submission", "task", "rung", "accuracy"]),
    )


def run(
    out: Outcomes, probs=(), quants=(), accs=(), floors=None, n_boot=1000, ranked=None, groups=None
) -> pd.DataFrame:
    table = score(out, answers(probs, quants, accs, floors, ranked, groups), Reference(UNIFORM_Q), n_boot=n_boot)
    return table.set_index(["submission", "score"])


def test_pinball_by_hand():
    got = pinball(np.array([4.2, 4.0, 4.8]), np.array([4.5, 4.5, 4.5]), np.array([0.5, 0.9, 0.1]))
    assert got == pytest.approx([0.15, 0.45, 0.27])


def test_brier_and_index_by_hand():
    out = outcomes({"a": [0, 1 / 3, 1], "b": [0, 0, 0]}, {"a": 4.5, "b": math.inf})
    probs = [("f", "a", "r0", 0.2), ("f", "a", "r1", 0.5), ("f", "a", "r2", 0.9)] + [
        ("f", "b", r, 0.5) for r in ("r0", "r1", "r2")
    ]
    table = run(out, probs)
    brier_a = (0.2**2 + (0.5 - 1 / 3) ** 2 + 0.1**2) / 3
    expected = (brier_a + 0.25) / 2
    assert table.loc[("f", "brier"), "value"] == pytest.approx(expected)
    assert table.loc[("f", "brier_index"), "value"] == pytest.approx(100 * (1 - math.sqrt(expected)))
    reference = ((0.25 + (0.5 - 1 / 3) ** 2 + 0.25) / 3 + 0.25) / 2  # 0.5 everywhere
    assert table.loc[("f", "brier_skill"), "value"] == pytest.approx(1 - expected / reference)
    assert table.loc[("f", "brier"), "coverage"] == 1.0
    assert brier_index(0.25) == pytest.approx(50)


def test_missing_answers_are_scored_as_uninformed():
    out = outcomes({"a": [0, 1, 1], "b": [0, 0, 1]}, {"a": 3.5, "b": 4.5})
    partial = [("f", "a", r, p) for r, p in (("r0", 0.0), ("r1", 1.0), ("r2", 1.0))]
    table = run(out, partial)
    assert table.loc[("f", "brier"), "value"] == pytest.approx((0 + (0.25 + 0.25 + 0.25) / 3) / 2)
    assert table.loc[("f", "brier"), "coverage"] == pytest.approx(0.5)
    assert table.loc[("f", "pinball"), "coverage"] == 0.0


def test_censoring_right_and_left():
    out = outcomes({"never": [0, 0, 0], "always": [1, 1, 1]}, {"never": math.inf, "always": -math.inf})
    beyond = [("good", "never", 0.5, 5.7), ("good", "always", 0.5, 2.2)]
    inside = [("bad", "never", 0.5, 4.5), ("bad", "always", 0.5, 3.5)]
    table = run(out, quants=beyond + inside)
    assert table.loc[("good", "pinball"), "value"] == pytest.approx(0.0)
    # never: y clipped to 5, q 4.5 -> 0.5 * 0.5; always: y clipped to 3, q 3.5 -> 0.5 * 0.5
    assert table.loc[("bad", "pinball"), "value"] == pytest.approx(0.25)


def test_extrapolation_track_scores_only_rungs_above_the_floor():
    out = outcomes({"a": [0, 1, 1]}, {"a": 3.5})
    probs = [("x", "a", "r0", 1.0), ("x", "a", "r1", 0.0), ("x", "a", "r2", 1.0)]
    table = run(out, probs, floors={"x": "r1"})
    assert table.loc[("x", "brier"), "value"] == pytest.approx(0.0)  # only r2 is asked
    assert table.loc[("x", "brier"), "n_questions"] == 1


def test_accuracy_error_over_answered_questions():
    out = outcomes({"a": [0.0, 0.5, 1.0]}, {"a": 4.5})
    table = run(out, accs=[("f", "a", "r0", 0.1), ("f", "a", "r2", 0.8)])
    assert table.loc[("f", "accuracy_mse"), "value"] == pytest.approx((0.01 + 0.04) / 2)
    assert table.loc[("f", "accuracy_mse"), "coverage"] == pytest.approx(2 / 3)


def test_bootstrap_interval_brackets_the_mean_and_is_seeded():
    rng = np.random.default_rng(1)
    tasks = {f"t{i}": list(rng.random(3)) for i in range(12)}
    out = outcomes(tasks, dict.fromkeys(tasks, 4.0))
    probs = [("f", t, r, 0.3) for t in tasks for r in ("r0", "r1", "r2")]
    a, b = run(out, probs), run(out, probs)
    row = a.loc[("f", "brier")]
    assert row["ci_low"] < row["value"] < row["ci_high"]
    assert a.equals(b)


def test_proper_true_frequencies_beat_shifted_forecasts_in_expectation():
    """Simulation: outcomes drawn from known distributions; honest forecasts score better on average."""
    rng = np.random.default_rng(0)
    n, levels = 400, [0.1, 0.5, 0.9]
    truth_p, mu, sd = 0.3, 4.0, 0.3
    tasks = [f"t{i}" for i in range(n)]
    binary = {t: list(rng.binomial(3, truth_p, size=3) / 3) for t in tasks}
    sizes = {t: float(rng.normal(mu, sd)) for t in tasks}
    out = outcomes(binary, sizes)
    from scipy.stats import norm

    honest_q = {lv: mu + sd * norm.ppf(lv) for lv in levels}
    probs, quants = [], []
    for t in tasks:
        for r in ("r0", "r1", "r2"):
            probs += [("honest", t, r, truth_p), ("shifted", t, r, truth_p + 0.2), ("hedged", t, r, 0.5)]
        for lv in levels:
            quants += [("honest", t, lv, honest_q[lv]), ("shifted", t, lv, honest_q[lv] + 0.3), ("hedged", t, lv, mu)]
    table = run(out, probs, quants)
    for metric in ("brier", "pinball"):
        honest = table.loc[("honest", metric), "value"]
        assert honest < table.loc[("shifted", metric), "value"]
        assert honest < table.loc[("hedged", metric), "value"]


def comparison_case():
    """Four tasks, all never learned (outcome 0 at every rung): a forecast's Brier on a task is p^2."""
    tasks = ["a", "b", "c", "d"]
    out = outcomes({t: [0, 0, 0] for t in tasks}, dict.fromkeys(tasks, math.inf))
    p = {"sharp": [0.1, 0.1, 0.1, 0.1], "mixed": [0.1, 0.9, 0.1, 0.9], "twin": [0.1, 0.1, 0.1, 0.1]}
    probs = [(f, t, r, v) for f, vals in p.items() for t, v in zip(tasks, vals) for r in ("r0", "r1", "r2")]
    return out, probs


def test_paired_differences_by_hand():
    """Differences are per-task paired means; the leader is the best ranked point score of the group."""
    out, probs = comparison_case()
    table = run(out, probs)
    sharp, mixed = table.loc[("sharp", "brier")], table.loc[("mixed", "brier")]
    assert sharp["vs_uninformed"] == pytest.approx(0.01 - 0.25)
    assert sharp["vs_uninformed_low"] == pytest.approx(-0.24) and sharp["vs_uninformed_high"] == pytest.approx(-0.24)
    assert mixed["vs_uninformed"] == pytest.approx((0.01 - 0.25 + 0.81 - 0.25) / 2)
    assert sharp["vs_leader"] == 0.0 and mixed["vs_leader"] == pytest.approx((0 + 0.8) / 2)
    # Per task the difference is 0 or 0.8, so every resample's mean lies in [0, 0.8], and both ends occur.
    assert 0 <= mixed["vs_leader_low"] < mixed["vs_leader"] < mixed["vs_leader_high"] <= 0.8
    # Identical forecasts tie in every resample: each counts as first. The mixed one ties them only in the
    # resamples that draw neither b nor d, (1/2)^4 = 1/16 of them.
    assert sharp["p_first"] == 1.0 and table.loc[("twin", "brier"), "p_first"] == 1.0
    assert mixed["p_first"] == pytest.approx(1 / 16, abs=0.03)
    assert np.isnan(table.loc[("sharp", "brier_index"), "vs_leader"])  # comparisons sit on the brier rows


def test_share_ranked_first_splits_when_forecasters_trade_tasks():
    """Two forecasters each better on half the tasks: each is first in about half the resamples."""
    tasks = ["a", "b", "c", "d", "e", "f"]
    out = outcomes({t: [0, 0, 0] for t in tasks}, dict.fromkeys(tasks, math.inf))
    p = {"x": [0.1, 0.1, 0.1, 0.5, 0.5, 0.5], "y": [0.5, 0.5, 0.5, 0.1, 0.1, 0.1]}
    probs = [(f, t, r, v) for f, vals in p.items() for t, v in zip(tasks, vals) for r in ("r0", "r1", "r2")]
    table = run(out, probs, n_boot=4000)
    shares = table.loc[[("x", "brier"), ("y", "brier")], "p_first"].to_numpy()
    assert shares.sum() >= 1.0  # ties (3 tasks of each drawn) count for both
    assert 0.4 < shares[0] < 0.75 and 0.4 < shares[1] < 0.75
    y = table.loc[("y", "brier")]  # x leads on the tie of point scores (the first of equals)
    assert y["vs_leader"] == pytest.approx(0.0) and y["vs_leader_low"] < 0 < y["vs_leader_high"]  # not told apart


def test_the_same_floor_on_two_tracks_is_two_groups():
    """An internals forecast and an extrapolation forecast from one rung answer the same questions knowing different
    things: each is compared with its own track's forecasts (its leader, its share ranked first)."""
    out, probs = comparison_case()
    floors = {"sharp": "r0", "mixed": "r0", "twin": "r0"}
    pooled = run(out, probs, floors=floors, n_boot=500)
    assert pooled.loc[("mixed", "brier"), "vs_leader"] == pytest.approx(0.8 / 2)  # r1 and r2 of b and d: 0.81 - 0.01
    groups = {"sharp": "extrapolation from r0", "twin": "extrapolation from r0", "mixed": "internals from r0"}
    apart = run(out, probs, floors=floors, n_boot=500, groups=groups)
    mixed = apart.loc[("mixed", "brier")]
    assert mixed["vs_leader"] == 0.0 and mixed["p_first"] == 1.0  # alone in its group
    assert apart.loc[("twin", "brier"), "p_first"] == 1.0 and apart.loc[("twin", "brier"), "vs_leader"] == 0.0
    assert mixed["value"] == pooled.loc[("mixed", "brier"), "value"]  # the scores themselves do not change


def test_unranked_submissions_are_no_contenders():
    """The oracle (ranked False) is compared but never the leader and never first."""
    out, probs = comparison_case()
    perfect = [("oracle", t, r, 0.0) for t in "abcd" for r in ("r0", "r1", "r2")]
    table = run(out, probs + perfect, n_boot=500, ranked={"oracle": False})
    assert table.loc[("sharp", "brier"), "p_first"] == 1.0 and np.isnan(table.loc[("oracle", "brier"), "p_first"])
    assert table.loc[("oracle", "brier"), "vs_leader"] == pytest.approx(-0.01)


def test_standings_adjust_for_the_difficulty_of_the_questions_answered():
    """score = question difficulty + forecaster skill, exactly: the fit recovers each skill, whoever answered what.

    'easy' answered only the easy ladder and 'hard' only the hard one; their raw means differ by the
    difficulty, their adjusted effects are both their skill (-0.1), with a degenerate interval.
    """
    from harness.scoring.standings import standings

    difficulty = {("a", "t1"): 0.05, ("a", "t2"): 0.10, ("b", "t1"): 0.40, ("b", "t2"): 0.45}
    skill = {"uninformed": 0.0, "easy": -0.1, "hard": -0.1, "both": -0.02}
    answered = {"uninformed": "ab", "easy": "a", "hard": "b", "both": "ab"}
    rows = [
        (ladder, task, who, d + skill[who])
        for (ladder, task), d in difficulty.items()
        for who in skill
        if ladder in answered[who]
    ]
    table = standings(pd.DataFrame(rows, columns=["ladder", "task", "forecaster", "value"]), n_boot=300)
    table = table.set_index("forecaster")
    assert table.loc["easy", "raw"] < table.loc["hard", "raw"]  # unadjusted, the easy ladder flatters
    for who, s in skill.items():
        assert table.loc[who, "effect"] == pytest.approx(s)
        assert table.loc[who, "low"] == pytest.approx(s) and table.loc[who, "high"] == pytest.approx(s)
    assert table.loc["easy", "rank"] == table.loc["hard", "rank"] == 1
    assert table.loc["both", "questions"] == 4 and table.loc["easy", "ladders"] == 1


def test_standings_need_the_reference_on_every_question():
    from harness.scoring.standings import standings

    rows = pd.DataFrame([("a", "t", "x", 0.1)], columns=["ladder", "task", "forecaster", "value"])
    with pytest.raises(ValueError, match="uninformed forecaster has no score"):
        standings(rows)


# --- The step and smooth-metric questions, and intervals that resample training seeds --------------------------

STEPS_TOP = 4.0  # log10 of a 10,000-step budget


def emergence_rows(per_seed: dict[int, dict[str, tuple[list[float], list[float]]]]) -> pd.DataFrame:
    """An emergence table: seed -> task -> (final accuracy per rung, first step at the threshold per rung).

    Accuracy threshold 0.5; the answer loss is 1 - accuracy with threshold 0.5, so both metrics agree.
    """
    rows = []
    for seed, tasks in per_seed.items():
        for task, (finals, steps) in tasks.items():
            for (rung, log_params), final, step in zip(RUNGS.itertuples(index=False), finals, steps):
                base = {"task": task, "seed": seed, "rung": rung, "params": 10**log_params, "threshold": 0.5}
                rows.append({**base, "metric": "accuracy", "final": final, "reached": final >= 0.5,
                             "emergence_step": step})  # fmt: skip
                rows.append({**base, "metric": "loss", "final": 1 - final, "reached": 1 - final <= 0.5,
                             "emergence_step": step})  # fmt: skip
    return pd.DataFrame(rows)


def kinds_answers(steps=(), losses=(), floors=None) -> Answers:
    subs = sorted({row[0] for row in [*steps, *losses]} | set(floors or {}))
    return Answers(
        pd.DataFrame({"submission": subs, "floor": [(floors or {}).get(s) for s in subs]}),
        pd.DataFrame(columns=["submission", "task", "rung", "p"]),
        pd.DataFrame(columns=["submission", "task", "level", "q"]),
        pd.DataFrame(columns=["submission", "task", "rung", "accuracy"]),
        pd.DataFrame(list(losses), columns=["submission", "task", "level", "q"]),
        pd.DataFrame(list(steps), columns=["submission", "task", "rung", "level", "q"]),
    )


STEP_REF = pd.DataFrame({"level": [0.25, 0.5, 0.75], "q": [1.0, 2.0, 3.0]})
NEVER = math.nan  # the emergence table's step of a rung that never reaches the threshold


def test_outcomes_read_steps_and_the_smooth_metric_off_the_table():
    """Median log10 step over seeds (+inf never); the answer loss gets its own pooled emergence size."""
    table = emergence_rows({
        0: {"a": ([0.1, 0.9, 0.9], [NEVER, 100, 10])},
        1: {"a": ([0.1, 0.9, 0.9], [NEVER, 1000, 10])},
        2: {"a": ([0.1, 0.2, 0.9], [NEVER, NEVER, 100])},
    })  # fmt: skip
    out = rules.outcomes(table, steps=10_000)
    steps = out.steps.set_index("rung")["log_step"]
    assert steps["r0"] == math.inf and steps["r1"] == pytest.approx(3.0) and steps["r2"] == pytest.approx(1.0)
    assert out.log_steps == pytest.approx(4.0)
    assert out.loss_sizes["log_size"].iloc[0] == pytest.approx(out.sizes["log_size"].iloc[0])  # the metrics agree
    assert 3.0 < out.sizes["log_size"].iloc[0] < 5.0
    assert rules.outcomes(table).steps is None  # no budget, no step questions
    # Reached at step 0 on one seed and never on another: step 0 counts as step 1, so the median is never, not
    # the NaN of -inf + inf.
    split = emergence_rows({0: {"a": ([0.9, 0.9, 0.9], [0, 10, 10])}, 1: {"a": ([0.1, 0.9, 0.9], [NEVER, 10, 10])}})
    assert rules.outcomes(split, steps=10_000).steps.set_index("rung")["log_step"]["r0"] == math.inf


def test_step_questions_by_hand_with_censoring_on_both_sides():
    """Never within the budget: quantiles past it cost nothing. Reached at step 0: a quantile at 0 is exact."""
    table = emergence_rows({s: {"a": ([0.9, 0.9, 0.1], [0, 100, NEVER])} for s in range(3)})
    out = rules.outcomes(table, steps=10_000)
    exact = [("exact", "a", r, lv, q) for r, q in (("r0", 0.0), ("r1", 2.0), ("r2", 5.0)) for lv in (0.25, 0.5, 0.75)]
    late = [("late", "a", r, 0.5, 3.0) for r in ("r0", "r1", "r2")]
    table = score(out, kinds_answers(exact + late), Reference(UNIFORM_Q, STEP_REF), n_boot=200)
    table = table.set_index(["submission", "score"])
    assert table.loc[("exact", "pinball_step"), "value"] == pytest.approx(0.0)
    # r0: y = 0, q 3 -> 0.5 * 3; r1: y = 2 -> 0.5 * 1; r2: y = inf clipped to 4 -> 0.5 * 1
    assert table.loc[("late", "pinball_step"), "value"] == pytest.approx((1.5 + 0.5 + 0.5) / 3)
    assert table.loc[("late", "pinball_step"), "coverage"] == 1.0
    assert table.loc[("late", "pinball_step"), "n_questions"] == 3


def test_step_questions_on_the_extrapolation_track_ask_only_the_rungs_above_the_floor():
    table = emergence_rows({s: {"a": ([0.9, 0.9, 0.9], [10, 100, 1000])} for s in range(2)})
    out = rules.outcomes(table, steps=10_000)
    wrong_below = [("x", "a", "r0", 0.5, 4.0), ("x", "a", "r1", 0.5, 4.0), ("x", "a", "r2", 0.5, 3.0)]
    table = score(out, kinds_answers(wrong_below, floors={"x": "r1"}), Reference(UNIFORM_Q, STEP_REF), n_boot=50)
    row = table.set_index(["submission", "score"]).loc[("x", "pinball_step")]
    assert row["value"] == pytest.approx(0.0) and row["n_questions"] == 1


def test_smooth_metric_questions_censored_both_ways():
    """The loss never reaches its threshold for one task and always for the other."""
    table = emergence_rows({
        s: {"never": ([0.1, 0.1, 0.1], [NEVER] * 3), "always": ([0.9, 0.9, 0.9], [1, 1, 1])} for s in range(2)
    })  # fmt: skip
    out = rules.outcomes(table, steps=10_000)
    beyond = [("good", "never", 0.5, 5.7), ("good", "always", 0.5, 2.2)]
    inside = [("bad", "never", 0.5, 4.5), ("bad", "always", 0.5, 3.5)]
    table = score(out, kinds_answers(losses=beyond + inside), Reference(UNIFORM_Q, STEP_REF), n_boot=50)
    table = table.set_index(["submission", "score"])
    assert table.loc[("good", "pinball_loss"), "value"] == pytest.approx(0.0)
    assert table.loc[("bad", "pinball_loss"), "value"] == pytest.approx(0.25)
    assert table.loc[("bad", "pinball_step"), "coverage"] == 0.0  # no step answers: the uninformed's, counted missing


def noisy_table(rng: np.random.Generator, n_tasks: int, seeds_agree: bool) -> pd.DataFrame:
    """Tasks whose capability appears at a random rung; the seeds either agree exactly or each draw their own."""
    per_seed: dict[int, dict] = {s: {} for s in range(4)}
    for t in range(n_tasks):
        shared = int(rng.integers(0, 4))
        for s in per_seed:
            jump = shared if seeds_agree else int(rng.integers(0, 4))
            finals = [0.9 if i >= jump else 0.1 for i in range(3)]
            per_seed[s][f"t{t}"] = (finals, [10.0 ** (1 + jump) if i >= jump else NEVER for i in range(3)])
    return emergence_rows(per_seed)


def one_forecast(out: rules.Outcomes) -> Answers:
    probs = [("f", t, r, 0.4) for t in out.tasks for r in ("r0", "r1", "r2")]
    return Answers(
        pd.DataFrame({"submission": ["f"], "floor": [None]}),
        pd.DataFrame(probs, columns=["submission", "task", "rung", "p"]),
        pd.DataFrame([("f", t, 0.5, 4.0) for t in out.tasks], columns=["submission", "task", "level", "q"]),
        pd.DataFrame(columns=["submission", "task", "rung", "accuracy"]),
    )


def test_identical_seeds_make_seed_resampling_change_nothing():
    out = rules.outcomes(noisy_table(np.random.default_rng(3), 12, seeds_agree=True), steps=10_000)
    ref = Reference(UNIFORM_Q, STEP_REF)
    both = score(out, one_forecast(out), ref, n_boot=400, seed=5)
    tasks_only = score(out, one_forecast(out), ref, n_boot=400, seed=5, resample_seeds=False)
    columns = ["value", "ci_low", "ci_high", "vs_uninformed_low", "vs_uninformed_high"]
    pd.testing.assert_frame_equal(both[columns], tasks_only[columns], rtol=1e-12)


def test_a_question_weighs_the_same_however_many_levels_it_is_given():
    """Extra levels on an easy rung do not dilute a wrong answer on another rung of the same task."""
    table = emergence_rows({s: {"a": ([0.9, 0.1, 0.1], [10, NEVER, NEVER])} for s in range(3)})
    out = rules.outcomes(table, steps=10_000)
    wrong_r1 = [("r1", 0.5, 1.0), ("r2", 0.5, 4.0)]
    few = [("few", "a", r, lv, q) for r, lv, q in [("r0", 0.5, 1.0), *wrong_r1]]
    many = [("many", "a", "r0", lv, 1.0) for lv in np.linspace(0.05, 0.95, 181)]
    many += [("many", "a", r, lv, q) for r, lv, q in wrong_r1]
    table = score(out, kinds_answers(few + many), Reference(UNIFORM_Q, STEP_REF), n_boot=50)
    values = table[table["score"] == "pinball_step"].set_index("submission")["value"]
    assert values["few"] == pytest.approx(0.5 * 3.0 / 3)  # r1: y 4 (never), q 1 -> 0.5 * 3; r0 and r2 exact
    assert values["many"] > 0.9 * values["few"]  # r0's 181 levels: nearly exact but one question, like r2


def test_an_unfinished_pair_leaves_the_comparisons_defined():
    """A rung only one seed finished: seed draws without it keep the all-seed outcome there, not NaN."""
    per_seed = {s: {f"t{i}": ([0.1, 0.9, 0.9], [NEVER, 100, 10]) for i in range(4)} for s in range(3)}
    table = emergence_rows(per_seed)
    table = table[~((table["rung"] == "r2") & (table["seed"] > 0))]  # r2 finished by seed 0 only
    out = rules.outcomes(table, steps=10_000)
    probs = [(f, f"t{i}", r, p) for f, p in (("x", 0.8), ("y", 0.6)) for i in range(4) for r in ("r0", "r1", "r2")]
    scored = score(out, answers(probs, floors={"x": "r1", "y": "r1"}), Reference(UNIFORM_Q, STEP_REF), n_boot=400)
    brier = scored[scored["score"] == "brier"].set_index("submission")
    columns = ["ci_low", "ci_high", "vs_uninformed_low", "vs_uninformed_high", "vs_leader_low", "p_first"]
    assert brier[columns].notna().all().all()
    assert brier.loc["x", "p_first"] == 1.0


def test_seeds_that_disagree_widen_the_intervals():
    out = rules.outcomes(noisy_table(np.random.default_rng(3), 12, seeds_agree=False), steps=10_000)
    ref = Reference(UNIFORM_Q, STEP_REF)
    both = score(out, one_forecast(out), ref, n_boot=1000).set_index("score")
    tasks_only = score(out, one_forecast(out), ref, n_boot=1000, resample_seeds=False).set_index("score")
    assert both.loc["brier", "value"] == tasks_only.loc["brier", "value"]  # the point is the all-seed truth
    for name in ("brier", "pinball", "pinball_step"):
        width = both.loc[name, "ci_high"] - both.loc[name, "ci_low"]
        assert width > tasks_only.loc[name, "ci_high"] - tasks_only.loc[name, "ci_low"], name


def test_step_and_smooth_metric_rules_are_proper_by_simulation():
    """Outcomes drawn from a known distribution: honest quantiles beat shifted and overconfident ones on average."""
    rng = np.random.default_rng(0)
    n, levels, mu, sd = 300, [0.1, 0.5, 0.9], 2.5, 0.4
    from scipy.stats import norm

    per_seed = {0: {}}
    for t in range(n):
        step = 10 ** float(np.clip(rng.normal(mu, sd), 0.1, 3.9))
        jump = int(rng.integers(1, 3))  # where the capability (and the loss) emerges: between r0 and r2
        finals = [0.1] * jump + [0.9] * (3 - jump)
        per_seed[0][f"t{t}"] = (finals, [step if i >= jump else NEVER for i in range(3)])
    out = rules.outcomes(emergence_rows(per_seed), steps=10_000)
    honest = {lv: mu + sd * norm.ppf(lv) for lv in levels}
    forecasts = {"honest": honest, "shifted": {lv: q + 0.4 for lv, q in honest.items()},
                 "overconfident": dict.fromkeys(levels, mu)}  # fmt: skip
    steps = [
        (who, t, r, lv, q)
        for who, qs in forecasts.items()
        for t in out.tasks
        for r in ("r2",)  # always reached, at the drawn step (r1 never is when the jump is at r2)
        for lv, q in qs.items()
    ]
    # Smooth metric: the loss emerges between r0 (3) and r2 (5) with probability 1/2 at either half: an honest
    # forecast puts its median near the middle; a distorted one sits at an end.
    losses = [(who, t, 0.5, q) for who, q in (("honest", 4.0), ("shifted", 4.9)) for t in out.tasks]
    table = score(out, kinds_answers(steps, losses), Reference(UNIFORM_Q, STEP_REF), n_boot=50)
    table = table.set_index(["submission", "score"])
    honest_step = table.loc[("honest", "pinball_step"), "value"]
    assert honest_step < table.loc[("shifted", "pinball_step"), "value"]
    assert honest_step < table.loc[("overconfident", "pinball_step"), "value"]
    assert table.loc[("honest", "pinball_loss"), "value"] < table.loc[("shifted", "pinball_loss"), "value"]


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("n", [2, 5, 16])
def test_the_noise_corrected_brier_is_unbiased_for_the_squared_error_against_p(p, n):
    """Seeds drawn from a known p: the mean of (f - p_hat)^2 - p_hat (1 - p_hat) / (n - 1) over many draws is
    (f - p)^2, for every forecast f, while the raw Brier is off by p (1 - p) / n."""
    rng = np.random.default_rng([17, n, int(p * 100)])
    p_hat = rng.binomial(n, p, size=200_000) / n
    for f in (0.0, 0.3, p, 0.9):
        corrected = ((f - p_hat) ** 2 - rules.seed_noise(p_hat, np.full_like(p_hat, n))).mean()
        raw = ((f - p_hat) ** 2).mean()
        assert corrected == pytest.approx((f - p) ** 2, abs=3e-3)
        assert raw == pytest.approx((f - p) ** 2 + p * (1 - p) / n, abs=3e-3)


def test_the_noise_corrected_brier_favours_only_the_true_probability():
    """Its expectation over seed draws is smallest at f = p, exactly where the raw Brier's is: the same ranking in
    expectation, for any number of seeds."""
    rng = np.random.default_rng(3)
    forecasts = np.linspace(0, 1, 21)
    for p, n in ((0.3, 3), (0.65, 8)):
        p_hat = rng.binomial(n, p, size=(100_000, 1)) / n
        expected = ((forecasts - p_hat) ** 2 - rules.seed_noise(p_hat, np.full_like(p_hat, n))).mean(axis=0)
        assert forecasts[np.argmin(expected)] == pytest.approx(round(p * 20) / 20)
        assert np.argmin(expected) == np.argmin(((forecasts - p_hat) ** 2).mean(axis=0))


def test_the_noise_corrected_brier_on_a_hand_computed_table():
    """Two seeds disagree at r1 (p_hat 0.5, noise 0.25): a forecast of 0.5 there has raw Brier 0 but corrected
    -0.25, one question negative; the corrected mean over a task's rungs, by hand; not scored with one seed."""
    out = outcomes({"a": [0.0, 0.5, 1.0]}, {"a": 4.0})
    counted = Outcomes(out.rungs, out.binary.assign(n_seeds=2), out.sizes, out.accuracy)
    probs = [("x", "a", "r0", 0.0), ("x", "a", "r1", 0.5), ("x", "a", "r2", 1.0)]
    table = run(counted, probs=probs)
    assert table.loc[("x", "brier"), "value"] == pytest.approx(0.0)
    assert table.loc[("x", "brier_true"), "value"] == pytest.approx((0 - 0.25 + 0) / 3)
    ref = (0.25 + (0 - 0.25) + 0.25) / 3  # uninformed 0.5 everywhere
    assert table.loc[("x", "brier_true_skill"), "value"] == pytest.approx(1 - (-0.25 / 3) / ref)
    one = run(Outcomes(out.rungs, out.binary.assign(n_seeds=1), out.sizes, out.accuracy), probs=probs)
    assert "brier_true" not in one.index.get_level_values("score")  # not scored: one seed has no noise estimate
    assert "brier_true" not in run(out, probs=probs).index.get_level_values("score")  # seed counts unknown

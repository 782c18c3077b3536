"""The acceptance checks on hand-built emergence tables with known answers: separation, reproducibility by
permutation over seed labels, precision by bootstrap, and the seed lottery beside them."""

import math

import numpy as np
import pandas as pd
import pytest

from harness.truth.acceptance import (
    Check,
    Targets,
    Verdict,
    accept,
    precision_check,
    reproducibility_checks,
    seed_lottery,
    seed_text,
    separation_checks,
)
from harness.truth.emergence import emergence_table, pooled_points
from harness.truth.reproducibility import (
    MAX_SPLITS,
    censored_positions,
    p_value,
    reproducibility,
    seed_splits,
    split_briers,
)
from tests.unit.test_emergence import curves


def staggered(late_seed: bool = False) -> dict:
    """Six tasks emerging in 3 intervals, one of them early, one never; 3 seeds.

    late_seed: seed 2 of task a emerges at position 2.33 instead of 0.5.
    """
    finals = {}
    for seed in range(3):
        finals[("early", seed)] = [0.2, 0.8, 0.9, 0.9]
        finals[("a", seed)] = [0.2, 0.25, 0.3, 0.9] if late_seed and seed == 2 else [0.2, 0.8, 0.9, 0.9]
        finals[("b", seed)] = [0.1, 0.3, 0.7, 0.9]
        finals[("c", seed)] = [0.1, 0.3, 0.6, 0.9]
        finals[("d", seed)] = [0.0, 0.1, 0.3, 0.8]
        finals[("e", seed)] = [0.0, 0.0, 0.2, 0.7]
        finals[("never", seed)] = [0.0, 0.0, 0.0, 0.1]
    return finals


def thresholds(finals: dict) -> dict:
    return {"accuracy": {task: 0.5 for task, _ in finals}}


def walls(seconds: float, n_rungs: int = 4, n_seeds: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        [(f"r{i}", s, seconds) for i in range(n_rungs) for s in range(n_seeds)], columns=["rung", "seed", "wall_time_s"]
    )


def small_targets() -> Targets:
    return Targets(min_inside=6, min_intervals=3, early_position=1.0)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_checks_pass_on_a_staggered_ladder():
    finals = staggered()
    table = emergence_table(curves(finals, settled=True), thresholds(finals))
    results = by_name(separation_checks(table, walls(60), small_targets(), "held-out 0-2"))
    assert all(c.passed for c in results.values()), results
    assert "never" in results["unlearned at top"].detail and "early" in results["learned early"].detail


def test_one_late_seed_is_no_failure_but_slow_seeds_are():
    """The per-seed agreement check is retired: a seed far from the others is the seed lottery, reported."""
    finals = staggered(late_seed=True)
    table = emergence_table(curves(finals, settled=True), thresholds(finals))
    results = by_name(separation_checks(table, walls(300), small_targets(), "held-out 0-2"))
    assert "seeds agree" not in results and results["inside"].passed
    assert not results["time"].passed  # 4 rungs x 300 s = 20 min per seed
    assert all(c.seeds == "held-out 0-2" for c in results.values())
    lottery = seed_lottery(table[table["metric"] == "accuracy"]).set_index("task")
    assert lottery.loc["a", "spread"] == pytest.approx(1.83, abs=0.005) and lottery.loc["b", "spread"] == 0
    assert "never" not in lottery.index  # only tasks whose pooled point is inside the ladder


def test_the_time_check_reads_the_recorded_times_and_names_the_retimed_seeds():
    finals = staggered()
    table = emergence_table(curves(finals, settled=True), thresholds(finals))
    times = walls(60).assign(retimed=False)
    assert "re-timed" not in by_name(separation_checks(table, times, small_targets(), "x"))["time"].detail
    times.loc[times["seed"] == 1, "retimed"] = True
    times.loc[(times["seed"] == 2) & (times["rung"] == "r0"), ["wall_time_s", "retimed"]] = (900, True)
    time = by_name(separation_checks(table, times, small_targets(), "x"))["time"]
    assert not time.passed and "18.0 min" in time.detail  # 900 s + 3 x 60 s: whatever was retimed, as recorded
    assert "pairs of seeds 1, 2 were re-timed with 'ladder run --retime'" in time.detail


def test_tasks_count_by_their_pooled_point_not_by_every_seed():
    """One seed of task a already has it at the bottom rung and one seed of 'never' gets it at the top: per seed
    neither would count (a not inside on every seed, never not unlearned on every seed); pooled over the three
    seeds a is still inside and never still above the ladder, so the separation checks pass as before."""
    finals = staggered()
    finals[("a", 0)] = [0.8, 0.8, 0.9, 0.9]
    finals[("never", 1)] = [0.0, 0.0, 0.0, 0.9]
    table = emergence_table(curves(finals, settled=True), thresholds(finals))
    results = by_name(separation_checks(table, walls(60), small_targets(), "held-out 0-2"))
    assert "a" in results["inside"].detail and results["inside"].passed
    assert "never" in results["unlearned at top"].detail
    finals[("never", 2)] = [0.0, 0.0, 0.0, 0.9]  # now two of three seeds have it at the top: no longer unlearned
    table = emergence_table(curves(finals, settled=True), thresholds(finals))
    assert "never" not in by_name(separation_checks(table, walls(60), small_targets(), "x"))["unlearned at top"].detail


def test_checks_fail_with_too_few_seeds_or_tasks():
    finals = {k: v for k, v in staggered().items() if k[1] == 0 and k[0] in ("a", "never")}
    table = emergence_table(curves(finals), thresholds(finals))
    results = by_name(separation_checks(table, walls(1), small_targets(), "held-out 0"))
    assert not results["seeds"].passed and not results["inside"].passed and not results["intervals"].passed


def test_budget_check_counts_interior_questions():
    finals = staggered()
    table = emergence_table(curves(finals), thresholds(finals))  # every curve still rising at the end
    budget = by_name(separation_checks(table, walls(60), small_targets(), "held-out 0-2"))["budget"]
    assert not budget.passed and budget.detail.startswith("27 of 72")


# Six rungs a decade apart: a seed that has a task from rung f on (0 below, 1 from f) has its point at f - 0.5.
SIX = [10 ** (3 + i) for i in range(6)]


def first_rungs(firsts: dict[str, list[int | None]]) -> pd.DataFrame:
    """An accuracy emergence table: per task, per seed (0, 1, ...), the first rung that has it (None: none)."""
    rows = []
    for task, per_seed in firsts.items():
        for seed, first in enumerate(per_seed):
            for i, size in enumerate(SIX):
                final = 1.0 if first is not None and i >= first else 0.0
                for step in (0, 10, 100):
                    value = 0.0 if step == 0 else final
                    rows.append(("toy", f"r{i}", size, seed, task, step, step * 10, "accuracy", value))
    columns = ["ladder", "rung", "params", "seed", "task", "step", "tokens", "metric", "value"]
    table = emergence_table(pd.DataFrame(rows, columns=columns), {"accuracy": {t: 0.5 for t in firsts}})
    return table[table["metric"] == "accuracy"]


def test_a_ladder_tuned_to_lucky_seeds_is_not_reproducible():
    # Tuning seeds 0-3 learn every task two rungs earlier than held-out seeds 4-9.
    lucky = first_rungs({"x": [1] * 4 + [3] * 6, "y": [2] * 4 + [4] * 6, "z": [1] * 4 + [3] * 6})
    checks = by_name(reproducibility_checks(lucky, [0, 1, 2, 3], Targets()))
    points, brier = checks["reproducible points"], checks["reproducible Brier"]
    assert points.failed and brier.failed
    assert points.seeds == "tuning 0-3 vs held-out 4-9"
    # No other of the C(10, 4) = 210 splits puts the groups as far apart: p = 1/210 < 0.05 / 3 tasks.
    assert "all 210 splits" in points.detail and "x 2.00 (p 0.005)" in points.detail
    assert points.detail.startswith("below 0.0167: x, y, z")
    result = reproducibility(lucky, [0, 1, 2, 3], ["x", "y", "z"])
    assert result.brier_p == pytest.approx(1 / 210)
    assert result.points.set_index("task").loc["x", ["tuning", "held_out"]].tolist() == [0.5, 2.5]


def test_identical_seeds_are_reproducible():
    same = first_rungs({"x": [2] * 8, "y": [4] * 8})
    checks = by_name(reproducibility_checks(same, [0, 1, 2], Targets()))
    assert all(c.passed for c in checks.values()), checks
    result = reproducibility(same, [0, 1, 2], ["x", "y"])
    assert (result.points["distance"] == 0).all() and (result.points["p"] == 1).all() and result.brier_p == 1


def test_splits_are_every_one_for_small_seed_sets_and_drawn_beyond():
    observed = np.array([True] * 3 + [False] * 5)
    exact = seed_splits(observed)
    assert exact.exact and exact.first.shape == (math.comb(8, 3), 8) == (56, 8) and exact.n_drawn == 56
    assert (exact.first[0] == observed).all() and (exact.first.sum(axis=1) == 3).all()
    assert len({row.tobytes() for row in exact.first}) == 56  # each split once
    many = np.array([True] * 6 + [False] * 10)  # C(16, 6) = 8008 splits: drawn
    drawn = seed_splits(many)
    assert not drawn.exact and drawn.n_drawn == MAX_SPLITS and drawn.first.shape == (MAX_SPLITS + 1, 16)
    assert (drawn.first[0] == many).all() and (drawn.first.sum(axis=1) == 6).all()
    np.testing.assert_array_equal(seed_splits(many).first, drawn.first)  # a fixed generator: the same draws
    # The observed split counts among them, so p is never 0.
    assert p_value(np.array([5.0, 1.0, 2.0, 3.0])) == 0.25 and p_value(np.array([1.0, 1.0, 2.0, 0.0])) == 0.75


def test_drawn_splits_are_named_in_the_check():
    table = first_rungs({"x": [2] * 16})
    points = by_name(reproducibility_checks(table, list(range(6)), Targets()))["reproducible points"]
    assert "2,000 random splits and the observed one of the 16 seeds into 6 and 10" in points.detail


def test_brier_of_the_first_group_forecasting_the_second():
    # Seeds (rows) by (task, rung) questions; seed 0 forecasts 1 and 0, seeds 1 and 2 answer (1, 1) and (0, 0).
    have = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    splits = seed_splits(np.array([True, False, False]))
    briers = split_briers(have, splits)
    assert briers[0] == pytest.approx((0 + 1 + 1 + 0) / 4)
    # A question the first group did not measure is left out; one the second did not is not counted.
    have[0, 1], have[2, 0] = np.nan, np.nan
    assert split_briers(have, splits)[0] == pytest.approx((0 + 0) / 1)


def test_censored_points_sit_half_an_interval_beyond_the_ends():
    logs = np.log10(np.array(SIX, float))
    got = censored_positions(np.array([-math.inf, 3.0, 4.5, 8.0, math.inf]), logs)
    np.testing.assert_allclose(got, [-0.5, 0.0, 1.5, 5.0, 5.5])


def test_reproducibility_is_not_applicable_without_tuning_seeds():
    table = first_rungs({"x": [2] * 5})
    checks = reproducibility_checks(table, [], Targets())
    assert [c.verdict for c in checks] == [Verdict.NA, Verdict.NA]
    assert not any(c.passed or c.failed for c in checks) and "needs tuning seeds" in checks[0].detail
    result = accept(table, walls(1, 6, 5), [])
    assert result.failed and all(c.verdict is Verdict.FAIL for c in result.failed)  # n/a is never a failure
    assert {c.name for c in result.judged if c.verdict is Verdict.NA} == {"reproducible points", "reproducible Brier"}
    assert result.tuning == [] and result.held_out == [0, 1, 2, 3, 4]


def test_declared_tuning_seeds_that_were_not_measured_fail():
    table = first_rungs({"x": [2] * 5})
    checks = reproducibility_checks(table, [10, 11, 12], Targets())
    assert all(c.failed for c in checks) and "none of the tuning seeds 10-12 is measured" in checks[0].detail
    result = accept(table, walls(1, 6, 5), [0, 1, 2, 3, 4])  # every measured seed a tuning seed
    held = by_name(result.judged)
    assert held["seeds"].failed and "no held-out seed measured" in held["seeds"].detail
    assert held["reproducible points"].failed and "no held-out seed is measured" in held["reproducible points"].detail


def test_a_precision_failure_names_the_task_and_the_seeds_it_needs():
    table = first_rungs({"spread": [1, 1, 2, 2, 3, 3, 4, 4], "tight": [2] * 8})
    precise = precision_check(table, Targets())
    assert precise.failed and precise.seeds == "all 8: 0-7"
    pooled = pooled_points(table).set_index("task")
    width = pooled.loc["spread", "high"] - pooled.loc["spread", "low"]
    assert width > 1
    needed = math.ceil(8 * width**2)  # width shrinks about as 1/sqrt(seeds)
    assert precise.detail.startswith(
        f"spread is known to {width:.2f} rung intervals over 8 seeds; about {needed} seeds"
    )
    assert "tight 0.00" in precise.detail
    assert precision_check(first_rungs({"tight": [2] * 8}), Targets()).passed


def test_accept_judges_held_out_seeds_and_compares_the_tuning_ones():
    lucky = first_rungs({"x": [1] * 4 + [3] * 6})
    result = accept(lucky, walls(1, 6, 10), [0, 1, 2, 3], Targets(min_inside=1, min_intervals=1))
    assert result.tuning_seeds == [0, 1, 2, 3] and result.held_out == [4, 5, 6, 7, 8, 9]
    assert [c.seeds for c in result.tuning][0] == "tuning 0-3"
    judged = by_name(result.judged)
    assert judged["inside"].seeds == "held-out 4-9" and judged["precise"].seeds == "all 10: 0-9"
    assert {c.name for c in result.failed} >= {"reproducible points", "reproducible Brier"}


def test_seed_text_shortens_runs():
    assert seed_text([0, 1, 2, 6, 7, 8, 9, 10, 30]) == "0-2, 6-10, 30"
    assert seed_text([3, 4]) == "3, 4" and seed_text([]) == "none"

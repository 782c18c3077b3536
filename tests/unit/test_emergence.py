"""Emergence extraction on hand-built curve tables with known answers."""

import math

import numpy as np
import pandas as pd
import pytest

from harness.truth.emergence import (
    emergence_point,
    emergence_table,
    fraction_emerged,
    pooled_points,
    robust_point,
    seed_points,
    summarize,
)

SIZES = [1_000, 10_000, 100_000, 1_000_000]  # one decade per rung: positions read off directly
STEPS = [0, 10, 100]


def curves(
    finals: dict[tuple[str, int], list[float]], metric: str = "accuracy", mid: dict | None = None, settled: bool = False
) -> pd.DataFrame:
    """A curves table: per (task, seed), 0 at step 0, ``mid`` (default: half the final, or the final itself
    when ``settled``) at 10, the final at 100."""
    rows = []
    for (task, seed), values in finals.items():
        for i, final in enumerate(values):
            middle = (mid or {}).get((task, seed, i), final if settled else final / 2)
            for step, value in zip(STEPS, [0.0 if metric == "accuracy" else 5.0, middle, final]):
                rows.append(("toy", f"r{i}", SIZES[i], seed, task, step, step * 10, metric, value))
    return pd.DataFrame(rows, columns=["ladder", "rung", "params", "seed", "task", "step", "tokens", "metric", "value"])


def point_of(table: pd.DataFrame, task: str, seed: int = 0) -> pd.Series:
    points = seed_points(table)
    return points[(points["task"] == task) & (points["seed"] == seed)].iloc[0]


ACC = {"accuracy": {"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.5}}


def test_interpolates_in_log_size_between_the_straddling_rungs():
    # 0.3 at 1e4 and 0.7 at 1e5: the threshold 0.5 lies halfway, at 10**4.5 parameters.
    table = emergence_table(curves({("a", 0): [0.1, 0.3, 0.7, 0.9]}), ACC)
    p = point_of(table, "a")
    assert p["censoring"] == "none" and not p["regressed"]
    assert p["emergence_params"] == pytest.approx(10**4.5)
    assert p["emergence_position"] == pytest.approx(1.5)
    # A quarter of the way in value is a quarter of the way in log size.
    p = point_of(emergence_table(curves({("a", 0): [0.0, 0.4, 0.8, 0.9]}), ACC), "a")
    assert math.log10(p["emergence_params"]) == pytest.approx(4.25)


def test_reaching_exactly_the_threshold_counts():
    p = point_of(emergence_table(curves({("a", 0): [0.0, 0.5, 0.6, 0.9]}), ACC), "a")
    assert p["emergence_params"] == pytest.approx(10_000)


def test_left_and_right_censoring():
    table = emergence_table(curves({("a", 0): [0.6, 0.7, 0.8, 0.9], ("b", 0): [0.0, 0.1, 0.2, 0.49]}), ACC)
    left, right = point_of(table, "a"), point_of(table, "b")
    assert left["censoring"] == "left" and math.isnan(left["emergence_params"])
    assert right["censoring"] == "right" and math.isnan(right["emergence_params"])
    summary = summarize(table).set_index("task")
    assert summary.loc["a", "log_params"] == -math.inf and summary.loc["b", "log_params"] == math.inf
    assert (summary.loc["a", "censoring"], summary.loc["b", "censoring"]) == ("left", "right")


def test_a_task_that_crosses_and_falls_back_emerges_where_it_stays():
    # Above the threshold at 1e4, below at 1e5, above again at 1e6: it emerges between 1e5 and 1e6.
    table = emergence_table(curves({("a", 0): [0.1, 0.6, 0.2, 0.8]}), ACC)
    p = point_of(table, "a")
    assert p["censoring"] == "none" and p["regressed"]
    assert p["emergence_params"] == pytest.approx(10**5.5)
    # Falling back at the top rung means it is not there at the end of the ladder.
    p = point_of(emergence_table(curves({("a", 0): [0.1, 0.6, 0.7, 0.3]}), ACC), "a")
    assert p["censoring"] == "right" and p["regressed"]
    # ... while the per-rung answer still says which rungs had it.
    one = emergence_table(curves({("a", 0): [0.1, 0.6, 0.7, 0.3]}), ACC)
    assert one.sort_values("params")["reached"].tolist() == [False, True, True, False]


def test_loss_emerges_downwards():
    table = emergence_table(curves({("a", 0): [2.0, 1.0, 0.2, 0.1]}, metric="loss"), {"loss": {"a": 0.6}})
    p = point_of(table, "a")
    assert p["censoring"] == "none" and p["emergence_position"] == pytest.approx(1.5)


def test_nan_never_counts_as_emerged():
    table = emergence_table(curves({("a", 0): [0.1, 0.9, float("nan"), 0.9]}), ACC)
    assert table.sort_values("params")["reached"].tolist() == [False, True, False, True]
    # Nothing to interpolate from below a NaN: the point is put at the first rung that has it.
    p = point_of(table, "a")
    assert p["censoring"] == "none" and p["regressed"] and p["emergence_position"] == pytest.approx(3.0)


def test_emergence_step_is_the_first_evaluation_at_or_above_threshold():
    mid = {("a", 0, 2): 0.55, ("a", 0, 3): 0.2}  # rung 2 already there at step 10; rung 3 only at the end
    table = emergence_table(curves({("a", 0): [0.1, 0.3, 0.7, 0.9]}, mid=mid), ACC).set_index("rung")
    assert math.isnan(table.loc["r0", "emergence_step"]) and math.isnan(table.loc["r1", "emergence_step"])
    assert table.loc["r2", "emergence_step"] == 10 and table.loc["r3", "emergence_step"] == 100


def test_seeds_that_disagree():
    finals = {
        ("a", 0): [0.1, 0.3, 0.7, 0.9],  # emerges at 1e4.5
        ("a", 1): [0.0, 0.1, 0.2, 0.3],  # never
        ("a", 2): [0.3, 0.7, 0.8, 0.9],  # emerges at 1e3.5
    }
    table = emergence_table(curves(finals), ACC)
    s = summarize(table).iloc[0]
    assert (s["n_seeds"], s["n_inside"], s["n_right"], s["n_left"]) == (3, 2, 1, 0)
    # Seed fractions 0, 1/3, 2/3, 2/3: the fit reaches one half halfway from r1 to r2.
    assert s["censoring"] == "none" and s["position"] == pytest.approx(1.5)
    assert s["log_params"] == pytest.approx(4.5)
    # Resampling seeds can draw three copies of the seed that never has it: the interval reaches +inf.
    assert s["log_low"] == pytest.approx(3.5) and s["log_high"] == math.inf
    assert math.isnan(s["spread"])
    grid = fraction_emerged(table, "accuracy")
    assert list(grid.columns) == ["r0", "r1", "r2", "r3"]
    np.testing.assert_allclose(grid.loc["a"].to_numpy(), [0, 1 / 3, 2 / 3, 2 / 3])


def test_emergence_point_on_unsorted_input_is_the_callers_job():
    # The pure function takes rungs in size order; emergence_table sorts them, whatever the row order.
    shuffled = curves({("a", 0): [0.1, 0.3, 0.7, 0.9]}).sample(frac=1, random_state=0)
    assert point_of(emergence_table(shuffled, ACC), "a")["emergence_position"] == pytest.approx(1.5)
    p = emergence_point(np.array(SIZES, float), np.array([0.1, 0.3, 0.7, 0.9]), 0.5, True)
    assert p.censoring == "none" and p.params == pytest.approx(10**4.5)


# Accuracy of addition at the last step, rungs c0..c7, on three seeds nobody tuned on (issue 16).
ADDITION = {
    3: [0.03, 0.00, 0.11, 0.02, 0.88, 0.09, 1.0, 1.0],
    4: [0.01, 0.01, 0.11, 0.12, 0.99, 1.0, 0.08, 1.0],
    5: [0.00, 0.06, 0.00, 0.11, 0.98, 1.0, 0.08, 1.0],
}
LADDER_SIZES = [1_672, 4_000, 10_656, 23_296, 44_800, 84_224, 236_544, 578_816]


def ladder_curves(finals: dict[int, list[float]], task: str = "addition") -> pd.DataFrame:
    """One task on an 8-rung ladder: per seed, the final accuracy at each rung (flat since step 10)."""
    rows = [
        ("toy", f"c{i}", LADDER_SIZES[i], seed, task, step, step * 10, "accuracy", 0.0 if step == 0 else final)
        for seed, values in finals.items()
        for i, final in enumerate(values)
        for step in STEPS
    ]
    return pd.DataFrame(rows, columns=["ladder", "rung", "params", "seed", "task", "step", "tokens", "metric", "value"])


def test_one_unfinished_rung_cannot_move_the_robust_point():
    table = emergence_table(ladder_curves(ADDITION), {"accuracy": {"addition": 0.5}})
    points = seed_points(table).set_index("seed")
    # The strict rule (every larger rung has it) puts seed 3 above c5 and seeds 4 and 5 above c6.
    assert points["emergence_position"].round(2).tolist() == [5.45, 6.46, 6.46]
    # Robust, each seed lands just below c4, and the three agree within a quarter of a rung interval.
    robust = points["robust_position"]
    assert robust.between(3.5, 4.0).all() and robust.max() - robust.min() <= 0.25
    assert (points["robust_censoring"] == "none").all() and points["regressed"].all()
    # Pooled over the seeds: the fractions 0 0 0 0 1 2/3 1/3 1 fit as 0 0 0 0 2/3 2/3 2/3 1, one half at 3.75.
    pooled = pooled_points(table).iloc[0]
    assert pooled["position"] == pytest.approx(3.75) and pooled["censoring"] == "none"
    assert pooled["low"] <= pooled["position"] <= pooled["high"] and pooled["high"] <= 4.0
    # The rungs that lost what a smaller rung of their seed had are flagged.
    lost = table[table["lost"]].sort_values(["seed", "rung"])
    assert list(zip(lost["seed"], lost["rung"])) == [(3, "c5"), (4, "c6"), (5, "c6")]


def test_robust_point_interpolates_the_fit_in_log_size():
    sizes = np.array(SIZES, float)
    # 0 0 1 1: halfway between the last rung without it and the first with it.
    assert robust_point(sizes, np.array([0.0, 0.0, 1.0, 1.0])).params == pytest.approx(10**4.5)
    # Fractions 0, 1/4, 3/4, 1: one half is reached halfway from r1 to r2.
    assert robust_point(sizes, np.array([0, 0.25, 0.75, 1.0])).params == pytest.approx(10**4.5)
    # A lone rung out of order is pooled with its neighbour: 1 0 pools to one half, which counts.
    p = robust_point(sizes, np.array([0.0, 1.0, 0.0, 1.0]))
    assert p.regressed and p.params == pytest.approx(10**4)
    assert robust_point(sizes, np.ones(4)).censoring == "left"
    assert robust_point(sizes, np.array([0.0, 0.0, 0.0, 0.4])).censoring == "right"


def test_identical_seeds_give_an_interval_of_one_point():
    table = emergence_table(ladder_curves({s: ADDITION[4] for s in range(5)}), {"accuracy": {"addition": 0.5}})
    pooled = pooled_points(table).iloc[0]
    assert pooled["low"] == pooled["position"] == pooled["high"]
    # Deterministic: the bootstrap draws come from a fixed seed.
    pd.testing.assert_frame_equal(pooled_points(table), pooled_points(table))


def test_budget_limited_is_below_threshold_and_still_rising():
    finals = {("a", 0): [0.1, 0.3, 0.45, 0.9]}
    # r1 went 0.29 -> 0.30 (flat), r2 0.2 -> 0.45 (rising, below threshold), r3 0.5 -> 0.9 (rising, reached).
    mid = {("a", 0, 0): 0.1, ("a", 0, 1): 0.29, ("a", 0, 2): 0.2, ("a", 0, 3): 0.5}
    table = emergence_table(curves(finals, mid=mid), ACC).set_index("rung")
    assert table["rising"].tolist() == [False, False, True, True]
    assert table["budget_limited"].tolist() == [False, False, True, False]
    # Loss counts as rising when it fell by a fifth or more of its value over the last interval.
    loss = curves({("a", 0): [1.0, 0.79]}, metric="loss", mid={("a", 0, 0): 1.0, ("a", 0, 1): 1.0})
    flags = emergence_table(loss, {"loss": {"a": 0.5}}).set_index("rung")["budget_limited"]
    assert flags.tolist() == [False, True]


def test_a_seed_in_order_keeps_the_strict_interpolation():
    # Two seeds sitting either side of the threshold at the same rung are close, not a rung apart.
    finals = {("a", 0): [0.1, 0.46, 0.9, 0.9], ("a", 1): [0.1, 0.55, 0.9, 0.9]}
    table = emergence_table(curves(finals, settled=True), ACC)
    points = seed_points(table).set_index("seed")
    np.testing.assert_allclose(points["robust_position"], points["emergence_position"])
    assert points["robust_position"].max() - points["robust_position"].min() < 0.25  # 1.09 and 0.89
    # Pooled: the fit steps 0 -> 1/2 -> 1, so the point lies where it reaches one half, at the middle rung.
    assert pooled_points(table).iloc[0]["position"] == pytest.approx(1.0)
    # Both seeds stepping cleanly at the same interval: placed by the mean final values, like the strict rule.
    same = emergence_table(curves({("a", 0): [0.1, 0.3, 0.7, 0.9], ("a", 1): [0.1, 0.1, 0.9, 0.9]}), ACC)
    assert pooled_points(same).iloc[0]["position"] == pytest.approx(1 + (0.5 - 0.2) / (0.8 - 0.2))

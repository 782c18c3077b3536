"""Emergence extraction and the acceptance checks on hand-built curve tables with known answers."""

import math

import numpy as np
import pandas as pd
import pytest

from harness.truth.acceptance import Targets, acceptance_checks
from harness.truth.emergence import emergence_point, emergence_table, fraction_emerged, seed_points, summarize

SIZES = [1_000, 10_000, 100_000, 1_000_000]  # one decade per rung: positions read off directly
STEPS = [0, 10, 100]


def curves(
    finals: dict[tuple[str, int], list[float]], metric: str = "accuracy", mid: dict | None = None
) -> pd.DataFrame:
    """A curves table: per (task, seed), 0 at step 0, ``mid`` (default: half the final) at 10, the final at 100."""
    rows = []
    for (task, seed), values in finals.items():
        for i, final in enumerate(values):
            middle = (mid or {}).get((task, seed, i), final / 2)
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
    assert summary.loc["a", "median"] == -math.inf and summary.loc["b", "median"] == math.inf


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
    assert s["low"] == pytest.approx(3.5) and s["median"] == pytest.approx(4.5) and s["high"] == math.inf
    assert math.isnan(s["spread"]) and math.isnan(s["median_position"])
    grid = fraction_emerged(table, "accuracy")
    assert list(grid.columns) == ["r0", "r1", "r2", "r3"]
    np.testing.assert_allclose(grid.loc["a"].to_numpy(), [0, 1 / 3, 2 / 3, 2 / 3])


def test_emergence_point_on_unsorted_input_is_the_callers_job():
    # The pure function takes rungs in size order; emergence_table sorts them, whatever the row order.
    shuffled = curves({("a", 0): [0.1, 0.3, 0.7, 0.9]}).sample(frac=1, random_state=0)
    assert point_of(emergence_table(shuffled, ACC), "a")["emergence_position"] == pytest.approx(1.5)
    p = emergence_point(np.array(SIZES, float), np.array([0.1, 0.3, 0.7, 0.9]), 0.5, True)
    assert p.censoring == "none" and p.params == pytest.approx(10**4.5)


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


def walls(seconds: float) -> pd.DataFrame:
    return pd.DataFrame(
        [(f"r{i}", s, seconds) for i in range(4) for s in range(3)], columns=["rung", "seed", "wall_time_s"]
    )


def small_targets() -> Targets:
    return Targets(min_inside=6, min_intervals=3, early_position=1.0)


def test_checks_pass_on_a_staggered_ladder():
    finals = staggered()
    results = {
        c.name: c
        for c in acceptance_checks(emergence_table(curves(finals), thresholds(finals)), walls(60), small_targets())
    }
    assert all(c.passed for c in results.values()), results
    assert "never" in results["unlearned at top"].detail and "early" in results["learned early"].detail


def test_checks_fail_when_seeds_disagree_or_time_runs_over():
    finals = staggered(late_seed=True)
    results = {
        c.name: c
        for c in acceptance_checks(emergence_table(curves(finals), thresholds(finals)), walls(300), small_targets())
    }
    assert not results["seeds agree"].passed and "a 1.83" in results["seeds agree"].detail
    assert not results["time"].passed  # 4 rungs x 300 s = 20 min per seed
    assert results["inside"].passed


def test_checks_fail_with_too_few_seeds_or_tasks():
    finals = {k: v for k, v in staggered().items() if k[1] == 0 and k[0] in ("a", "never")}
    results = {
        c.name: c
        for c in acceptance_checks(emergence_table(curves(finals), thresholds(finals)), walls(1), small_targets())
    }
    assert not results["seeds"].passed and not results["inside"].passed and not results["intervals"].passed

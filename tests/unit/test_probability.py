"""The truth as a distribution: the Jeffreys interval, the bimodality rule and the probability table."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import betainc

from harness.truth.emergence import emergence_table
from harness.truth.probability import COLUMNS, is_bimodal, jeffreys_interval, probability_table
from tests.unit.test_emergence import curves


def test_jeffreys_interval_at_the_ends_and_in_the_middle():
    low, high = jeffreys_interval(np.array([0, 4, 8]), np.array([8, 8, 8]))
    # 0 of 8: the lower end is 0 by convention; the upper one leaves 2.5% of Beta(1/2, 8 1/2) above it.
    assert low[0] == 0 and betainc(0.5, 8.5, high[0]) == pytest.approx(0.975)
    assert high[0] == pytest.approx(0.2622, abs=1e-4)
    # 4 of 8: symmetric about one half.
    assert low[1] + high[1] == pytest.approx(1) and low[1] < 0.5 < high[1]
    # 8 of 8 mirrors 0 of 8, and never collapses to a point as Wald's interval does at 0/n and n/n.
    assert high[2] == 1 and low[2] == pytest.approx(1 - high[0])
    assert (high - low > 0.2).all()


def test_jeffreys_interval_narrows_with_seeds_and_is_nan_without_any():
    low, high = jeffreys_interval(np.array([2, 20, 0]), np.array([4, 40, 0]))
    assert high[1] - low[1] < high[0] - low[0]
    assert np.isnan(low[2]) and np.isnan(high[2])


@pytest.mark.parametrize(
    ("finals", "chance", "threshold", "expected"),
    [
        ([0.0, 0.02, 0.9, 1.0], 0.0, 0.5, True),  # near chance or at the top, nobody between
        ([0.0, 0.3, 0.9, 1.0], 0.0, 0.5, False),  # 0.3 sits in the middle band [0.25, 0.5)
        ([0.0, 0.24, 0.5], 0.0, 0.5, True),  # just below the midpoint, exactly at the threshold
        ([0.0, 0.1, 0.2], 0.0, 0.5, False),  # nobody has it
        ([0.6, 0.9, 1.0], 0.0, 0.5, False),  # everybody has it
        ([0.5, 0.52, 0.95], 0.5, 0.9, True),  # parity: chance 0.5, midpoint 0.7
        ([0.5, 0.75, 0.95], 0.5, 0.9, False),
        ([0.0, float("nan"), 0.9], 0.0, 0.5, True),  # a diverged seed is left out
    ],
)
def test_bimodal_means_all_or_nothing(finals, chance, threshold, expected):
    assert is_bimodal(np.array(finals), chance, threshold) is expected


def test_the_probability_table_has_one_row_per_metric_task_and_rung():
    finals = {("a", 0): [0.0, 0.1, 0.9, 1.0], ("a", 1): [0.0, 0.0, 0.3, 0.9], ("a", 2): [0.0, 0.0, 0.0, 0.8]}
    acc = curves(finals, settled=True)
    loss = curves({k: [2.0, 1.0, 0.5, 0.1] for k in finals}, metric="loss", settled=True)
    table = emergence_table(pd.concat([acc, loss]), {"accuracy": {"a": 0.5}, "loss": {"a": 0.6}})
    probs = probability_table(table, {"a": 0.0})
    assert list(probs.columns) == COLUMNS and len(probs) == 2 * 4
    assert str(probs["bimodal"].dtype) == "boolean" and str(probs["metric"].dtype) == "string"
    acc_rows = probs[probs["metric"] == "accuracy"].set_index("rung")
    assert acc_rows["n_seeds"].tolist() == [3, 3, 3, 3] and acc_rows["n_have"].tolist() == [0, 0, 1, 3]
    assert acc_rows.loc["r2", "fraction"] == pytest.approx(1 / 3)
    low, high = jeffreys_interval(np.array([1]), np.array([3]))
    assert (acc_rows.loc["r2", "low"], acc_rows.loc["r2", "high"]) == pytest.approx((low[0], high[0]))
    # r2: 0.9 has it, 0.0 is near chance, but 0.3 sits between: not bimodal. r0 and r1: nobody has it.
    assert acc_rows["bimodal"].tolist() == [False, False, False, False]
    assert probs.loc[probs["metric"] == "loss", "bimodal"].isna().all()  # judged on accuracy only
    split = probability_table(emergence_table(curves({**finals, ("a", 1): [0.0, 0.0, 0.05, 0.9]}, settled=True),
                                              {"accuracy": {"a": 0.5}}), {"a": 0.0})  # fmt: skip
    assert split.set_index("rung").loc["r2", "bimodal"]
    with pytest.raises(KeyError):
        probability_table(table, {})  # every task needs its chance level

from __future__ import annotations

import pytest

from harness.training.data import apportion
from harness.training.schedule import log_steps, lr_factor, snap


@pytest.mark.parametrize("total,n", [(1, 5), (10, 4), (150, 8), (2000, 20), (100000, 30)])
def test_log_steps(total, n):
    steps = log_steps(total, n)
    assert steps[0] == 0 and steps[-1] == total
    assert steps == sorted(set(steps))
    assert len(steps) <= n
    gaps = [b - a for a, b in zip(steps[1:], steps[2:])]
    assert all(later >= earlier - 1 for earlier, later in zip(gaps, gaps[1:])), "spacing grows (up to rounding)"
    if len(gaps) > 3:
        assert gaps[-1] > 3 * gaps[0], "log-spaced, not linear"


def test_log_steps_first():
    assert log_steps(1000, 3, first=10) == [0, 10, 1000]


def test_snap():
    assert snap([0, 9, 100, 101], [0, 8, 16, 100]) == [0, 8, 100]


def test_lr_schedule():
    assert lr_factor(0, 10, 100, 0.1) == pytest.approx(0.1)
    assert lr_factor(9, 10, 100, 0.1) == pytest.approx(1.0)
    assert lr_factor(10, 10, 100, 0.1) == pytest.approx(1.0)
    assert lr_factor(100, 10, 100, 0.1) == pytest.approx(0.1)
    assert lr_factor(55, 10, 100, 0.0) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "weights,total,expected",
    [
        # one row each first, then the spare rows by largest remainder (ties to the earlier task):
        ([1, 1, 1], 10, [4, 3, 3]),  # spare 7: 2.33 each -> 2, 2, 2 and the one left to the first
        ([1, 2, 5], 16, [3, 4, 9]),  # spare 13: 1.625, 3.25, 8.125 -> 1, 3, 8 and the one left to .625
        ([1] * 8, 64, [8] * 8),
        ([0.1, 10], 5, [1, 4]),  # spare 3: 0.03, 2.97 -> 0, 2 and the one left to .97
        # the cpu ladder's mixture, as its ladder file documents it
        ([1.1, 0.75, 1.5, 4.0, 4.0, 1.75, 1.25, 0.5, 0.75, 0.75], 64, [5, 4, 6, 14, 14, 7, 5, 3, 3, 3]),
    ],
)
def test_apportion(weights, total, expected):
    assert apportion(weights, total) == expected

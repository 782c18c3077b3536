"""The built-in forecasters on hand-built curves with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.forecasts.baselines import two_step
from harness.training.ladder import load_ladder


def test_two_step_reads_the_crossing_off_its_two_fits():
    """Loss an exact power law of size, accuracy an exact sigmoid of the loss: the two-step finds the size
    where accuracy crosses its threshold from the revealed rungs alone, and says which hidden rungs have it."""
    ladder = load_ladder("cpu")
    logs = np.log10([r.params for r in ladder.rungs])
    threshold, k, m = 0.5, 3.0, 0.4  # accuracy = 1 / (1 + exp(k (z - m))), z = ln(loss / loss threshold)
    rows = []
    for task in ladder.spec.tasks:
        limit = 0.1
        for rung, x in zip(ladder.rungs, logs):
            z = 2.0 - 1.1 * (x - logs[0])  # ln(loss / limit) falls linearly in log size
            acc = 1 / (1 + np.exp(k * (z - m)))
            for metric, value in (("loss", limit * np.exp(z)), ("accuracy", acc)):
                rows.append((rung.name, 0, task, 4500, metric, value))
    curves = pd.DataFrame(rows, columns=["rung", "seed", "task", "step", "metric", "value"])
    tasks = list(ladder.spec.tasks)
    forecast = two_step(ladder, curves, "c3", dict.fromkeys(tasks, 0.1), dict.fromkeys(tasks, threshold))
    crossing = logs[0] + (2.0 - m) / 1.1  # z reaches m, where accuracy is 0.5
    answers = forecast.tasks["copy"]
    assert answers.emergence_quantiles[0.5] == pytest.approx(crossing, abs=1e-3)
    assert forecast.track == "extrapolation" and set(answers.p_emerged) == {"c4", "c5", "c6", "c7"}
    for rung, x in zip(ladder.rungs[4:], logs[4:]):
        assert (answers.p_emerged[rung.name] > 0.5) == (x > crossing)
        assert answers.accuracy[rung.name] == pytest.approx(
            1 / (1 + np.exp(k * (2.0 - 1.1 * (x - logs[0]) - m))), abs=1e-3
        )

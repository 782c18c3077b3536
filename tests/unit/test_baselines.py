"""The built-in forecasters on hand-built curves with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from harness.forecasts.schema import LEVELS
from harness.ladders.ladder import load_ladder
from harness.methods.backtest import score_alone
from harness.methods.builtin import _step_mixture, oracle, two_step


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
    # The smooth metric: the loss line reaches its threshold (z = 0) at this size.
    assert answers.loss_emergence_quantiles[0.5] == pytest.approx(logs[0] + 2.0 / 1.1, abs=1e-3)
    # No revealed rung reaches the threshold, so a hidden rung that gets there is expected late in training
    # (0.3 decades before the end), and never with the rest of its probability.
    steps = answers.emergence_step_quantiles
    assert set(steps) == {"c4", "c5", "c6", "c7"}
    late, never = np.log10(ladder.spec.training.steps) - 0.3, np.log10(ladder.spec.training.steps) + 0.5
    p7 = answers.p_emerged["c7"]
    assert steps["c7"][0.05] == pytest.approx(late + 0.3 * norm.ppf(0.05 / p7), abs=1e-3)
    assert answers.p_emerged["c4"] < 0.95 and steps["c4"][0.95] == pytest.approx(never, abs=1e-4)


@pytest.mark.parametrize("p", [0.0, 0.03, 0.4, 0.97, 1.0])
def test_a_step_forecast_is_a_mixture_of_getting_there_and_never(p):
    """Below level p the quantiles are a normal's at level / p; from p on, past the budget."""
    quantiles = _step_mixture(p, 2.5, 4.0)
    values = [quantiles[level] for level in LEVELS]
    assert values == sorted(values)
    for level in LEVELS:
        expected = 2.5 + 0.3 * norm.ppf(level / p) if level < p else 4.0
        assert quantiles[level] == pytest.approx(float(np.clip(expected, 0.0, 4.0)), abs=1e-4)


def test_the_oracle_scores_perfectly_on_every_kind_of_question():
    """On the committed results of the cpu ladder: zero Brier and zero pinball of all three kinds."""
    ladder = load_ladder("cpu")
    table = pd.read_parquet(Path("results") / "cpu" / "emergence.parquet")
    forecast = oracle(ladder, table)
    scores = score_alone(forecast, ladder, table, n_boot=200, seed=0).set_index("score")["value"]
    for name in ("brier", "pinball", "pinball_loss", "pinball_step"):
        assert scores[name] == pytest.approx(0.0, abs=1e-4), name  # its answers are rounded to 4 decimals
    assert all(len(t.emergence_step_quantiles) == len(ladder.rungs) for t in forecast.tasks.values())

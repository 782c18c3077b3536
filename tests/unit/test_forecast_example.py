"""The worked example of docs/neurons.md (examples/forecast_from_internals.py): its readout, its extrapolation,
and a run on the committed cpu files, from the revealed rungs' checkpoints to a scored forecast."""

from __future__ import annotations

import math
import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from harness.errors import UserError
from harness.ladders.ladder import load_ladder
from harness.neurons.recording import examples

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = runpy.run_path(str(ROOT / "examples" / "forecast_from_internals.py"))
CPU = load_ladder("cpu")


class Uniform(torch.nn.Module):
    """Logits equal everywhere: every answer token has probability 1 / d_vocab."""

    def __init__(self, d_vocab: int) -> None:
        super().__init__()
        self.d_vocab = d_vocab

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return torch.zeros(*tokens.shape, self.d_vocab)  # (n, T, d_vocab)


def test_the_readout_is_the_median_log_probability_of_the_whole_answer():
    trials = examples(CPU.task("multiply"), 16, seed=0)
    answer_tokens = trials["answer_mask"].sum(dim=1).float()  # (n,)
    expected = float(torch.median(-answer_tokens * math.log(50)))
    assert EXAMPLE["readout"](Uniform(50), trials) == pytest.approx(expected, rel=1e-5)


def test_the_probability_is_a_half_where_the_readouts_line_reaches_log_threshold_and_grows_with_size():
    log_params = {r.name: math.log10(r.params) for r in CPU.rungs}
    revealed, hidden = ["c0", "c1", "c2", "c3"], ["c4", "c5", "c6", "c7"]
    threshold = 0.9
    # Readouts on a line (with a little scatter) that reaches log(0.9) at c5's size.
    scatter = np.array([0.05, -0.05, -0.05, 0.05])
    line = {r: math.log(threshold) + 2.0 * (log_params[r] - log_params["c5"]) + e for r, e in zip(revealed, scatter)}
    p = EXAMPLE["forecast_probabilities"](pd.Series(line), log_params, hidden, threshold)
    assert list(p) == hidden
    assert p["c4"] < 0.05 and p["c5"] == pytest.approx(0.5, abs=0.05) and p["c6"] > 0.95 and p["c7"] >= p["c6"]


def test_the_example_records_the_revealed_networks_forecasts_the_hidden_rungs_and_scores_them():
    found = EXAMPLE["run"]("cpu", "multiply", "c3", 32, [30, 31], ROOT / "results")
    rec = found["recordings"]
    assert set(rec["rung"]) == {"c0", "c1", "c2", "c3"} and set(rec["seed"]) == {30, 31}
    assert (rec.groupby(["rung", "seed"])["step"].nunique() == 5).all()  # over training: archived or on disk
    assert rec["readout"].le(0).all()  # log probabilities
    p = found["forecast"].tasks["multiply"].p_emerged
    assert list(p) == ["c4", "c5", "c6", "c7"] and all(0 <= v <= 1 for v in p.values())
    assert set(found["versus"].index) >= {"brier", "brier_true"}
    assert np.isfinite(found["scores"].loc["brier", "value"])
    with pytest.raises(UserError, match="Task 'nope' is not a task of ladder 'cpu'"):
        EXAMPLE["run"]("cpu", "nope", "c3", 32, [30], ROOT / "results")

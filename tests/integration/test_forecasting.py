"""The forecaster's path on the committed cpu results: template, submit, baselines, reveal, score."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from harness.forecasts.schema import load_forecast
from tests.integration.common import ROOT, cli, cli_fails


def test_template_submit_baselines_score(work):
    preds, results = str(work / "predictions"), str(work / "results")
    mine = work / "alice.yaml"
    cli("template", "--ladder", "cpu", "--forecaster", "alice", "-o", str(mine))
    data = yaml.safe_load(mine.read_text())
    data["tasks"]["copy"]["p_emerged"] = {"c0": 0.05, "c1": 0.7, "c2": 0.95}  # the other rungs: missing
    del data["tasks"]["induction"]
    mine.write_text(yaml.safe_dump(data, sort_keys=False))
    cli("validate", str(mine))
    out = cli("submit", str(mine), "--predictions", preds, "--out", results)
    assert "not blind" in out  # results of this ladder already existed
    assert "Already submitted" in cli("submit", str(mine), "--predictions", preds, "--out", results)
    cli("baselines", "--ladder", "cpu", "--predictions", preds, "--out", results, "--up-to", "c3")
    out = cli("score", "--ladder", "cpu", "--predictions", preds, "--out", results, "--bootstrap", "1000")
    assert "alice" in out and "oracle" in out
    scores = pd.read_parquet(work / "results" / "cpu" / "scores.parquet")
    assert set(scores["forecaster"]) == {"alice", "uninformed", "extrapolator", "two-step", "oracle"}
    value = scores.set_index(["forecaster", "score"])["value"]
    coverage = scores.set_index(["forecaster", "score"])["coverage"]
    # The oracle is the best on every score; the uninformed forecaster has zero skill by definition.
    for name in ("alice", "uninformed", "extrapolator", "two-step"):
        assert value[("oracle", "brier")] < value[(name, "brier")]
        assert value[("oracle", "pinball")] < value[(name, "pinball")]
    assert value[("uninformed", "brier_skill")] == pytest.approx(0.0)
    assert value[("oracle", "brier_index")] == pytest.approx(100.0)
    assert coverage[("alice", "brier")] < 1.0 and coverage[("uninformed", "brier")] == 1.0
    assert set(scores.loc[scores["forecaster"].isin(["extrapolator", "two-step"]), "track"]) == {"extrapolation"}


def test_reveal_writes_only_the_lower_rungs(work):
    out = cli("reveal", "--ladder", "cpu", "--out", str(work / "results"), "--up-to", "c2")
    path = Path(re.search(r"(\S+revealed_up_to_c2\.parquet)", out.replace("\n", "")).group(1))
    shown = pd.read_parquet(path)
    assert set(shown["rung"]) == {"c0", "c1", "c2"}
    assert "not a rung below the top" in cli_fails(
        "reveal", "--ladder", "cpu", "--out", str(work / "results"), "--up-to", "c7"
    )


def test_the_guide_example_is_a_valid_forecast(tmp_path):
    guide = (ROOT / "docs" / "forecasting.md").read_text()
    block = re.search(r"```yaml\n(forecaster: alice.*?)```", guide, re.S).group(1)
    path = tmp_path / "example.yaml"
    path.write_text(block)
    forecast, ladder = load_forecast(path)
    assert ladder.name == "smoke" and forecast.tasks["mod_add"].emergence_quantiles[0.75] == 5.6

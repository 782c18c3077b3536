"""Forecasters as code on copies of the committed results: ladder forecast, -o and --submit, ladder backtest.

The methods below are defined here on purpose: the tests run them as ``tests.integration.test_methods:NAME``.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.forecasts.ledger import read_ledger
from harness.forecasts.schema import load_forecast
from harness.ladders.ladder import load_ladder
from harness.methods.registry import find
from harness.scoring.scoreboard import score_ladder
from tests.integration.common import ROOT, cli, cli_fails

if TYPE_CHECKING:
    from harness.methods.question import Question

HERE = "tests.integration.test_methods"
SEEN = []


def size_ramp(question: Question) -> dict:
    """Probability rising with the rung's place in the ladder; records the rungs of the curves it was given."""
    SEEN.append(sorted(set(question.curves["rung"])))
    names = [r.name for r in question.ladder.rungs]
    ramp = {name: round((i + 0.5) / len(names), 4) for i, name in enumerate(names) if name in question.hidden}
    return {"description": "A ramp.", "tasks": {task: {"p_emerged": ramp} for task in question.ladder.spec.tasks}}


def breaks(question: Question) -> dict:
    raise RuntimeError("the fit did not converge")


@pytest.fixture
def place(work: Path) -> Path:
    """``work`` (the cpu results copied) with the cpu-r1 round's results copied too."""
    (work / "results" / "cpu-r1").mkdir()
    for name in ("curves.parquet", "manifest.json"):
        shutil.copy(ROOT / "results" / "cpu-r1" / name, work / "results" / "cpu-r1" / name)
    return work


def where(place: Path) -> tuple[str, ...]:
    return ("--predictions", str(place / "predictions"), "--out", str(place / "results"))


def files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


def test_forecast_writes_and_submits_what_the_method_returns(place):
    SEEN.clear()
    path = place / "ramp.yaml"
    out = cli("forecast", "--method", f"{HERE}:size_ramp", "--ladder", "cpu", "--up-to", "c3", "-o", str(path),
              "--submit", *where(place))  # fmt: skip
    assert SEEN == [["c0", "c1", "c2", "c3"]]  # nothing above --up-to reached the method
    forecast, _ = load_forecast(path)
    assert forecast.forecaster == "size-ramp" and forecast.revealed_up_to == "c3"
    assert forecast.tasks["copy"].p_emerged == {"c4": 0.5625, "c5": 0.6875, "c6": 0.8125, "c7": 0.9375}
    assert "Submitted 'size-ramp'" in out and "not blind" in out
    (entry,) = read_ledger(place / "predictions")
    assert (entry.kind, entry.track, entry.revealed_up_to) == ("forecaster", "extrapolation", "c3")
    assert (place / "predictions" / entry.file).read_bytes() == path.read_bytes()
    assert "already exists" in cli_fails("forecast", "--method", f"{HERE}:size_ramp", "-o", str(path), *where(place))
    again = cli("forecast", "--method", f"{HERE}:size_ramp", "--up-to", "c3", "--submit", *where(place))
    assert "Already in the ledger" in again and len(read_ledger(place / "predictions")) == 1


def test_a_blind_method_sees_no_curve_and_prints_its_forecast(place):
    SEEN.clear()
    printed = cli("forecast", "--method", f"{HERE}:size_ramp", "--ladder", "cpu", "--forecaster", "ramp", *where(place))
    assert SEEN == [[]] and printed.startswith("forecaster: ramp\nladder: cpu\n") and "track: blind" in printed


def test_a_built_in_method_submits_a_baseline_once(place):
    first = cli("forecast", "--method", "two-step", "--up-to", "c3", "--submit", *where(place))
    second = cli("forecast", "--method", "two-step", "--up-to", "c3", "--submit", *where(place))
    assert "Submitted 'two-step'" in first and "Already in the ledger, unchanged" in second
    (entry,) = read_ledger(place / "predictions")
    assert entry.kind == "baseline"


@pytest.mark.parametrize(
    "args,words",
    [
        (["--method", f"{HERE}:breaks"], f"Method '{HERE}:breaks' (module:function path) raised RuntimeError: the fit"),
        (["--method", "no_such_module_xyz:go"], "does not import"),
        (["--method", "extrapolator"], "answers the extrapolation track only, not the blind track; give --up-to RUNG"),
        (["--method", "two-step", "--up-to", "c7"], "--up-to 'c7' is not a rung below the top of ladder 'cpu'"),
        (["--method", f"{HERE}:size_ramp", "--forecaster", "oracle"], "a name reserved for the built-in forecasters"),
    ],
)
def test_a_failing_method_writes_and_submits_nothing(place, args, words):
    before = files(place)
    message = cli_fails("forecast", *args, "-o", str(place / "f.yaml"), "--submit", *where(place))
    assert words in message
    assert files(place) == before


def test_backtest_scores_like_the_leaderboard_and_writes_nothing(place):
    before = files(place)
    out = cli("backtest", "--method", "extrapolator", "--out", str(place / "results"), "--bootstrap", "1000")
    assert files(place) == before  # no ledger, no stored forecast, no scores or emergence table
    rows = re.findall(r"│ (cpu(?:-r1)?) +│ from c3 +│ ([\d.]+) \[([\d.]+), ([\d.]+)\]", out)
    assert [r[0] for r in rows] == ["cpu", "cpu-r1"]  # the resolved ladders under --out, each at its default rung
    # The same forecast submitted and scored on the leaderboard gets the same numbers.
    cli("forecast", "--method", "extrapolator", "--ladder", "cpu", "--up-to", "c3", "--submit", *where(place))
    board = score_ladder(load_ladder("cpu"), place / "predictions", place / "results", n_boot=1000).scores
    index = board[board["score"] == "brier_index"].iloc[0]
    assert rows[0][1:] == tuple(f"{v:.1f}" for v in (index["value"], index["ci_low"], index["ci_high"]))


def test_backtest_of_a_blind_method_and_its_refusals(place):
    out = cli("backtest", "--method", "template-prior", "--out", str(place / "results"), "--bootstrap", "1000")
    assert re.search(r"│ cpu-r1 +│ blind +│", out) and "Not answered: cpu (blind): needs a round" in out
    results = ("--out", str(place / "results"))
    assert "answers none of the questions of cpu" in cli_fails(
        "backtest", "--method", "template-prior", "--ladder", "cpu", *results
    )
    assert "not a rung below the top of ladder(s) mixer" in cli_fails(
        "backtest",
        "--method",
        "two-step",
        "--ladder",
        "cpu",
        "--ladder",
        "mixer",
        "--up-to",
        "c3",
        "--out",
        str(ROOT / "results"),
    )
    assert "Ladder(s) mixer are not resolved" in cli_fails(
        "backtest", "--method", "uninformed", "--ladder", "mixer", *results
    )


def test_methods_lists_the_built_ins():
    listed = cli("methods")
    for name in ("uninformed", "extrapolator", "two-step", "template-prior"):
        assert name in listed
    assert "oracle" not in listed


def test_the_guide_example_is_a_working_method(tmp_path, monkeypatch):
    guide = (ROOT / "docs" / "forecasting.md").read_text()
    code = re.search(r"```python\n(# my_forecasts\.py.*?)```", guide, re.S).group(1)
    (tmp_path / "my_forecasts.py").write_text(code)
    monkeypatch.chdir(tmp_path)  # a path method imports from the current folder
    method = find("my_forecasts:size_prior")
    assert method.tracks == ("blind",)
    printed = cli("forecast", "--method", "my_forecasts:size_prior", "--ladder", "cpu", "--out", str(ROOT / "results"))
    assert "forecaster: size-prior" in printed

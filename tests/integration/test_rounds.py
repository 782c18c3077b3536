"""A forecasting round end to end: drawn, forecast blind, trained, ranked; blindness judged by the training start."""

from __future__ import annotations

import json
import re
import shutil
import textwrap
import time
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.forecasts.ledger import read_ledger
from harness.ladders.ladder import load_ladder
from harness.methods.registry import GROUP
from harness.training.store import ResultsStore
from tests.integration.common import ROOT, cli, cli_fails, cli_line

TEMPLATE = textwrap.dedent(
    """\
    name: tiny
    family: gpt
    tasks: {copy: 1.0, mod_add: 2.0}
    training: {steps: 60, batch_size: 16, lr: 0.003, warmup_steps: 5}
    evaluation: {n_points: 4, examples_per_task: 32, n_checkpoints: 1}
    seeds: [0, 1, 2]
    model: {n_ctx: 20}
    rungs:
      - {name: a, d_model: 8, n_layers: 1, n_heads: 2}
      - {name: b, d_model: 16, n_layers: 1, n_heads: 2}
    """
)


@pytest.fixture
def place(tmp_path, monkeypatch) -> Path:
    """A scratch folder, the working folder, holding the template: rounds are written to its rounds/, never beside
    the code."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.yaml").write_text(TEMPLATE)
    return tmp_path


def forecast(place: Path, name: str, ladder: str, p: float) -> Path:
    path = place / f"{name}.yaml"
    cli("template", "--ladder", ladder, "--forecaster", name, "-o", str(path))
    data = yaml.safe_load(path.read_text())
    for task in data["tasks"].values():
        task["p_emerged"] = dict.fromkeys(task["p_emerged"], p)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_round_from_draw_to_leaderboard(place):
    preds, results = str(place / "predictions"), str(place / "results")
    where = ("--predictions", preds, "--out", results)
    out = cli_line("round", "new", "--template", str(place / "tiny.yaml"), "--seed", "4", *where)
    assert "tiny-r4" in out and "Submitted blind: uninformed." in out  # the template has no results: no prior
    assert "That trains 16 (rung, seed) pairs (2 rungs x 8 seeds); the template has no results here to time" in out
    path = place / "rounds" / "tiny-r4.yaml"
    assert path.is_file() and not (ROOT / "rounds" / "tiny-r4.yaml").exists()  # the working folder's, not the code's
    assert load_ladder("tiny-r4").cli_name == "tiny-r4"
    round_file = yaml.safe_load(path.read_text())
    assert round_file["round"]["seed"] == 4 and round_file["tasks"]["copy"] != 1.0
    assert "blind" in cli("submit", str(forecast(place, "alice", "tiny-r4", 0.3)), *where)
    listed = cli("round", "list", *where)
    assert "tiny-r4" in listed and "open" in listed

    time.sleep(1.1)  # times are kept to the second: the start comes strictly after alice's submission
    ResultsStore.of(load_ladder("tiny-r4"), place / "results").mark_started()  # a run has begun, nothing finished
    started = json.loads((place / "results" / "tiny-r4" / "manifest.json").read_text())["training_started_at"]
    assert "training" in cli("round", "list", *where)
    # Submitted after training started: post-hoc, though no result of the round exists yet.
    assert "not blind" in cli("submit", str(forecast(place, "bob", "tiny-r4", 0.7)), *where)
    cli("run", "--ladder", "tiny-r4", "--out", results, "--wandb", "disabled")
    manifest = json.loads((place / "results" / "tiny-r4" / "manifest.json").read_text())
    assert manifest["training_started_at"] == started  # recorded once, by the first run
    assert "resolved" in cli("round", "list", *where)

    board = cli("leaderboard", "--ladder", "tiny-r4", *where, "--track", "all")
    assert "submitted before training started" in board and "submitted after training started" in board
    scores = pd.read_parquet(place / "results" / "tiny-r4" / "scores.parquet").drop_duplicates("forecaster")
    verdict = scores.set_index("forecaster")["blind"]
    assert verdict["alice"] and verdict["uninformed"] and not verdict["bob"]
    standing = cli("standings", *where, "--bootstrap", "200")
    assert "Standings over 1 resolved ladders: tiny-r4" in standing and "alice" in standing and "bob" in standing


def test_bad_round_requests_write_nothing(place):
    where = ("--predictions", str(place / "predictions"), "--out", str(place / "results"))
    template = str(place / "tiny.yaml")
    cli("round", "new", "--template", template, "--seed", "1", *where)
    before = sorted(p.name for p in (place / "rounds").iterdir())
    assert "exists" in cli_fails("round", "new", "--template", template, "--seed", "1", *where)
    assert "Unknown ladder 'cpuu'" in cli_fails("round", "new", "--template", "cpuu", *where)
    assert "is itself a round" in cli_fails("round", "new", "--template", "tiny-r1", *where)
    assert "not a valid ladder name" in cli_fails("round", "new", "--template", template, "--name", "../x", *where)
    assert "not a valid integer" in cli_fails("round", "new", "--template", template, "--seed", "seven", *where)
    assert sorted(p.name for p in (place / "rounds").iterdir()) == before
    ledger = (place / "predictions" / "ledger.jsonl").read_bytes()
    assert ledger.count(b"\n") == 1  # only the first round's uninformed forecast


def test_round_list_refuses_a_broken_ledger(place):
    where = ("--predictions", str(place / "predictions"), "--out", str(place / "results"))
    cli("round", "new", "--template", str(place / "tiny.yaml"), "--seed", "2", *where)
    ledger = place / "predictions" / "ledger.jsonl"
    ledger.write_bytes(ledger.read_bytes().replace(b'"uninformed"', b'"uninformeD"'))
    listed = CliRunner().invoke(main, ["round", "list", *where])
    scored = CliRunner().invoke(main, ["leaderboard", "--ladder", "tiny-r2", *where])
    assert listed.exit_code == scored.exit_code == 1  # damaged, not a mistake in what was typed
    assert "line 1 does not match its own hash" in listed.output and listed.output == scored.output


def installed(monkeypatch, name: str, value: str) -> None:
    """Pretend an installed package registers the method ``value`` as ``name``."""
    points = [metadata.EntryPoint(name=name, value=value, group=GROUP)]
    monkeypatch.setattr(metadata, "entry_points", lambda group: points if group == GROUP else [])


def test_round_new_leaves_out_the_methods_of_the_tracks_that_need_its_results(place, monkeypatch):
    """Like an extrapolation-only method, a method of the internals track needs results of the round (its lower
    rungs' checkpoints), which do not exist when it is drawn: it is not asked."""
    installed(monkeypatch, "inside", "tests.integration.test_internals_track:looks_inside")
    assert re.search(r"inside +│ internals +│", cli("methods"))
    where = ("--predictions", str(place / "predictions"), "--out", str(place / "results"))
    out = cli_line("round", "new", "--template", str(place / "tiny.yaml"), "--seed", "5", *where)
    assert "Submitted blind: uninformed." in out and "inside" not in out
    assert [e.forecaster for e in read_ledger(place / "predictions")] == ["uninformed"]


def test_round_new_submits_every_registered_method_blind(place, monkeypatch):
    installed(monkeypatch, "ramp", "tests.integration.test_methods:size_ramp")
    (place / "results" / "cpu").mkdir(parents=True)
    for name in ("curves.parquet", "manifest.json"):
        shutil.copy(ROOT / "results" / "cpu" / name, place / "results" / "cpu" / name)
    where = ("--predictions", str(place / "predictions"), "--out", str(place / "results"))
    out = cli_line("round", "new", "--template", "cpu", "--seed", "11", *where)
    assert "Submitted blind: uninformed, template-prior, ramp." in out
    manifest = ResultsStore.of(load_ladder("cpu"), place / "results").manifest()  # the template's pace here
    per_seed = pd.DataFrame(manifest["runs"].values()).groupby("seed")["wall_time_s"].sum().mean() / 60
    assert f"That trains 64 (rung, seed) pairs (8 rungs x 8 seeds), about {8 * per_seed:.0f} min of one core" in out
    entries = read_ledger(place / "predictions")
    assert {(e.forecaster, e.kind, e.blind) for e in entries} == {
        ("uninformed", "baseline", True), ("template-prior", "baseline", True), ("ramp", "forecaster", True),
    }  # fmt: skip
    out = cli_line("round", "new", "--template", str(place / "tiny.yaml"), "--seed", "5", *where)
    assert "Submitted blind: uninformed, ramp. Not by template-prior, which needs a round whose template has" in out


def test_a_failing_method_stops_the_round_with_nothing_written(place, monkeypatch):
    installed(monkeypatch, "shaky", "tests.integration.test_methods:breaks")
    where = ("--predictions", str(place / "predictions"), "--out", str(place / "results"))
    message = cli_fails("round", "new", "--template", str(place / "tiny.yaml"), "--seed", "6", *where)
    assert "Method 'shaky' (entry point 'tests.integration.test_methods:breaks') raised RuntimeError" in message
    assert "while forecasting ladder 'tiny-r6' on the blind track" in message
    assert not (place / "rounds").exists() and not (place / "predictions").exists()

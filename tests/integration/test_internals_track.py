"""The internals track end to end on a freshly trained smoke ladder: ``ladder reveal --internals``, a method
declared for the track reading the internals table and checkpoints of the revealed rung, its forecast submitted,
scored and ranked in a group of its own, its backtest; and methods reaching for the hidden rung, refused.

The methods below are defined here on purpose: the tests run them as ``tests.integration.test_internals_track:NAME``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
import torch
from click.testing import CliRunner

import harness
from harness.cli import main
from harness.forecasts import revealed
from harness.forecasts.ledger import read_ledger
from harness.forecasts.schema import load_forecast
from harness.ladders.ladder import load_ladder
from harness.methods.registry import declare
from tests.integration.common import ROOT, cli, cli_fails, cli_line

if TYPE_CHECKING:
    from harness.methods.question import Question

HERE = "tests.integration.test_internals_track"
LADDER = load_ladder("smoke")
SEEN: list[dict] = []


@declare(tracks=("internals",))
def looks_inside(question: Question) -> dict:
    """Each task's solved share at the revealed rung's last checkpoint, nudged up for the larger rungs."""
    shown = question.internals
    SEEN.append(
        {
            "rungs": set(shown.table["rung"]) | set(shown.checkpoints["rung"]) | set(question.curves["rung"]),
            "files": [p.relative_to(shown.out).as_posix() for p in shown.out.rglob("*") if p.is_file()],
            "out": shown.out,
        }
    )
    first, last = shown.checkpoints["step"].min(), shown.checkpoints["step"].max()
    early, final = shown.load_model(question.up_to, 0, step=int(first)), shown.load_model(question.up_to, 0)
    assert any(not torch.equal(a, b) for a, b in zip(early.state_dict().values(), final.state_dict().values()))
    assert shown.record(question.up_to, 0, "copy", n=4, step=int(last))["correct"].shape == (4,)
    solved = shown.table[(shown.table["measure"] == "solved_share") & (shown.table["step"] == last)]
    share = solved.groupby("task")["value"].mean()
    p = {task: round(min(0.95, float(share.get(task, 0.5)) + 0.2), 4) for task in question.ladder.spec.tasks}
    return {
        "description": "The revealed rung's solved share on each task's probe, plus 0.2.",
        "tasks": {task: {"p_emerged": dict.fromkeys(question.hidden, p[task])} for task in question.ladder.spec.tasks},
    }


@declare(tracks=("internals",))
def loads_hidden(question: Question) -> dict:
    question.internals.load_model(question.hidden[0], 0)
    return {}


@declare(tracks=("internals",))
def records_hidden(question: Question) -> dict:
    question.internals.record(question.hidden[-1], 0, "copy", n=4)
    return {}


@declare(tracks=("internals",))
def loads_hidden_from_the_folder(question: Question) -> dict:
    harness.load_model(question.ladder.name, question.hidden[0], 0, out=question.internals.out)
    return {}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A results folder holding a fresh smoke run and its internals table (copy it with ``place``)."""
    out = tmp_path_factory.mktemp("trained")
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--ladder", "smoke", "--out", str(out), "--wandb", "disabled"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    cli("internals", "--ladder", "smoke", "--out", str(out))
    return out


@pytest.fixture
def place(trained, tmp_path) -> Path:
    """A scratch folder: results/ (a copy of the trained one) and, once written, predictions/."""
    shutil.copytree(trained, tmp_path / "results")
    return tmp_path


@pytest.fixture(autouse=True)
def fresh():
    SEEN.clear()


def where(place: Path) -> tuple[str, ...]:
    return ("--predictions", str(place / "predictions"), "--out", str(place / "results"))


def files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


def test_reveal_internals_copies_the_revealed_rungs_and_nothing_above(place):
    results = place / "results"
    out = cli_line("reveal", "--ladder", "smoke", "--up-to", "s0", "--internals", "--out", str(results))
    folder = revealed.folder_of(LADDER, results, "s0")
    assert f"Revealed internals up to s0: {folder}" in out and "1 (rung, seed) pair(s), 3 checkpoint(s)" in out
    written = files(folder)
    assert not [name for name in written if "s1" in Path(name).parts]  # no file of the hidden rung
    manifest = json.loads((folder / "smoke" / "manifest.json").read_text())
    assert list(manifest["runs"]) == ["s0/seed0"] and manifest["revealed_up_to"] == "s0"
    assert set(pd.read_parquet(folder / "smoke" / "curves.parquet")["rung"]) == {"s0"}
    table = pd.read_parquet(folder / "smoke" / "internals.parquet")
    every = pd.read_parquet(results / "smoke" / "internals.parquet")
    pd.testing.assert_frame_equal(table, every[every["rung"] == "s0"].reset_index(drop=True))
    for checkpoint in manifest["runs"]["s0/seed0"]["checkpoints"]:  # verified copies, not links
        copy, original = folder / "smoke" / checkpoint["path"], results / "smoke" / checkpoint["path"]
        assert written[str(copy.relative_to(folder))] == checkpoint["sha256"]
        assert copy.stat().st_ino != original.stat().st_ino
    # A results folder: every tool that takes --out reads it, and finds nothing of s1 there.
    cli("record", "--ladder", "smoke", "--rung", "s0", "--seed", "0", "--task", "copy", "-o", str(place / "a.st"),
        "--out", str(folder))  # fmt: skip
    refused = cli_fails("record", "--ladder", "smoke", "--rung", "s1", "--seed", "0", "--task", "copy", "-o",
                        str(place / "b.st"), "--out", str(folder))  # fmt: skip
    assert "is a revealed folder of ladder 'smoke' (the internals track up to rung s0)" in refused
    model = harness.load_model("smoke", "s0", 0, out=folder)
    tokens = torch.randint(0, 10, (2, 8))
    assert torch.allclose(harness.to_hf(model)(tokens).logits, model(tokens), atol=1e-5)
    assert type(harness.to_transformer_lens(model)).__name__ == "TransformerBridge"
    cli("reveal", "--ladder", "smoke", "--up-to", "s0", "--internals", "--out", str(results))
    assert files(folder) == written  # written again, the same


def test_reveal_internals_shows_reference_weights_where_checkpoints_are_gone_and_refuses_damage(place):
    results = place / "results"
    cli("weights", "--ladder", "smoke", "--out", str(results))
    shutil.rmtree(results / "smoke" / "checkpoints" / "s0")  # a fresh clone: the committed weights only
    out = cli_line("reveal", "--ladder", "smoke", "--up-to", "s0", "--internals", "--out", str(results))
    assert "shown by the committed reference weights, final step only: every pair" in out
    folder = revealed.folder_of(LADDER, results, "s0")
    assert sorted(files(folder / "smoke")) == ["curves.parquet", "internals.parquet", "manifest.json",
                                               "weights/s0/seed0.safetensors"]  # fmt: skip
    shown = revealed.read(LADDER, folder)
    assert shown.checkpoints[["step", "source"]].values.tolist() == [[150, "reference weights"]]
    assert len(shown.table["step"].unique()) == 3  # the table keeps the steps measured while they were on disk
    assert not shown.load_model("s0", 0).training
    before = files(folder)
    weights = results / "smoke" / "weights" / "s0" / "seed0.safetensors"
    weights.write_bytes(weights.read_bytes()[:-1] + bytes([weights.read_bytes()[-1] ^ 1]))
    message = cli_fails("reveal", "--ladder", "smoke", "--up-to", "s0", "--internals", "--out", str(results))
    assert "does not have the sha256" in message and "nothing was revealed. Restore it from git" in message
    assert files(folder) == before  # the last revealed folder stays as it was
    weights.unlink()
    message = cli_fails("reveal", "--ladder", "smoke", "--up-to", "s0", "--internals", "--out", str(results))
    assert "No model file of the rungs s0 of ladder 'smoke'" in message and "nothing was revealed" in message


def test_the_archive_shows_every_checkpoint_on_a_fresh_clone_and_verify_guards_it(place):
    results = place / "results"
    out = cli_line("weights", "--ladder", "smoke", "--over-training", "--out", str(results))
    assert "Archive of ladder 'smoke', rungs s0: 1 pairs written" in out
    manifest = json.loads((results / "smoke" / "manifest.json").read_text())
    archive = manifest["runs"]["s0/seed0"]["archive"]
    assert [a["step"] for a in archive] == [c["step"] for c in manifest["runs"]["s0/seed0"]["checkpoints"]]
    assert "archive" not in manifest["runs"]["s1/seed0"]  # above the rung backtests reveal: not archived
    before = {step: harness.load_model("smoke", "s0", 0, step, out=results) for step in [a["step"] for a in archive]}
    assert "0 pairs written" in cli_line("weights", "--ladder", "smoke", "--over-training", "--out", str(results))
    shutil.rmtree(results / "smoke" / "checkpoints")  # a fresh clone: the committed files only
    for step, model in before.items():  # the archived copy is the checkpoint's model, tensor for tensor
        again = harness.load_model("smoke", "s0", 0, step, out=results)
        assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    out = cli_line("reveal", "--ladder", "smoke", "--up-to", "s0", "--internals", "--out", str(results))
    assert f"0 checkpoint(s) and {len(archive)} archived checkpoint(s)" in out
    shown = revealed.read(LADDER, revealed.folder_of(LADDER, results, "s0"))
    assert set(shown.checkpoints["source"]) == {"archived checkpoint"} and len(shown.checkpoints) == len(archive)
    # Without retraining, the internals of the archived steps can be measured again: the same rows.
    stored = pd.read_parquet(results / "smoke" / "internals.parquet")
    (results / "smoke" / "internals.parquet").unlink()
    said = cli_line("internals", "--ladder", "smoke", "--at-hand", "--out", str(results))
    assert "Left out, no model file on disk" in said and "s1 seed 0" in said
    again = pd.read_parquet(results / "smoke" / "internals.parquet")
    pd.testing.assert_frame_equal(again, stored[stored["rung"] == "s0"].reset_index(drop=True))
    said = cli_line("verify", "--ladder", "smoke", *where(place))
    assert "everything holds" in said and "; 3 recorded checkpoints are absent" in said  # s1's, not archived
    damaged = results / "smoke" / archive[1]["path"]
    damaged.write_bytes(damaged.read_bytes()[:-1] + bytes([damaged.read_bytes()[-1] ^ 1]))
    result = CliRunner().invoke(main, ["verify", "--ladder", "smoke", *where(place)])
    message = " ".join(result.output.split())
    assert result.exit_code == 1 and "no longer has the recorded sha256" in message and "1 problem" in message


def test_an_internals_method_forecasts_is_scored_in_its_own_group_and_backtests(place):
    path = place / "inside.yaml"
    out = cli_line("forecast", "--method", f"{HERE}:looks_inside", "--ladder", "smoke", "--up-to", "s0",
                   "--internals", "-o", str(path), "--submit", *where(place))  # fmt: skip
    assert "internals track from s0" in out and "Submitted 'looks-inside'" in out
    (seen,) = SEEN
    assert seen["rungs"] == {"s0"} and not [f for f in seen["files"] if "s1" in Path(f).parts]
    assert not seen["out"].exists()  # the question's revealed folder is gone with it
    forecast, _ = load_forecast(path)
    assert (forecast.track, forecast.revealed_up_to) == ("internals", "s0")
    assert set(forecast.tasks["copy"].p_emerged) == {"s1"}
    (entry,) = read_ledger(place / "predictions")
    assert (entry.forecaster, entry.track, entry.revealed_up_to) == ("looks-inside", "internals", "s0")
    # Beside the extrapolation forecasts from the same rung, it is ranked in a group of its own, with the
    # built-in progress method of the internals track.
    made = cli_line("baselines", "--ladder", "smoke", "--up-to", "s0", *where(place))
    assert "progress: submitted" in made
    page = place / "board.html"
    board = cli_line("leaderboard", "--ladder", "smoke", "--html", str(page), *where(place))
    assert "internals from s0" in board and "extrap. from s0" in board
    assert "internals from s0" in page.read_text() and "extrapolation from s0" in page.read_text()
    scores = pd.read_parquet(place / "results" / "smoke" / "scores.parquet")
    brier = scores[scores["score"] == "brier"].set_index("forecaster")
    assert set(brier.index[brier["track"] == "internals"]) == {"looks-inside", "progress"}
    # compared within the internals group only: the leader's difference to itself is 0, the share sums to 1
    inside = brier[brier["track"] == "internals"]
    assert inside["vs_leader"].min() == 0.0 and inside["p_first"].sum() == pytest.approx(1.0)
    only = cli_line("leaderboard", "--ladder", "smoke", "--track", "internals", *where(place))
    assert "looks-inside" in only and "progress" in only and "two-step" not in only
    before = files(place)
    tested = cli("backtest", "--method", f"{HERE}:looks_inside", "--ladder", "smoke", "--out", str(place / "results"),
                 "--bootstrap", "1000")  # fmt: skip
    assert re.search(r"│ smoke +│ internals from s0 +│", tested) and files(place) == before


@pytest.mark.parametrize(
    "name,words",
    [
        ("loads_hidden", "raised UserError: Rung s1 of ladder 'smoke' is hidden: the internals track revealed up to "
         "s0 shows the rungs s0 and scores the forecast on s1"),
        ("records_hidden", "raised UserError: Rung s1 of ladder 'smoke' is hidden"),
        ("loads_hidden_from_the_folder", "is a revealed folder of ladder 'smoke' (the internals track up to rung s0): "
         "it holds the rungs s0 with seeds 0, and nothing of rung s1 seed 0"),
    ],
)  # fmt: skip
def test_a_method_reaching_for_a_hidden_rung_is_refused_and_nothing_is_written(place, name, words):
    before = files(place)
    message = cli_fails("forecast", "--method", f"{HERE}:{name}", "--ladder", "smoke", "--up-to", "s0",
                        "--internals", "-o", str(place / "f.yaml"), "--submit", *where(place))  # fmt: skip
    assert words in message and message.endswith("Nothing was written or submitted.")
    assert files(place) == before


def test_a_method_of_the_internals_track_alone_is_asked_it_from_a_revealed_rung(place):
    out = cli_line("forecast", "--method", f"{HERE}:looks_inside", "--ladder", "smoke", "--up-to", "s0",
                   "-o", str(place / "f.yaml"), *where(place))  # fmt: skip
    assert "internals track from s0" in out and len(SEEN) == 1
    message = cli_fails("forecast", "--method", "two-step", "--ladder", "smoke", "--up-to", "s0", "--internals",
                        *where(place))  # fmt: skip
    assert "answers the extrapolation track only, not the internals track" in message
    assert "give --up-to RUNG" in cli_fails("forecast", "--method", "two-step", "--internals", *where(place))


def test_the_guide_example_of_the_internals_track_is_a_working_method(place, monkeypatch):
    guide = (ROOT / "docs" / "forecasting.md").read_text()
    start = re.escape("# my_forecasts.py: ladder forecast --method my_forecasts:inside")
    code = re.search(rf"```python\n({start}.*?)```", guide, re.S)
    (place / "my_forecasts.py").write_text(code.group(1))
    monkeypatch.chdir(place)  # a path method imports from the current folder
    sys.modules.pop("my_forecasts", None)  # the guide's blind example, if another test imported it
    try:
        printed = cli("forecast", "--method", "my_forecasts:inside", "--ladder", "smoke", "--up-to", "s0",
                      "--internals", *where(place))  # fmt: skip
    finally:
        sys.modules.pop("my_forecasts", None)
    assert "forecaster: inside" in printed and "track: internals" in printed and "revealed_up_to: s0" in printed

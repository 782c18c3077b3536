"""The committed results (`cpu`, `induction`, `mixer`, the rounds): complete, current, reproducible by
`ladder emergence`; the rounds' built-in forecasts blind by the recorded start of training."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.forecasts.blindness import judge
from harness.forecasts.ledger import read_ledger
from harness.ladders.ladder import load_ladder, round_ladders
from harness.training.store import ResultsStore
from harness.truth.emergence import summarize
from harness.truth.ground_truth import measure

RESULTS = Path(__file__).resolve().parents[2] / "results"
ROOT = RESULTS / "cpu"
LADDER = load_ladder("cpu")

pytestmark = pytest.mark.skipif(not (ROOT / "manifest.json").exists(), reason="no committed cpu results")


COMMITTED = ["cpu", "induction", "mixer", *round_ladders()]


@pytest.mark.parametrize("name", COMMITTED)
def test_results_are_of_the_current_ladder_and_complete(name):
    ladder, root = load_ladder(name), RESULTS / name
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["ladder_hash"] == ladder.hash, (
        f"results/{name} was measured with another version of the {name} ladder"
    )
    assert manifest["task_versions"] == ladder.task_versions
    pairs = {(run["rung"], run["seed"]) for run in manifest["runs"].values()}
    assert pairs == {(r.name, s) for r in ladder.rungs for s in ladder.spec.seeds}
    curves = pd.read_parquet(root / "curves.parquet")
    assert set(zip(curves["rung"], curves["seed"])) == pairs


def test_the_cpu_references_hold_tuning_and_held_out_seeds():
    tuning, held_out = LADDER.split_seeds(LADDER.spec.seeds)
    assert len(held_out) >= 5, "the ground truth is judged on at least 5 seeds no tuning decision looked at"
    assert len(tuning) >= 3, "and the tuning seeds are kept beside them"


def test_emergence_table_and_map_are_reproduced_from_the_curves(tmp_path):
    copy = tmp_path / "cpu"
    copy.mkdir()
    for name in ("curves.parquet", "manifest.json"):
        shutil.copy(ROOT / name, copy / name)
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "emergence", "--ladder", "cpu", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    tuning, held_out = LADDER.split_seeds(LADDER.spec.seeds)
    assert f"tuning seeds {', '.join(map(str, tuning))} (decisions looked at them)" in proc.stdout
    assert f"held-out seeds {', '.join(map(str, held_out))} (no decision looked at them)" in proc.stdout
    pd.testing.assert_frame_equal(
        pd.read_parquet(copy / "emergence.parquet"), pd.read_parquet(ROOT / "emergence.parquet")
    )
    assert (copy / "emergence_map.png").stat().st_size > 10_000


ATTEMPTS = sorted((RESULTS / "tuning").glob("**/cpu.yaml"))
# Kept attempts that were not adopted, with the task whose seeds spread the most and the spread the docs
# report for it.
WIDEST = {
    "cpu-attempt2": ("mod_add", 2.79),
    "cpu-attempt3/a": ("mod_add", 1.76),
    "cpu-attempt3/b": ("mod_add", 1.73),
    "cpu-attempt4/a": ("addition", 1.84),
    "cpu-attempt4/b": ("facts_large", 1.81),
    "cpu-attempt4/c": ("copy", 1.90),
}


@pytest.mark.parametrize("path", ATTEMPTS, ids=lambda p: str(p.parent.relative_to(RESULTS / "tuning")))
def test_kept_tuning_attempts_hold_the_curves_their_files_trained(path):
    """Each not-adopted attempt of docs/ground-truth.md: its ladder file loads, its curves are that file's, and
    they give the spread the docs quote."""
    ladder = load_ladder(path)
    manifest = json.loads((path.parent / "cpu" / "manifest.json").read_text())
    assert manifest["ladder_hash"] == ladder.hash
    truth = measure(ladder, path.parent, write=False)  # as `ladder emergence` reads them
    curves = pd.read_parquet(path.parent / "cpu" / "curves.parquet")
    assert set(zip(curves["rung"], curves["seed"])) == {(r["rung"], r["seed"]) for r in manifest["runs"].values()}
    table = truth.table[truth.table["metric"] == "accuracy"]
    _, held_out = ladder.split_seeds(sorted(set(curves["seed"])))
    if held_out:  # judged where it was judged: on its held-out seeds, else (never got that far) on the others
        table = table[table["seed"].isin(held_out)]
    summary = summarize(table, n_boot=0).set_index("task")
    inside = summary[summary["n_inside"] == summary["n_seeds"]]  # the tasks the agreement check judges
    task, spread = WIDEST[str(path.parent.relative_to(RESULTS / "tuning"))]
    assert inside["spread"].idxmax() == task and inside["spread"].max() == pytest.approx(spread, abs=0.005)


def test_at_least_four_resolved_forecasting_ladders_with_forty_task_questions():
    """cpu, the mixer ladder and three or more rounds, 3 seeds or more each: questions across ladders."""
    rounds = round_ladders()
    assert len(rounds) >= 3
    ladders = [load_ladder(name) for name in ["cpu", "mixer", *rounds]]
    assert all(len(lad.spec.seeds) >= 3 for lad in ladders)
    assert sum(len(lad.tasks) for lad in ladders) >= 40


@pytest.mark.parametrize("name", round_ladders())
def test_each_round_was_forecast_blind_before_its_training_started(name):
    """The forecasts `ladder round new` submitted for a committed round came before its recorded training start;
    the baselines submitted once it was resolved (extrapolator, oracle) are post-hoc."""
    ladder = load_ladder(name)
    started, recorded = ResultsStore.of(ladder, RESULTS).training_started()
    assert recorded, f"results/{name} does not record when its training started"
    entries = [e for e in read_ledger(RESULTS.parent / "predictions") if e.ladder_hash == ladder.hash]
    first = {e.forecaster: e for e in reversed(entries)}  # each forecaster's first submission
    for who in ("uninformed", "template-prior"):
        assert judge(first[who].submitted_at, first[who].results_existed, started, recorded)[0], first[who]
    for who in ("extrapolator", "oracle"):
        assert not judge(first[who].submitted_at, first[who].results_existed, started, recorded)[0], first[who]

"""The committed reference results (`cpu`, `induction`): complete, current, reproducible by `ladder emergence`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.training.ladder import load_ladder

RESULTS = Path(__file__).resolve().parents[2] / "results"
ROOT = RESULTS / "cpu"
LADDER = load_ladder("cpu")

pytestmark = pytest.mark.skipif(not (ROOT / "manifest.json").exists(), reason="no committed cpu results")


@pytest.mark.parametrize("name", ["cpu", "induction"])
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


def test_the_cpu_references_hold_calibration_and_held_out_seeds():
    calibration, held_out = LADDER.split_seeds(LADDER.spec.seeds)
    assert len(held_out) >= 5, "the ground truth is judged on at least 5 seeds no calibration decision looked at"
    assert len(calibration) >= 3, "and the calibration seeds are kept beside them"


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
    calibration, held_out = LADDER.split_seeds(LADDER.spec.seeds)
    assert f"calibration seeds {', '.join(map(str, calibration))} (decisions looked at them)" in proc.stdout
    assert f"held-out seeds {', '.join(map(str, held_out))} (no decision looked at them)" in proc.stdout
    pd.testing.assert_frame_equal(
        pd.read_parquet(copy / "emergence.parquet"), pd.read_parquet(ROOT / "emergence.parquet")
    )
    assert (copy / "emergence_map.png").stat().st_size > 10_000

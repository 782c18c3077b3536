"""Damaged stored files: a clear one-paragraph error and exit 1, never a traceback, and nothing else changed.

Each case damages one file of a copy of the committed results and predictions,
then runs the commands that read it and ``ladder verify``. A last test kills
``ladder submit`` at random moments and shows the ledger is always unchanged,
complete, or verifiably torn and repairable.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.forecasts import ledger
from harness.forecasts.schema import to_data, uninformed
from harness.ladders.ladder import load_ladder
from tests.integration.common import ROOT
from tests.snapshots import snapshot


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Copies of the committed results and predictions (no checkpoints)."""
    for folder in ("results", "predictions"):
        shutil.copytree(
            ROOT / folder,
            tmp_path / folder,
            ignore=shutil.ignore_patterns("checkpoints", "batches", "wandb", ".*", "leaderboard.html"),
        )
    return tmp_path


def run(site: Path, *args: str) -> tuple[int, str]:
    """``ladder ARGS`` on the site's folders, in process: exit code and output on one line; no traceback allowed."""
    where = ["--predictions", str(site / "predictions")]
    where += [] if args[0] == "ledger" else ["--out", str(site / "results")]
    result = CliRunner().invoke(main, [*args, *where])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, " ".join(result.output.split())


def test_verify_passes_on_the_committed_files(site):
    code, out = run(site, "verify")
    assert code == 0 and "everything holds" in out, out


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:20_000])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def garbage(path: Path) -> None:
    path.write_bytes(bytes(random.Random(0).randrange(256) for _ in range(5000)))


def drop_column(path: Path) -> None:
    """A readable table without the value column, whose new hash the manifest records (so only the columns tell)."""
    pd.read_parquet(path).drop(columns="value").to_parquet(path)
    manifest_path = path.with_name("manifest.json")
    manifest = json.loads(manifest_path.read_text())
    manifest["curves_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest, indent=2))


def manifest_junk(path: Path) -> None:
    path.write_text('{"a": 1}')


def manifest_without_hash(path: Path) -> None:
    manifest = json.loads(path.read_text())
    del manifest["curves_sha256"]
    path.write_text(json.dumps(manifest, indent=2))


def edited_value(path: Path) -> None:
    curves = pd.read_parquet(path)
    curves.loc[0, "value"] = 0.123
    curves.to_parquet(path, index=False)


def torn_line(path: Path) -> None:
    with open(path, "ab") as f:
        f.write(b'{"blind": false, "file": "cpu/x-0123456789abcdef.yaml", "forec')


def wrong_type(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[0])
    record["results_existed"] = "yes"
    lines[0] = json.dumps(record, sort_keys=True).encode() + b"\n"
    path.write_bytes(b"".join(lines))


CASES = {
    "truncated curves": ("results/cpu/curves.parquet", truncate, "is not a readable parquet table"),
    "zero-length curves": ("results/cpu/curves.parquet", empty, "is empty"),
    "garbage curves": ("results/cpu/curves.parquet", garbage, "is not a readable parquet table"),
    "curves without a column": ("results/cpu/curves.parquet", drop_column, "lacks the columns ['value']"),
    "curves edited": ("results/cpu/curves.parquet", edited_value, "was changed outside 'ladder run'"),
    "manifest junk": ("results/cpu/manifest.json", manifest_junk, "has no 'ladder_hash'"),
    "manifest without its hash": ("results/cpu/manifest.json", manifest_without_hash, "does not record the sha256"),
    "torn ledger line": ("predictions/ledger.jsonl", torn_line, "ends in an unfinished line"),
    "ledger line of a wrong type": ("predictions/ledger.jsonl", wrong_type, "line 1 is not a valid submission"),
}
REPAIRS = ("Restore", "git checkout", "--repair", "ladder run")


@pytest.mark.parametrize("case", list(CASES))
def test_a_damaged_file_gets_a_clear_error_and_changes_nothing(site, case):
    relative, damage, words = CASES[case]
    damage(site / relative)
    before = snapshot(site)
    for command in (["leaderboard", "--ladder", "cpu"], ["score", "--ladder", "cpu"], ["verify"]):
        code, out = run(site, *command)
        assert code == 1, (command, out)
        assert words in out and Path(relative).name in out, (command, out)
        assert any(repair in out for repair in REPAIRS), (command, out)
        assert "Traceback" not in out
    assert snapshot(site) == before, "reading a damaged store writes nothing"


def test_a_missing_stored_forecast_is_named(site):
    current = load_ladder("cpu").hash
    entry = next(e for e in ledger.read_ledger(site / "predictions") if e.ladder_hash == current)
    (site / "predictions" / entry.file).unlink()
    for command in (["score", "--ladder", "cpu"], ["verify"], ["ledger", "verify"]):
        code, out = run(site, *command)
        assert code == 1 and f"{Path(entry.file).name}' is missing" in out and "Restore it" in out, out


def test_verify_repair_mends_what_is_safe_and_nothing_else(site):
    torn_line(site / "predictions" / "ledger.jsonl")
    manifest_without_hash(site / "results" / "cpu" / "manifest.json")
    committed = (ROOT / "results" / "cpu" / "manifest.json").read_bytes()
    code, out = run(site, "verify", "--repair")
    assert code == 0 and "removed the unfinished last line" in out and "recorded the sha256" in out, out
    assert (site / "predictions" / "ledger.jsonl").read_bytes() == (ROOT / "predictions" / "ledger.jsonl").read_bytes()
    assert (site / "results" / "cpu" / "manifest.json").read_bytes() == committed


def test_verify_lists_unfinished_rows_and_a_changed_checkpoint(site):
    store = site / "results" / "cpu"
    curves = pd.read_parquet(store / "curves.parquet")
    manifest = json.loads((store / "manifest.json").read_text())
    key = next(iter(manifest["runs"]))
    del manifest["runs"][key]
    (store / "manifest.json").write_text(json.dumps(manifest, indent=2))
    code, out = run(site, "verify", "--ladder", "cpu")
    assert code == 1 and "is not the file" not in out and f"rows of {key}, which the manifest does not list" in out
    assert len(curves) > 0


def _submit_file(folder: Path, i: int) -> Path:
    path = folder / f"k{i}.yaml"
    path.write_text(yaml.safe_dump(to_data(uninformed(load_ladder("smoke"), f"k{i:02d}")), sort_keys=False))
    return path


def test_killing_submit_at_random_moments_never_corrupts_the_ledger(tmp_path):
    """SIGKILL `ladder submit` 50 times at random moments of its run; classify what each kill left."""
    predictions, results = tmp_path / "predictions", tmp_path / "results"
    command = [sys.executable, "-c", "from harness.cli import main; main()", "submit"]
    where = ["--predictions", str(predictions), "--out", str(results)]
    env = {**os.environ, "WANDB_MODE": "disabled"}
    start = time.perf_counter()
    subprocess.run([*command, str(_submit_file(tmp_path, 0)), *where], check=True, env=env, capture_output=True)
    duration = time.perf_counter() - start
    rng = random.Random(20)
    outcomes = {"unchanged": 0, "complete": 0, "torn, repaired": 0, "unchanged, stored copy recorded by repair": 0}
    for i in range(1, 51):
        before = (predictions / ledger.LEDGER).read_bytes()
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        process = subprocess.Popen([*command, str(_submit_file(tmp_path, i)), *where], env=env, **quiet)
        time.sleep(rng.uniform(0.0, 1.1 * duration))
        process.send_signal(signal.SIGKILL)
        process.wait()
        after = (predictions / ledger.LEDGER).read_bytes()
        assert after.startswith(before), "a complete line is never changed"
        scan = ledger.scan(predictions)
        if scan.problem is None:
            added = len(after.splitlines()) - len(before.splitlines())
            assert added in (0, 1)
            if added == 1 or not ledger.problems(predictions):
                outcomes["complete" if added else "unchanged"] += 1
                continue
            ledger.repair(predictions, results)  # the copy was stored, its line never written
            outcomes["unchanged, stored copy recorded by repair"] += 1
        else:
            assert scan.torn is not None, scan.problem.message
            ledger.repair(predictions, results)
            outcomes["torn, repaired"] += 1
        assert ledger.problems(predictions) == [] and (predictions / ledger.LEDGER).read_bytes().startswith(before)
    print(f"\n50 kills of 'ladder submit' (a full run takes {duration:.2f} s): {outcomes}")
    assert sum(outcomes.values()) == 50
    assert ledger.problems(predictions) == []

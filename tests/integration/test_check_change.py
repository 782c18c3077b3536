"""Forecasts by pull request: `ladder check-change` on real git repositories, and `ladder ledger rebase`.

Each test builds a small clone of the benchmark's layout in tmp_path (the smoke ladder, a measured results file, a
ledger written by the real `ladder submit`), commits it as `main`, and proposes changes on branches.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import harness.ladders.ladder as ladders
from harness.cli import main
from harness.forecasts.ledger import GENESIS, Entry, chain, read_ledger, scan
from tests.integration.common import ROOT, cli, cli_fails, cli_line


def git(repo: Path, *args: str, ok: bool = True, date: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {})}
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env)
    assert done.returncode == 0 or not ok, done.stderr
    return done


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A repository on `main`: the smoke ladder, results/smoke/, a round, and a ledger holding alice's forecast."""
    root = tmp_path / "repo"
    builtin = root / ladders.BUILTIN_IN_REPO
    builtin.mkdir(parents=True)
    shutil.copy(ROOT / ladders.BUILTIN_IN_REPO / "smoke.yaml", builtin / "smoke.yaml")
    (root / "results" / "smoke").mkdir(parents=True)
    (root / "results" / "smoke" / "curves.parquet").write_bytes(b"measured curves")
    (root / "rounds").mkdir()
    (root / "rounds" / "old.yaml").write_text("# a round drawn before (only its path matters here)\n")
    monkeypatch.setattr(ladders, "LADDER_DIR", builtin)  # the commands read this repository's ladders
    monkeypatch.setattr(ladders, "ROUND_DIR", root / "rounds")
    git(root, "init", "-q", "-b", "main")
    for key, value in (("user.name", "Test"), ("user.email", "test@localhost"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    submit(root, "alice", 0.3)
    commit(root, "the benchmark, with alice's forecast")
    return root


def submit(root: Path, name: str, p: float) -> Path:
    """`ladder template` and `ladder submit` a forecast by ``name``; its stored copy."""
    path = root.parent / f"{name}.yaml"
    cli("template", "--ladder", "smoke", "--forecaster", name, "-o", str(path))
    data = yaml.safe_load(path.read_text())
    for task in data["tasks"].values():
        task["p_emerged"] = dict.fromkeys(task["p_emerged"], p)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    cli("submit", str(path), "--predictions", str(root / "predictions"), "--out", str(root / "results"))
    return root / "predictions" / read_ledger(root / "predictions")[-1].file


def commit(root: Path, message: str, date: str | None = None) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, date=date)


def check(root: Path, base: str = "main") -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check-change", "--base", base, "--predictions", str(root / "predictions")])
    return result.exit_code, " ".join(result.output.split())


def rewrite(root: Path, change) -> None:  # noqa: ANN001 - a function of one Entry
    """Rewrite the ledger with ``change`` applied to its last entry, every hash recomputed: a chain that holds."""
    records = scan(root / "predictions").records
    (root / "predictions" / "ledger.jsonl").write_bytes(b"".join(chain([*records[:-1], change(records[-1])], GENESIS)))


def test_a_good_change_passes(repo):
    git(repo, "checkout", "-q", "-b", "bob")
    stored = submit(repo, "bob", 0.6)
    commit(repo, "bob's forecast")
    code, out = check(repo)
    assert code == 0, out
    assert f"1 new forecast, each valid and recorded: bob for smoke, {stored}, at" in out
    assert "the ledger only grew and its chain holds" in out


def test_a_folder_without_a_ledger_is_refused(repo):
    message = cli_fails("check-change", "--base", "main", "--predictions", str(repo / "ladders" / "predictions"))
    assert "Neither main nor HEAD has ladders/predictions/ledger.jsonl: run the command at the root" in message
    assert "'nope' is not a commit in" in cli_fails("check-change", "--base", "nope", "--predictions", str(repo))


def test_an_edited_old_line_fails_though_its_chain_was_recomputed(repo):
    git(repo, "checkout", "-q", "-b", "edit")
    rewrite(repo, lambda alice: replace(alice, submitted_at="2020-01-01T00:00:00+00:00"))
    commit(repo, "alice was earlier")
    code, out = check(repo)
    assert code == 2
    assert "'predictions/ledger.jsonl' line 1 differs from main's line 1: the ledger is append-only" in out
    assert "git checkout main -- predictions/ledger.jsonl" in out


def test_a_rewritten_result_fails(repo):
    git(repo, "checkout", "-q", "-b", "results")
    (repo / "results" / "smoke" / "curves.parquet").write_bytes(b"better curves")
    commit(repo, "nicer results")
    code, out = check(repo)
    assert code == 2
    assert "'results/smoke/curves.parquet' is modified by this change; a forecast's change never touches" in out
    assert "git checkout main -- results/smoke/curves.parquet" in out


def test_a_line_naming_a_file_outside_its_folder_is_refused_and_nothing_is_read_or_written_there(repo):
    git(repo, "checkout", "-q", "-b", "escape")
    submit(repo, "bob", 0.6)
    rewrite(repo, lambda bob: replace(bob, file="../../escape-check-change.yaml"))
    (repo / "notes.md").write_text("code and docs may change too; a reviewer reads them")
    commit(repo, "bob, elsewhere")
    code, out = check(repo)
    assert code == 2
    assert "line 2 names its file '../../escape-check-change.yaml', not <ladder>/<forecaster>-<sha256[:16]>" in out
    assert "It also changes 1 file outside the record of forecasts, not checked here" in out and "notes.md" in out
    assert not (Path(tempfile.gettempdir()) / "escape-check-change.yaml").exists()


def test_a_forged_chain_fails(repo):
    git(repo, "checkout", "-q", "-b", "forged")
    submit(repo, "bob", 0.6)
    ledger = repo / "predictions" / "ledger.jsonl"
    lines = ledger.read_bytes().splitlines(keepends=True)
    line = json.loads(lines[-1])
    line["blind"] = not line["blind"]  # edited by hand; its hash left as it was
    ledger.write_bytes(b"".join(lines[:-1]) + json.dumps(line, sort_keys=True).encode() + b"\n")
    commit(repo, "bob, blind")
    code, out = check(repo)
    assert code == 2
    assert "'predictions/ledger.jsonl' line 2 does not match its own hash (it was edited after it was written)" in out
    assert "In this change: git checkout main -- predictions/ledger.jsonl, then submit again what it adds." in out
    assert "is a stored forecast that no new ledger line records" in out


@pytest.mark.parametrize(
    "shift,words",
    [
        (dt.timedelta(days=-1), "before main made ladder 'smoke' public as it is now (commit"),
        (dt.timedelta(days=1), "in the future: later than now"),
    ],
    ids=["backdated", "future"],
)
def test_a_time_before_the_public_record_or_in_the_future_fails(repo, shift, words):
    git(repo, "checkout", "-q", "-b", "dated")
    submit(repo, "bob", 0.6)
    rewrite(repo, lambda bob: replace(bob, submitted_at=_shifted(bob, shift)))
    commit(repo, "bob, dated")
    code, out = check(repo)
    assert code == 2 and words in out, out
    assert "'predictions/ledger.jsonl' line 2 was submitted at" in out and "1 problem in the change" in out


def test_every_problem_is_reported_at_once(repo):
    git(repo, "checkout", "-q", "-b", "many")
    (repo / "results" / "smoke" / "curves.parquet").write_bytes(b"better curves")
    (repo / "predictions" / "notes.txt").write_text("not a forecast")
    (repo / "rounds" / "old.yaml").write_text("# redrawn\n")
    alice = repo / "predictions" / read_ledger(repo / "predictions")[0].file
    alice.write_text(alice.read_text().replace("0.3", "0.31"))
    submit(repo, "bob", 0.6)
    rewrite(repo, lambda bob: replace(bob, submitted_at=_shifted(bob, dt.timedelta(days=1))))
    commit(repo, "five problems")
    code, out = check(repo)
    assert code == 2 and "5 problems in the change" in out
    assert "'results/smoke/curves.parquet' is modified" in out and "'predictions/notes.txt' is added" in out
    assert "'rounds/old.yaml' is modified by this change; rounds are never changed once drawn" in out
    assert f"'predictions/{alice.parent.name}/{alice.name}' is modified by this change; stored forecasts are" in out
    assert "in the future" in out


def test_parallel_pull_requests_both_land_after_a_rechain(repo):
    git(repo, "checkout", "-q", "-b", "carol")
    submit(repo, "carol", 0.2)
    commit(repo, "carol's forecast")
    git(repo, "checkout", "-q", "-b", "dave", "main")
    dave_file = submit(repo, "dave", 0.8)
    dave_bytes, dave = dave_file.read_bytes(), read_ledger(repo / "predictions")[-1]
    commit(repo, "dave's forecast")
    assert check(repo)[0] == 0  # before carol lands, dave's change is fine

    git(repo, "checkout", "-q", "main")  # carol lands first, a minute after dave submitted
    later = (dt.datetime.fromisoformat(dave.submitted_at) + dt.timedelta(minutes=1)).isoformat()
    git(repo, "merge", "-q", "--no-ff", "-m", "merge carol", "carol", date=later)
    git(repo, "checkout", "-q", "dave")
    code, out = check(repo)
    assert code == 2 and "does not begin with main's ledger: main gained 1 line since this branch left it" in out
    assert "ladder ledger rebase --onto main" in out
    where = ("--predictions", str(repo / "predictions"))
    assert "'main' is not merged into this branch. Run 'git merge main' first" in cli_fails(
        "ledger", "rebase", "--onto", "main", *where
    )

    assert git(repo, "merge", "-q", "main", ok=False).returncode != 0  # both appended a line: a conflict
    out = cli_line("ledger", "rebase", "--onto", "main", *where)
    assert "main's 2 lines, then this branch's 1 re-chained onto them: dave" in out
    git(repo, "add", "predictions/ledger.jsonl")
    git(repo, "commit", "-q", "--no-edit")
    code, out = check(repo)
    assert code == 0, out
    assert "1 new forecast, each valid and recorded: dave for smoke" in out
    assert "already holds main's ledger" in cli_line("ledger", "rebase", "--onto", "main", *where)

    entries = read_ledger(repo / "predictions")
    assert [e.forecaster for e in entries] == ["alice", "carol", "dave"]
    landed = entries[-1]
    assert (landed.file, landed.submitted_at, landed.sha256) == (dave.file, dave.submitted_at, dave.sha256)
    assert dave_file.read_bytes() == dave_bytes
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge dave", "dave")  # lands without a conflict
    assert "3 submissions, chain intact" in cli_line("ledger", "verify", *where)


def _shifted(entry: Entry, shift: dt.timedelta) -> str:
    return (dt.datetime.fromisoformat(entry.submitted_at) + shift).isoformat(timespec="seconds")


def test_a_new_round_with_its_blind_forecasts_passes(repo):
    """A round is added with the forecasts `ladder round new` submits: new rounds are welcome, changed ones not."""
    git(repo, "checkout", "-q", "-b", "round")
    where = ("--predictions", str(repo / "predictions"), "--out", str(repo / "results"))
    cli("round", "new", "--template", "smoke", "--seed", "3", *where)
    commit(repo, "round smoke-r3")
    code, out = check(repo)
    assert code == 0, out
    assert "1 new forecast, each valid and recorded: uninformed for smoke-r3" in out

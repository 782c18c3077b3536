"""Installed, not only cloned: the wheel holds the built-in ladders, and an installed `ladder` works in an empty folder.

The fast test builds the wheel (``pip wheel .``, a few seconds) and runs its unpacked code from an empty folder;
the slow one installs it in a fresh virtual environment (the CPU build of torch first, a few minutes) and goes
from a forecast to a leaderboard there, with results, predictions and rounds written under that folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from harness.ladders.ladder import BUILTIN_IN_REPO, builtin_ladders, load_ladder
from tests.integration.common import ROOT

# What the wheel is built from: pyproject.toml's packages and the files its metadata reads.
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "harness", "model_zoo")
TORCH = "torch==2.13.0"  # the CPU build, as the Makefile installs it


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of this checkout, built from a copy of its sources so that the checkout gets no build/ folder."""
    src, dist = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, src / name)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(src), "-w", str(dist)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (built,) = dist.glob("emergence_ladder-*.whl")
    return built


def test_the_wheel_holds_every_builtin_ladder_byte_for_byte(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for name in builtin_ladders():
            inside = f"{BUILTIN_IN_REPO}/{name}.yaml"
            assert inside in names, f"{inside} is not in {wheel.name}"
            assert zf.read(inside) == (ROOT / inside).read_bytes()  # the same bytes: the same hashes
        assert "harness/board/templates/leaderboard.html.j2" in names
        assert not any(n.startswith(("results/", "predictions/", "rounds/", "tests/")) for n in names)


def words(text: str) -> set[str]:
    return set(re.findall(r"[\w-]+", text))


def run_in(folder: Path, *command: str, env: dict | None = None) -> str:
    """``command`` run in ``folder``; its standard output, after asserting it exited 0."""
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, f"{command} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_unpacked_wheel_finds_its_ladders_from_an_empty_folder(wheel, tmp_path):
    site, empty = tmp_path / "site", tmp_path / "empty"
    empty.mkdir()
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}  # the wheel's code, not this checkout's
    probe = (
        "import json, harness; from harness.ladders.ladder import LADDER_DIR, builtin_ladders, load_ladder; "
        "print(json.dumps({'code': harness.__file__, 'dir': str(LADDER_DIR), "
        "'hashes': {n: load_ladder(n).hash for n in builtin_ladders()}}))"
    )
    found = json.loads(run_in(empty, sys.executable, "-c", probe, env=env))
    assert Path(found["code"]).is_relative_to(site) and Path(found["dir"]).is_relative_to(site)
    assert found["hashes"] == {name: load_ladder(name).hash for name in builtin_ladders()}
    ladder = (sys.executable, "-m", "harness")
    assert set(builtin_ladders()) <= words(run_in(empty, *ladder, "ladders", env=env))
    run_in(empty, *ladder, "template", "--ladder", "cpu", "--forecaster", "alice", "-o", "alice.yaml", env=env)
    valid = run_in(empty, *ladder, "validate", "alice.yaml", env=env)
    assert "is a valid forecast by 'alice' for ladder 'cpu'" in valid
    assert sorted(p.name for p in empty.iterdir()) == ["alice.yaml"]


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_an_installed_wheel_goes_from_forecast_to_leaderboard_in_an_empty_folder(wheel, tmp_path):
    """A fresh virtual environment: the CPU build of torch, then the wheel with its dependencies (about 3 minutes on
    2 busy cores, from a local package index); then every step a forecaster and a trainer take, from an empty
    folder, with nothing of this checkout on the path."""
    venv, work = tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run_in(tmp_path, sys.executable, "-m", "venv", str(venv), env=env)
    pip = (str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet")
    run_in(tmp_path, *pip, TORCH, env=env)
    run_in(tmp_path, *pip, str(wheel), env=env)

    def cli(*args: str) -> str:
        return " ".join(run_in(work, str(venv / "bin" / "ladder"), *args, env=env).split())

    assert set(builtin_ladders()) <= words(cli("ladders"))
    cli("template", "--ladder", "cpu", "--forecaster", "alice", "-o", "alice.yaml")
    assert "is a valid forecast by 'alice'" in cli("validate", "alice.yaml")
    cli("run", "--ladder", "smoke", "--wandb", "disabled")
    cli("baselines", "--ladder", "smoke")
    assert "uninformed" in cli("leaderboard", "--ladder", "smoke")
    assert "smoke-r1" in cli("round", "new", "--template", "smoke", "--seed", "1")
    assert (work / "results" / "smoke" / "curves.parquet").is_file()
    assert (work / "predictions" / "ledger.jsonl").is_file()
    assert (work / "rounds" / "smoke-r1.yaml").is_file()
    assert "smoke-r1" in cli("round", "list")

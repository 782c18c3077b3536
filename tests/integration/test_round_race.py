"""Two `ladder round new` of one name started at once: exactly one draws the round, the other writes nothing.

Rounds are never overwritten, and that must hold under concurrency: the round's file is created exclusively in the
same step, under the ledger's lock, as its forecasts' submission. Two real processes import everything first, then
are released together, so both pass the early "does it exist" check and race for the file.
"""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from harness.forecasts.ledger import read_ledger
from harness.ladders.ladder import parse_ladder
from tests.integration.common import ROOT

# Everything slow (torch, the methods) is imported before the start signal, so both draws begin together.
RACER = """
import sys
import harness.rounds.catalog
from harness.cli import main
print("ready", flush=True)
sys.stdin.readline()
main(sys.argv[1:], prog_name="ladder")
"""


def test_two_draws_of_one_name_at_once_leave_one_round_and_only_its_forecasts(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    where = ["--rounds", str(tmp_path / "rounds"), "--predictions", str(tmp_path / "predictions")]
    where += ["--out", str(tmp_path / "results")]
    racers = {
        seed: subprocess.Popen(
            [sys.executable, "-c", RACER, "round", "new", "--name", "race", "--seed", str(seed), *where],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
        )
        for seed in (601, 602)
    }
    for racer in racers.values():
        assert racer.stdout.readline().strip() == "ready"
    for racer in racers.values():
        racer.stdin.write("go\n")
        racer.stdin.flush()
    results = {seed: (racer.communicate(timeout=300)[0], racer.returncode) for seed, racer in racers.items()}

    codes = sorted(code for _, code in results.values())
    assert codes == [0, 2], results
    winner = next(seed for seed, (_, code) in results.items() if code == 0)
    output, _ = results[next(seed for seed in results if seed != winner)]
    loser_says = " ".join(output.split())
    assert "A ladder named 'race' exists" in loser_says and "rounds are never overwritten" in loser_says
    assert "Wrote" not in loser_says and "Traceback" not in loser_says
    assert f"Wrote {tmp_path / 'rounds' / 'race.yaml'}" in " ".join(results[winner][0].split())

    path = tmp_path / "rounds" / "race.yaml"
    assert yaml.safe_load(path.read_text())["round"]["seed"] == winner
    assert sorted(p.name for p in path.parent.iterdir()) == ["race.yaml"]  # no temporary file left behind
    winner_hash = parse_ladder(path).hash
    entries = read_ledger(tmp_path / "predictions")
    assert entries and all(e.blind and e.ladder_hash == winner_hash for e in entries)
    assert len({e.forecaster for e in entries}) == len(entries)  # each method once: the loser submitted nothing

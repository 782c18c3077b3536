"""The hash-chained ledger: what the chain catches, migration, and torn writes that are survivable."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from harness.errors import Damaged
from harness.forecasts import ledger
from harness.forecasts.schema import to_data, uninformed
from harness.ladders.ladder import load_ladder

ROOT = Path(__file__).resolve().parents[2]


def forecast_file(folder: Path, name: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(to_data(uninformed(load_ladder("smoke"), name)), sort_keys=False))
    return path


@pytest.fixture
def predictions(tmp_path: Path) -> Path:
    """A predictions folder with three submissions."""
    folder = tmp_path / "predictions"
    for name in ("alice", "bob", "carol"):
        ledger.submit(forecast_file(tmp_path, name), folder, tmp_path / "results")
    return folder


def lines(predictions: Path) -> list[bytes]:
    return (predictions / ledger.LEDGER).read_bytes().splitlines(keepends=True)


def first_problem(predictions: Path) -> str:
    found = ledger.problems(predictions)
    assert found, "the damage was not caught"
    return found[0].message


def test_each_line_carries_the_hash_of_the_one_before(predictions):
    records = [json.loads(line) for line in lines(predictions)]
    assert records[0]["prev"] == ledger.GENESIS
    assert [r["prev"] for r in records[1:]] == [r["hash"] for r in records[:-1]]
    assert ledger.head(predictions) == records[-1]["hash"]
    assert ledger.problems(predictions) == []
    assert [e.forecaster for e in ledger.read_ledger(predictions)] == ["alice", "bob", "carol"]


@pytest.mark.parametrize("line", [0, 1, 2])
def test_a_flipped_byte_in_any_line_is_caught(predictions, line):
    data = lines(predictions)
    data[line] = data[line].replace(b'"submitted_at": "2', b'"submitted_at": "1', 1)
    (predictions / ledger.LEDGER).write_bytes(b"".join(data))
    assert f"line {line + 1} does not match its own hash" in first_problem(predictions)
    with pytest.raises(Damaged, match=f"line {line + 1}"):
        ledger.read_ledger(predictions)


def test_a_line_rewritten_with_a_fresh_hash_breaks_the_next_line(predictions):
    data = lines(predictions)
    record = json.loads(data[0])
    record["forecaster"] = "mallory"
    body = {k: v for k, v in record.items() if k not in ("type", "hash", "prev")}
    entry = ledger.Entry(**body)
    data[0] = ledger.line_for(entry, ledger.GENESIS)[0]  # a consistent line on its own
    (predictions / ledger.LEDGER).write_bytes(b"".join(data))
    assert "line 2 does not follow the line before it" in first_problem(predictions)


def test_a_deleted_line_is_caught(predictions):
    data = lines(predictions)
    (predictions / ledger.LEDGER).write_bytes(data[0] + data[2])
    assert "line 2 does not follow the line before it" in first_problem(predictions)


def test_reordered_lines_are_caught(predictions):
    data = lines(predictions)
    (predictions / ledger.LEDGER).write_bytes(data[1] + data[0] + data[2])
    assert "line 1 does not follow the line before it" in first_problem(predictions)


def test_a_replaced_or_missing_stored_file_is_caught(predictions):
    entry = ledger.read_ledger(predictions)[1]
    copy = predictions / entry.file
    copy.write_bytes(copy.read_bytes().replace(b"0.5", b"0.6", 1))
    assert "no longer matches its ledger hash" in first_problem(predictions)
    with pytest.raises(Damaged, match="no longer matches its ledger hash"):
        ledger.stored(predictions, entry)
    copy.unlink()
    assert "is missing" in first_problem(predictions)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda r: r.update(blind="yes"), "is not a valid submission record (blind"),
        (lambda r: r.update(extra=1), "is not a valid submission record (extra"),
        (lambda r: r.update(type="note"), "has type 'note'"),
    ],
    ids=["wrong type", "unknown field", "unknown record"],
)
def test_a_line_of_the_wrong_shape_is_named(predictions, change, words):
    data = lines(predictions)
    record = json.loads(data[1])
    change(record)
    data[1] = json.dumps(record, sort_keys=True).encode() + b"\n"
    (predictions / ledger.LEDGER).write_bytes(b"".join(data))
    message = first_problem(predictions)
    assert f"line 2 {words}" in message and "Restore it from version control" in message


def test_migration_keeps_every_entry_and_records_itself(tmp_path):
    old = ROOT / "tests" / "data" / "ledger-before-chain.jsonl"
    folder = tmp_path / "predictions"
    before = [json.loads(line) for line in old.read_text().splitlines()]
    for entry in before:  # the stored copies its entries name (later submissions are not the old ledger's)
        (folder / entry["file"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "predictions" / entry["file"], folder / entry["file"])
    shutil.copy(old, folder / ledger.LEDGER)
    assert "predates the hash chain. Run 'ladder ledger migrate'" in first_problem(folder)
    assert ledger.migrate(folder) == len(before)
    records = [json.loads(line) for line in lines(folder)]
    kept = [{k: v for k, v in r.items() if k not in ("type", "hash", "prev")} for r in records[:-1]]
    assert kept == before, "every entry keeps its fields, time and order"
    assert records[-1]["type"] == "migration" and records[-1]["entries"] == len(before)
    assert records[-1]["old_sha256"] == ledger.sha256_bytes(old.read_bytes())
    assert [r["prev"] for r in records[1:]] == [r["hash"] for r in records[:-1]]
    assert ledger.problems(folder) == []
    assert ledger.migrate(folder) == 0, "a chained ledger is left alone"


def test_every_torn_append_is_caught_and_repaired_without_touching_history(predictions, tmp_path):
    before = (predictions / ledger.LEDGER).read_bytes()
    ledger.submit(forecast_file(tmp_path, "dave"), predictions, tmp_path / "results")
    full = (predictions / ledger.LEDGER).read_bytes()
    added = full[len(before) :]
    for cut in range(1, len(added)):  # every place a crash can stop the one write of the line
        shutil.copy(predictions / ledger.LEDGER, tmp_path / "full")
        (predictions / ledger.LEDGER).write_bytes(before + added[:cut])
        with pytest.raises(Damaged, match="Run 'ladder verify --repair'"):
            ledger.read_ledger(predictions)
        done = ledger.repair(predictions, tmp_path / "results")
        after = (predictions / ledger.LEDGER).read_bytes()
        assert after.startswith(before), "complete lines are kept byte for byte"
        assert ledger.problems(predictions) == []
        entries = ledger.read_ledger(predictions)
        assert [e.forecaster for e in entries] == ["alice", "bob", "carol", "dave"], done
        if cut == len(added) - 1:
            assert after == full, "a line lacking only its newline is kept as written"
        else:  # dave's stored copy lost its line: recorded again, at the time of the repair
            assert "removed the unfinished last line" in done[0] and "recorded" in done[1]
        (predictions / ledger.LEDGER).write_bytes(before)


def test_appending_after_a_torn_tail_is_refused(predictions, tmp_path):
    path = predictions / ledger.LEDGER
    path.write_bytes(path.read_bytes() + b'{"blind": tr')
    before = {p: p.read_bytes() for p in predictions.rglob("*") if p.is_file()}
    with pytest.raises(Damaged, match="ends in an unfinished line 4"):
        ledger.submit(forecast_file(tmp_path, "erin"), predictions, tmp_path / "results")
    after = {p: p.read_bytes() for p in predictions.rglob("*") if p.is_file()}
    assert after == before


def test_repair_refuses_a_broken_chain(predictions, tmp_path):
    data = lines(predictions)
    (predictions / ledger.LEDGER).write_bytes(data[1] + data[0] + data[2])
    with pytest.raises(Damaged, match="line 1 does not follow"):
        ledger.repair(predictions, tmp_path / "results")

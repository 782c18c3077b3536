"""Prediction files and the ledger: template, validate, every kind of bad input, submit, concurrency."""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from harness.cli import main
from harness.forecasts.ledger import read_ledger, submit
from harness.forecasts.schema import load_forecast, to_data, uninformed
from harness.ladders.ladder import load_ladder
from tests.snapshots import snapshot


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "mine.yaml"
    result = CliRunner().invoke(main, ["template", "--ladder", "smoke", "-o", str(path), "--forecaster", "alice"])
    assert result.exit_code == 0, result.output
    return path


def edit(path: Path, change: Callable[[dict], None]) -> Path:
    """A copy of the file with ``change`` applied to its loaded data."""
    data = yaml.safe_load(path.read_text())
    change(data)
    out = path.with_name("edited.yaml")
    out.write_text(yaml.safe_dump(data, sort_keys=False))
    return out


def test_template_is_valid_and_complete(good):
    forecast, ladder = load_forecast(good)
    assert forecast.forecaster == "alice" and forecast.ladder_hash == ladder.hash
    assert set(forecast.tasks) == set(ladder.spec.tasks)
    for answers in forecast.tasks.values():
        assert set(answers.p_emerged) == {r.name for r in ladder.rungs}
        values = [answers.emergence_quantiles[k] for k in sorted(answers.emergence_quantiles)]
        assert values == sorted(values)
        # Every question is asked: the smooth metric's size, and the step of every rung within the budget.
        assert answers.loss_emergence_quantiles == answers.emergence_quantiles
        assert set(answers.emergence_step_quantiles) == {r.name for r in ladder.rungs}
        steps = next(iter(answers.emergence_step_quantiles.values()))
        assert steps[0.05] == 0.0 and steps[0.95] > math.log10(ladder.spec.training.steps)
    result = CliRunner().invoke(main, ["validate", str(good)])
    assert result.exit_code == 0 and "is a valid forecast by 'alice'" in result.output


def test_template_never_overwrites(good):
    before = good.read_bytes()
    result = CliRunner().invoke(main, ["template", "--ladder", "smoke", "-o", str(good)])
    assert result.exit_code == 2 and "already exists" in result.output
    assert good.read_bytes() == before


def test_json_files_work_too(tmp_path):
    ladder = load_ladder("smoke")
    path = tmp_path / "f.json"
    path.write_text(json.dumps(to_data(uninformed(ladder, "bob"))))
    assert load_forecast(path)[0].forecaster == "bob"


def set_in(*keys: str | float, value: object) -> Callable[[dict], None]:
    """A change that sets the value at ``keys`` (names, and quantile levels as floats) to ``value``."""

    def change(data: dict) -> None:
        node = data
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value

    return change


def rename_task(data: dict) -> None:
    data["tasks"]["cpoy"] = data["tasks"].pop("copy")


def rename_rung(data: dict) -> None:
    data["tasks"]["copy"]["p_emerged"]["s11"] = data["tasks"]["copy"]["p_emerged"].pop("s1")


def rename_step_rung(data: dict) -> None:
    steps = data["tasks"]["copy"]["emergence_step_quantiles"]
    steps["s9"] = steps.pop("s1")


BAD_EDITS = {
    "probability above 1": (
        set_in("tasks", "copy", "p_emerged", "s0", value=1.5),
        ["tasks.copy.p_emerged.s0", "less than or equal to 1"],
    ),
    "negative probability": (
        set_in("tasks", "copy", "accuracy", "s1", value=-0.1),
        ["tasks.copy.accuracy.s1", "greater than or equal to 0"],
    ),
    "nan": (
        set_in("tasks", "copy", "p_emerged", "s0", value=float("nan")),
        ["tasks.copy.p_emerged.s0", "finite number"],
    ),
    "infinity": (
        set_in("tasks", "mod_add", "emergence_quantiles", 0.5, value=float("inf")),
        ["tasks.mod_add.emergence_quantiles", "finite number"],
    ),
    "quantiles out of order": (
        set_in("tasks", "copy", "emergence_quantiles", 0.75, value=1.0),
        ["tasks.copy", "must not decrease"],
    ),
    "quantile level out of range": (
        set_in("tasks", "copy", "emergence_quantiles", 0.99, value=9.0),
        ["tasks.copy.emergence_quantiles.0.99", "0.95"],
    ),
    "step quantiles out of order": (
        set_in("tasks", "copy", "emergence_step_quantiles", "s1", 0.75, value=0.1),
        ["tasks.copy", "emergence_step_quantiles.s1 must not decrease"],
    ),
    "negative log step": (
        set_in("tasks", "copy", "emergence_step_quantiles", "s1", 0.05, value=-1.0),
        ["tasks.copy.emergence_step_quantiles.s1.0.05", "greater than or equal to 0"],
    ),
    "smooth-metric quantiles out of order": (
        set_in("tasks", "copy", "loss_emergence_quantiles", 0.25, value=9.0),
        ["tasks.copy", "loss_emergence_quantiles must not decrease"],
    ),
    "unknown rung of a step question": (
        rename_step_rung,
        ["tasks.copy.emergence_step_quantiles.s9", "unknown rung"],
    ),
    "unknown task": (rename_task, ["tasks.cpoy", "Did you mean 'copy'"]),
    "unknown rung": (rename_rung, ["tasks.copy.p_emerged.s11", "unknown rung", "Did you mean 's1'"]),
    "hash mismatch": (set_in("ladder_hash", value="0" * 64), ["ladder_hash", "is not the hash of ladder 'smoke'"]),
    "unknown key": (set_in("forcaster", value="x"), ["forcaster: unknown key", "Did you mean 'forecaster'"]),
    "unknown ladder": (set_in("ladder", value="smoek"), ["ladder: Unknown ladder 'smoek'", "Did you mean 'smoke'"]),
    "bad track": (set_in("track", value="blnd"), ["track"]),
    "unsafe forecaster name": (set_in("forecaster", value="../evil"), ["forecaster", "pattern"]),
}

BAD_FILES = {
    "empty": (b"", ["is empty"]),
    "malformed yaml": (b"forecaster: [unclosed\n", ["not valid YAML at line"]),
    "not a mapping": (b"- 1\n- 2\n", ["must hold a mapping"]),
    "non-utf8": (b"forecaster: \xff\xfe\n", ["not UTF-8"]),
    "alias bomb": (
        b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        b"c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
        ["YAML alias"],
    ),
    "too large": (b"# " + b"x" * 1_000_100 + b"\n", ["limit is 1,000,000 bytes"]),
}


def check_rejected(path: Path, needles: list[str], tmp_path: Path) -> None:
    predictions = tmp_path / "predictions"
    predictions.mkdir(exist_ok=True)
    (predictions / "ledger.jsonl").write_text("")
    before = snapshot(predictions)
    runner = CliRunner()
    for args in (
        ["validate", str(path)],
        ["submit", str(path), "--predictions", str(predictions), "--out", str(tmp_path / "results")],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output
        message = " ".join(result.output.split())
        assert str(path) in message.replace(" ", "") or str(path) in message
        for needle in needles:
            assert needle in message, f"{needle!r} not in {message!r}"
    assert snapshot(predictions) == before


@pytest.mark.parametrize("case", sorted(BAD_EDITS))
def test_bad_values_are_rejected_and_nothing_is_written(good, tmp_path, case):
    change, needles = BAD_EDITS[case]
    check_rejected(edit(good, change), needles, tmp_path)


@pytest.mark.parametrize("track", ["extrapolation", "internals"])
def test_a_track_that_reveals_needs_its_revealed_rung(good, tmp_path, track):
    shown = edit(good, lambda data: data.update(track=track, revealed_up_to="s0"))
    forecast, _ = load_forecast(shown)
    assert (forecast.track, forecast.revealed_up_to) == (track, "s0")
    result = CliRunner().invoke(main, ["validate", str(shown)])
    seen = {"extrapolation": "curves", "internals": "curves and internals"}[track]
    assert result.exit_code == 0 and f"{track} track ({seen} seen up to s0)" in " ".join(result.output.split())
    needs = "revealed_up_to names the highest revealed rung on the extrapolation and internals tracks"
    check_rejected(edit(good, set_in("track", value=track)), [needs], tmp_path)
    check_rejected(edit(good, set_in("revealed_up_to", value="s0")), [needs], tmp_path)  # on the blind track
    top = edit(good, lambda data: data.update(track=track, revealed_up_to="s1"))
    check_rejected(top, ["revealed_up_to: 's1' is not a rung below the top of ladder 'smoke'"], tmp_path)


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_rejected_and_nothing_is_written(tmp_path, case):
    data, needles = BAD_FILES[case]
    path = tmp_path / "bad.yaml"
    path.write_bytes(data)
    check_rejected(path, needles, tmp_path)


def test_malformed_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"forecaster": "x",,}')
    check_rejected(path, ["not valid JSON at line 1"], tmp_path)
    path.write_text('{"forecaster": NaN}')
    check_rejected(path, ["NaN"], tmp_path)


def test_every_problem_is_reported_at_once(good, tmp_path):
    def several(data: dict) -> None:
        data["tasks"]["copy"]["p_emerged"]["s0"] = 2
        data["ladder_hash"] = "1" * 64
        rename_task(data)

    result = CliRunner().invoke(main, ["validate", str(edit(good, several))])
    assert result.exit_code == 2
    assert "3 problems" in result.output


def test_submit_stores_once_and_versions_changes(good, tmp_path):
    predictions, results = tmp_path / "predictions", tmp_path / "results"
    entry, new = submit(good, predictions, results)
    assert new and entry.blind and not entry.results_existed
    stored = predictions / entry.file
    assert stored.read_bytes() == good.read_bytes() and stored.parent.name == "smoke"
    assert entry.sha256 == hashlib.sha256(good.read_bytes()).hexdigest()
    again, new_again = submit(good, predictions, results)
    assert not new_again and again == entry
    changed = edit(good, set_in("tasks", "copy", "p_emerged", "s0", value=0.9))
    second, _ = submit(changed, predictions, results)
    assert second.sha256 != entry.sha256 and stored.exists()
    assert [e.sha256 for e in read_ledger(predictions)] == [entry.sha256, second.sha256]
    renamed, _ = submit(good, predictions, results, forecaster="carol")
    assert (
        renamed.forecaster == "carol"
        and yaml.safe_load((predictions / renamed.file).read_text())["forecaster"] == "carol"
    )


def test_reserved_and_unsafe_names_are_refused(good, tmp_path):
    predictions = tmp_path / "predictions"
    for name, needle in (("oracle", "reserved"), ("../../x", "not a valid name")):
        result = CliRunner().invoke(
            main, ["submit", str(good), "--forecaster", name, "--predictions", str(predictions)]
        )
        assert result.exit_code == 2 and needle in result.output
    assert not predictions.exists() or snapshot(predictions) == {}


def test_submission_after_results_is_not_blind(good, tmp_path):
    ladder = load_ladder("smoke")
    results = tmp_path / "results"
    (results / "smoke").mkdir(parents=True)
    (results / "smoke" / "manifest.json").write_text(
        json.dumps(
            {
                "ladder": "smoke",
                "ladder_hash": ladder.hash,
                "runs": {"s0/seed0": {"rung": "s0", "seed": 0}},
                "curves_sha256": "0" * 64,
            }
        )
    )
    entry, _ = submit(good, tmp_path / "predictions", results)
    assert entry.results_existed and not entry.blind


def _submit_one(args: tuple[str, str, str]) -> str:
    path, predictions, results = args
    return submit(Path(path), Path(predictions), Path(results))[0].sha256


def test_twenty_concurrent_submissions_all_land(tmp_path):
    ladder = load_ladder("smoke")
    paths = []
    for i in range(20):
        forecast = uninformed(ladder, f"f{i:02d}")
        path = tmp_path / f"f{i}.yaml"
        path.write_text(yaml.safe_dump(to_data(forecast), sort_keys=False))
        paths.append((str(path), str(tmp_path / "predictions"), str(tmp_path / "results")))
    with multiprocessing.get_context("spawn").Pool(20) as pool:
        shas = pool.map(_submit_one, paths)
    entries = read_ledger(tmp_path / "predictions")
    assert sorted(e.sha256 for e in entries) == sorted(shas) and len(set(shas)) == 20
    assert all((tmp_path / "predictions" / e.file).is_file() for e in entries)

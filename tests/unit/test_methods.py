"""Forecasting methods: found by name, entry point or path; run only on what their track reveals; checked.

The internals track is tried on the committed cpu results' reference weights; its end to end run on a trained
ladder is ``tests/integration/test_internals_track.py``.

The methods below are defined here on purpose: the tests name them as ``tests.unit.test_methods:NAME``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

import harness
from harness.errors import UserError
from harness.forecasts import revealed
from harness.forecasts.schema import Forecast, TaskForecast
from harness.forecasts.schema import uninformed as uninformed_forecast
from harness.ladders.ladder import load_ladder
from harness.methods.question import Question, ask
from harness.methods.registry import GROUP, Method, declare, find, registered
from harness.methods.running import answer, require_track
from harness.training.store import empty_curves

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"  # read only: questions are built from the committed curves
SEEN: list[Question] = []


def recorder(question: Question) -> dict:
    """Keeps what it was given; answers 0.5 for every rung it is asked about."""
    SEEN.append(question)
    return {"tasks": {t: {"p_emerged": dict.fromkeys(question.hidden, 0.5)} for t in question.ladder.spec.tasks}}


@declare(tracks=("blind",))
def blind_half(question: Question) -> dict:
    """Probability 0.5 for every rung."""
    return {"tasks": {t: {"p_emerged": dict.fromkeys(question.hidden, 0.5)} for t in question.ladder.spec.tasks}}


@declare(tracks=("internals",))
def inside(question: Question) -> dict:
    """Probability 0.5 for every rung, after a look inside."""
    SEEN.append(question)
    return {"tasks": {t: {"p_emerged": dict.fromkeys(question.hidden, 0.5)} for t in question.ladder.spec.tasks}}


@declare(tracks=("extrapolation", "internals"))
def either(question: Question) -> dict:
    return recorder(question)


def crashes(question: Question) -> dict:
    return {"tasks": {"copy": {"p_emerged": {"c0": 1 / 0}}}}


def crashes_on_two_lines(question: Question) -> dict:
    raise ValueError("first line\nsecond line")


def typed_but_wrong(question: Question) -> dict:
    return {"tasks": {"copy": TaskForecast(p_emerged={"c99": 0.3})}}


def returns_a_number(question: Question) -> int:
    return 42


def out_of_range(question: Question) -> dict:
    return {"tasks": {"copy": {"p_emerged": {"c0": 1.5, "c99": 0.2}}, "nope": {}}}


def another_ladder(question: Question) -> Forecast:
    return uninformed_forecast(load_ladder("mixer"), "x")


def always_blind(question: Question) -> Forecast:
    return uninformed_forecast(question.ladder, "x")


def mutates(question: Question) -> dict:
    question.curves["value"] = -1.0
    return recorder(question)


@pytest.fixture(autouse=True)
def fresh():
    SEEN.clear()


def method(name: str) -> Method:
    return find(f"tests.unit.test_methods:{name}")


def test_the_built_ins_are_registered_under_their_ledger_names():
    names = [m.name for m in registered()]
    assert names[:5] == ["uninformed", "extrapolator", "two-step", "progress", "template-prior"]
    assert "oracle" not in names  # it reads the truth: no method may
    assert find("two-step").tracks == ("extrapolation",) and find("template-prior").needs_template
    assert find("progress").tracks == ("internals",)
    with pytest.raises(UserError, match="Unknown forecasting method 'two-stp'. Did you mean 'two-step'?"):
        find("two-stp")


@pytest.mark.parametrize(
    "path,words",
    [
        ("no_such_package_xyz.forecast:go", "does not import: importing module 'no_such_package_xyz.forecast' raised"),
        ("tests.unit.test_methods:recordr", "has no 'recordr'. Did you mean 'recorder'?"),
        ("tests.unit.test_methods:ROOT", "is a PosixPath, not a function"),
        ("a:b:c", "is not of the form package.module:function"),
    ],
)
def test_a_method_path_that_does_not_import_is_one_clear_error(path, words):
    with pytest.raises(UserError) as caught:
        find(path)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_a_path_method_is_named_after_its_function():
    assert method("blind_half").forecaster == "blind-half" and method("blind_half").tracks == ("blind",)
    forecast = answer(method("blind_half"), ask(load_ladder("cpu"), RESULTS))
    assert forecast.forecaster == "blind-half" and forecast.track == "blind" and forecast.ladder == "cpu"
    assert answer(method("blind_half"), ask(load_ladder("cpu"), RESULTS), "alice").forecaster == "alice"


def test_the_method_sees_nothing_above_up_to():
    ladder = load_ladder("cpu")
    answer(method("recorder"), ask(ladder, RESULTS, "c3"))
    answer(method("recorder"), ask(ladder, RESULTS))
    extrapolation, blind = SEEN
    assert set(extrapolation.curves["rung"]) == {"c0", "c1", "c2", "c3"}
    assert extrapolation.curves["params"].max() == ladder.rung("c3").params
    assert extrapolation.hidden == ["c4", "c5", "c6", "c7"] and extrapolation.template_truth is None
    assert blind.curves.empty and blind.up_to is None and blind.hidden == [r.name for r in ladder.rungs]


def test_a_question_cannot_hold_a_hidden_curve():
    ladder = load_ladder("cpu")
    every = pd.read_parquet(RESULTS / "cpu" / "curves.parquet")
    with pytest.raises(ValueError, match=r"hidden rungs \['c4', 'c5', 'c6', 'c7'\]"):
        Question(ladder, "extrapolation", "c3", every)
    with pytest.raises(ValueError, match="hidden rungs"):
        Question(ladder, "blind", None, every[every["rung"] == "c0"])
    Question(ladder, "blind", None, empty_curves())


@pytest.fixture(scope="module")
def shown(tmp_path_factory) -> revealed.Revealed:
    """The internals track of the committed cpu results revealed up to c1 (in a clone: their archived checkpoints
    and reference weights)."""
    return revealed.write(load_ladder("cpu"), RESULTS, "c1", tmp_path_factory.mktemp("revealed") / "up_to_c1")


def test_the_internals_track_reveals_the_lower_rungs_only(shown):
    ladder = load_ladder("cpu")
    question = ask(ladder, RESULTS, "c1", internals=shown)
    assert question.track == "internals" and question.hidden == ["c2", "c3", "c4", "c5", "c6", "c7"]
    assert set(shown.checkpoints["rung"]) == set(shown.table["rung"]) == {"c0", "c1"}
    # Seeds trained on the first machine show their committed final weights; those trained since, every step
    # (from the committed archive in a clone, from their checkpoints where these are on disk).
    listing = shown.checkpoints
    early = listing[listing["seed"] <= 10]
    assert set(early["source"]) == {"reference weights"} and (early.groupby(["rung", "seed"]).size() == 1).all()
    later = listing[listing["seed"] >= 30]
    assert set(later["source"]) <= {"archived checkpoint", "checkpoint"}
    assert (later.groupby(["rung", "seed"]).size() == 5).all() and later["seed"].nunique() >= 8
    files = {p.relative_to(shown.out).parts[1:3] for p in shown.out.rglob("*.safetensors")}
    assert {rung for _, rung in files} == {"c0", "c1"}
    answer(method("inside"), question)
    seen = SEEN[0].internals
    assert seen is not shown and seen.out == shown.out and seen.table.equals(shown.table)


def test_a_question_cannot_hold_internals_of_a_hidden_rung(shown, tmp_path):
    ladder = load_ladder("cpu")
    curves = ask(ladder, RESULTS, "c1").curves
    with pytest.raises(ValueError, match="internals-track question lacks internals"):
        Question(ladder, "internals", "c1", curves)
    with pytest.raises(ValueError, match="extrapolation-track question holds internals"):
        Question(ladder, "extrapolation", "c1", curves, internals=shown)
    with pytest.raises(ValueError, match="revealed up to c1 holds the internals of ladder 'cpu' revealed up to c2"):
        Question(ladder, "internals", "c1", curves, internals=dataclasses.replace(shown, up_to="c2"))
    every = pd.read_parquet(RESULTS / "cpu" / "internals.parquet")
    with pytest.raises(ValueError, match=r"hold the hidden rungs \['c2', 'c3', 'c4', 'c5', 'c6', 'c7'\]"):
        dataclasses.replace(shown, table=every)
    # A file of a hidden rung in the folder: the folder is refused as a whole.
    folder = tmp_path / "copy"
    revealed.write(ladder, RESULTS, "c1", folder)
    stray = folder / "cpu" / "weights" / "c4" / "seed0.safetensors"
    stray.parent.mkdir(parents=True)
    stray.write_bytes((RESULTS / "cpu" / "weights" / "c4" / "seed0.safetensors").read_bytes())
    with pytest.raises(ValueError, match=r"hold the hidden rungs \['c4'\]"):
        revealed.read(ladder, folder)


def test_a_hidden_rung_cannot_be_loaded_or_recorded(shown):
    with pytest.raises(UserError, match="Rung c2 of ladder 'cpu' is hidden: the internals track revealed up to c1"):
        shown.load_model("c2", 0)
    with pytest.raises(UserError, match="Rung c7 of ladder 'cpu' is hidden"):
        shown.record("c7", 0, "copy")
    with pytest.raises(UserError, match="is a revealed folder of ladder 'cpu' .* nothing of rung c5 seed 0"):
        harness.load_model("cpu", "c5", 0, out=shown.out)  # the folder itself holds no hidden rung either
    with pytest.raises(UserError, match="has no revealed pair of seed 3; its seeds: 0, 1, 2, 6, 7, 8, 9, 10"):
        shown.load_model("c1", 3)
    recorded = shown.record("c1", 0, "copy", n=4, hooks="blocks.0.hook_resid_post")
    assert recorded["blocks.0.hook_resid_post"].shape[0] == 4 and recorded["correct"].shape == (4,)


def test_a_method_changes_only_its_own_copy():
    question = ask(load_ladder("cpu"), RESULTS, "c2")
    answer(method("mutates"), question)
    assert (SEEN[0].curves["value"] == -1.0).all() and (question.curves["value"] >= 0).all()


@pytest.mark.parametrize(
    "name,words",
    [
        ("crashes", "raised ZeroDivisionError: division by zero (at "),
        ("crashes_on_two_lines", "raised ValueError: first line second line (at "),
        ("typed_but_wrong", "tasks.copy.p_emerged.c99: unknown rung."),
        ("returns_a_number", "returned an invalid forecast for ladder 'cpu' on the blind track: it returned int"),
        ("out_of_range", "tasks.copy.p_emerged.c0: Input should be less than or equal to 1"),
        ("out_of_range", "tasks.copy.p_emerged.c99: unknown rung."),
        ("out_of_range", "tasks.nope: not a task of ladder 'cpu'."),
        ("another_ladder", "ladder: 'mixer', but it was asked about 'cpu'."),
    ],
)
def test_a_bad_method_is_one_paragraph_naming_it(name, words):
    with pytest.raises(UserError) as caught:
        answer(method(name), ask(load_ladder("cpu"), RESULTS))
    message = str(caught.value)
    assert message.startswith(f"Method 'tests.unit.test_methods:{name}' (module:function path)")
    assert words in message and message.endswith("Nothing was written or submitted.") and "\n" not in message


def test_a_forecast_for_another_track_is_refused():
    with pytest.raises(UserError) as caught:
        answer(method("always_blind"), ask(load_ladder("cpu"), RESULTS, "c3"))
    assert "track: 'blind', but it was asked about 'extrapolation'." in str(caught.value)


@pytest.mark.parametrize(
    "name,up_to,words",
    [
        ("extrapolator", None, "answers the extrapolation track only, not the blind track; give --up-to RUNG."),
        ("uninformed", "c3", "answers the blind track only, not the extrapolation track; leave out --up-to."),
        ("template-prior", None, "needs a round whose template has measured results here, and ladder 'cpu' is not"),
    ],
)
def test_a_method_is_asked_only_what_it_answers(name, up_to, words):
    with pytest.raises(UserError) as caught:
        answer(find(name), ask(load_ladder("cpu"), RESULTS, up_to))
    assert words in str(caught.value)


@pytest.mark.parametrize(
    "name,track,words",
    [
        ("inside", "blind", "answers the internals track only, not the blind track; give --up-to RUNG --internals."),
        ("inside", "extrapolation", "not the extrapolation track; give --internals."),
        ("blind_half", "internals", "answers the blind track only, not the internals track; leave out --up-to and "),
        ("recorder", "internals", "answers the blind and extrapolation tracks, not the internals track; leave out "
         "--internals."),
        ("either", "blind", "answers the extrapolation and internals tracks, not the blind track; give --up-to RUNG."),
    ],
)  # fmt: skip
def test_the_internals_track_is_asked_only_of_methods_that_declare_it(name, track, words):
    assert method("recorder").tracks == ("blind", "extrapolation")  # declaring nothing: not the internals track
    with pytest.raises(UserError) as caught:
        require_track(method(name), track)
    assert words in str(caught.value) and str(caught.value).endswith("Nothing was written or submitted.")


def entry_points(*points: tuple[str, str]) -> Callable[[str], list[metadata.EntryPoint]]:
    """A stand-in for ``importlib.metadata.entry_points`` that lists ``points`` as (name, value)."""

    def listed(group: str) -> list[metadata.EntryPoint]:
        assert group == GROUP
        return [metadata.EntryPoint(name=name, value=value, group=GROUP) for name, value in points]

    return listed


def test_an_installed_entry_point_is_a_method(monkeypatch):
    monkeypatch.setattr(metadata, "entry_points", entry_points(("half", "tests.unit.test_methods:blind_half")))
    assert [m.name for m in registered()][-1] == "half"
    half = find("half")
    assert half.origin == "entry point 'tests.unit.test_methods:blind_half'" and not half.builtin
    assert answer(half, ask(load_ladder("smoke"), RESULTS)).forecaster == "half"
    with pytest.raises(UserError, match="Did you mean 'half'"):
        find("hlf")


@pytest.mark.parametrize(
    "points,words",
    [
        ([("two-step", "tests.unit.test_methods:recorder")], "takes a built-in method's name"),
        ([("Half Way", "tests.unit.test_methods:recorder")], "is not a valid method name"),
        ([("gone", "no_such_package_xyz:go")], "Method 'gone' (entry point 'no_such_package_xyz:go') does not load"),
    ],
)
def test_a_bad_entry_point_is_named(monkeypatch, points, words):
    monkeypatch.setattr(metadata, "entry_points", entry_points(*points))
    with pytest.raises(UserError) as caught:
        registered()
    assert words in str(caught.value)

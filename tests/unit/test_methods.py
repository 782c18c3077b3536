"""Forecasting methods: found by name, entry point or path; run only on what their track reveals; checked.

The methods below are defined here on purpose: the tests name them as ``tests.unit.test_methods:NAME``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pandas as pd
import pytest

from harness.errors import UserError
from harness.forecasts.schema import Forecast, TaskForecast
from harness.forecasts.schema import uninformed as uninformed_forecast
from harness.ladders.ladder import load_ladder
from harness.methods.question import Question, ask
from harness.methods.registry import GROUP, Method, declare, find, registered
from harness.methods.running import answer
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
    assert names[:4] == ["uninformed", "extrapolator", "two-step", "template-prior"]
    assert "oracle" not in names  # it reads the truth: no method may
    assert find("two-step").tracks == ("extrapolation",) and find("template-prior").needs_template
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

"""Forecasting methods: forecasters as code, found by name.

A method is a function of one ``harness.methods.question.Question`` that returns a forecast (a
``harness.forecasts.schema.Forecast``, or plain data that validates as one; ``harness.methods.running``
runs it and checks what it returns). A method is named in one of three ways, looked up in this order:

- a built-in name: ``uninformed``, ``extrapolator``, ``two-step``, ``progress``, ``template-prior``, the names
  the built-in forecasters (``harness.methods.builtin``) already carry in the ledger;
- a name an installed package registers under the entry-point group ``emergence_ladder.forecasters``
  (``[project.entry-points."emergence_ladder.forecasters"]`` ``my-method = "my_package.module:function"``);
- a path ``package.module:function``, imported from the current folder or the environment.

The built-ins are registered here, in code, rather than as entry points of this project: they are part
of the harness, so they work in a checkout that was never installed (or was installed before they
existed), and nothing can list them twice. An entry point may not take a built-in's name. The oracle,
which reads the measured truth, is no method: a method never sees the truth of what it forecasts.

A method says what it answers with ``@declare(tracks=..., needs_template=...)``, which sets the plain
attributes ``tracks`` and ``needs_template`` on the function (setting them by hand does the same, so a
method need not import the harness). One that says nothing answers the blind and extrapolation tracks
(``DEFAULT_TRACKS``) and needs no template; only a method that declares the internals track is asked it,
since each of its questions copies the revealed rungs' checkpoints (``harness.forecasts.revealed``).
``needs_template``: it answers only rounds whose template has measured results (``template-prior``).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from harness.errors import UserError, did_you_mean
from harness.forecasts.schema import TRACKS, Forecast
from harness.ladders.ladder import NAME_PATTERN
from harness.methods import builtin
from harness.methods import progress as progress_method
from harness.methods.question import Question
from harness.registry import Registry

GROUP = "emergence_ladder.forecasters"
DEFAULT_TRACKS = ("blind", "extrapolation")  # what a method that declares nothing answers
PATH = re.compile(r"^(?P<module>[A-Za-z_][\w.]*):(?P<attr>[A-Za-z_][\w.]*)$")


def said(exc: BaseException, limit: int = 300) -> str:
    """``Type: message`` of an exception from someone's code, on one line and at most ``limit`` characters."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def declare(tracks: tuple[str, ...] = DEFAULT_TRACKS, needs_template: bool = False) -> Callable[[Callable], Callable]:
    """Decorator: the tracks a method answers and whether it needs a round's template results."""

    def mark(function: Callable) -> Callable:
        function.tracks = tuple(tracks)
        function.needs_template = needs_template
        return function

    return mark


@dataclass(frozen=True)
class Method:
    """A forecasting method, loaded: its name, the function, where it came from, and what it answers."""

    name: str  # as registered, or the path as typed
    function: Callable[[Question], Any]
    origin: str  # in words: "built-in", "entry point of package ...", "module:function path"
    builtin: bool = False

    def __post_init__(self) -> None:
        if not callable(self.function):
            raise UserError(
                f"Method '{self.name}' ({self.origin}) is a {type(self.function).__name__}, not a function; point it "
                "at a function that takes a Question and returns a forecast."
            )
        tracks = getattr(self.function, "tracks", DEFAULT_TRACKS)
        if isinstance(tracks, str) or not tracks or not set(tracks) <= set(TRACKS):
            raise UserError(
                f"Method '{self.name}' ({self.origin}) declares tracks={tracks!r}; declare a non-empty tuple of "
                f"{', '.join(map(repr, TRACKS))}, e.g. @declare(tracks=('blind',))."
            )

    @property
    def tracks(self) -> tuple[str, ...]:
        return tuple(getattr(self.function, "tracks", DEFAULT_TRACKS))

    @property
    def needs_template(self) -> bool:
        return bool(getattr(self.function, "needs_template", False))

    @property
    def forecaster(self) -> str:
        """The name its forecasts carry unless told otherwise: a path's function name with '_' written '-'."""
        match = PATH.match(self.name)
        return match["attr"].split(".")[-1].lower().replace("_", "-") if match else self.name

    @property
    def summary(self) -> str:
        """The first line of the function's docstring."""
        return ((self.function.__doc__ or "").strip().splitlines() or [""])[0]

    def cannot_answer_track(self, track: str) -> str:
        """Words after the method's name: the tracks it answers, and not ``track``."""
        *others, last = self.tracks
        answered = f"the {', '.join(others)} and {last} tracks" if others else f"the {last} track only"
        return f"answers {answered}, not the {track} track"

    def cannot_answer(self, question: Question) -> str | None:
        """Why this method cannot answer ``question`` (words after the method's name), or None if it can."""
        if question.track not in self.tracks:
            return self.cannot_answer_track(question.track)
        if self.needs_template and question.template_truth is None:
            return (
                f"needs a round whose template has measured results here, and ladder '{question.ladder.name}' is "
                + ("not a round" if question.ladder.spec.round is None else "a round whose template has none")
            )
        return None


BUILTINS: Registry[Callable[[Question], Forecast]] = Registry("built-in method")


@BUILTINS.register("uninformed")
@declare(tracks=("blind",))
def uninformed(question: Question) -> Forecast:
    """Probability 0.5 everywhere, quantiles spread evenly over the ladder: the reference of every skill score."""
    return builtin.knows_nothing(question.ladder)


@BUILTINS.register("extrapolator")
@declare(tracks=("extrapolation",))
def extrapolator(question: Question) -> Forecast:
    """Power law of the answer loss and logistic of accuracy in log size over the revealed rungs, extended."""
    limits = question.thresholds
    return builtin.extrapolator(question.ladder, question.curves, question.up_to, limits["loss"], limits["accuracy"])


@BUILTINS.register("two-step")
@declare(tracks=("extrapolation",))
def two_step(question: Question) -> Forecast:
    """Each task's loss as a power law of size, then one loss-to-accuracy sigmoid across tasks (Bhagia et al.)."""
    limits = question.thresholds
    return builtin.two_step(question.ladder, question.curves, question.up_to, limits["loss"], limits["accuracy"])


@BUILTINS.register("progress")
@declare(tracks=("internals",))
def progress(question: Question) -> Forecast:
    """The two-step, with emergence read off a progress measure where one separates the pairs that got it."""
    return progress_method.progress(question)


@BUILTINS.register("template-prior")
@declare(tracks=("blind",), needs_template=True)
def template_prior(question: Question) -> Forecast:
    """A round's template's measured answers, as if the round's new task settings changed nothing."""
    return builtin.template_prior(question.ladder, question.template, question.template_truth)


def builtin_methods() -> list[Method]:
    """The built-in methods, in the order they are submitted."""
    return [Method(name, BUILTINS.get(name), "built-in", builtin=True) for name in BUILTINS]


def registered() -> list[Method]:
    """Every method with a name: the built-ins, then each installed entry point, loaded."""
    return builtin_methods() + [_load(name, point) for name, point in _entry_points().items()]


def find(name: str) -> Method:
    """The method called ``name`` (built-in, entry point, or ``package.module:function``); a ``UserError`` if none."""
    if ":" in name:
        return _from_path(name)
    if name in BUILTINS:
        return Method(name, BUILTINS.get(name), "built-in", builtin=True)
    points = _entry_points()
    if name in points:
        return _load(name, points[name])
    known = [*BUILTINS, *points]
    raise UserError(
        f"Unknown forecasting method '{name}'.{did_you_mean(name, known)} Known methods: {', '.join(known)}; "
        f"packages add more under the entry-point group '{GROUP}', or give a path package.module:function."
    )


def _entry_points() -> dict[str, metadata.EntryPoint]:
    """Installed entry points of the group by name; a ``UserError`` for a bad name, a built-in's or a repeated one."""
    found: dict[str, metadata.EntryPoint] = {}
    for point in metadata.entry_points(group=GROUP):
        where = f"entry point '{point.name}' = '{point.value}'{_package(point)} in group '{GROUP}'"
        if point.name in BUILTINS or point.name in found:
            whose = "a built-in method's" if point.name in BUILTINS else "another entry point's"
            raise UserError(f"The {where} takes {whose} name; rename it in that package's entry points.")
        if not re.match(NAME_PATTERN, point.name):
            raise UserError(
                f"The {where} is not a valid method name: use 1-64 lower-case letters, digits, '-' or '_'; rename it "
                "in that package's entry points."
            )
        found[point.name] = point
    return found


def _package(point: metadata.EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    return f" of package '{dist.name}'" if dist is not None else ""


def _load(name: str, point: metadata.EntryPoint) -> Method:
    origin = f"entry point '{point.value}'{_package(point)}"
    try:
        function = point.load()
    except Exception as exc:  # whatever importing someone else's module raises
        raise UserError(
            f"Method '{name}' ({origin}) does not load: {said(exc)}. Fix or reinstall that package, "
            f"or uninstall it to drop the method."
        ) from None
    return Method(name, function, origin)


def _from_path(path: str) -> Method:
    """``package.module:function`` imported, with the current folder importable as it is for ``python -m``."""
    match = PATH.match(path)
    if match is None:
        raise UserError(
            f"Method path '{path}' is not of the form package.module:function (a dotted module, one colon, a "
            "function name), e.g. my_forecasts:size_prior."
        )
    module_name, attr = match["module"], match["attr"]
    added = os.getcwd() not in sys.path
    if added:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # a missing module, a syntax error, or anything its top level raises
        raise UserError(
            f"Method '{path}' does not import: importing module '{module_name}' raised {said(exc)}. "
            "Check the module is on the path (the current folder or an installed package) and imports on its own "
            f"(python -c 'import {module_name}')."
        ) from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    function: Any = module
    for part in attr.split("."):
        if not hasattr(function, part):
            names = [n for n in dir(function) if not n.startswith("_")]
            raise UserError(
                f"Method '{path}' does not import: '{module_name}' has no '{attr}'.{did_you_mean(part, names)} Name "
                "a function defined in that module."
            )
        function = getattr(function, part)
    return Method(path, function, "module:function path")

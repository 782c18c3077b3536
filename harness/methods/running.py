"""Running a forecasting method: its answer checked like a prediction file, then submitted through the ledger.

A method is someone's code, so everything it does is checked before anything is written: a method that
raises, returns something that is not a forecast, or a forecast of another ladder, hash, track or revealed
rung than it was asked about, gets one paragraph naming the method and the fix (a ``UserError``, exit
status 2), and nothing is written or submitted. The forecast is named by the harness: ``--forecaster`` or
the method's name, whatever name the method wrote.

The built-in methods are run and submitted together by ``harness.methods.baselines`` (``ladder baselines``).
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from harness.documents import describe_error
from harness.errors import UserError
from harness.forecasts.ledger import RESERVED, Entry, Kind, add, read_ledger, stored
from harness.forecasts.schema import Forecast, check_against, dump, same_answers, to_data
from harness.forecasts.track import in_words
from harness.ladders.ladder import NAME_PATTERN, Ladder
from harness.methods import builtin
from harness.methods.question import Question
from harness.methods.registry import Method, said

NOTHING = "Nothing was written or submitted."
FLAGS = {"blind": (), "extrapolation": ("--up-to",), "internals": ("--up-to", "--internals")}  # ladder forecast's


def require_track(method: Method, track: str) -> None:
    """A ``UserError`` naming the options of ``ladder forecast`` to change, unless ``method`` answers ``track``
    (checked before a question is built: the internals track's copies its rungs' checkpoints)."""
    if track not in method.tracks:
        raise UserError(
            f"Method '{method.name}' ({method.origin}) {method.cannot_answer_track(track)}; "
            f"{_hint(track, method.tracks)}. {NOTHING}"
        )


def answer(method: Method, question: Question, forecaster: str | None = None) -> Forecast:
    """Run ``method`` on (a copy of) ``question``; its forecast, checked, under ``forecaster`` or its own name."""
    name = forecaster or method.forecaster
    who = f"Method '{method.name}' ({method.origin})"
    if not re.match(NAME_PATTERN, name):
        raise UserError(
            f"{who} would submit as '{name}', which is not a valid forecaster name; pass --forecaster NAME (1-64 "
            f"lower-case letters, digits, '-' or '_'). {NOTHING}"
        )
    if name in RESERVED and not (method.builtin and name == method.name):
        raise UserError(
            f"{who} would submit as '{name}', a name reserved for the built-in forecasters ({', '.join(RESERVED)}); "
            f"pass --forecaster NAME with another name. {NOTHING}"
        )
    require_track(method, question.track)
    why = method.cannot_answer(question)
    if why is not None:
        raise UserError(f"{who} {why}. {NOTHING}")
    asked = f"ladder '{question.ladder.name}' on the {in_words(question.track, question.up_to)}"
    try:
        returned = method.function(question.copied())
    except Exception as exc:  # the method's own bug, whatever it is
        raise UserError(
            f"{who} raised {said(exc)} ({_where(exc)}) while forecasting {asked}. Fix the method. {NOTHING}"
        ) from None
    problems, forecast = _check(returned, question, name)
    if problems:
        raise UserError(
            f"{who} returned an invalid forecast for {asked}: {' '.join(problems)} Fix the method. {NOTHING}"
        )
    return forecast


def _check(returned: Any, question: Question, name: str) -> tuple[list[str], Forecast | None]:
    """What is wrong with a method's return value as a forecast of ``question`` (nothing: the forecast)."""
    if isinstance(returned, Forecast):
        raw = to_data(returned)
    elif isinstance(returned, Mapping):
        raw = dict(returned)
    else:
        return [
            f"it returned {type(returned).__name__}, not a Forecast or a mapping of a prediction file's keys "
            "(tasks, and optionally description, ladder, ladder_hash, track, revealed_up_to)."
        ], None
    ladder = question.ladder
    # The header says which question is answered: filled in where left out, compared where given.
    asked = {"ladder": ladder.name, "ladder_hash": ladder.hash, "track": question.track}
    asked |= {"revealed_up_to": question.up_to} if question.up_to is not None else {}
    raw = {**asked, **raw, "forecaster": name}
    problems = [
        f"{key}: {raw.get(key)!r}, but it was asked about {value!r}."
        for key, value in {**asked, "revealed_up_to": question.up_to}.items()
        if raw.get(key) != value
    ]
    if problems:  # another question: its tasks and rungs are not worth checking against this ladder
        return problems, None
    try:
        forecast = Forecast.model_validate(raw)
    except ValidationError as exc:
        problems += [describe_error(err, Forecast) for err in exc.errors()]
        forecast = None
    problems += check_against(raw if forecast is None else to_data(forecast), ladder)  # plain data, every rung seen
    return problems, forecast


def record_answer(
    forecast: Forecast,
    ladder: Ladder,
    method: Method,
    predictions: Path,
    out: Path,
    fmt: Literal["yaml", "json"] = "yaml",
) -> tuple[Entry, bool]:
    """Submit a method's forecast; returns its entry and whether it is new.

    A built-in method's forecast under its own name is a baseline, and is not submitted again when its
    last submission on the same questions has the same answers to within ``builtin.TOLERANCE``: its
    numbers depend on a machine's last float digit, its meaning does not. Every other method's forecast is
    a forecaster's, recorded like ``ladder submit`` (the same file twice is recorded once).
    """
    kind: Kind = "baseline" if method.builtin and forecast.forecaster == method.name else "forecaster"
    if kind == "baseline":
        same = unchanged(forecast, ladder, predictions)
        if same is not None:
            return same
    return add(forecast, ladder, dump(forecast, fmt), fmt, predictions, out, kind)


def unchanged(forecast: Forecast, ladder: Ladder, predictions: Path) -> tuple[Entry, bool] | None:
    """The last ledger entry of this forecaster on the same questions, if its stored answers are the same."""
    questions = (forecast.forecaster, ladder.hash, forecast.track, forecast.revealed_up_to)
    same_questions = [
        e for e in read_ledger(predictions) if (e.forecaster, e.ladder_hash, e.track, e.revealed_up_to) == questions
    ]
    if same_questions and same_answers(stored(predictions, same_questions[-1]), forecast, builtin.TOLERANCE):
        return same_questions[-1], False
    return None


def _hint(asked: str, tracks: tuple[str, ...]) -> str:
    """The options of ``ladder forecast`` to change, to ask the answered track nearest to the one ``asked``."""
    changes = [
        ([f for f in FLAGS[t] if f not in FLAGS[asked]], [f for f in FLAGS[asked] if f not in FLAGS[t]]) for t in tracks
    ]
    give, leave = min(changes, key=lambda c: len(c[0]) + len(c[1]))
    words = [f"give {' '.join(f + ' RUNG' * (f == '--up-to') for f in give)}"] if give else []
    return "; ".join(words + ([f"leave out {' and '.join(leave)}"] if leave else []))


def _where(exc: BaseException) -> str:
    """Where the exception was raised: the innermost frame, as file:line in function."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "no traceback"
    last = frames[-1]
    return f"at {last.filename}:{last.lineno} in {last.name}"

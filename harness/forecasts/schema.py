"""Prediction files: the schema, loading with every problem reported at once, and the template.

A forecast is written for one ladder (by name and content hash) on one track (``TRACKS``): blind, or
extrapolation or internals from a revealed rung (``harness.forecasts.track``).
Per task it may give any of five kinds of answer:

- ``p_emerged``: rung -> probability that the rung has the capability;
- ``emergence_quantiles``: level (0.05 .. 0.95) -> log10 parameters at which the
  capability emerges; a value above the top rung says "not within this ladder";
- ``loss_emergence_quantiles``: the same for the size at which the answer loss
  (the smooth metric) reaches its threshold;
- ``emergence_step_quantiles``: rung -> level -> log10 training steps at which
  the rung first reaches the accuracy threshold; a value above the budget says
  "not within training";
- ``accuracy``: rung -> expected final exact-match accuracy.

Tasks and rungs left out are allowed; the scorer counts them as missing.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from harness.documents import Strict, describe_error, invalid_file, read_mapping
from harness.errors import UserError, did_you_mean
from harness.ladders.ladder import NAME_PATTERN, Ladder, load_ladder

LABEL = "Prediction file"
KEYS_HINT = "forecaster, ladder, ladder_hash, track, tasks, ..."
LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)  # the template's quantile levels
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Level = Annotated[float, Field(ge=0.05, le=0.95, allow_inf_nan=False)]
Log10Params = Annotated[float, Field(ge=0, le=15, allow_inf_nan=False)]
Log10Steps = Annotated[float, Field(ge=0, le=12, allow_inf_nan=False)]
Track = Literal["blind", "extrapolation", "internals"]
TRACKS: tuple[Track, ...] = ("blind", "extrapolation", "internals")


class TaskForecast(Strict):
    """The answers for one task; any of the five may be left out."""

    p_emerged: dict[str, Probability] = {}
    emergence_quantiles: dict[Level, Log10Params] = {}
    loss_emergence_quantiles: dict[Level, Log10Params] = {}
    emergence_step_quantiles: dict[str, dict[Level, Log10Steps]] = {}
    accuracy: dict[str, Probability] = {}

    @model_validator(mode="after")
    def _monotone(self) -> TaskForecast:
        named = [("emergence_quantiles", self.emergence_quantiles),
                 ("loss_emergence_quantiles", self.loss_emergence_quantiles)]  # fmt: skip
        named += [(f"emergence_step_quantiles.{rung}", q) for rung, q in self.emergence_step_quantiles.items()]
        for name, quantiles in named:
            for lo, hi in itertools.pairwise(sorted(quantiles)):
                if quantiles[hi] < quantiles[lo]:
                    raise ValueError(
                        f"{name} must not decrease with the level, but level {hi} has {quantiles[hi]} below level "
                        f"{lo}'s {quantiles[lo]}; reorder the values"
                    )
        return self


class Forecast(Strict):
    """A whole prediction file."""

    forecaster: str = Field(pattern=NAME_PATTERN)
    ladder: str = Field(pattern=NAME_PATTERN)
    ladder_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    track: Track
    revealed_up_to: str | None = None  # extrapolation and internals tracks: the highest rung seen
    description: str = Field(default="", max_length=2000)
    tasks: dict[str, TaskForecast] = Field(min_length=1)

    @model_validator(mode="after")
    def _track(self) -> Forecast:
        if (self.track != "blind") != (self.revealed_up_to is not None):
            raise ValueError(
                "revealed_up_to names the highest revealed rung on the extrapolation and internals tracks and must "
                "be left out on the blind track"
            )
        return self


def load_forecast(path: Path) -> tuple[Forecast, Ladder]:
    """Read and fully check a prediction file; a ``UserError`` listing every problem otherwise."""
    raw = read_mapping(path, LABEL, KEYS_HINT)
    problems: list[str] = []
    forecast = None
    try:
        forecast = Forecast.model_validate(raw)
    except ValidationError as exc:
        problems += [describe_error(err, Forecast) for err in exc.errors()]
    ladder = None
    if isinstance(raw.get("ladder"), str):
        try:
            ladder = load_ladder(raw["ladder"])
        except UserError as exc:
            problems.append(f"ladder: {exc}")
        else:
            problems += check_against(raw, ladder)
    if problems or forecast is None or ladder is None:  # the last two only ever come with a problem
        raise invalid_file(LABEL, path, problems)
    return forecast, ladder


def check_against(raw: dict[str, Any], ladder: Ladder) -> list[str]:
    """What in a prediction file's data does not fit its ladder (hash, tasks, rungs), even if the schema fails."""
    problems = []
    given = raw.get("ladder_hash")
    if isinstance(given, str) and given != ladder.hash:
        problems.append(
            f"ladder_hash: {given[:12]}... is not the hash of ladder '{ladder.name}' as defined now "
            f"({ladder.hash[:12]}...); the ladder changed since the forecast was written. Start again from 'ladder "
            f"template --ladder {ladder.name}'."
        )
    rungs = [r.name for r in ladder.rungs]
    revealed = raw.get("revealed_up_to")
    if isinstance(revealed, str) and revealed not in rungs[:-1]:
        problems.append(
            f"revealed_up_to: '{revealed}' is not a rung below the top of ladder "
            f"'{ladder.name}'.{did_you_mean(revealed, rungs)} Rungs: {', '.join(rungs)}."
        )
    tasks = raw.get("tasks")
    for task, answers in tasks.items() if isinstance(tasks, dict) else ():
        if task not in ladder.spec.tasks:
            problems.append(
                f"tasks.{task}: not a task of ladder '{ladder.name}'.{did_you_mean(str(task), ladder.spec.tasks)} Its "
                f"tasks: {', '.join(ladder.spec.tasks)}."
            )
            continue
        for kind in ("p_emerged", "emergence_step_quantiles", "accuracy"):
            per_rung = answers.get(kind) if isinstance(answers, dict) else None
            for rung in per_rung if isinstance(per_rung, dict) else ():
                if rung not in rungs:
                    problems.append(
                        f"tasks.{task}.{kind}.{rung}: unknown rung.{did_you_mean(str(rung), rungs)} Rungs of "
                        f"'{ladder.name}': {', '.join(rungs)}."
                    )
    return problems


def uninformed(ladder: Ladder, forecaster: str, every_question: bool = False, **header: Any) -> Forecast:
    """Knowing nothing: probability 0.5 everywhere, quantiles evenly spread in log size over the ladder.

    ``every_question`` adds the smooth-metric and step questions (the template asks
    every question). The uninformed baseline leaves them out, as it has since before
    they existed: the scorer fills a missing answer with exactly these, so it scores
    the same either way and its ledger entries stay current.
    """
    sizes, steps = size_quantiles(ladder), step_quantiles(ladder)
    rungs = [r.name for r in ladder.rungs]
    more = (
        {"loss_emergence_quantiles": sizes, "emergence_step_quantiles": dict.fromkeys(rungs, steps)}
        if every_question
        else {}
    )
    tasks = {
        task: TaskForecast(
            p_emerged=dict.fromkeys(rungs, 0.5), emergence_quantiles=sizes, accuracy=dict.fromkeys(rungs, 0.5), **more
        )
        for task in ladder.spec.tasks
    }
    return Forecast(
        forecaster=forecaster, ladder=ladder.name, ladder_hash=ladder.hash, tasks=tasks, **{"track": "blind", **header}
    )


def size_quantiles(ladder: Ladder) -> dict[float, float]:
    """The uninformed quantiles of log10 parameters: evenly spread from the bottom rung to one rung interval
    (on average) above the top, so the upper ones say "maybe not within this ladder"."""
    low, high = math.log10(ladder.rungs[0].params), math.log10(ladder.rungs[-1].params)
    return _spread(low, high + (high - low) / max(1, len(ladder.rungs) - 1))


def step_quantiles(ladder: Ladder) -> dict[float, float]:
    """The uninformed quantiles of log10 steps: evenly spread from step 1 to a tenth (in log) past the budget."""
    return _spread(0.0, 1.1 * math.log10(ladder.spec.training.steps))


def _spread(low: float, high: float) -> dict[float, float]:
    return {level: round(low + (level - LEVELS[0]) / (LEVELS[-1] - LEVELS[0]) * (high - low), 3) for level in LEVELS}


def to_data(forecast: Forecast) -> dict[str, Any]:
    """The forecast as plain data for YAML or JSON (quantile levels stay numbers), defaults left out."""
    return forecast.model_dump(exclude_defaults=True)


def dump(forecast: Forecast, fmt: Literal["yaml", "json"] = "yaml") -> bytes:
    """The one way a forecast becomes a file: YAML in the order of the schema, or indented JSON."""
    data = to_data(forecast)
    text = json.dumps(data, indent=2) + "\n" if fmt == "json" else yaml.safe_dump(data, sort_keys=False)
    return text.encode("utf-8")


def read_stored(path: Path) -> Forecast:
    """A prediction file that was valid when stored, read back without checking it against its ladder again."""
    return Forecast.model_validate(read_mapping(path, "Stored prediction file", KEYS_HINT))


def same_answers(a: Forecast, b: Forecast, tolerance: float) -> bool:
    """Whether two forecasts ask the same questions and give every answer within ``tolerance``.

    The description is prose about the forecast, not part of it, and is not compared.
    """
    header = {"tasks", "description"}
    if a.model_dump(exclude=header) != b.model_dump(exclude=header) or a.tasks.keys() != b.tasks.keys():
        return False
    return all(_close(_flat(x), _flat(b.tasks[task]), tolerance) for task, x in a.tasks.items())


def _flat(answers: TaskForecast) -> dict[tuple, float]:
    """Every answer of a task by its path (kind, rung or level[, level])."""
    flat = {}
    for kind, values in answers.model_dump().items():
        for key, value in values.items():
            if isinstance(value, dict):
                flat.update({(kind, key, level): v for level, v in value.items()})
            else:
                flat[(kind, key)] = value
    return flat


def _close(mine: dict[tuple, float], theirs: dict[tuple, float], tolerance: float) -> bool:
    return mine.keys() == theirs.keys() and all(abs(mine[k] - theirs[k]) <= tolerance for k in mine)

"""Prediction files: the schema, loading with every problem reported at once, and the template.

A forecast is written for one ladder (by name and content hash) on one track.
Per task it may give any of three kinds of answer:

- ``p_emerged``: rung -> probability that the rung has the capability;
- ``emergence_quantiles``: level (0.05 .. 0.95) -> log10 parameters at which the
  capability emerges; a value above the top rung says "not within this ladder";
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
from harness.training.ladder import NAME_PATTERN, Ladder, load_ladder

LABEL = "Prediction file"
KEYS_HINT = "forecaster, ladder, ladder_hash, track, tasks, ..."
LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)  # the template's quantile levels
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Level = Annotated[float, Field(ge=0.05, le=0.95, allow_inf_nan=False)]
Log10Params = Annotated[float, Field(ge=0, le=15, allow_inf_nan=False)]


class TaskForecast(Strict):
    """The answers for one task; any of the three may be left out."""

    p_emerged: dict[str, Probability] = {}
    emergence_quantiles: dict[Level, Log10Params] = {}
    accuracy: dict[str, Probability] = {}

    @model_validator(mode="after")
    def _monotone(self) -> TaskForecast:
        levels = sorted(self.emergence_quantiles)
        for lo, hi in itertools.pairwise(levels):
            if self.emergence_quantiles[hi] < self.emergence_quantiles[lo]:
                raise ValueError(
                    f"emergence_quantiles must not decrease with the level, but level {hi} has "
                    f"{self.emergence_quantiles[hi]} below level {lo}'s {self.emergence_quantiles[lo]}; reorder the "
                    "values"
                )
        return self


class Forecast(Strict):
    """A whole prediction file."""

    forecaster: str = Field(pattern=NAME_PATTERN)
    ladder: str = Field(pattern=NAME_PATTERN)
    ladder_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    track: Literal["blind", "extrapolation"]
    revealed_up_to: str | None = None  # extrapolation track: the highest rung whose curves were seen
    description: str = Field(default="", max_length=2000)
    tasks: dict[str, TaskForecast] = Field(min_length=1)

    @model_validator(mode="after")
    def _track(self) -> Forecast:
        if (self.track == "extrapolation") != (self.revealed_up_to is not None):
            raise ValueError(
                "revealed_up_to names the highest revealed rung on the extrapolation track and must be left out on "
                "the blind track"
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
        for kind in ("p_emerged", "accuracy"):
            per_rung = answers.get(kind) if isinstance(answers, dict) else None
            for rung in per_rung if isinstance(per_rung, dict) else ():
                if rung not in rungs:
                    problems.append(
                        f"tasks.{task}.{kind}.{rung}: unknown rung.{did_you_mean(str(rung), rungs)} Rungs of "
                        f"'{ladder.name}': {', '.join(rungs)}."
                    )
    return problems


def uninformed(ladder: Ladder, forecaster: str, **header: Any) -> Forecast:
    """Knowing nothing: probability 0.5 everywhere, quantiles evenly spread in log size over the ladder.

    The quantiles run from the bottom rung to one rung interval (on average)
    above the top, so the upper ones say "maybe not within this ladder".
    """
    low, high = math.log10(ladder.rungs[0].params), math.log10(ladder.rungs[-1].params)
    high += (high - low) / max(1, len(ladder.rungs) - 1)
    quantiles = {
        level: round(low + (level - LEVELS[0]) / (LEVELS[-1] - LEVELS[0]) * (high - low), 3) for level in LEVELS
    }
    rungs = [r.name for r in ladder.rungs]
    tasks = {
        task: TaskForecast(
            p_emerged=dict.fromkeys(rungs, 0.5), emergence_quantiles=quantiles, accuracy=dict.fromkeys(rungs, 0.5)
        )
        for task in ladder.spec.tasks
    }
    return Forecast(
        forecaster=forecaster, ladder=ladder.name, ladder_hash=ladder.hash, tasks=tasks, **{"track": "blind", **header}
    )


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
    for task, x in a.tasks.items():
        for kind in ("p_emerged", "emergence_quantiles", "accuracy"):
            mine, theirs = getattr(x, kind), getattr(b.tasks[task], kind)
            if mine.keys() != theirs.keys() or any(abs(mine[k] - theirs[k]) > tolerance for k in mine):
                return False
    return True

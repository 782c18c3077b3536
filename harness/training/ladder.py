"""Ladder definitions: the YAML schema, its validation, and the resolved ladder with its hash.

A ladder is one model family, an ordered list of rungs (sizes), a training
budget, a task mixture, an evaluation schedule and seeds. Built-in ladders live
in the repository's ``ladders/NAME.yaml``; any other YAML file can be given by path.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.documents import Strict, describe_error, invalid_file, read_mapping
from harness.errors import UserError, did_you_mean
from harness.tasks import TASKS, vocab
from harness.training.families import FAMILIES
from model_zoo import ModelConfig

# The built-in ladders live beside results/ and predictions/ in the checkout the benchmark runs from.
LADDER_DIR = Path(__file__).resolve().parents[2] / "ladders"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
# Lightning strategies that run the command line again in one process per device: a second
# `ladder run` cannot share the results store, so only strategies that spawn workers are allowed.
RELAUNCHING = ("ddp", "ddp_find_unused_parameters_false", "ddp_find_unused_parameters_true")


class TrainingSpec(Strict):
    """Optimisation budget shared by every rung: AdamW, linear warmup, cosine decay."""

    steps: int = Field(gt=0)
    batch_size: int = Field(gt=0)
    lr: float = Field(gt=0)
    weight_decay: float = Field(default=0.1, ge=0)
    warmup_steps: int = Field(default=0, ge=0)
    min_lr_ratio: float = Field(default=0.1, ge=0, le=1)
    grad_clip: float | None = Field(default=1.0, gt=0)
    # Where it runs (Lightning's Trainer settings); ``ladder run --accelerator ...`` overrides them.
    accelerator: Literal["cpu", "gpu", "auto"] = "cpu"
    devices: int = Field(default=1, gt=0)
    precision: Literal["32-true", "bf16-mixed", "16-mixed", "bf16-true"] = "32-true"
    # How devices share the work; not part of the ladder hash (it does not change what is trained).
    strategy: str = "auto"

    @model_validator(mode="after")
    def _warmup_fits(self) -> TrainingSpec:
        if self.warmup_steps >= self.steps:
            raise ValueError(f"warmup_steps={self.warmup_steps} must be smaller than steps={self.steps}")
        return self

    @field_validator("strategy")
    @classmethod
    def _spawning_strategy(cls, value: str) -> str:
        if value == "auto":
            return value
        from lightning.pytorch.strategies import StrategyRegistry

        known = StrategyRegistry.available_strategies()
        usable = [s for s in known if not relaunches(s)]
        if value not in known:
            raise ValueError(
                f"unknown strategy '{value}'.{did_you_mean(value, known)} Use 'auto' or one of: {', '.join(usable)}"
            )
        if relaunches(value):
            raise ValueError(
                f"strategy '{value}' runs the whole command line again in every device's process, and those cannot "
                "share one results store; "
                "use 'ddp_spawn' (what 'auto' picks for more than one device)"
            )
        return value


def relaunches(strategy: str) -> bool:
    """Whether a Lightning strategy runs the command line again in one process per device."""
    return strategy in RELAUNCHING or strategy.startswith(("fsdp", "deepspeed"))


class EvaluationSpec(Strict):
    """When and on how much held-out data every task is measured."""

    n_points: int = Field(default=16, ge=2)  # log-spaced evaluation steps, step 0 and the last included
    examples_per_task: int = Field(default=256, gt=0)  # capped at each task's held-out set size
    n_checkpoints: int = Field(default=4, ge=1)  # log-spaced checkpoints, the last step included


class RungSpec(BaseModel):
    """One rung as written: a name plus shape fields that the family's config validates."""

    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = Field(pattern=NAME_PATTERN)
    # Peak learning rate of this rung if it differs from training.lr: wide rungs
    # are unstable at the rate that suits narrow ones.
    lr: float | None = Field(default=None, gt=0)


class LadderSpec(Strict):
    """The whole ladder file."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    family: str
    tasks: dict[str, float] = Field(min_length=1)  # task name -> mixture weight
    training: TrainingSpec
    evaluation: EvaluationSpec = EvaluationSpec()
    seeds: list[int] = Field(min_length=1)
    # Seeds whose results any calibration decision (rungs, budget, learning rates, mixture) looked at.
    # The acceptance checks are judged on the other seeds, which no decision saw. Not part of the hash:
    # it records how the ladder was made, not what is trained.
    calibration_seeds: list[int] = []
    model: dict[str, Any] = {}  # shape fields shared by every rung; a rung's own fields win
    rungs: list[RungSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Rung:
    name: str
    config: ModelConfig
    params: int
    lr: float  # peak learning rate


@dataclass(frozen=True)
class Ladder:
    """A validated ladder: the spec, its resolved rungs (ascending size) and its content hash."""

    spec: LadderSpec
    rungs: tuple[Rung, ...]
    hash: str
    source: Path

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def task_versions(self) -> dict[str, int]:
        return {name: TASKS.get(name).version for name in self.spec.tasks}

    def training(self, rung: Rung, shared: TrainingSpec | None = None) -> TrainingSpec:
        """What one rung trains with: the shared training spec (the ladder's, or ``shared``, e.g. with a
        run's device settings) at the rung's own peak learning rate."""
        return (shared or self.spec.training).model_copy(update={"lr": rung.lr})

    def rung(self, name: str) -> Rung:
        """The rung called ``name``; a "did you mean" ``UserError`` otherwise."""
        for rung in self.rungs:
            if rung.name == name:
                return rung
        names = [r.name for r in self.rungs]
        raise UserError(
            f"Ladder '{self.name}' has no rung '{name}'.{did_you_mean(name, names)} Its rungs: {', '.join(names)}."
        )

    def split_seeds(self, seeds: list[int]) -> tuple[list[int], list[int]]:
        """``seeds`` split into (calibration seeds, held-out seeds that no calibration decision looked at)."""
        calibration = set(self.spec.calibration_seeds)
        return [s for s in seeds if s in calibration], [s for s in seeds if s not in calibration]

    @property
    def cli_name(self) -> str:
        """What to pass to ``--ladder`` to get this ladder again: its name if built in, else its path."""
        return self.name if self.source.parent == LADDER_DIR else str(self.source)


def builtin_ladders() -> list[str]:
    return sorted(p.stem for p in LADDER_DIR.glob("*.yaml"))


def load_ladder(name_or_path: str | Path) -> Ladder:
    """Load a built-in ladder by name or any ladder file by path; ``UserError`` on any problem."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_file():
            raise UserError(
                f"Ladder file '{path}' does not exist. Give an existing YAML file or a built-in name: "
                f"{', '.join(builtin_ladders())}."
            )
    else:
        known = builtin_ladders()
        if text not in known:
            raise UserError(
                f"Unknown ladder '{text}'.{did_you_mean(text, known)} Built-in ladders: {', '.join(known)}; or give a "
                "path to a ladder YAML file."
            )
        path = LADDER_DIR / f"{text}.yaml"
    return parse_ladder(path)


def parse_ladder(path: Path) -> Ladder:
    raw = read_mapping(path, "Ladder file", "name, family, tasks, training, seeds, rungs, ...")
    try:
        spec = LadderSpec.model_validate(raw)
    except ValidationError as exc:
        raise invalid_file("Ladder file", path, [describe_error(err, LadderSpec) for err in exc.errors()]) from None
    problems: list[str] = []
    rungs = _resolve_rungs(spec, problems)
    problems += _check_tasks(spec, rungs)
    if problems:
        raise invalid_file("Ladder file", path, problems)
    # The hash names what is trained; how the work is spread over devices is left out.
    payload = {
        "ladder": spec.model_dump(mode="json", exclude={"training": {"strategy"}, "calibration_seeds": True}),
        "task_versions": {t: TASKS.get(t).version for t in spec.tasks},
    }
    # A family's later versions build other networks from the same file; version 1 hashes as it always did.
    if spec.family in FAMILIES and (version := FAMILIES.get(spec.family).version) > 1:
        payload["family_version"] = version
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return Ladder(spec=spec, rungs=tuple(rungs), hash=digest, source=path)


def _resolve_rungs(spec: LadderSpec, problems: list[str]) -> list[Rung]:
    if spec.family not in FAMILIES:
        problems.append(
            f"family: unknown model family '{spec.family}'.{did_you_mean(spec.family, FAMILIES)} Known families: "
            f"{', '.join(FAMILIES)}."
        )
        return []
    family = FAMILIES.get(spec.family)
    rungs: list[Rung] = []
    for i, rung in enumerate(spec.rungs):
        fields = {**spec.model, **(rung.model_extra or {})}
        if "d_vocab" in fields:
            problems.append(
                f"rungs[{i}] ({rung.name}).d_vocab: set by the harness's shared vocabulary ({vocab.D_VOCAB}); remove "
                "it."
            )
            continue
        try:
            cfg = family.config.model_validate({**fields, "d_vocab": vocab.D_VOCAB})
        except ValidationError as exc:
            problems += [describe_error(err, family.config, f"rungs[{i}] ({rung.name})") for err in exc.errors()]
            continue
        rungs.append(Rung(rung.name, cfg, cfg.n_params(), rung.lr or spec.training.lr))
    names = [r.name for r in spec.rungs]
    if len(set(names)) != len(names):
        problems.append(f"rungs: rung names must be unique; {sorted({n for n in names if names.count(n) > 1})} repeat.")
    for lo, hi in itertools.pairwise(rungs):
        if hi.params <= lo.params:
            problems.append(
                f"rungs: rungs must grow in size; '{hi.name}' ({hi.params:,} parameters) is not larger than "
                f"'{lo.name}' ({lo.params:,}). Reorder or resize them."
            )
    return rungs


def _check_tasks(spec: LadderSpec, rungs: list[Rung]) -> list[str]:
    problems = []
    for name, weight in spec.tasks.items():
        if name not in TASKS:
            problems.append(f"tasks.{name}: unknown task.{did_you_mean(name, TASKS)} Run 'ladder tasks' for the list.")
            continue
        task = TASKS.get(name)
        if not weight > 0:
            problems.append(f"tasks.{name}: mixture weight must be positive, got {weight}.")
        for rung in rungs:
            if rung.config.n_ctx < task.seq_len - 1:
                problems.append(
                    f"rungs ({rung.name}).n_ctx: {rung.config.n_ctx} is too short for task '{name}', whose examples "
                    f"need {task.seq_len - 1} input positions; set n_ctx >= {task.seq_len - 1}."
                )
    if spec.training.batch_size < len(spec.tasks):
        problems.append(
            f"training.batch_size: {spec.training.batch_size} is smaller than the {len(spec.tasks)} tasks of the "
            "mixture; every batch needs at least one row per task."
        )
    return problems

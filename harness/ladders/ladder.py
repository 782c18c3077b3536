"""Ladder definitions: the YAML schema, its validation, and the resolved ladder with its hash.

A ladder is one model family, an ordered list of rungs (sizes), a training
budget, a task mixture, an evaluation schedule and seeds. Built-in ladders ship
inside the package (``harness/ladders/builtin/NAME.yaml``, read through
``importlib.resources``); the rounds drawn from them are read from ``rounds/`` of
the working folder, like ``results/`` and ``predictions/``; any other YAML file can
be given by path.

A task of the mixture is written ``copy: 1.1`` (the family at its defaults, under
its own name) or ``parity_k3: {family: sparse_parity, k: 3, n_bits: 14, weight: 0.75}``
(a setting of a family under a name of the ladder's choosing); one ladder may hold
a family at several settings, each with its own tag token.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.documents import Strict, describe_error, invalid_file, read_mapping
from harness.errors import UserError, did_you_mean
from harness.ladders.families import FAMILIES
from harness.tasks import TASKS, Task, vocab
from harness.tasks.registry import make
from model_zoo import ModelConfig

# The built-in ladders ship inside the package, so an installed wheel has them as a clone does. The rounds drawn
# from them (``ladder round new``), loaded by name like built-in ladders, are data: like results/ and
# predictions/, they are found under the working folder, never beside the code (an editable install of another
# clone would otherwise read and write that clone's rounds).
LADDER_DIR = Path(str(resources.files("harness.ladders") / "builtin"))
ROUND_DIR = Path("rounds")
BUILTIN_IN_REPO = "harness/ladders/builtin"  # the built-in ladders' folder in a checkout, for reading commits
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
TASK_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
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
    # True: the last block's MLP, the final norm and the unembedding run at answer positions only (the loss
    # reads nothing else), about a fifth less arithmetic on the wide rungs. The same loss and gradients up to
    # float32 rounding, but not the same bits, so it is part of the hash; left out of it while False, so the
    # ladders trained before it existed keep their hashes and reproduce bit for bit.
    answers_only: bool = False
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


class TaskEntry(BaseModel):
    """A task of the mixture written out: its family (default: the entry's name), weight and parameters.

    The parameters are the extra keys, validated by the family's own schema when the ladder is resolved.
    """

    model_config = ConfigDict(extra="allow", frozen=True)
    family: str | None = None
    weight: float


class RoundInfo(Strict):
    """Where a round came from: ``ladder round new --template TEMPLATE --seed SEED``."""

    template: str
    template_hash: str
    seed: int = Field(ge=0)


class LadderSpec(Strict):
    """The whole ladder file."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    round: RoundInfo | None = None  # set on a round drawn from a template
    family: str
    # Task name -> entry; a bare number is the weight of the family of that name at its defaults.
    tasks: dict[str, TaskEntry] = Field(min_length=1)
    training: TrainingSpec
    evaluation: EvaluationSpec = EvaluationSpec()
    seeds: list[int] = Field(min_length=1)
    # Seeds whose results any tuning decision (rungs, budget, learning rates, mixture) looked at. The
    # acceptance checks are judged on the other seeds, which no decision saw. Not part of the hash: it
    # records how the ladder was made, not what is trained. Files written before the word "tuning" took
    # over from "calibration" (which means the reliability of stated probabilities) say calibration_seeds.
    tuning_seeds: list[int] = Field(default=[], validation_alias=AliasChoices("tuning_seeds", "calibration_seeds"))
    # False for a ladder nobody has trained to check that its questions separate sizes (the gpu ladder, until a
    # GPU runs it). Says how far the ladder was checked, not what is trained: not part of the hash. Older files:
    # calibrated.
    tuned: bool = Field(default=True, validation_alias=AliasChoices("tuned", "calibrated"))
    model: dict[str, Any] = {}  # shape fields shared by every rung; a rung's own fields win
    rungs: list[RungSpec] = Field(min_length=1)

    @field_validator("tasks", mode="before")
    @classmethod
    def _bare_weights(cls, tasks: Any) -> Any:
        if not isinstance(tasks, dict):
            return tasks
        return {name: entry if isinstance(entry, dict) else {"weight": entry} for name, entry in tasks.items()}

    @field_validator("tasks")
    @classmethod
    def _task_names(cls, tasks: dict[str, TaskEntry]) -> dict[str, TaskEntry]:
        bad = [name for name in tasks if not re.match(TASK_NAME_PATTERN, name)]
        if bad:
            raise ValueError(
                f"task names {bad} are not allowed: use lower-case letters, digits and '_', starting with a letter, "
                "at most 40 characters"
            )
        return tasks

    @property
    def weights(self) -> dict[str, float]:
        """Task name -> mixture weight."""
        return {name: entry.weight for name, entry in self.tasks.items()}


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
    tasks: tuple[Task, ...]  # in the ladder file's order, each at its setting and tag slot
    hash: str
    source: Path

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def task_versions(self) -> dict[str, int | str]:
        """Task name -> identity: its version at the family's defaults, else version and parameters."""
        return {t.name: t.identity for t in self.tasks}

    def task(self, name: str) -> Task:
        """The ladder's task called ``name``; a "did you mean" ``UserError`` otherwise."""
        return self._named(self.tasks, name, "task")

    def training(self, rung: Rung, shared: TrainingSpec | None = None) -> TrainingSpec:
        """What one rung trains with: the shared training spec (the ladder's, or ``shared``, e.g. with a
        run's device settings) at the rung's own peak learning rate."""
        return (shared or self.spec.training).model_copy(update={"lr": rung.lr})

    def rung(self, name: str) -> Rung:
        """The rung called ``name``; a "did you mean" ``UserError`` otherwise."""
        return self._named(self.rungs, name, "rung")

    def _named(self, items: tuple[Rung, ...] | tuple[Task, ...], name: str, kind: str) -> Rung | Task:
        for item in items:
            if item.name == name:
                return item
        names = [item.name for item in items]
        raise UserError(
            f"Ladder '{self.name}' has no {kind} '{name}'.{did_you_mean(name, names)} Its {kind}s: {', '.join(names)}."
        )

    def split_seeds(self, seeds: list[int]) -> tuple[list[int], list[int]]:
        """``seeds`` split into (tuning seeds, held-out seeds that no tuning decision looked at)."""
        tuning = set(self.spec.tuning_seeds)
        return [s for s in seeds if s in tuning], [s for s in seeds if s not in tuning]

    @property
    def cli_name(self) -> str:
        """What to pass to ``--ladder`` to get this ladder again: its name if built in or a round (of the working
        folder's ``rounds/``) under its own name, else its path."""
        named = self.source.stem == self.name and self.source.parent.resolve() in (
            LADDER_DIR.resolve(),
            ROUND_DIR.resolve(),
        )
        return self.name if named else str(self.source)


@contextmanager
def ladder_folders(ladders: Path | None = None, rounds: Path | None = None) -> Iterator[None]:
    """Inside the block, built-in ladders are read from ``ladders`` and rounds from (and drawn into) ``rounds``.

    For another checkout's files (``ladder check-change`` reads a commit's ladders) and ``ladder round new
    --rounds DIR``; either left out keeps its folder.
    """
    global LADDER_DIR, ROUND_DIR
    saved = LADDER_DIR, ROUND_DIR
    LADDER_DIR, ROUND_DIR = ladders or LADDER_DIR, rounds or ROUND_DIR
    try:
        yield
    finally:
        LADDER_DIR, ROUND_DIR = saved


def builtin_ladders() -> list[str]:
    """The ladders that ship with the package."""
    return sorted(p.stem for p in LADDER_DIR.glob("*.yaml"))


def round_ladders() -> list[str]:
    """The rounds of ``rounds/`` (of the working folder, unless ``ladder_folders`` names another)."""
    return sorted(p.stem for p in ROUND_DIR.glob("*.yaml"))


def round_path(name: str) -> Path:
    """Where the round called ``name`` is (or would be) written."""
    return ROUND_DIR / f"{name}.yaml"


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
        known, rounds = builtin_ladders(), round_ladders()
        if text not in known + rounds:
            listed = f"; rounds: {', '.join(rounds)}" if rounds else ""
            raise UserError(
                f"Unknown ladder '{text}'.{did_you_mean(text, known + rounds)} Built-in ladders: {', '.join(known)}"
                f"{listed}; or give a path to a ladder YAML file."
            )
        path = (LADDER_DIR if text in known else ROUND_DIR) / f"{text}.yaml"
    return parse_ladder(path)


def parse_ladder(path: Path) -> Ladder:
    raw = read_mapping(path, "Ladder file", "name, family, tasks, training, seeds, rungs, ...")
    try:
        spec = LadderSpec.model_validate(raw)
    except ValidationError as exc:
        raise invalid_file("Ladder file", path, [describe_error(err, LadderSpec) for err in exc.errors()]) from None
    problems: list[str] = []
    rungs = _resolve_rungs(spec, problems)
    tasks = _resolve_tasks(spec, problems)
    problems += _check_tasks(spec, rungs, tasks)
    if problems:
        raise invalid_file("Ladder file", path, problems)
    # The hash names what is trained; how the work is spread over devices is left out. A family at its
    # defaults under its own name is written as its weight alone, however the file spells it, so ladders
    # from before task families hash as they always did.
    left_out = {
        "training": {"strategy"} | (set() if spec.training.answers_only else {"answers_only"}),
        "tuning_seeds": True,
        "tuned": True,
        **({"round": True} if spec.round is None else {}),
    }
    ladder = spec.model_dump(mode="json", exclude=left_out)
    ladder["tasks"] = {t.name: _hashed_entry(t, spec.weights[t.name]) for t in tasks}
    payload = {"ladder": ladder, "task_versions": {t.name: t.identity for t in tasks}}
    # A family's later versions build other networks from the same file; version 1 hashes as it always did.
    if spec.family in FAMILIES and (version := FAMILIES.get(spec.family).version) > 1:
        payload["family_version"] = version
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return Ladder(spec=spec, rungs=tuple(rungs), tasks=tuple(tasks), hash=digest, source=path)


def _hashed_entry(task: Task, weight: float) -> float | dict[str, Any]:
    """A task as the hash sees it: its weight alone for a family at its defaults under its own name."""
    if task.is_default and task.name == task.family:
        return weight
    return {"family": task.family, "weight": weight, **task.settings}


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


def _resolve_tasks(spec: LadderSpec, problems: list[str]) -> list[Task]:
    """Each entry of ``tasks:`` as a task at its setting, with its tag slot; problems are appended."""
    families = {}
    for name, entry in spec.tasks.items():
        family = entry.family or name
        if family not in TASKS:
            what = "unknown task" if family == name else f"unknown task family '{family}'"
            problems.append(f"tasks.{name}: {what}.{did_you_mean(family, TASKS)} Run 'ladder tasks' for the list.")
        else:
            families[name] = family
    if len(spec.tasks) > vocab.N_TAGS:
        problems.append(
            f"tasks: {len(spec.tasks)} tasks, but the vocabulary has {vocab.N_TAGS} task-tag slots; keep at most "
            f"{vocab.N_TAGS}."
        )
        return []
    tags = _tag_slots(families)
    tasks = []
    for name, entry in spec.tasks.items():
        if name not in families:
            continue
        settings = entry.model_extra or {}
        try:
            task = make(families[name], settings, name=name, tag=tags[name])
        except ValidationError as exc:
            schema = type(TASKS.get(families[name])).Params
            problems += [describe_error(err, schema, f"tasks.{name}") for err in exc.errors()]
            continue
        problems += [f"tasks.{name}: {p}." for p in task.problems()]
        tasks.append(task)
    return tasks


def _tag_slots(families: dict[str, str]) -> dict[str, int]:
    """Task name -> tag slot: the first task of each family keeps the family's home slot (so a family at its
    defaults keeps its tokens), every further setting takes the lowest slot left, in the file's order."""
    tags: dict[str, int] = {}
    for name, family in families.items():
        home = TASKS.get(family).home_tag
        if home not in tags.values():
            tags[name] = home
    free = iter(sorted(set(range(vocab.N_TAGS)) - set(tags.values())))
    return {name: tags[name] if name in tags else next(free) for name in families}


def _check_tasks(spec: LadderSpec, rungs: list[Rung], tasks: list[Task]) -> list[str]:
    problems = []
    for name, weight in spec.weights.items():
        if not weight > 0:
            problems.append(f"tasks.{name}: mixture weight must be positive, got {weight}.")
    for task in tasks:
        name = task.name
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

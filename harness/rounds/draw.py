"""Drawing a round: a template ladder with every task moved to another setting of its family.

A round is a pure function of (template, seed): the same template file and seed
give the same ladder file, byte for byte, on every machine. Each task keeps its
name, family and weight and gets parameters drawn from its family's
``round_space`` (settings around those that emerge inside the cpu ladder's
sizes), redrawn until the setting differs from the template's (so the template's
measured answer is not the round's) and from every other setting of its family in
the template and the round (so two tasks of one family never become the same
task), is valid, and fits the rungs' context.
Everything else (rungs, training, evaluation) is the template's; the seeds are
0 to ``ROUND_SEEDS`` - 1, and no tuning decision looks at them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from harness.errors import UserError
from harness.ladders.ladder import Ladder
from harness.tasks import Task
from harness.tasks.registry import make

# Seeds a round is trained on: the truth is a probability over seeds, and 8 is the fewest that measure it to within
# a rung interval on the committed rounds (docs/ground-truth.md). Seeds 0 .. 7, whatever the template's.
ROUND_SEEDS = 8
MAX_DRAWS = 1000  # redraws per task before the family's round space is declared unusable for the template


def draw_settings(template: Ladder, seed: int) -> dict[str, dict[str, int]]:
    """Task name -> its drawn parameters, for every task of ``template``, in the template's order."""
    entropy = [seed, int(template.hash[:16], 16)]
    rng = np.random.default_rng(np.random.SeedSequence(entropy))
    n_ctx = min(r.config.n_ctx for r in template.rungs)
    taken: dict[str, list[dict[str, int]]] = {}  # family -> its settings in the template and drawn so far
    for task in template.tasks:
        taken.setdefault(task.family, []).append(task.settings)
    drawn = {}
    for task in template.tasks:
        drawn[task.name] = _draw_one(task, rng, n_ctx, taken[task.family])
        taken[task.family].append(drawn[task.name])
    return drawn


def _draw_one(task: Task, rng: np.random.Generator, n_ctx: int, taken: list[dict[str, int]]) -> dict[str, int]:
    space = type(task).round_space
    if not space:
        raise UserError(f"Task '{task.name}' (family {task.family}) has no round space: it cannot be drawn anew.")
    for _ in range(MAX_DRAWS):
        settings = {key: int(rng.choice(choices)) for key, choices in space.items()}
        try:
            candidate = make(task.family, settings)
        except ValidationError:
            continue  # parameters that contradict each other (e.g. more queries than pairs): draw again
        if candidate.settings not in taken and not candidate.problems() and candidate.seq_len - 1 <= n_ctx:
            return candidate.settings
    raise UserError(
        f"No setting of task '{task.name}' (family {task.family}) in its round space differs from the template's "
        f"and from the family's other settings, and fits n_ctx={n_ctx}; widen the template's n_ctx, or give the "
        "template fewer tasks of this family."
    )


def round_ladder(template: Ladder, seed: int, name: str) -> dict[str, Any]:
    """The round's ladder file as a mapping: the template with drawn tasks, its own name and seeds."""
    spec = template.spec
    settings = draw_settings(template, seed)
    tasks = {}
    for task in template.tasks:
        entry = {} if task.name == task.family else {"family": task.family}
        tasks[task.name] = {**entry, **settings[task.name], "weight": spec.weights[task.name]}
    body = spec.model_dump(mode="json", exclude_unset=True, exclude={"tuning_seeds", "tasks"})
    return {
        "name": name,
        "description": f"Round drawn from the {template.name} ladder with seed {seed}: its rungs and budget, every "
        "task at another setting of its family.",
        "round": {"template": template.name, "template_hash": template.hash, "seed": seed},
        **{k: v for k, v in body.items() if k not in ("name", "description")},
        "tasks": tasks,
        "seeds": list(range(ROUND_SEEDS)),
        "tuning_seeds": [],
    }


def round_text(template: Ladder, seed: int, name: str, command: str) -> str:
    """The round's ladder file: a header saying how it was drawn, then the YAML."""
    mapping = round_ladder(template, seed, name)
    header = (
        f"# Round '{name}', drawn by '{command}'.\n"
        f"# Template: ladder '{template.name}' (hash {template.hash[:12]}); every task at a setting of its family\n"
        "# drawn with that seed. Do not edit: forecasts are made against this file's hash, and the built-in\n"
        "# forecasters were submitted for it before anything was trained.\n"
    )
    order = ["name", "description", "round", "family", "tasks", "training", "evaluation", "seeds",
             "tuning_seeds", "model", "rungs"]  # fmt: skip
    ordered = {key: mapping[key] for key in order if key in mapping}
    return header + yaml.safe_dump(ordered, sort_keys=False, default_flow_style=None, width=120)

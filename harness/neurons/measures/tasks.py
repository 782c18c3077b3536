"""The per-task progress measures by name: what each computes, and which task families it applies to.

Each is a pure function of a model, a task's probe (``probes.TaskProbe``) and the forward pass on it
(``probes.Run``), returning rows of layer, head, value (-1 where a measure is not per layer or head). Measures
that read attention patterns return nothing for a model without them (the mixer family).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from torch import nn

from harness.neurons.measures.parity import secret_share
from harness.neurons.measures.probes import Run, TaskProbe
from harness.neurons.measures.sources import SOURCES, source_attention
from harness.neurons.measures.weights import fourier_share
from harness.registry import Registry
from harness.training.metrics import per_example

Compute = Callable[[nn.Module, TaskProbe, Run], pd.DataFrame]


@dataclass(frozen=True)
class TaskMeasure:
    """A measure of one task: its name in the table, the families it applies to (None: every one), its rule."""

    name: str
    families: tuple[str, ...] | None
    compute: Compute

    def applies(self, family: str) -> bool:
        return self.families is None or family in self.families


TASK_MEASURES: Registry[TaskMeasure] = Registry("progress measure")


def task_measure(name: str, families: tuple[str, ...] | None = None) -> Callable[[Compute], Compute]:
    """Decorator: register the function as the measure ``name`` of ``families`` (every family if None)."""

    def decorate(compute: Compute) -> Compute:
        TASK_MEASURES.register(name)(TaskMeasure(name, families, compute))
        return compute

    return decorate


def _one(value: float) -> pd.DataFrame:
    return pd.DataFrame([(-1, -1, value)], columns=["layer", "head", "value"])


@task_measure("solved_share")
def solved_share(model: nn.Module, probe: TaskProbe, run: Run) -> pd.DataFrame:
    """Share of the probe rows whose every answer token is the argmax (solved by greedy decoding)."""
    _, solved = per_example(run.logits, probe.target, probe.target_mask)  # (n,) bool
    return _one(float(solved.double().mean()))


@task_measure("source_attention", tuple(SOURCES))
def answer_source_attention(model: nn.Module, probe: TaskProbe, run: Run) -> pd.DataFrame:
    """Per layer and head: the answer positions' attention to their sources (``sources``)."""
    return source_attention(probe, run, SOURCES.get(probe.task.family)(probe.task, probe.tokens))


@task_measure("secret_share", ("sparse_parity",))
def parity_secret_share(model: nn.Module, probe: TaskProbe, run: Run) -> pd.DataFrame:
    """Per block: the secret bits' share of the response to one flipped bit (``parity``)."""
    return secret_share(model, probe)


@task_measure("fourier_share", ("mod_add",))
def residue_fourier_share(model: nn.Module, probe: TaskProbe, run: Run) -> pd.DataFrame:
    """The share of the residues' embedding energy in its largest frequencies (``weights.fourier_share``)."""
    return _one(fourier_share(model.embed.weight, probe.task.modulus))


def task_measures(model: nn.Module, probe: TaskProbe) -> pd.DataFrame:
    """Every measure that applies to the probe's task, from one forward pass: measure, task, layer, head, value."""
    run = Run.of(model, probe)
    frames = [
        m.compute(model, probe, run).assign(measure=m.name, task=probe.task.name)
        for m in (TASK_MEASURES.get(name) for name in TASK_MEASURES)
        if m.applies(probe.task.family)
    ]
    return pd.concat([f for f in frames if not f.empty], ignore_index=True)[
        ["measure", "task", "layer", "head", "value"]
    ]

"""Record every neuron: a model's activations at its hook points on a task's examples.

``record`` returns them as a dict of tensors; ``record_to_file`` writes them to
a safetensors file one block at a time, so memory holds the residual stream and
one block's activations, never the whole model's. Examples are fresh draws from
the task's generator in their own random stream (``harness.tasks.streams.RECORD``): the same
(task, n, seed) gives the same examples for every model, so rungs and steps can
be compared example by example.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from torch import nn

from harness.errors import UserError
from harness.files import atomic_file
from harness.neurons import loading
from harness.tasks import TASKS, Task, streams
from harness.training.metrics import per_example
from model_zoo.hooks import hook_points

SAFETENSORS_DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.float64: "F64",
    torch.int64: "I64",
    torch.bool: "BOOL",
}


def examples(task: str | Task, n: int, seed: int) -> dict[str, torch.Tensor]:
    """``n`` examples of ``task`` as the model sees them.

    ``task`` is a task at its setting (``ladder.task(name)``) or the name of a family at its defaults.

    input (n, T) int64: what the model reads; target (n, T) int64: the next token
    at each position; answer_mask (n, T) bool: True where the target is part of
    the answer (the positions the task is scored on).
    """
    task = TASKS.get(task) if isinstance(task, str) else task
    if n < 1:
        raise UserError(f"n must be at least 1, got {n}.")
    rng = np.random.default_rng(np.random.SeedSequence(streams.RECORD, spawn_key=(seed, *task.stream_key)))
    block = task.examples(rng, n)
    tokens, answer_mask = torch.from_numpy(block.tokens), torch.from_numpy(block.answer_mask)  # (n, T + 1) each
    # Copies, not overlapping views of one array: each tensor can be saved or changed on its own.
    return {
        "input": tokens[:, :-1].contiguous(),
        "target": tokens[:, 1:].contiguous(),
        "answer_mask": answer_mask[:, 1:].contiguous(),
    }


def select_hooks(model: nn.Module, patterns: str | list[str] | None = None) -> list[str]:
    """Hook names matching any glob of ``patterns`` (comma-separated in one string), in forward order; all if None."""
    names = list(hook_points(model))
    if patterns is None:
        return names
    wanted = [p.strip() for p in (patterns.split(",") if isinstance(patterns, str) else patterns) if p.strip()]
    if not wanted:
        raise UserError(
            "No hook pattern given; write globs such as 'blocks.*.attn.hook_pattern'. The hook points are: "
            f"{', '.join(names)}."
        )
    empty = [p for p in wanted if not any(fnmatch.fnmatchcase(name, p) for name in names)]
    if empty:
        raise UserError(
            f"Hook pattern {', '.join(repr(p) for p in empty)} matches no hook point of this {type(model).__name__}. "
            "Patterns are globs such as 'blocks.*.attn.hook_pattern' or 'blocks.1.*'; the hook points are: "
            f"{', '.join(names)}."
        )
    return [name for name in names if any(fnmatch.fnmatchcase(name, p) for p in wanted)]


@contextmanager
def capturing(model: nn.Module, names: list[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Within the block, every forward pass stores copies of the named hook points' outputs in the yielded dict.

    The copies are detached and on the CPU.

    Attention layers form their patterns explicitly meanwhile (``explicit``), so
    what is recorded does not depend on which hook points are named.
    """
    points = hook_points(model)
    unknown = [name for name in names if name not in points]
    if unknown:
        raise UserError(
            f"No hook points {unknown} in this {type(model).__name__}; its hook points are: {', '.join(points)}."
        )
    explicit = [m for m in model.modules() if hasattr(m, "explicit")]
    seen: dict[str, torch.Tensor] = {}
    handles = []
    try:
        for module in explicit:
            module.explicit = True
        for name in names:
            handles.append(points[name].register_forward_hook(_store(seen, name)))
        yield seen
    finally:
        for handle in handles:
            handle.remove()
        for module in explicit:
            module.explicit = False


def _store(seen: dict[str, torch.Tensor], name: str) -> Callable[[nn.Module, tuple, torch.Tensor], None]:
    """A forward hook that keeps a copy of its module's output in ``seen[name]``."""

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        # A copy: an activation can be an expanded view (hook_pos_embed) or the very tensor of
        # another hook point (a block's hook_resid_post is the next one's hook_resid_pre).
        seen[name] = output.detach().to("cpu", copy=True)

    return hook


def record(
    model: nn.Module, task: str | Task, n: int = 64, seed: int = 0, hooks: str | list[str] | None = None
) -> dict[str, torch.Tensor]:
    """Activations of every (or every matching) hook point on ``n`` examples of ``task``, with the examples.

    Keys: the hook names (``blocks.0.attn.hook_pattern``, ...; shapes in
    ``model_zoo.decoder`` and the families' modules), plus input, target and
    answer_mask (see ``examples``) and correct (n,) bool: whether the model's
    greedy prediction got every answer token right.
    """
    data = examples(task, n, seed)
    _check_fits(model, data["input"])
    with torch.no_grad(), capturing(model, select_hooks(model, hooks)) as seen:
        logits = model(data["input"].to(_device(model)))  # (n, T, d_vocab)
    return {**data, **seen, "correct": _correct(logits, data)}


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _correct(logits: torch.Tensor, data: dict[str, torch.Tensor]) -> torch.Tensor:
    return per_example(logits.float().cpu(), data["target"], data["answer_mask"])[1]  # (n,) bool


def _check_fits(model: nn.Module, tokens: torch.Tensor) -> None:
    if tokens.shape[1] > model.cfg.n_ctx:
        raise UserError(
            f"This task's examples are {tokens.shape[1]} tokens long, but the model reads at most "
            f"n_ctx={model.cfg.n_ctx}; record a task whose examples fit (see 'ladder tasks')."
        )


def stages(names: list[str], n_layers: int) -> list[list[str]]:
    """Hook names grouped by when the forward pass reaches them: embeddings, each block, the final norm."""
    groups: list[list[str]] = [[] for _ in range(n_layers + 2)]
    for name in names:
        if name.startswith("blocks."):
            groups[1 + int(name.split(".")[1])].append(name)
        else:
            groups[0 if name.startswith("hook_") else -1].append(name)
    return groups


@torch.no_grad()  # not inference_mode: its tensors could not be used later where autograd records
def record_to_file(
    model: nn.Module,
    task: str | Task,
    n: int,
    seed: int,
    hooks: str | list[str] | None,
    path: Path,
    metadata: dict[str, str],
) -> dict[str, tuple[int, ...]]:
    """Write what ``record`` returns to a safetensors file at ``path`` (atomically), one block at a time.

    safetensors puts every tensor's shape and byte range in a header before the
    data; the shapes come from a forward pass on one example (activations scale
    with n along their first axis), so the header is written first and each
    block's activations follow as soon as they exist. Returns the shapes written.
    """
    data = examples(task, n, seed)
    _check_fits(model, data["input"])
    groups = stages(select_hooks(model, hooks), len(model.blocks))
    names = [name for group in groups for name in group]  # the order they are written in
    with capturing(model, names) as probe:
        model(data["input"][:1].to(_device(model)))
    shapes = {
        **{k: tuple(v.shape) for k, v in data.items()},
        **{k: (n, *probe[k].shape[1:]) for k in names},
        "correct": (n,),
    }
    dtypes = {**{k: v.dtype for k, v in data.items()}, **{k: probe[k].dtype for k in names}, "correct": torch.bool}
    with atomic_file(path) as f:
        f.write(_header(shapes, dtypes, metadata))
        for key in data:
            _write(f, data[key], shapes[key], dtypes[key])
        x = data["input"].to(_device(model))
        for part, group in zip([model.embed_input, *model.blocks, model.readout], groups):
            with capturing(model, group) as seen:
                x = part(x)
            for name in group:
                _write(f, seen.pop(name), shapes[name], dtypes[name])
            f.flush()  # this block is on disk before the next one runs
        _write(f, _correct(x, data), shapes["correct"], torch.bool)
    return shapes


def _header(shapes: dict[str, tuple[int, ...]], dtypes: dict[str, torch.dtype], metadata: dict[str, str]) -> bytes:
    """The safetensors header: 8-byte little-endian length, then JSON padded with spaces to a multiple of 8."""
    entries, offset = {}, 0
    for key, shape in shapes.items():
        size = int(np.prod(shape, dtype=np.int64)) * dtypes[key].itemsize
        entries[key] = {
            "dtype": SAFETENSORS_DTYPES[dtypes[key]],
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    text = json.dumps({"__metadata__": metadata, **entries}, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return len(text).to_bytes(8, "little") + text


def _write(f: BinaryIO, tensor: torch.Tensor, shape: tuple[int, ...], dtype: torch.dtype) -> None:
    if tuple(tensor.shape) != shape or tensor.dtype != dtype:
        raise RuntimeError(
            f"activation of shape {tuple(tensor.shape)} {tensor.dtype} does not match the header's {shape} {dtype}"
        )
    f.write(tensor.contiguous().view(torch.uint8).numpy().data)  # raw bytes; numpy has no bfloat16


def record_file(
    ladder: str,
    rung: str,
    seed: int,
    step: int | str,
    task: str,
    n: int,
    examples_seed: int,
    hooks: str | None,
    path: Path,
    out: Path,
) -> dict[str, tuple[int, ...]]:
    """``ladder record``: load the verified checkpoint, record it to ``path`` with metadata saying what it is."""
    ckpt = loading.find_checkpoint(ladder, rung, seed, step, out)
    the_task = ckpt.ladder.task(task)  # at the ladder's setting of it, with its tag slot
    model = loading.load_checkpoint(ckpt)
    metadata = {
        "ladder": ckpt.ladder.name,
        "ladder_hash": ckpt.ladder.hash,
        "family": ckpt.ladder.spec.family,
        "rung": rung,
        "params": str(ckpt.rung.params),
        "config": ckpt.rung.config.model_dump_json(),
        "seed": str(seed),
        "step": str(ckpt.step),
        "source": ckpt.source,  # the file the weights were read from
        "source_sha256": ckpt.sha256,
        "task": task,
        "task_version": str(the_task.identity),
        "n": str(n),
        "examples_seed": str(examples_seed),
        "examples_stream": str(streams.RECORD),
        "hooks": hooks or "*",
    }
    return record_to_file(model, the_task, n, examples_seed, hooks, path, metadata)

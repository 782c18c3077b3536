"""Every training batch of one seed, generated once and shared by every rung and worker.

Batch ``step`` of seed ``k`` is a pure function of ``(k, step)`` and the
mixture, the same for every rung of a ladder; generating it costs more than a
training step of the smallest rungs. So the first job of a seed to need them
writes all of that seed's batches to one file in the results folder
(``batches/seed{k}-{key}.npz``, ``key`` a hash of everything the batches depend
on), under a lock, atomically; every other rung and worker of that seed reads
it. A rung reads exactly the batches it would have generated itself (a test
checks every step). The file is a cache: deleting it costs only its regeneration.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock

from harness.files import atomic_write

if TYPE_CHECKING:  # for annotations only: data.py imports Batches from here, and imports must not cycle
    from harness.training.data import Mixture

FOLDER = "batches"
# Bump when the way batches are generated changes, so no cached file of the old way is read.
GENERATION = 1


@dataclass(frozen=True)
class Batches:
    """All training batches of one run: tokens (S, B, T) and answer_mask (S, B, T), S steps of B rows."""

    tokens: np.ndarray  # uint8 token ids (the vocabulary has fewer than 256)
    answer_mask: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.tokens)


def key(mixture: Mixture, seed: int, steps: int) -> str:
    """What the batches depend on, hashed: tasks (identity and tag slot) and rows per batch, seed, steps."""
    what = {
        "tasks": [[t.name, t.family, t.identity, t.tag, n] for t, n in zip(mixture.tasks, mixture.counts)],
        "seed": seed,
        "steps": steps,
        "generation": GENERATION,
    }
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def generate(mixture: Mixture, seed: int, steps: int) -> Batches:
    """Batches 0 .. steps-1 of ``seed``, each exactly ``mixture.train_batch(seed, step)``."""
    shape = (steps, sum(mixture.counts), mixture.seq_len)
    tokens, mask = np.empty(shape, dtype=np.uint8), np.empty(shape, dtype=bool)
    for step in range(steps):
        t, m = mixture.train_arrays(seed, step)
        tokens[step], mask[step] = t, m
    return Batches(tokens, mask)


def shared(mixture: Mixture, seed: int, steps: int, folder: Path) -> Batches:
    """The seed's batches from ``folder/batches``, generated and written there first if no job has yet."""
    path = folder / FOLDER / f"seed{seed}-{key(mixture, seed, steps)[:16]}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path.with_suffix(".lock")):
        stored = _read(path) if path.exists() else None
        if stored is None:  # not there yet, or damaged: (re)generate
            stored = generate(mixture, seed, steps)
            buffer = io.BytesIO()
            np.savez(buffer, tokens=stored.tokens, answer_mask=stored.answer_mask)
            atomic_write(path, buffer.getvalue())
    return stored


def _read(path: Path) -> Batches | None:
    """The batches in a cache file, or None if it cannot be read whole."""
    try:
        with np.load(path) as stored:
            return Batches(stored["tokens"], stored["answer_mask"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        return None

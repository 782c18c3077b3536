"""``ladder export``: a trained ``gpt`` checkpoint as a Hugging Face model folder.

The folder holds what ``transformers.GPT2LMHeadModel.from_pretrained(folder)``
reads with no network (``config.json``, ``model.safetensors``), the tokenizer of
the shared vocabulary (so ``AutoTokenizer`` and TransformerLens's
``TransformerBridge.boot_transformers(folder)`` find one there too), and
``emergence_ladder.json``: which ladder, rung, seed and step the weights are,
the file they came from (the checkpoint, or the committed reference weights)
with the sha256 the manifest recorded for it, and which task each tag token
stands for in that ladder. The checkpoint is loaded only
after its sha256 check (``harness.neurons.loading``); the folder appears whole
or not at all, and an existing one is replaced only when asked and only if an
earlier export wrote it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from harness.errors import UserError
from harness.ladders.families import FAMILIES
from harness.ladders.ladder import Ladder, load_ladder
from harness.neurons import loading
from harness.neurons.hf import TOKENS, no_equivalent, require, to_hf, tokenizer
from harness.tasks import vocab

PROVENANCE = "emergence_ladder.json"


def provenance(ckpt: loading.Checkpoint) -> dict:
    """What the exported weights are: ladder, rung, seed, step, the file they came from with its sha256, and the
    tag of each task."""
    ladder = ckpt.ladder
    return {
        "format": "transformers GPT2LMHeadModel",
        "ladder": ladder.name,
        "ladder_hash": ladder.hash,
        "family": ladder.spec.family,
        "family_version": FAMILIES.get(ladder.spec.family).version,
        "rung": ckpt.rung.name,
        "params": ckpt.rung.params,
        "config": ckpt.rung.config.model_dump(),
        "seed": ckpt.seed,
        "step": ckpt.step,
        # The file the weights were read from, as the manifest records it: the checkpoint, or in a clone without
        # checkpoints the committed file standing in for it (archived checkpoint or reference weights, the same
        # tensors).
        "source": ckpt.source,
        "source_file": ckpt.path.name,
        "source_sha256": ckpt.sha256,
        "tags": {task.name: TOKENS[vocab.tag(task.tag)] for task in ladder.tasks},
    }


def export_folder(
    ladder: str | Ladder, rung: str, seed: int, step: int | str, folder: Path, out: Path | str, replace: bool = False
) -> dict:
    """Write (rung, seed)'s checkpoint at ``step`` as a Hugging Face model folder at ``folder``; returns its provenance.

    Refuses (``UserError``) a family with no GPT-2 equivalent, and an existing
    ``folder`` unless it is empty, or ``replace`` is set and an earlier export wrote it.
    """
    folder = Path(folder)
    ladder = ladder if isinstance(ladder, Ladder) else load_ladder(ladder)
    if ladder.spec.family != "gpt":
        raise no_equivalent(ladder.spec.family, f"Ladder '{ladder.name}'")
    _check_target(folder, replace)
    ckpt = loading.find_checkpoint(ladder, rung, seed, step, out)
    hf = to_hf(loading.load_checkpoint(ckpt))
    about = provenance(ckpt)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    hf_logging = require("transformers.utils.logging", "transformers")
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # one model file of a few MB: a progress bar says nothing
    try:
        hf.save_pretrained(staging)
        tokenizer().save_pretrained(staging)
        (staging / PROVENANCE).write_text(json.dumps(about, indent=2) + "\n", encoding="utf-8")
        _readable_as_umask_allows(staging)
        _put_in_place(staging, folder)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
        shutil.rmtree(staging, ignore_errors=True)
    return about


def _check_target(folder: Path, replace: bool) -> None:
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        return
    if not folder.is_dir():
        raise UserError(f"'{folder}' is a file, not a folder; choose another -o/--output for the exported model.")
    if not replace:
        raise UserError(
            f"'{folder}' already exists and is not overwritten; choose another -o/--output, or pass --replace."
        )
    if not (folder / PROVENANCE).is_file():
        raise UserError(
            f"'{folder}' holds files that 'ladder export' did not write (it has no {PROVENANCE}), so --replace does "
            "not delete it. Choose another -o/--output, or empty that folder yourself."
        )


def _readable_as_umask_allows(staging: Path) -> None:
    """The permissions of a folder made by ``mkdir`` (``mkdtemp`` and some writers make them private to their owner)."""
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    for path in staging.iterdir():
        path.chmod(0o666 & ~umask)


def _put_in_place(staging: Path, folder: Path) -> None:
    """Move the finished ``staging`` folder to ``folder``, first moving aside (then deleting) what was there."""
    old = None
    if folder.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
        folder.rename(old / "previous")
    staging.rename(folder)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)

"""The checkpoint file: one model's weights at one training step of one (rung, seed) pair.

This module is the only code that names, writes, lists, verifies or reads these
files. A checkpoint is ``step{step:07d}.pt`` in its pair's folder (the results
store says where that is), holding ``torch.save`` of ``{"family", "family_version",
"config", "step", "state_dict"}`` (files from before family versions lack
``family_version``: they are version 1): plain data and tensors only, so it is read back with
``torch.load(weights_only=True)``, which cannot run code hidden in a file. The
manifest records each file's sha256 when the pair is trained; a file is read
only if its bytes still have that hash.
"""

from __future__ import annotations

import io
from pathlib import Path

import torch
from pydantic import BaseModel
from torch import nn

from harness.files import atomic_write, sha256_bytes, sha256_file

PATTERN = "step*.pt"


class Mismatch(Exception):
    """A stored model file (checkpoint or reference weights) whose bytes no longer have the recorded sha256."""


def file_name(step: int) -> str:
    return f"step{step:07d}.pt"


def save(folder: Path, family: str, family_version: int, config: BaseModel, step: int, model: nn.Module) -> None:
    """Write the model's weights at ``step`` into ``folder``."""
    # Clones: a parameter may be a view of a larger (flat) tensor, whose whole storage torch.save would write.
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    blob = {"family": family, "family_version": family_version, "config": config.model_dump(), "step": step}
    buffer = io.BytesIO()
    torch.save({**blob, "state_dict": state}, buffer)
    atomic_write(folder / file_name(step), buffer.getvalue())


def listing(folder: Path, final: Path, relative_to: Path) -> list[dict]:
    """Manifest entries (step, path, sha256) of the checkpoints in ``folder``, as they will lie in ``final``."""
    return [
        {
            "step": int(path.stem.removeprefix("step")),
            "path": str((final / path.name).relative_to(relative_to)),
            "sha256": sha256_file(path),
        }
        for path in sorted(folder.glob(PATTERN))
    ]


def bundle(folder: Path, listed: list[dict]) -> dict[str, bytes]:
    """The bytes of the checkpoints ``listing`` gave for ``folder``, by file name, to send to the driver."""
    return {name: (folder / name).read_bytes() for name in (Path(c["path"]).name for c in listed)}


def unbundle(folder: Path, files: dict[str, bytes], listed: list[dict]) -> str | None:
    """Write shipped checkpoints into ``folder``, each atomically and only if its bytes have the sha256 listed.

    Returns None when every listed file is written and reads back with its hash, otherwise what went wrong
    (``folder`` may then hold some of the files; the caller discards it).
    """
    for ckpt in listed:
        name = Path(ckpt["path"]).name
        data = files.get(name)
        if data is None or sha256_bytes(data) != ckpt["sha256"]:
            return f"its checkpoint {name} arrived {'missing' if data is None else 'damaged'} from the worker"
        atomic_write(folder / name, data)
        if not intact(folder / name, ckpt["sha256"]):
            return f"its checkpoint {folder / name} does not read back as written"
    return None


def intact(path: Path, sha256: str) -> bool:
    """Whether the checkpoint is on disk with the recorded sha256."""
    return path.is_file() and sha256_file(path) == sha256


def read(path: Path, sha256: str) -> dict:
    """The checkpoint's contents, from one read of its bytes: hashed, then loaded only if the hash is ``sha256``.

    Reading once means the file cannot change between the check and the load.
    Raises ``Mismatch`` when the hash differs.
    """
    return torch.load(io.BytesIO(verified_bytes(path, sha256)), map_location="cpu", weights_only=True)


def verified_bytes(path: Path, sha256: str) -> bytes:
    """The file's bytes, read once, if they hash to ``sha256``; ``Mismatch`` otherwise.

    Loading from these very bytes means the file cannot change between the check and the load.
    """
    data = path.read_bytes()
    if sha256_bytes(data) != sha256:
        raise Mismatch(str(path))
    return data

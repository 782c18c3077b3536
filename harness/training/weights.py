"""Reference weights: the final weights of a finished pair as safetensors, small enough to commit with the results.

Checkpoints (``harness.training.checkpoints``) stay out of git: a ladder writes
several per pair. The final weights of every pair of a reference ladder are
committed instead, one file per pair at ``weights/<rung>/seed<k>.safetensors``
in the ladder's results folder, so that a fresh clone can open every trained
model at once. A file holds the state dict's tensors and, as safetensors
metadata (strings), the family, its version, the rung's config (JSON) and the
step. safetensors holds no code, and the manifest records each file's sha256:
a file is read only from one read of its bytes whose hash is the recorded one.
The tensors are exactly the final checkpoint's, so either loads the same model.

The archive (``add_archive``, ``ladder weights --over-training``) is the same
format at every step: every checkpoint over training of the rungs the
internals track reveals by default, at ``archive/<rung>/seed<k>/step<NNNNNNN>.safetensors``,
recorded in the pair's manifest entry as ``archive`` (step, path, sha256), so
that a fresh clone can study the revealed rungs over training. Only pairs
whose checkpoints are on disk can be archived: a pair trained on another
machine, whose checkpoints were never committed, is named and left out
(retraining it here does not give the same bytes).
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load, save

from harness.errors import Damaged, Problem, UserError
from harness.files import atomic_write, sha256_bytes, sha256_file
from harness.training import checkpoints
from harness.training.checkpoints import verified_bytes
from harness.training.store import ResultsStore

FOLDER = "weights"
ARCHIVE = "archive"
PATTERNS = (f"{FOLDER}/*/*.safetensors", f"{ARCHIVE}/*/*/*.safetensors")  # every safetensors file a ladder commits


def relative_path(rung: str, seed: int) -> str:
    """Where a pair's weights lie, relative to its ladder's results folder."""
    return f"{FOLDER}/{rung}/seed{seed}.safetensors"


def archive_path(rung: str, seed: int, step: int) -> str:
    """Where a pair's archived checkpoint at ``step`` lies, relative to its ladder's results folder."""
    return f"{ARCHIVE}/{rung}/seed{seed}/{Path(checkpoints.file_name(step)).stem}.safetensors"


def recorded_files(entry: dict) -> list[dict]:
    """Every committed safetensors file a pair's manifest entry records (path, sha256): weights and archive."""
    return ([entry["weights"]] if "weights" in entry else []) + entry.get("archive", [])


def write(path: Path, blob: dict) -> str:
    """Write a checkpoint's contents (``harness.training.checkpoints.read``) as safetensors; return the sha256."""
    tensors = {name: tensor.contiguous() for name, tensor in blob["state_dict"].items()}
    metadata = {
        "family": blob["family"],
        "family_version": str(blob.get("family_version", 1)),
        "config": json.dumps(blob["config"], sort_keys=True),
        "step": str(blob["step"]),
    }
    data = save(tensors, metadata)
    atomic_write(path, data)
    return sha256_bytes(data)


def read(path: Path, sha256: str) -> dict:
    """The file's contents shaped as a checkpoint's, from one read of its bytes, loaded only if they hash to
    ``sha256``; ``checkpoints.Mismatch`` otherwise."""
    data = verified_bytes(path, sha256)
    try:
        header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])  # safetensors: u64 size, JSON header
        meta = header["__metadata__"]
        return {
            "family": meta["family"],
            "family_version": int(meta["family_version"]),
            "config": json.loads(meta["config"]),
            "step": int(meta["step"]),
            "state_dict": load(data),
        }
    except (KeyError, TypeError, ValueError) as exc:  # the recorded bytes, but not a file this module wrote
        raise UserError(
            f"'{path}' has the sha256 its manifest records but is not a model file this code wrote ({exc!r}); "
            "the manifest and the file have been edited together. Restore both from git."
        ) from None


def recorded_problems(store: ResultsStore, recorded: dict) -> list[Problem]:
    """A pair's committed reference weights: on disk (they are in git) with the recorded sha256."""
    try:
        path = store.inside(recorded["path"])
    except Damaged as exc:
        return [Problem(store.manifest_path, str(exc))]
    if path.is_file() and sha256_file(path) == recorded["sha256"]:
        return []
    what = "is missing" if not path.is_file() else f"no longer has the recorded sha256 ({recorded['sha256'][:12]})"
    return [Problem.of(path, what, f"Restore it from git (git checkout -- {path}).")]


def add_weights(store: ResultsStore) -> tuple[int, int]:
    """Write the reference weights of every finished pair that lacks them, from its verified final checkpoint.

    Returns (pairs written, bytes written). Every source checkpoint is checked first (on disk, with its
    recorded sha256), so a missing or changed one is a ``UserError`` naming ``ladder run --restore``
    and nothing is written: weights are never made from anything unverified.
    """
    manifest = store.manifest()
    restore = f"ladder run --ladder {store.ladder.cli_name} --restore"
    sources = {}
    for key, entry in manifest["runs"].items():
        if entry.get("weights") and not recorded_problems(store, entry["weights"]):
            continue
        final = max(entry["checkpoints"], key=lambda c: c["step"])
        source = store.inside(final["path"])
        if not source.is_file():
            raise UserError(
                f"The final checkpoint of {key} ('{source}') is not on disk, so its reference weights cannot be "
                f"written; nothing was written. Restore it first with '{restore}'."
            )
        try:
            sources[key] = checkpoints.read(source, final["sha256"])
        except checkpoints.Mismatch:
            raise UserError(
                f"Checkpoint '{source}' does not have the sha256 the manifest recorded; nothing was written. "
                f"Delete it and recreate it with '{restore}'."
            ) from None
    size = 0
    for key, blob in sources.items():
        entry = manifest["runs"][key]
        relative = relative_path(entry["rung"], entry["seed"])
        entry["weights"] = {"path": relative, "sha256": write(store.folder / relative, blob)}
        size += (store.folder / relative).stat().st_size
    if sources:
        store.write_manifest(manifest)
    return len(sources), size


def add_archive(store: ResultsStore, rungs: list[str]) -> tuple[int, int, list[str]]:
    """Archive every checkpoint over training of the finished pairs of ``rungs`` as safetensors (``archive_path``).

    Returns (pairs written, bytes written, pairs left out). A pair whose archive is already complete and intact
    is left as it is. A pair whose checkpoints are not all on disk with their recorded sha256 cannot be archived
    (it was trained elsewhere, or its checkpoints were deleted): it is left out and named, never archived from
    anything unverified.
    """
    manifest = store.manifest()
    written, size, lacking = 0, 0, []
    for key, entry in manifest["runs"].items():
        if entry["rung"] not in rungs or _archived(store, entry):
            continue
        listed = entry["checkpoints"]
        paths = [store.inside(c["path"]) for c in listed]
        if not all(checkpoints.intact(path, c["sha256"]) for path, c in zip(paths, listed)):
            lacking.append(key)
            continue
        archive = []
        for path, c in zip(paths, listed):
            relative = archive_path(entry["rung"], entry["seed"], c["step"])
            sha = write(store.folder / relative, checkpoints.read(path, c["sha256"]))
            archive.append({"step": c["step"], "path": relative, "sha256": sha})
            size += (store.folder / relative).stat().st_size
        entry["archive"] = archive
        store.write_manifest(manifest)  # after each pair: an interruption leaves no file unrecorded but its own
        written += 1
    return written, size, lacking


def _archived(store: ResultsStore, entry: dict) -> bool:
    """Whether the pair's archive holds every step of its checkpoints, each file intact."""
    archive = entry.get("archive", [])
    steps = sorted(c["step"] for c in entry["checkpoints"])
    return sorted(a["step"] for a in archive) == steps and not any(recorded_problems(store, a) for a in archive)

"""Bringing back a finished pair's checkpoints by retraining it (``ladder run --restore``), only byte-identical."""

from __future__ import annotations

import shutil

from harness.training import checkpoints
from harness.training.store import ResultsStore, pair_key


def _made_with(entry: dict) -> str:
    """What a manifest entry says a pair was trained with, in a few words."""
    packages, hardware = entry.get("packages", {}), entry.get("hardware", {})
    threads = entry.get("devices", {}).get("threads", "?")
    return (
        f"torch {packages.get('torch')}, {threads} thread(s) on {hardware.get('processor') or hardware.get('machine')}"
    )


def checkpoints_intact(store: ResultsStore, entry: dict) -> bool:
    """Whether every checkpoint a finished pair's manifest entry lists is on disk with its recorded sha256."""
    return all(checkpoints.intact(store.folder / c["path"], c["sha256"]) for c in entry["checkpoints"])


def restore_checkpoints(store: ResultsStore, rung: str, seed: int, retrained: dict) -> str | None:
    """Put a retrained pair's ``.partial`` checkpoints in place if they are byte-identical to the recorded ones.

    Returns None when restored; otherwise why not, leaving curves, manifest and
    any existing checkpoint files untouched and the retrained files deleted.
    """
    recorded = store.manifest()["runs"][pair_key(rung, seed)]
    differ = [
        c["step"] for c, r in zip(recorded["checkpoints"], retrained["checkpoints"]) if c["sha256"] != r["sha256"]
    ]
    if differ or len(recorded["checkpoints"]) != len(retrained["checkpoints"]):
        shutil.rmtree(store.pair_partial_dir(rung, seed), ignore_errors=True)
        was, now = _made_with(recorded), _made_with(retrained)
        return (
            f"the retrained checkpoints differ from the recorded ones (steps {differ or 'all'}), so they are not "
            "the models behind the stored curves and were discarded; "
            f"the pair was trained with {was} and retrained with {now}. Restore on a machine and software like "
            "the original, or train a copy of your own with 'ladder run' and --out DIR."
        )
    store.place_checkpoints(rung, seed)
    return None

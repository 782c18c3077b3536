"""Retraining a finished pair to bring back its checkpoints (``ladder run --restore``) or to re-measure its wall
time (``ladder run --retime``), each taken only where the retrained checkpoints are byte-identical to the recorded
ones: only then is the retraining the computation behind the stored curves.

A retime is for a pair whose recorded wall time measured the machine's load
rather than the training (it shared the cores with other jobs): the new time
replaces it, and every earlier one stays in the entry's ``earlier_wall_times_s``.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

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


def _differs(recorded: dict, retrained: dict) -> str | None:
    """Why a retrained pair is not the computation behind the recorded one, or None when its checkpoints are
    byte-identical."""
    differ = [
        c["step"] for c, r in zip(recorded["checkpoints"], retrained["checkpoints"]) if c["sha256"] != r["sha256"]
    ]
    if not differ and len(recorded["checkpoints"]) == len(retrained["checkpoints"]):
        return None
    return (
        f"the retrained checkpoints differ from the recorded ones (steps {differ or 'all'}), so they are not "
        "the models behind the stored curves and were discarded; "
        f"the pair was trained with {_made_with(recorded)} and retrained with {_made_with(retrained)}"
    )


def restore_checkpoints(store: ResultsStore, rung: str, seed: int, retrained: dict) -> str | None:
    """Put a retrained pair's ``.partial`` checkpoints in place if they are byte-identical to the recorded ones.

    Returns None when restored; otherwise why not, leaving curves, manifest and
    any existing checkpoint files untouched and the retrained files deleted.
    """
    problem = _differs(store.manifest()["runs"][pair_key(rung, seed)], retrained)
    if problem:
        shutil.rmtree(store.pair_partial_dir(rung, seed), ignore_errors=True)
        return (
            f"{problem}. Restore on a machine and software like the original, or train a copy of your own with "
            "'ladder run' and --out DIR."
        )
    store.place_checkpoints(rung, seed)
    return None


def retime_pair(store: ResultsStore, rung: str, seed: int, retrained: dict) -> str | None:
    """Record a retrained pair's wall time as the pair's if its checkpoints are byte-identical to the recorded
    ones, keeping the time it replaces in ``earlier_wall_times_s`` and the moment in ``retimed_at``.

    Returns None when recorded; otherwise why not, the manifest untouched. The
    retrained checkpoints are deleted either way: the recorded files stay.
    """
    shutil.rmtree(store.pair_partial_dir(rung, seed), ignore_errors=True)
    manifest = store.manifest()
    entry = manifest["runs"][pair_key(rung, seed)]
    problem = _differs(entry, retrained)
    if problem:
        return f"{problem}; its recorded wall time stands. Retime on a machine and software like the original."
    entry["earlier_wall_times_s"] = [*entry.get("earlier_wall_times_s", []), entry["wall_time_s"]]
    entry["wall_time_s"] = retrained["wall_time_s"]
    entry["retimed_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    store.write_manifest(manifest)
    return None

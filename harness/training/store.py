"""The results store of one ladder: ``curves.parquet``, ``manifest.json`` and checkpoints.

curves.parquet is the one source of truth for measurements: a tidy long table
with one row per (rung, seed, task, step, metric). manifest.json says which
(rung, seed) pairs are finished and how they were made.

A pair is committed in a fixed order: checkpoints, then curves (atomic
replace), then the manifest entry (atomic replace). The manifest entry is the
commit point: rows of a pair that has none are leftovers of a crash and are
dropped on the next run, so a run killed anywhere and restarted ends with
exactly the rows of an uninterrupted run.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from harness.errors import UserError
from harness.files import atomic_write
from harness.training import checkpoints
from harness.training.ladder import Ladder

COLUMNS = ["ladder", "rung", "params", "seed", "task", "step", "tokens", "metric", "value"]
DTYPES = {
    "ladder": "string",
    "rung": "string",
    "params": "int64",
    "seed": "int64",
    "task": "string",
    "step": "int64",
    "tokens": "int64",
    "metric": "string",
    "value": "float64",
}


def pair_key(rung: str, seed: int) -> str:
    return f"{rung}/seed{seed}"


def _made_with(entry: dict) -> str:
    """What a manifest entry says a pair was trained with, in a few words."""
    packages, hardware = entry.get("packages", {}), entry.get("hardware", {})
    threads = entry.get("devices", {}).get("threads", "?")
    return (
        f"torch {packages.get('torch')}, {threads} thread(s) on {hardware.get('processor') or hardware.get('machine')}"
    )


def empty_curves() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in DTYPES.items()})


class ResultsStore:
    """Reads and commits the results of one ladder in ``folder`` (``OUT/<ladder>``, by default ``results/<ladder>``)."""

    def __init__(self, folder: Path, ladder: Ladder) -> None:
        self.folder, self.ladder = folder, ladder
        self.curves_path = folder / "curves.parquet"
        self.manifest_path = folder / "manifest.json"
        self.checkpoint_dir = folder / "checkpoints"

    @classmethod
    def of(cls, ladder: Ladder, out: Path) -> ResultsStore:
        """The store of ``ladder`` under the results folder ``out`` (what ``--out`` names)."""
        return cls(out / ladder.name, ladder)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock: one ``ladder run`` at a time may write here."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.folder / ".lock")
        try:
            lock.acquire(timeout=1)
        except Timeout:
            raise UserError(
                f"Another 'ladder run' is writing to '{self.folder}'. Wait for it to finish, or pass a different --out."
            ) from None
        try:
            yield
        finally:
            lock.release()

    def manifest(self) -> dict:
        """This ladder version's manifest (empty if nothing is finished); ``UserError`` if it is another version's."""
        manifest = self._read_manifest()
        if manifest is None:
            return {"ladder": self.ladder.name, "ladder_hash": self.ladder.hash, "runs": {}}
        if manifest.get("ladder_hash") != self.ladder.hash:
            raise UserError(
                f"'{self.manifest_path}' holds results of a different version of ladder '{self.ladder.name}' "
                f"(hash {str(manifest.get('ladder_hash'))[:12]}, the ladder file now gives {self.ladder.hash[:12]}). "
                "Measured results are never mixed or overwritten: pass --out DIR to write elsewhere, or move that "
                "directory away."
            )
        return manifest

    def exists(self) -> bool:
        """Whether any (rung, seed) of this exact ladder version is finished here (other versions' do not count)."""
        manifest = self._read_manifest()
        return manifest is not None and manifest.get("ladder_hash") == self.ladder.hash and bool(manifest.get("runs"))

    def _read_manifest(self) -> dict | None:
        if not self.manifest_path.exists():
            return None
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except json.JSONDecodeError as exc:
            raise UserError(
                f"'{self.manifest_path}' is not valid JSON ({exc}); it has been edited or damaged. Restore it from "
                "git or from a backup."
            ) from None
        if not isinstance(manifest, dict):
            raise UserError(
                f"'{self.manifest_path}' holds {type(manifest).__name__}, not a manifest; it has been edited or "
                "damaged. Restore it from git or from a backup."
            )
        return manifest

    def curves(self) -> pd.DataFrame:
        if not self.curves_path.exists():
            return empty_curves()
        return pd.read_parquet(self.curves_path)

    def finished(self) -> set[tuple[str, int]]:
        return {(run["rung"], run["seed"]) for run in self.manifest()["runs"].values()}

    def recover(self) -> int:
        """Drop rows of pairs that have no manifest entry (a crash between the two writes); return how many."""
        curves = self.curves()
        done = self.finished()
        keep = [(r, s) in done for r, s in zip(curves["rung"], curves["seed"])]
        dropped = len(curves) - sum(keep)
        if dropped:
            self._write_curves(curves[keep])
        return dropped

    def commit(self, rung: str, seed: int, rows: pd.DataFrame, entry: dict) -> None:
        """Store a finished pair: its ``.partial`` checkpoints into place, rows, then the manifest entry.

        The pair's rows replace any old rows of the same pair (only reached with --force).
        """
        self._place_checkpoints(rung, seed)
        curves = self.curves()
        other = curves[~((curves["rung"] == rung) & (curves["seed"] == seed))]
        self._write_curves(pd.concat([other, rows], ignore_index=True))
        manifest = self.manifest()
        manifest["task_versions"] = self.ladder.task_versions
        manifest["rungs"] = {r.name: r.params for r in self.ladder.rungs}
        manifest["runs"][pair_key(rung, seed)] = entry
        manifest["runs"] = dict(
            sorted(manifest["runs"].items(), key=lambda kv: self._order(kv[1]["rung"], kv[1]["seed"]))
        )
        manifest["seeds"] = sorted({run["seed"] for run in manifest["runs"].values()})
        atomic_write(self.manifest_path, (json.dumps(manifest, indent=2) + "\n").encode())

    def checkpoints_intact(self, entry: dict) -> bool:
        """Whether every checkpoint a finished pair's manifest entry lists is on disk with its recorded sha256."""
        return all(checkpoints.intact(self.folder / c["path"], c["sha256"]) for c in entry["checkpoints"])

    def restore_checkpoints(self, rung: str, seed: int, retrained: dict) -> str | None:
        """Put a retrained pair's ``.partial`` checkpoints in place if they are byte-identical to the recorded ones.

        Returns None when restored; otherwise why not, leaving curves, manifest and
        any existing checkpoint files untouched and the retrained files deleted.
        """
        recorded = self.manifest()["runs"][pair_key(rung, seed)]
        differ = [
            c["step"] for c, r in zip(recorded["checkpoints"], retrained["checkpoints"]) if c["sha256"] != r["sha256"]
        ]
        if differ or len(recorded["checkpoints"]) != len(retrained["checkpoints"]):
            shutil.rmtree(self.pair_partial_dir(rung, seed), ignore_errors=True)
            was, now = _made_with(recorded), _made_with(retrained)
            return (
                f"the retrained checkpoints differ from the recorded ones (steps {differ or 'all'}), so they are not "
                "the models behind the stored curves and were discarded; "
                f"the pair was trained with {was} and retrained with {now}. Restore on a machine and software like "
                "the original, or train a copy of your own with 'ladder run' and --out DIR."
            )
        self._place_checkpoints(rung, seed)
        return None

    def _place_checkpoints(self, rung: str, seed: int) -> None:
        final, partial = self.pair_checkpoint_dir(rung, seed), self.pair_partial_dir(rung, seed)
        shutil.rmtree(final, ignore_errors=True)
        if partial.exists():
            partial.rename(final)

    def _order(self, rung: str, seed: int) -> tuple[int, int]:
        return [r.name for r in self.ladder.rungs].index(rung), seed

    def _write_curves(self, curves: pd.DataFrame) -> None:
        """Canonical order and types, so the same measurements always give the same file."""
        curves = curves[COLUMNS].astype(DTYPES)
        rank = {r.name: i for i, r in enumerate(self.ladder.rungs)}
        curves = curves.assign(_rank=curves["rung"].map(rank)).sort_values(
            ["_rank", "seed", "task", "metric", "step"], kind="stable"
        )
        curves = curves.drop(columns="_rank").reset_index(drop=True)
        atomic_write(self.curves_path, curves.to_parquet(index=False))

    def pair_checkpoint_dir(self, rung: str, seed: int) -> Path:
        return self.checkpoint_dir / rung / f"seed{seed}"

    def pair_partial_dir(self, rung: str, seed: int) -> Path:
        """Where a pair's checkpoints are written until ``commit`` moves them into place."""
        return self.checkpoint_dir / rung / f"seed{seed}.partial"

"""The results store of one ladder: ``curves.parquet``, ``manifest.json`` and checkpoints.

curves.parquet is the one source of truth for measurements: a tidy long table
with one row per (rung, seed, task, step, metric). manifest.json says which
(rung, seed) pairs are finished and how they were made.

A pair is committed in a fixed order: checkpoints, then curves (atomic
replace), then the manifest entry (atomic replace). The manifest entry is the
commit point: rows of a pair that has none are leftovers of a crash and are
dropped on the next run, so a run killed anywhere and restarted ends with
exactly the rows of an uninterrupted run. A pair retrained with --force loses
its manifest entry before its rows change, so the same holds for it.

The manifest records the sha256 of curves.parquet as of its last commit, so an
edit made outside the harness is refused rather than read. Every damaged file
(unreadable, truncated, wrong columns, a manifest without its fields) gives a
``Damaged`` error naming the file and the repair; ``problems`` lists them all,
with the checkpoints, for ``ladder verify``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from harness.errors import Damaged, UserError
from harness.files import atomic_write, sha256_bytes, sha256_file
from harness.ladders.ladder import Ladder

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


# The manifest's keys in the order they are written; any other key follows, alphabetically.
# Where a pair's model at one step is read from: its checkpoint, or a committed safetensors file standing in for it.
CHECKPOINT, ARCHIVED, WEIGHTS = "checkpoint", "archived checkpoint", "reference weights"
MANIFEST_ORDER = (
    "ladder", "ladder_hash", "training_started_at", "seeds", "curves_sha256", "task_versions", "rungs", "runs",
)  # fmt: skip


def pair_key(rung: str, seed: int) -> str:
    return f"{rung}/seed{seed}"


def committed_file(entry: dict, step: int) -> tuple[str, dict] | None:
    """What stands in for a finished pair's checkpoint at ``step`` when the checkpoint is not on disk: (ARCHIVED,
    its archived copy) or, at the final step, (WEIGHTS, its reference weights), each file's (path, sha256) as the
    manifest records it (``harness.training.weights``); None when it has neither. Whether the file is on disk is
    the caller's."""
    archived = next((a for a in entry.get("archive", []) if a["step"] == step), None)
    if archived is not None:
        return ARCHIVED, archived
    final = max(c["step"] for c in entry["checkpoints"])
    return (WEIGHTS, entry["weights"]) if step == final and "weights" in entry else None


def _is_entry(entry: object) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("rung"), str) and isinstance(entry.get("seed"), int)


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

    def inside(self, relative: str) -> Path:
        """The file a manifest entry names, refused (``Damaged``) when the name leads outside this folder."""
        path = (self.folder / relative).resolve()
        if not path.is_relative_to(self.folder.resolve()):
            raise Damaged(
                f"'{self.manifest_path}' points {relative} outside its results folder; the manifest has been edited. "
                f"Restore it from git (git checkout -- {self.manifest_path})."
            )
        return path

    def manifest(self) -> dict:
        """This ladder version's manifest (empty if nothing is finished); ``UserError`` if it is another version's."""
        manifest = self.read_manifest()
        if manifest is None:
            return {"ladder": self.ladder.name, "ladder_hash": self.ladder.hash, "runs": {}}
        if manifest["ladder_hash"] != self.ladder.hash:
            raise UserError(
                f"'{self.manifest_path}' holds results of a different version of ladder '{self.ladder.name}' "
                f"(hash {str(manifest.get('ladder_hash'))[:12]}, the ladder file now gives {self.ladder.hash[:12]}). "
                "Measured results are never mixed or overwritten: pass --out DIR to write elsewhere, or move that "
                "directory away."
            )
        return manifest

    def exists(self) -> bool:
        """Whether any (rung, seed) of this exact ladder version is finished here (other versions' do not count)."""
        manifest = self.read_manifest()
        return manifest is not None and manifest.get("ladder_hash") == self.ladder.hash and bool(manifest.get("runs"))

    def read_manifest(self, with_curves_hash: bool = True) -> dict | None:
        if not self.manifest_path.exists():
            return None
        try:
            manifest = json.loads(self.manifest_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise self._damaged_manifest(f"is not valid JSON ({exc})") from None
        if not isinstance(manifest, dict):
            raise self._damaged_manifest(f"holds {type(manifest).__name__}, not a manifest")
        if not isinstance(manifest.get("ladder_hash"), str):
            raise self._damaged_manifest("has no 'ladder_hash', so it cannot say which ladder version it holds")
        runs = manifest.get("runs")
        if not isinstance(runs, dict) or not all(_is_entry(e) for e in runs.values()):
            raise self._damaged_manifest("has no 'runs' mapping of finished pairs, each with its rung and seed")
        if with_curves_hash and runs and not isinstance(manifest.get("curves_sha256"), str):
            raise Damaged(
                f"'{self.manifest_path}' does not record the sha256 of curves.parquet (manifests written before it "
                "did, or edited). If the curves are yours and unchanged, run 'ladder verify --ladder "
                f"{self.ladder.cli_name} --repair' to record it; otherwise restore both files from git or a backup."
            )
        return manifest

    def _damaged_manifest(self, what: str) -> Damaged:
        return Damaged(
            f"'{self.manifest_path}' {what}; it has been edited or damaged. Restore it from git "
            f"(git checkout -- {self.manifest_path}) or from a backup."
        )

    def curves(self, checked: bool = True) -> pd.DataFrame:
        """The measured rows; ``Damaged`` if the file is missing while pairs are listed, unreadable, lacks columns,
        or (``checked``) differs from what the manifest recorded. Only recovery after a crash reads it unchecked."""
        manifest = self.read_manifest()
        recorded = manifest.get("curves_sha256") if manifest is not None else None
        if not self.curves_path.exists():
            if recorded is not None:
                raise Damaged(
                    f"'{self.curves_path}' is missing, but '{self.manifest_path}' lists finished pairs. "
                    + self.restore_or_start_over()
                )
            return empty_curves()
        data = self.curves_path.read_bytes()
        curves = self.parse_curves(data)  # first, so a truncated file is called truncated
        if checked:
            self._require_recorded(sha256_bytes(data), recorded)
        return curves

    def _require_recorded(self, actual: str, recorded: str | None) -> None:
        """``Damaged`` unless the curves' sha256 ``actual`` is the one the manifest recorded (if it records one)."""
        if recorded is not None and actual != recorded:
            raise Damaged(
                f"'{self.curves_path}' is not the file '{self.manifest_path}' recorded (sha256 {actual[:12]}, "
                f"recorded {recorded[:12]}): it was changed outside 'ladder run', and no command reads or adds to "
                "it. " + self.restore_or_start_over()
            )

    def restore_or_start_over(self) -> str:
        """The repair of a curves file that is missing, damaged or changed (``ladder run`` refuses it too)."""
        return (
            f"Restore it from git (git checkout -- {self.curves_path}) or a backup; to measure everything again "
            f"instead, move '{self.folder}' away and run 'ladder run --ladder {self.ladder.cli_name}'."
        )

    def parse_curves(self, data: bytes) -> pd.DataFrame:
        try:
            curves = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises several types for truncated, empty or garbage bytes
            what = "is empty" if not data else f"is not a readable parquet table ({type(exc).__name__}: {exc})"
            raise Damaged(
                f"'{self.curves_path}' {what}; it was truncated or damaged. " + self.restore_or_start_over()
            ) from None
        missing = [c for c in COLUMNS if c not in curves.columns]
        if missing:
            raise Damaged(
                f"'{self.curves_path}' lacks the columns {missing} that measured curves have; it is not a curves "
                f"table of this harness. Restore it from git (git checkout -- {self.curves_path}) or a backup."
            )
        return curves

    def mark_started(self) -> None:
        """Record when training of this ladder version first started here (``training_started_at``), once.

        A forecast counts as blind only if it was submitted before this moment; a later run leaves it as it is.
        """
        manifest = self.manifest()
        if "training_started_at" not in manifest:
            manifest["training_started_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            self.write_manifest(manifest)

    def training_started(self) -> tuple[str | None, bool]:
        """When training of this version started here, and whether that was recorded (not derived).

        Stores written before the start was recorded give the earliest start of a finished pair (its finish
        time less its wall time): no earlier than the true start, so a forecast judged blind against it may
        have come while the first pair trained. None when nothing of this version has started here.
        """
        manifest = self.read_manifest()
        if manifest is None or manifest["ladder_hash"] != self.ladder.hash:
            return None, False
        if "training_started_at" in manifest:
            return manifest["training_started_at"], True
        starts = [
            dt.datetime.fromisoformat(run["finished_at"]) - dt.timedelta(seconds=run["wall_time_s"])
            for run in manifest["runs"].values()
            if "finished_at" in run and "wall_time_s" in run
        ]
        return (min(starts).isoformat(timespec="seconds") if starts else None), False

    def resolved(self) -> bool:
        """Whether every (rung, seed) pair of the ladder's own seeds is finished here."""
        return self.exists() and self.finished() >= {
            (r.name, s) for r in self.ladder.rungs for s in self.ladder.spec.seeds
        }

    def finished(self) -> set[tuple[str, int]]:
        return {(run["rung"], run["seed"]) for run in self.manifest()["runs"].values()}

    def recover(self) -> int:
        """Drop rows of pairs that have no manifest entry (a crash between the two writes); return how many.

        What is left must then be the file the manifest recorded: anything else
        was changed outside the harness and is refused, not adopted.
        """
        curves = self.curves(checked=False)
        manifest = self.manifest()
        done = {(run["rung"], run["seed"]) for run in manifest["runs"].values()}
        keep = [(r, s) in done for r, s in zip(curves["rung"], curves["seed"])]
        dropped = len(curves) - sum(keep)
        if dropped:
            sha = self.write_curves(curves[keep])
        else:
            sha = sha256_file(self.curves_path) if self.curves_path.exists() else None
        if sha is not None:  # the committed rows must be exactly those recorded
            self._require_recorded(sha, manifest.get("curves_sha256"))
        return dropped

    def commit(self, rung: str, seed: int, rows: pd.DataFrame, entry: dict) -> None:
        """Store a finished pair: its ``.partial`` checkpoints into place, rows, then the manifest entry.

        The pair's rows replace any old rows of the same pair (only reached with --force).
        """
        key = pair_key(rung, seed)
        manifest = self.manifest()
        if key in manifest["runs"]:  # --force: uncommit the old pair before its rows change
            old = manifest["runs"].pop(key)
            self.write_manifest(manifest)
            if "weights" in old:  # its reference weights are no longer what the pair trains to
                self.inside(old["weights"]["path"]).unlink(missing_ok=True)
        self.place_checkpoints(rung, seed)
        curves = self.curves()
        other = curves[~((curves["rung"] == rung) & (curves["seed"] == seed))]
        manifest["curves_sha256"] = self.write_curves(pd.concat([other, rows], ignore_index=True))
        manifest["task_versions"] = self.ladder.task_versions
        manifest["rungs"] = {r.name: r.params for r in self.ladder.rungs}
        manifest["runs"][key] = entry
        self.write_manifest(manifest)

    def write_manifest(self, manifest: dict) -> None:
        """Runs in ladder order and the seeds they cover, the keys in one fixed order (so the same contents always
        give the same bytes, however the manifest grew), then the file, atomically."""
        manifest["runs"] = dict(
            sorted(manifest["runs"].items(), key=lambda kv: self._order(kv[1]["rung"], kv[1]["seed"]))
        )
        manifest["seeds"] = sorted({run["seed"] for run in manifest["runs"].values()})
        rank = {key: i for i, key in enumerate(MANIFEST_ORDER)}
        ordered = dict(sorted(manifest.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))
        atomic_write(self.manifest_path, (json.dumps(ordered, indent=2) + "\n").encode())

    def place_checkpoints(self, rung: str, seed: int) -> None:
        final, partial = self.pair_checkpoint_dir(rung, seed), self.pair_partial_dir(rung, seed)
        shutil.rmtree(final, ignore_errors=True)
        if partial.exists():
            partial.rename(final)

    def _order(self, rung: str, seed: int) -> tuple[int, int]:
        return [r.name for r in self.ladder.rungs].index(rung), seed

    def write_curves(self, curves: pd.DataFrame) -> str:
        """Canonical order and types, so the same measurements always give the same file; returns its sha256."""
        curves = curves[COLUMNS].astype(DTYPES)
        rank = {r.name: i for i, r in enumerate(self.ladder.rungs)}
        curves = curves.assign(_rank=curves["rung"].map(rank)).sort_values(
            ["_rank", "seed", "task", "metric", "step"], kind="stable"
        )
        data = curves.drop(columns="_rank").reset_index(drop=True).to_parquet(index=False)
        atomic_write(self.curves_path, data)
        return sha256_bytes(data)

    def pair_checkpoint_dir(self, rung: str, seed: int) -> Path:
        return self.checkpoint_dir / rung / f"seed{seed}"

    def pair_partial_dir(self, rung: str, seed: int) -> Path:
        """Where a pair's checkpoints are written until ``commit`` moves them into place."""
        return self.checkpoint_dir / rung / f"seed{seed}.partial"

"""The internals track's revealed folder: the rungs up to a revealed one, with their weights over training.

The folder is a results folder of its own (``OUT/<ladder>/revealed_up_to_<R>/``, written by ``ladder reveal
--internals``; a temporary one for each method asked on the internals track) holding one ladder's revealed
rungs and nothing of the rungs above them:

- ``<ladder>/curves.parquet`` and ``<ladder>/manifest.json``: their curves and finished pairs, written by the
  results store's own code; the manifest names the revealed rung (``revealed_up_to``);
- ``<ladder>/checkpoints/<rung>/seed<k>/step*.pt``: every checkpoint of a pair that is on disk, each copied
  from one read of its bytes whose sha256 is the one the manifest recorded (copies, not hard links: code that
  writes into the folder cannot change the results);
- ``<ladder>/archive/<rung>/seed<k>/step*.safetensors``: where a checkpoint is not on disk (a fresh clone), its
  committed archived copy (``harness.training.weights.add_archive``), checked the same way;
- ``<ladder>/weights/<rung>/seed<k>.safetensors``: where the final step has neither, the committed reference
  weights; a pair with nothing else shows its final step only, and a pair with no model file at hand (trained
  on another machine, its checkpoints never committed) is left out of the folder's model files (its curves
  stay: they are revealed anyway);
- ``<ladder>/internals.parquet``: the rows of the ladder's ``internals.parquet`` of the revealed rungs (no
  file when its internals were not measured, or were measured before a pair was retrained).

Being a results folder, it is read by ``load_model``, ``ladder record`` and ``ladder export`` with ``out`` set
to it (and the models they load by ``to_hf`` and ``to_transformer_lens``); a hidden rung is simply not there.
``Revealed`` is what a question holds of it. No torch here: ``Revealed.load_model`` and ``Revealed.record``
import it when called.
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from harness.errors import UserError, did_you_mean
from harness.files import atomic_write, sha256_bytes
from harness.forecasts.track import revealed_curves, revealed_rung, split_rungs
from harness.ladders.ladder import Ladder
from harness.neurons import internals_table
from harness.training.store import CHECKPOINT, WEIGHTS, ResultsStore, committed_file

if TYPE_CHECKING:
    import torch
    from torch import nn

KEY = "revealed_up_to"  # the manifest's mark of a revealed folder, naming its revealed rung


class NotShown(UserError):
    """No model file of the revealed rungs is at hand: the internals track cannot be shown from these results."""


LISTING = ["rung", "params", "seed", "step", "source", "sha256"]


@dataclass(frozen=True)
class Revealed:
    """What the internals track shows of the revealed rungs, as a question holds it (``question.internals``).

    It refuses to be built with anything of a hidden rung: a row of its tables, or a file or manifest entry in
    its folder.
    """

    ladder: Ladder
    up_to: str  # the highest revealed rung
    out: Path  # the revealed folder, a results folder: pass it as ``out`` to ``harness.load_model``
    table: pd.DataFrame  # internals.parquet rows of the revealed rungs (ladder, rung, params, seed, step, measure, ...)
    checkpoints: pd.DataFrame  # LISTING: every model file at hand, its source "checkpoint" or "reference weights"

    def __post_init__(self) -> None:
        shown = (set(self.table["rung"]) | set(self.checkpoints["rung"]) | _rungs_in(self.ladder, self.out)) - set(
            self.revealed
        )
        if shown:
            raise ValueError(
                f"the internals of ladder '{self.ladder.name}' revealed up to {self.up_to} hold the hidden rungs "
                f"{sorted(shown)}"
            )

    @property
    def revealed(self) -> list[str]:
        """The rungs shown, lowest first."""
        return split_rungs(self.ladder, self.up_to)[0]

    @property
    def hidden(self) -> list[str]:
        """The rungs above ``up_to``: scored, and not shown."""
        return split_rungs(self.ladder, self.up_to)[1]

    def load_model(self, rung: str, seed: int, step: int | str = "final") -> nn.Module:
        """The model of a revealed (rung, seed) at ``step`` ("final" or a step of ``checkpoints``), verified, in eval
        mode (``harness.load_model`` on the revealed folder); a ``UserError`` for a hidden rung."""
        self.require(rung, seed)
        from harness.neurons.loading import load_model

        return load_model(self.ladder, rung, seed, step, self.out)

    def record(
        self,
        rung: str,
        seed: int,
        task: str,
        n: int = 64,
        examples_seed: int = 0,
        step: int | str = "final",
        hooks: str | list[str] | None = None,
    ) -> dict[str, torch.Tensor]:
        """``harness.record`` of a revealed (rung, seed) at ``step`` on ``n`` examples of ``task`` (a task of the
        ladder, at its setting, or any task family at its defaults); a ``UserError`` for a hidden rung."""
        model = self.load_model(rung, seed, step)
        from harness.neurons.recording import record

        the_task = self.ladder.task(task) if task in self.ladder.spec.tasks else task
        return record(model, the_task, n, examples_seed, hooks)

    def require(self, rung: str, seed: int) -> None:
        """A ``UserError`` unless (rung, seed) is a revealed pair."""
        names = [r.name for r in self.ladder.rungs]
        if rung not in names:
            raise UserError(f"'{rung}' is not a rung of ladder '{self.ladder.name}'.{did_you_mean(rung, names)}")
        if rung not in self.revealed:
            raise UserError(
                f"Rung {rung} of ladder '{self.ladder.name}' is hidden: the internals track revealed up to "
                f"{self.up_to} shows the rungs {', '.join(self.revealed)} and scores the forecast on "
                f"{', '.join(self.hidden)}, so no checkpoint of {rung} is in the question. Load or record a revealed "
                "rung."
            )
        seeds = sorted(set(self.checkpoints.loc[self.checkpoints["rung"] == rung, "seed"]))
        if seed not in seeds:
            raise UserError(
                f"Rung {rung} of ladder '{self.ladder.name}' has no revealed pair of seed {seed}; its seeds: "
                f"{', '.join(map(str, seeds)) or 'none finished'}."
            )

    def copied(self) -> Revealed:
        """The same, with its own copies of the tables."""
        return dataclasses.replace(self, table=self.table.copy(), checkpoints=self.checkpoints.copy())


def folder_of(ladder: Ladder, out: Path, up_to: str) -> Path:
    """Where ``ladder reveal --internals`` writes the revealed folder: beside the ladder's results in ``out``."""
    return out / ladder.name / f"revealed_up_to_{up_to}"


def write(ladder: Ladder, out: Path, up_to: str, folder: Path) -> Revealed:
    """Write the revealed folder of ``ladder`` up to ``up_to`` from the results folder ``out`` into ``folder``,
    replacing what was there, and read it back.

    Each model file is checked as it is copied; a damaged one, or revealed rungs with no model file at hand at
    all, is a ``UserError`` and ``folder`` is left as it was. Pairs with no model file at hand are left out.
    """
    keep = _revealed(ladder, revealed_rung(ladder, up_to))
    source = ResultsStore.of(ladder, out)
    manifest = source.manifest()
    runs = {key: entry for key, entry in manifest["runs"].items() if entry["rung"] in keep}
    if not runs:
        raise UserError(
            f"No pair of the rungs {', '.join(keep)} of ladder '{ladder.name}' is finished under '{source.folder}'; "
            f"train them with 'ladder run --ladder {ladder.cli_name} --rungs {','.join(keep)}'."
        )
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    target = ResultsStore.of(ladder, partial)
    try:
        copied = {key: _copy_pair(source, target, entry) for key, entry in runs.items()}
        entries = {key: entry for key, entry in copied.items() if entry is not None}
        if not entries:
            raise NotShown(
                f"No model file of the rungs {', '.join(keep)} of ladder '{ladder.name}' is on disk under "
                f"'{source.folder}' (no checkpoint, archived checkpoint or reference weights), so the internals track "
                f"cannot show them; nothing was revealed. Recreate the checkpoints with 'ladder run --ladder "
                f"{ladder.cli_name} --rungs {','.join(keep)} --restore', or restore the committed files from git."
            )
        recorded = {"ladder": ladder.name, "ladder_hash": ladder.hash, KEY: up_to}
        recorded |= {"task_versions": manifest["task_versions"]} if "task_versions" in manifest else {}
        recorded["rungs"] = {r.name: r.params for r in ladder.rungs if r.name in keep}
        recorded["curves_sha256"] = target.write_curves(revealed_curves(ladder, out, up_to))
        target.write_manifest({**recorded, "runs": entries})
        table = internals_table.read_current(source)
        if table is not None:
            internals_table.write(target, table[table["rung"].isin(keep)].reset_index(drop=True))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _swap(partial, folder)
    return read(ladder, folder)


def read(ladder: Ladder, folder: Path) -> Revealed:
    """The revealed folder ``folder`` of ``ladder`` (``write``); a ``UserError`` if it is not one."""
    store = ResultsStore.of(ladder, folder)
    manifest = store.manifest()
    up_to = manifest.get(KEY)
    if up_to is None:
        raise UserError(
            f"'{store.manifest_path}' is not the manifest of a revealed folder (it names no '{KEY}'); write one "
            f"with 'ladder reveal --ladder {ladder.cli_name} --up-to RUNG --internals'."
        )
    rows = []
    for entry in manifest["runs"].values():
        for c in entry["checkpoints"]:
            # _copy_pair lists only steps at hand: the checkpoint, else the committed file standing in for it
            source, file = (CHECKPOINT, c) if store.inside(c["path"]).is_file() else committed_file(entry, c["step"])
            rows.append((entry["rung"], ladder.rung(entry["rung"]).params, entry["seed"], c["step"], source,
                         file["sha256"]))  # fmt: skip
    table = internals_table.read(store)
    listing = pd.DataFrame(rows, columns=LISTING)
    return Revealed(ladder, up_to, folder, internals_table.empty() if table is None else table, listing)


def _revealed(ladder: Ladder, up_to: str) -> list[str]:
    names = [r.name for r in ladder.rungs]
    return names[: names.index(up_to) + 1]


def _copy_pair(source: ResultsStore, target: ResultsStore, entry: dict) -> dict | None:
    """The pair's manifest entry in the revealed folder, its model files copied there after their sha256 check:
    every checkpoint on disk and, for a step whose checkpoint is not, its committed safetensors file (the
    archived copy, or the reference weights of the final step: ``weights.committed_file``). Only the steps at
    hand are listed; None (the pair is left out) when its final step is not at hand."""
    run = f"ladder run --ladder {source.ladder.cli_name} --seeds {entry['seed']} --rungs {entry['rung']}"
    restore = f"Delete it and recreate it with '{run} --restore'"
    final = max(c["step"] for c in entry["checkpoints"])
    kept, archive, reference = [], [], None
    for c in entry["checkpoints"]:
        if _copy(source, target, c["path"], c["sha256"], restore):
            kept.append(c)
        elif (stand_in := committed_file(entry, c["step"])) and _copy(
            source, target, stand_in[1]["path"], stand_in[1]["sha256"], "Restore it from git"
        ):
            kept.append(c)  # listed as in the results: the committed file stands in for it (load_model)
            kind, file = stand_in
            if kind == WEIGHTS:
                reference = file
            else:
                archive.append(file)
    if not any(c["step"] == final for c in kept):  # a revealed pair always shows its final model
        return None
    copied = {k: v for k, v in entry.items() if k not in ("weights", "archive")} | {"checkpoints": kept}
    return copied | ({"archive": archive} if archive else {}) | ({"weights": reference} if reference else {})


def _copy(source: ResultsStore, target: ResultsStore, relative: str, sha256: str, fix: str) -> bool:
    """Copy one model file into the revealed folder from one read of its bytes, if it is on disk (else False);
    a ``UserError`` if those bytes do not have the recorded sha256."""
    path = source.inside(relative)
    if not path.is_file():
        return False
    data = path.read_bytes()
    if sha256_bytes(data) != sha256:
        raise UserError(
            f"'{path}' does not have the sha256 that '{source.manifest_path}' recorded: it has been changed or "
            f"damaged since, so it is not revealed, and nothing was revealed. {fix}."
        )
    atomic_write(target.inside(relative), data)
    return True


def _rungs_in(ladder: Ladder, folder: Path) -> set[str]:
    """The rungs the folder holds anything of: model files, manifest entries, curves."""
    store = ResultsStore.of(ladder, folder)
    kinds = ("checkpoints", "weights", "archive")
    found = {p.name for kind in kinds for p in (store.folder / kind).glob("*") if p.is_dir()}
    manifest = store.read_manifest(with_curves_hash=False)
    found |= {e["rung"] for e in manifest["runs"].values()} if manifest is not None else set()
    if store.curves_path.exists():
        found |= set(pd.read_parquet(store.curves_path, columns=["rung"])["rung"])
    return found


def _swap(partial: Path, folder: Path) -> None:
    """Put the written folder in place of the old one, if any."""
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    partial.rename(folder)
    shutil.rmtree(old, ignore_errors=True)

"""Trained models back from the results store: find a pair's checkpoint in the manifest, load it verified.

A checkpoint is loaded only if its sha256 equals the one the manifest recorded
when the pair was trained, so what is studied is exactly the model that
produced the stored curves (the file format and its checks are
``harness.training.checkpoints``). The final weights of a reference ladder's
pairs are committed as safetensors (``harness.training.weights``): where the
final checkpoint is not on disk, as in a fresh clone, they are loaded instead,
with the same check against the sha256 the manifest recorded for them. The
archive of the lower rungs' checkpoints over training (``weights.add_archive``)
stands in the same way for a checkpoint at any step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from harness.errors import UserError
from harness.ladders.families import FAMILIES
from harness.ladders.ladder import Ladder, Rung, load_ladder
from harness.training import checkpoints, weights
from harness.training.store import CHECKPOINT, WEIGHTS, ResultsStore, committed_file, pair_key

RESULTS = Path("results")


@dataclass(frozen=True)
class Checkpoint:
    """One stored checkpoint of a (rung, seed) pair, as the manifest records it."""

    ladder: Ladder
    rung: Rung
    seed: int
    step: int
    path: Path
    sha256: str
    manifest: Path
    restore: str  # the command that recreates it
    source: str = CHECKPOINT  # or the committed safetensors file standing in: WEIGHTS, ARCHIVED (training.store)

    @property
    def weights(self) -> bool:
        """Whether the file is a committed safetensors file (reference weights or archive), not a checkpoint."""
        return self.source != CHECKPOINT


def find_checkpoint(
    ladder: str | Ladder, rung: str, seed: int, step: int | str = "final", out: Path | str = RESULTS
) -> Checkpoint:
    """The manifest's checkpoint of (rung, seed) at ``step`` ("final": the last one), checked to be on disk.

    ``out`` is the results folder, a ``Path`` or a string.
    """
    ladder = ladder if isinstance(ladder, Ladder) else load_ladder(ladder)
    out = Path(out)
    the_rung = ladder.rung(rung)
    store = ResultsStore.of(ladder, out)
    run = f"ladder run --ladder {ladder.cli_name} --seeds {seed} --rungs {rung}"
    here = f" --out {out}" if out != RESULTS else ""
    manifest = store.manifest()
    entry = manifest["runs"].get(pair_key(rung, seed))
    if entry is None and "revealed_up_to" in manifest:  # a revealed folder (harness.forecasts.revealed)
        names = [r.name for r in ladder.rungs]
        shown = names[: names.index(manifest["revealed_up_to"]) + 1]
        seeds = sorted({e["seed"] for e in manifest["runs"].values()})
        raise UserError(
            f"'{out}' is a revealed folder of ladder '{ladder.name}' (the internals track up to rung "
            f"{manifest['revealed_up_to']}): it holds the rungs {', '.join(shown)} with seeds "
            f"{', '.join(map(str, seeds))}, and nothing of rung {rung} seed {seed}. Load a revealed pair."
        )
    if entry is None:
        raise UserError(
            f"Rung {rung} of ladder '{ladder.name}' has not been trained with seed {seed} in '{store.folder}'. Train "
            f"it with '{run}{here}'."
        )
    steps = {c["step"]: c for c in entry["checkpoints"]}
    wanted = max(steps) if step == "final" else _step(step)
    if wanted not in steps:
        raise UserError(
            f"Rung {rung} seed {seed} of ladder '{ladder.name}' has no checkpoint at step {step}; its checkpoints are "
            f"at steps {', '.join(map(str, sorted(steps)))} (or 'final')."
        )
    path = store.inside(steps[wanted]["path"])
    ckpt = Checkpoint(
        ladder, the_rung, seed, wanted, path, steps[wanted]["sha256"], store.manifest_path, f"{run}{here} --restore"
    )
    stand_in = committed_file(entry, wanted)
    if not path.is_file() and stand_in:
        source, committed = stand_in
        file = store.inside(committed["path"])
        if file.is_file():
            return Checkpoint(
                ladder, the_rung, seed, wanted, file, committed["sha256"], store.manifest_path,
                f"git checkout -- {file}", source,
            )  # fmt: skip
        what = "final checkpoint" if source == WEIGHTS else "checkpoint"
        raise UserError(
            f"Neither the {what} '{path}' nor the committed {source} '{file}' of rung {rung}, seed {seed} (step "
            f"{wanted}) are on disk. Restore the file from git (git checkout -- {file}), or recreate the checkpoint "
            f"with '{ckpt.restore}'."
        )
    if not path.is_file():
        raise UserError(
            f"Checkpoint '{path}' (rung {rung}, seed {seed}, step {wanted}) is not on disk: checkpoints stay out of "
            "git. "
            f"Recreate it with '{ckpt.restore}', which retrains the pair and keeps the checkpoints only if they are "
            "byte-identical to the ones the manifest recorded. "
            f"If they differ (another machine or software), train a copy of your own with '{run} --out DIR' and pass "
            "--out DIR here."
        )
    return ckpt


def load_model(
    ladder: str | Ladder, rung: str, seed: int, step: int | str = "final", out: Path | str = RESULTS
) -> nn.Module:
    """The trained model of (rung, seed) at ``step``, in eval mode, after its sha256 check; see ``find_checkpoint``."""
    return load_checkpoint(find_checkpoint(ladder, rung, seed, step, out))


def load_checkpoint(ckpt: Checkpoint) -> nn.Module:
    """Build the model from the checkpoint's bytes, read once: loaded only if their hash is the recorded one."""
    try:
        blob = weights.read(ckpt.path, ckpt.sha256) if ckpt.weights else checkpoints.read(ckpt.path, ckpt.sha256)
    except checkpoints.Mismatch:
        what = ckpt.source.capitalize()
        fix = (
            f"Restore it with '{ckpt.restore}'" if ckpt.weights else f"Delete it and recreate it with '{ckpt.restore}'"
        )
        raise UserError(
            f"{what} '{ckpt.path}' does not match the sha256 that '{ckpt.manifest}' recorded when it was trained: "
            "the file has been changed or damaged since, "
            f"so it is not the model that produced the stored curves, and it is not loaded. {fix}."
        ) from None
    name = ckpt.ladder.spec.family
    if blob["family"] != name or blob["config"] != ckpt.rung.config.model_dump():
        raise UserError(
            f"Checkpoint '{ckpt.path}' holds a {blob['family']} model of another shape than rung {ckpt.rung.name} of "
            f"ladder '{ckpt.ladder.name}'; it belongs to a different ladder."
        )
    family = FAMILIES.get(name)
    if (version := blob.get("family_version", 1)) != family.version:
        raise UserError(
            f"Checkpoint '{ckpt.path}' was trained by version {version} of the {name} family, and this code builds "
            f"version {family.version}: {family.change_since(version)}. Its weights do not fit the model built now. "
            f"Retrain the pair with '{ckpt.restore}' on results made by this version, or load it with the code of "
            "the commit that trained it."
        )
    model = family.build(ckpt.rung.config)
    model.load_state_dict(blob["state_dict"])
    return model.eval()


def _step(step: int | str) -> int:
    try:
        return int(step)
    except ValueError:
        raise UserError(f"Step '{step}' is neither a number nor 'final'.") from None

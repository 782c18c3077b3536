"""``ladder weights``: trained models as committed safetensors files: every pair's final weights, and the
revealed rungs' checkpoints over training."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.app import LADDER, RESULTS, console, main


@main.command()
@LADDER
@RESULTS
@click.option(
    "--over-training",
    is_flag=True,
    help="Instead of the final weights, archive every checkpoint over training of the rungs up to --up-to, for "
    "the internals track of a fresh clone.",
)
@click.option(
    "--up-to",
    metavar="RUNG",
    default=None,
    help="With --over-training: the highest rung archived (default: the rung backtests reveal, the top of the "
    "lower half).",
)
def weights(ladder_name: str, out: Path, over_training: bool, up_to: str | None) -> None:
    """Write the reference weights (final checkpoint, safetensors, sha256 in the manifest) of every finished pair,
    or with --over-training the archive of the revealed rungs' checkpoints over training.

    Run it on a reference ladder before committing its results, so that a fresh clone can load every
    trained model without retraining. Pairs that already have intact files are left as they are; with
    --over-training, pairs whose checkpoints are not on disk (trained elsewhere) are named and left out.
    """
    from harness.errors import UserError
    from harness.forecasts.track import default_revealed, revealed_rung
    from harness.ladders.ladder import load_ladder
    from harness.training import weights as reference
    from harness.training.store import ResultsStore

    ladder = load_ladder(ladder_name)
    store = ResultsStore.of(ladder, out)
    pairs = len(store.manifest()["runs"])
    if not over_training:
        if up_to is not None:
            raise UserError("--up-to names the rungs --over-training archives; add --over-training, or leave it out.")
        written, size = reference.add_weights(store)
        console.print(
            f"Reference weights of ladder '{ladder.name}': {written} of {pairs} pairs written ({size / 1e6:.1f} MB), "
            f"the others already there. Folder: {store.folder / reference.FOLDER}"
        )
        return
    top = revealed_rung(ladder, up_to or default_revealed(ladder))
    names = [r.name for r in ladder.rungs]
    rungs = names[: names.index(top) + 1]
    written, size, lacking = reference.add_archive(store, rungs)
    console.print(
        f"Archive of ladder '{ladder.name}', rungs {', '.join(rungs)}: {written} pairs written ({size / 1e6:.1f} MB); "
        f"the others of those rungs already there or left out. Folder: {store.folder / reference.ARCHIVE}"
    )
    if lacking:
        console.print(
            f"Left out, checkpoints not on disk with their recorded sha256 (trained elsewhere, or deleted): "
            f"{', '.join(lacking)}. 'ladder run --ladder {ladder.cli_name} --restore' brings them back only where "
            "retraining gives the same bytes."
        )

"""``ladder weights``: the final weights of every finished pair as committed safetensors files."""

from __future__ import annotations

from pathlib import Path

from harness.cli.app import LADDER, RESULTS, console, main


@main.command()
@LADDER
@RESULTS
def weights(ladder_name: str, out: Path) -> None:
    """Write the reference weights (final checkpoint, safetensors, sha256 in the manifest) of every finished pair.

    Run it on a reference ladder before committing its results, so that a fresh clone can load every
    trained model without retraining. Pairs that already have intact weights are left as they are.
    """
    from harness.ladders.ladder import load_ladder
    from harness.training import weights as reference
    from harness.training.store import ResultsStore

    ladder = load_ladder(ladder_name)
    store = ResultsStore.of(ladder, out)
    written, size = reference.add_weights(store)
    pairs = len(store.manifest()["runs"])
    console.print(
        f"Reference weights of ladder '{ladder.name}': {written} of {pairs} pairs written ({size / 1e6:.1f} MB), "
        f"the others already there. Folder: {store.folder / reference.FOLDER}"
    )

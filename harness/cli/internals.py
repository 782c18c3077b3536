"""``ladder internals``: progress measures of every stored checkpoint, beside the curves."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.app import LADDER, RESULTS, console, main


@main.command()
@LADDER
@RESULTS
@click.option(
    "--at-hand",
    is_flag=True,
    help="Retrain nothing: measure only the steps whose model files are on disk (checkpoints, the committed "
    "archive, reference weights) and leave out, by name, the pairs with none.",
)
def internals(ladder_name: str, out: Path, at_hand: bool) -> None:
    """Progress measures of every stored checkpoint: weight norms, head scores, Fourier shares, solved share, source
    attention, parity's secret-bit share.

    Writes OUT/<ladder>/internals.parquet and internals.png, measuring only the pairs the stored table lacks;
    missing checkpoints of those pairs are restored first (retraining them, which takes as long as training did),
    unless --at-hand.
    """
    from harness.board.figures import write_internals_figure
    from harness.ladders.ladder import load_ladder
    from harness.neurons.internals import measure_internals
    from harness.truth.ground_truth import measure

    ladder = load_ladder(ladder_name)
    table, path = measure_internals(ladder, out, say=console.print, at_hand=at_hand)
    figure = write_internals_figure(path.parent, table, measure(ladder, out))
    console.print(f"Internals: {path}  Figure: {figure}")

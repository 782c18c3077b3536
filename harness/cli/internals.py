"""``ladder internals``: progress measures of every stored checkpoint, beside the curves."""

from __future__ import annotations

from pathlib import Path

from harness.cli.app import LADDER, RESULTS, console, main


@main.command()
@LADDER
@RESULTS
def internals(ladder_name: str, out: Path) -> None:
    """Weight norms, attention-head scores and Fourier shares of every stored checkpoint, over training.

    Writes OUT/<ladder>/internals.parquet and internals.png; checkpoints that are missing are restored
    first (retraining their pairs, which takes as long as training them did).
    """
    from harness.board.figures import write_internals_figure
    from harness.ladders.ladder import load_ladder
    from harness.neurons.internals import measure_internals
    from harness.truth.ground_truth import measure

    ladder = load_ladder(ladder_name)
    table, path = measure_internals(ladder, out, say=console.print)
    figure = write_internals_figure(path.parent, table, measure(ladder, out))
    console.print(f"Internals: {path}  Figure: {figure}")

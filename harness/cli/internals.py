"""``ladder internals``: progress measures of every stored checkpoint, beside the curves."""

from __future__ import annotations

import time
from pathlib import Path

from harness.cli.app import LADDER, RESULTS, console, main

FIGURE_FILE = "internals.png"


@main.command()
@LADDER
@RESULTS
def internals(ladder_name: str, out: Path) -> None:
    """Weight norms, attention-head scores and Fourier shares of every stored checkpoint, over training.

    Writes OUT/<ladder>/internals.parquet and internals.png; checkpoints that are missing are restored
    first (retraining their pairs, which takes as long as training them did).
    """
    from harness.board.figures import internals_figure
    from harness.files import atomic_write, write_table
    from harness.ladders.ladder import load_ladder
    from harness.neurons.internals import ladder_internals, missing_checkpoints
    from harness.training.runner import RunOptions, run_ladder
    from harness.training.store import ResultsStore
    from harness.truth.ground_truth import measure

    ladder = load_ladder(ladder_name)
    store = ResultsStore.of(ladder, out)
    missing = set(missing_checkpoints(ladder, out))
    if missing:
        runs = store.manifest()["runs"]
        expected = sum(e["wall_time_s"] for e in runs.values() if (e["rung"], e["seed"]) in missing)
        console.print(
            f"Restoring the checkpoints of {len(missing)} pair(s) first: retraining them took {expected / 60:.1f} min "
            "when they were trained (one at a time)."
        )
        start = time.perf_counter()
        for seed in sorted({s for _, s in missing}):
            rungs = [r for r, s in missing if s == seed]
            run_ladder(ladder, [seed], out, RunOptions(restore=True, rungs=rungs), say=console.print)
        console.print(f"Restored in {(time.perf_counter() - start) / 60:.1f} min.")
    start = time.perf_counter()
    table = ladder_internals(ladder, out)
    path = store.internals_path
    write_table(path, table)
    truth = measure(ladder, out)
    figure = store.folder / FIGURE_FILE
    atomic_write(figure, internals_figure(table, truth.curves, truth.table))
    n = table.groupby(["rung", "seed", "step"]).ngroups
    console.print(
        f"Measured {n} checkpoints of ladder '{ladder.name}' in {time.perf_counter() - start:.1f} s: "
        f"{', '.join(sorted(table['measure'].unique()))}."
    )
    console.print(f"Internals: {path}  Figure: {figure}")

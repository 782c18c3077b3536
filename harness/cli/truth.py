"""``ladder emergence``: where each task emerges, the acceptance checks and the emergence map."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.app import LADDER, RESULTS, console, main


@main.command()
@LADDER
@RESULTS
@click.option(
    "--check", is_flag=True, help="Exit with status 1 unless every acceptance check of the ground truth passes."
)
def emergence(ladder_name: str, out: Path, check: bool) -> None:
    """Where each task emerges: the table and the acceptance checks; emergence.parquet and the map kept up to date."""
    from harness.board.figures import write_emergence_map
    from harness.board.terminal import checks_table, emergence_grid
    from harness.training.ladder import load_ladder
    from harness.truth.acceptance import acceptance_checks
    from harness.truth.ground_truth import measure

    ladder = load_ladder(ladder_name)
    truth = measure(ladder, out)
    if truth.missing:
        pairs = ", ".join(f"{r}/seed{s}" for r, s in truth.missing)
        console.print(
            f"[yellow]Not finished yet, left out: {pairs}. Run 'ladder run --ladder {ladder.cli_name}' to complete "
            "them.[/]"
        )
    for metric in ("accuracy", "loss"):
        console.print(emergence_grid(truth.table, metric))
    checks = acceptance_checks(truth.table, truth.wall_times)
    console.print(checks_table(checks))
    console.print(f"Emergence table: {truth.table_path}  Map: {write_emergence_map(truth)}")
    if check and not all(c.passed for c in checks):
        raise SystemExit(1)

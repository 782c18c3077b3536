"""``ladder emergence``: where each task emerges, the acceptance checks and the emergence map."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.app import LADDER, RESULTS, console, main


@main.command()
@LADDER
@RESULTS
@click.option(
    "--check",
    is_flag=True,
    help="Exit with status 1 unless every acceptance check passes on the held-out seeds (those no tuning "
    "decision looked at).",
)
def emergence(ladder_name: str, out: Path, check: bool) -> None:
    """Where each task emerges: the table and the acceptance checks; emergence.parquet and the map kept up to date."""
    from harness.board.figures import write_emergence_map
    from harness.board.terminal import checks_table, emergence_grid
    from harness.ladders.ladder import load_ladder
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
    tuning, held_out = ladder.split_seeds(sorted(truth.table["seed"].unique().tolist()))

    def judged(seeds: list[int], who: str, why: str) -> list:
        """The acceptance checks on ``seeds`` alone, printed."""
        checks = acceptance_checks(truth.table[truth.table["seed"].isin(seeds)], truth.wall_times)
        console.print(checks_table(checks, f"{who} {seed_list(seeds)} ({why})"))
        return checks

    if tuning:
        judged(tuning, "tuning seeds", "decisions looked at them")
    checks = judged(held_out, "held-out seeds", "no decision looked at them") if held_out else []
    if not held_out:
        console.print(
            f"[red]No held-out seeds measured: every seed of these results is a tuning seed of ladder "
            f"'{ladder.name}', so the checks say nothing about seeds nobody tuned on. Train others with 'ladder run "
            f"--ladder {ladder.cli_name} --seeds ...' (any seeds not in tuning_seeds).[/]"
        )
    console.print(f"Emergence table: {truth.table_path}  Map: {write_emergence_map(truth)}")
    if check and not (checks and all(c.passed for c in checks)):
        raise SystemExit(1)


def seed_list(seeds: list[int]) -> str:
    return ", ".join(map(str, seeds))

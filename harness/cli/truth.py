"""``ladder emergence``: where each task emerges, with what probability, the acceptance checks and the map."""

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
    help="Exit with status 1 unless every judged acceptance check passes: separation, budget and time on the "
    "held-out seeds (those no tuning decision looked at), reproducibility (tuning against held-out seeds) and "
    "precision (all seeds). A check that does not apply (n/a) does not fail.",
)
def emergence(ladder_name: str, out: Path, check: bool) -> None:
    """Where each task emerges: the tables and the acceptance checks; emergence.parquet, probabilities.parquet and
    the map kept up to date."""
    from harness.board.figures import write_emergence_map
    from harness.board.terminal import checks_table, emergence_grid, lottery_line
    from harness.ladders.ladder import load_ladder
    from harness.truth.acceptance import accept, seed_text
    from harness.truth.ground_truth import PROBABILITIES_FILE, measure

    ladder = load_ladder(ladder_name)
    truth = measure(ladder, out)
    if truth.missing:
        pairs = ", ".join(f"{r}/seed{s}" for r, s in truth.missing)
        console.print(
            f"[yellow]Not finished yet, left out: {pairs}. Run 'ladder run --ladder {ladder.cli_name}' to complete "
            "them.[/]"
        )
    for metric in ("accuracy", "loss"):
        console.print(emergence_grid(truth.table, truth.probabilities, metric))
    result = accept(truth.table, truth.wall_times, list(ladder.spec.tuning_seeds))
    if result.tuning:
        console.print(
            checks_table(
                result.tuning,
                f"For comparison, not judged: separation on the tuning seeds {seed_text(result.tuning_seeds)} "
                "(tuning decisions looked at them)",
            )
        )
    judged_on = (
        "no held-out seeds"
        if not result.held_out
        else f"seeds {seed_text(result.held_out)} (the ladder declares no tuning seeds)"
        if not ladder.spec.tuning_seeds
        else f"held-out seeds {seed_text(result.held_out)} (no tuning decision looked at them)"
    )
    console.print(checks_table(result.judged, f"Acceptance checks of the ground truth (accuracy), judged: {judged_on}"))
    console.print(lottery_line(result.lottery))
    if not result.held_out:
        console.print(
            f"[red]No held-out seeds measured: every seed of these results is a tuning seed of ladder "
            f"'{ladder.name}', so the checks say nothing about seeds nobody tuned on. Train others with 'ladder run "
            f"--ladder {ladder.cli_name} --seeds ...' (any seeds not in tuning_seeds).[/]"
        )
    if result.failed:
        failing = ", ".join(f"{c.name} ({c.seeds})" for c in result.failed)
        console.print(f"[red]Not accepted, failing: {failing}. Each one's detail above says what it lacks.[/]")
    else:
        skipped = [c.name for c in result.judged if not c.passed]
        console.print(
            "[green]Accepted: every judged check passes[/]" + (f" ({', '.join(skipped)}: n/a)" if skipped else "")
        )
    console.print(
        f"Emergence table: {truth.table_path}  Probabilities: {truth.table_path.with_name(PROBABILITIES_FILE)}  "
        f"Map: {write_emergence_map(truth)}"
    )
    if check and result.failed:
        raise SystemExit(1)

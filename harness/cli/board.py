"""``ladder leaderboard``, ``demo``, ``standings`` and ``site``: the ranked tables, the web page and the site."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli.app import BOOT_SEED, LADDER, PREDICTIONS, RESULTS, ScoreChoice, console, main, score_help
from harness.errors import UserError

if TYPE_CHECKING:  # annotations only: the command line imports pandas and the scorer inside its commands
    import pandas as pd

    from harness.scoring.scoreboard import Scoreboard


@main.command()
@LADDER
@PREDICTIONS
@RESULTS
@click.option(
    "--track",
    type=click.Choice(["blind", "extrapolation", "internals", "all"]),
    default="all",
    show_default=True,
    help="Show the forecasts of one track, or of all (each track and revealed rung ranked in its own group).",
)
@click.option(
    "--sort",
    "sort_by",
    type=ScoreChoice(),
    default="brier_index",
    show_default=True,
    help=f"Score to rank by, in its better direction ({score_help()}).",
)
@click.option(
    "--wide", is_flag=True, help="Show every column; by default the terminal shows the most important that fit."
)
@click.option(
    "--show-oracle", is_flag=True, help="Also show the oracle, which reads the answers off the truth (never ranked)."
)
@click.option(
    "--html",
    is_flag=False,
    flag_value="",
    default=None,
    type=click.Path(dir_okay=False),
    help="Also write the self-contained web page here (--html alone: OUT/<ladder>/leaderboard.html).",
)
def leaderboard(
    ladder_name: str,
    predictions: Path,
    out: Path,
    track: str,
    sort_by: str,
    show_oracle: bool,
    wide: bool,
    html: str | None,
) -> None:
    """Rank every submission for a ladder (scoring them afresh) and print the table; optionally write the page."""
    from harness.ladders.ladder import load_ladder
    from harness.scoring.scoreboard import score_ladder

    ladder = load_ladder(ladder_name)
    board = score_ladder(ladder, predictions, out)
    page = None if html is None else Path(html) if html else out / ladder.name / "leaderboard.html"
    show_leaderboard(board, track, sort_by, show_oracle, page, wide)


def show_leaderboard(
    board: Scoreboard, track: str, sort_by: str, show_oracle: bool, page: Path | None, wide: bool = False
) -> None:
    """Print the ranked table of ``board`` and, if ``page`` is given, write the web page there."""
    from harness.board.terminal import leaderboard_table
    from harness.scoring.ranking import rank_ladder

    for note in board.notes:
        console.print(f"[yellow]{note}[/]")
    rows = rank_ladder(board.scores, track, sort_by, show_oracle)
    if rows.empty:
        raise UserError(
            f"No {track}-track submissions for ladder '{board.ladder.name}' among the {len(board.entries)} scored; "
            "use --track all to see the others."
        )
    console.print(
        leaderboard_table(
            rows,
            f"Leaderboard of ladder '{board.ladder.name}' ({track} track{'s' * (track == 'all')}, ranked by {sort_by})",
            None if wide else console.width,
        )
    )
    from harness.board.fmt import verdicts

    for line in verdicts(rows):
        console.print(line)
    for rule in dict.fromkeys(rows["blind_rule"]):
        console.print(f"{(rows['blind_rule'] == rule).sum()} shown {rule}")
    if page is not None:
        from harness.board.page import write_report

        console.print(f"Web page: {write_report(board, rows, page, across_ladders(board.predictions, board.out))}")


def across_ladders(predictions: Path, out: Path) -> pd.DataFrame | None:
    """The standings across every resolved ladder (Brier), or None when no ladder has blind-track forecasts."""
    from harness.scoring.scoreboard import pooled_task_scores
    from harness.scoring.standings import standings

    try:
        scores, _ = pooled_task_scores(predictions, out)
    except UserError:
        return None
    return standings(scores[scores["score"] == "brier"])


@main.command()
@PREDICTIONS
@RESULTS
def demo(predictions: Path, out: Path) -> None:
    """Leaderboard in one command: the committed cpu results (or a fresh smoke run), baselines, scores, page."""
    from harness.ladders.ladder import load_ladder
    from harness.methods.baselines import write_baselines
    from harness.scoring.scoreboard import score_ladder
    from harness.training.runner import RunOptions, run_ladder
    from harness.training.store import ResultsStore
    from harness.truth.ground_truth import measure

    ladder = load_ladder("cpu")
    if ResultsStore.of(ladder, out).exists():
        console.print(f"Using the measured results of ladder 'cpu' under {out / 'cpu'}.")
    else:
        ladder = load_ladder("smoke")
        console.print(
            f"No results of the current version of ladder 'cpu' under {out / 'cpu'}: training the small 'smoke' "
            "ladder instead."
        )
        run_ladder(ladder, ladder.spec.seeds, out, RunOptions(wandb="disabled"), say=console.print)
    truth = measure(ladder, out)
    for entry, new in write_baselines(ladder, predictions, out, truth=truth, say=console.print):
        console.print(f"Baseline {entry.forecaster}: {'submitted' if new else 'already in the ledger'}.")
    board = score_ladder(ladder, predictions, out, truth=truth)
    show_leaderboard(board, "all", "brier_index", False, out / ladder.name / "leaderboard.html")


@main.command()
@PREDICTIONS
@RESULTS
@click.option(
    "--score",
    "score_name",
    type=ScoreChoice(questions=True),
    default="brier",
    show_default=True,
    help=f"Per-task score to pool ({score_help(questions=True)}).",
)
@click.option("--bootstrap", "n_boot", default=1000, show_default=True, type=click.IntRange(min=200),
              help="Bootstrap resamples of questions for the 95% intervals.")  # fmt: skip
@BOOT_SEED
def standings(predictions: Path, out: Path, score_name: str, n_boot: int, seed: int) -> None:
    """One ranking over every resolved ladder and round, adjusted for how hard each forecaster's questions were."""
    from harness.board.terminal import standings_table
    from harness.scoring.scoreboard import pooled_task_scores
    from harness.scoring.standings import REFERENCE
    from harness.scoring.standings import standings as rank

    scores, ladders = pooled_task_scores(predictions, out)
    scores = scores[scores["score"] == score_name]
    table = rank(scores, n_boot, seed)
    console.print(standings_table(table, scores, score_name, ladders))
    for r in table[table["forecaster"] != REFERENCE].itertuples():
        if r.low <= 0 <= r.high:
            console.print(f"{r.forecaster} cannot be told apart from {REFERENCE} over its {r.questions} questions.")


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@PREDICTIONS
@RESULTS
def site(folder: Path, predictions: Path, out: Path) -> None:
    """Write the static site to FOLDER: the standings, every ladder's page, the open rounds and how to forecast."""
    from harness.board.site import SiteInputs, write_site
    from harness.rounds.catalog import catalog

    pages = write_site(folder, SiteInputs(catalog(predictions, out), predictions, out))
    console.print(f"Wrote {len(pages)} pages to {folder}; open {pages[0]}")

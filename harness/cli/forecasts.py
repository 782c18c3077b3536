"""Forecasting: ``ladder template``, ``validate``, ``submit``, ``score``, ``reveal`` and ``baselines``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from harness.cli.app import BOOT_SEED, BOOTSTRAP, LADDER, PREDICTIONS, RESULTS, console, main
from harness.errors import UserError

if TYPE_CHECKING:  # annotations only: each command imports what it needs when it runs
    from harness.forecasts.revealed import Revealed
    from harness.forecasts.schema import Forecast
    from harness.ladders.ladder import Ladder


@main.command()
@LADDER
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here (.yaml or .json) instead of to standard output; never overwrites a file.",
)
@click.option("--forecaster", default="your-name", show_default=True, help="Forecaster name to put in the file.")
def template(ladder_name: str, output: Path | None, forecaster: str) -> None:
    """Write a prediction file with every task and rung and neutral values, ready to edit."""
    from harness.files import atomic_write
    from harness.forecasts.schema import dump, uninformed
    from harness.ladders.ladder import load_ladder

    ladder = load_ladder(ladder_name)
    try:
        forecast = uninformed(
            ladder, forecaster, every_question=True,
            description="Edit every value; delete what you do not want to forecast.",
        )  # fmt: skip
    except ValueError:
        raise UserError(
            f"--forecaster '{forecaster}' is not a valid name: use 1-64 lower-case letters, digits, '-' or '_'."
        ) from None
    data = dump(forecast, "json" if output is not None and output.suffix.lower() == ".json" else "yaml")
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    if output.exists():
        raise UserError(
            f"'{output}' already exists; template never overwrites a file. Give another -o path or delete it first."
        )
    atomic_write(output, data)
    console.print(
        f"Wrote {output}: {len(ladder.spec.tasks)} tasks x {len(ladder.rungs)} rungs of ladder '{ladder.name}'. Edit "
        f"it, then 'ladder validate {output}'."
    )


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
def validate(file: Path) -> None:
    """Check a prediction file and report every problem at once (exit 2 on any)."""
    from harness.forecasts.schema import load_forecast

    forecast, ladder = load_forecast(file)
    console.print(summary(file, forecast, ladder))


def summary(file: Path, forecast: Forecast, ladder: Ladder) -> str:
    n_rungs = len(ladder.rungs)
    counts = {
        kind: sum(len(getattr(t, kind)) for t in forecast.tasks.values())
        for kind in ("p_emerged", "emergence_quantiles", "accuracy")
    }
    with_q = sum(bool(t.emergence_quantiles) for t in forecast.tasks.values())
    seen = {"extrapolation": "curves", "internals": "curves and internals"}.get(forecast.track)
    track = f"{forecast.track} track ({seen} seen up to {forecast.revealed_up_to})" if seen else "blind track"
    return (
        f"'{file}' is a valid forecast by '{forecast.forecaster}' for ladder '{ladder.name}' ({ladder.hash[:12]}), "
        f"{track}. "
        f"It covers {len(forecast.tasks)} of {len(ladder.spec.tasks)} tasks: {counts['p_emerged']} of "
        f"{len(ladder.spec.tasks) * n_rungs} "
        f"rung probabilities, emergence quantiles for {with_q} tasks ({counts['emergence_quantiles']} values), "
        f"and {counts['accuracy']} expected accuracies. Unanswered questions are scored as the uninformed "
        "forecaster's answers."
    )


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--forecaster", help="Submit under this name instead of the file's forecaster field.")
@PREDICTIONS
@RESULTS
def submit(file: Path, forecaster: str | None, predictions: Path, out: Path) -> None:
    """Validate a prediction file, store an immutable copy and append it to the ledger."""
    from harness.forecasts.ledger import submit as record_submission

    entry, new = record_submission(file, predictions, out, forecaster)
    if not new:
        console.print(
            f"Already submitted: '{file}' by '{entry.forecaster}' is {predictions / entry.file} (sha256 "
            f"{entry.sha256[:12]}, {entry.submitted_at}); nothing changed."
        )
        return
    blind = (
        "blind: no measured results of this ladder existed"
        if entry.blind
        else "not blind: measured results of this ladder already existed"
    )
    console.print(
        f"Submitted '{file}' as {predictions / entry.file} (sha256 {entry.sha256[:12]}) at {entry.submitted_at}, "
        f"{entry.track} track, {blind}."
    )


@main.command()
@LADDER
@PREDICTIONS
@RESULTS
@BOOTSTRAP
@BOOT_SEED
def score(ladder_name: str, predictions: Path, out: Path, n_boot: int, seed: int) -> None:
    """Score every submission against the measured curves; write OUT/<ladder>/scores.parquet."""
    from harness.cli.board import show_leaderboard
    from harness.ladders.ladder import load_ladder
    from harness.scoring.scoreboard import score_ladder

    board = score_ladder(load_ladder(ladder_name), predictions, out, n_boot, seed)
    show_leaderboard(board, "all", "brier_index", show_oracle=True, page=None)
    console.print(f"Scores: {board.path}")


@main.command()
@LADDER
@RESULTS
@click.option(
    "--up-to",
    "up_to",
    required=True,
    help="Highest rung to reveal; the rungs above it stay hidden and are the ones scored.",
)
@click.option(
    "--internals",
    "with_internals",
    is_flag=True,
    help="Also write the revealed folder of the internals track: the revealed rungs' checkpoints over training, "
    "their internals table and curves.",
)
def reveal(ladder_name: str, out: Path, up_to: str, with_internals: bool) -> None:
    """Write the measured curves of the rungs up to RUNG (and nothing else) for the extrapolation track; with
    --internals, their checkpoints and internals table too, for the internals track."""
    from harness.forecasts.track import reveal as write_revealed
    from harness.ladders.ladder import load_ladder

    ladder = load_ladder(ladder_name)
    path = write_revealed(ladder, out, up_to)
    console.print(f"Revealed curves up to {up_to}: {path}.")
    if not with_internals:
        console.print(f"Forecast with 'track: extrapolation' and 'revealed_up_to: {up_to}'.")
        return
    from harness.forecasts import revealed

    shown = revealed.write(ladder, out, up_to, revealed.folder_of(ladder, out, up_to))
    console.print(revealed_summary(shown))


def revealed_summary(shown: Revealed) -> str:
    """What ``ladder reveal --internals`` wrote, in words: where, how many models, the pairs without their
    checkpoints, and how to read it."""
    from harness.training.store import ARCHIVED, CHECKPOINT, WEIGHTS

    listing = shown.checkpoints
    pairs = listing.groupby(["rung", "seed"], sort=False)
    stand_in = listing.loc[listing["source"] == WEIGHTS, ["rung", "seed"]]
    lines = [
        f"Revealed internals up to {shown.up_to}: {shown.out}, a results folder holding rungs "
        f"{', '.join(shown.revealed)} and nothing above: {pairs.ngroups} (rung, seed) pair(s), "
        f"{(listing['source'] == CHECKPOINT).sum()} checkpoint(s) and {(listing['source'] == ARCHIVED).sum()} "
        "archived checkpoint(s) (copies, each checked against its sha256), "
        f"{len(shown.table)} rows of the internals table."
    ]
    if len(stand_in):
        names = (
            "every pair"
            if len(stand_in) == pairs.ngroups
            else ", ".join(f"{r} seed {s}" for r, s in zip(stand_in["rung"], stand_in["seed"]))
        )
        lines.append(
            f"Checkpoints not on disk nor archived, so shown by the committed reference weights, final step only: "
            f"{names}. 'ladder run --ladder {shown.ladder.cli_name} --restore' brings their checkpoints back where "
            "retraining on this machine gives the same bytes; then reveal again."
        )
    if shown.table.empty:
        lines.append(
            f"No internals table of these rungs: measure it with 'ladder internals --ladder {shown.ladder.cli_name}' "
            "and reveal again."
        )
    lines.append(
        f"Load a model with harness.load_model('{shown.ladder.name}', RUNG, SEED, step, out='{shown.out}'), or "
        f"'ladder record ... --out {shown.out}'. Forecast with 'track: internals' and 'revealed_up_to: {shown.up_to}'."
    )
    return "\n".join(lines)


@main.command()
@LADDER
@PREDICTIONS
@RESULTS
@click.option(
    "--up-to",
    "up_to",
    help="Highest rung the extrapolation-track methods see (default: the top of the lower half of the ladder).",
)
def baselines(ladder_name: str, predictions: Path, out: Path, up_to: str | None) -> None:
    """Regenerate and submit the built-in methods (uninformed, extrapolator, two-step, progress) and the oracle."""
    from harness.ladders.ladder import load_ladder
    from harness.methods.baselines import write_baselines

    ladder = load_ladder(ladder_name)
    for entry, new in write_baselines(ladder, predictions, out, up_to, say=console.print):
        state = "submitted" if new else "unchanged"
        console.print(f"{entry.forecaster}: {state}, {predictions / entry.file}")

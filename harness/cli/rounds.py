"""``ladder round new`` and ``ladder round list``: forecasting rounds whose answers nobody has measured yet."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from harness.cli.app import PREDICTIONS, RESULTS, console, main


@main.group()
def round() -> None:  # noqa: A001 - the verb users type
    """Forecasting rounds: draw a new ladder from a template, and list every ladder's state."""


@round.command("new")
@click.option("--template", default="cpu", show_default=True, help="Ladder to draw the round from (name or path).")
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    help="Seed of the draw; the round is a pure function of (template, seed) [default: the smallest free from 1].",
)
@click.option("--name", help="The round's ladder name [default: TEMPLATE-rSEED].")
@click.option(
    "--rounds",
    type=click.Path(file_okay=False, path_type=Path),
    help="Draw into this folder instead of the working folder's rounds/ (a scratch draw, a test); rounds there are "
    "then given to other commands by path.",
)
@PREDICTIONS
@RESULTS
def new(template: str, seed: int | None, name: str | None, rounds: Path | None, predictions: Path, out: Path) -> None:
    """Draw a round from TEMPLATE: every task at another setting, written to rounds/, every method's forecast in."""
    from harness.ladders.ladder import ladder_folders

    with ladder_folders(rounds=rounds):
        _new(template, seed, name, predictions, out)


def _new(template: str, seed: int | None, name: str | None, predictions: Path, out: Path) -> None:
    from harness.ladders.ladder import load_ladder
    from harness.rounds.catalog import new_round, resolving_cost

    made = new_round(template, seed, name, predictions, out)
    ladder = made.ladder
    table = Table("task", "family", "setting", "weight", title=f"Round '{ladder.name}', hash {ladder.hash}")
    for task in ladder.tasks:
        setting = ", ".join(f"{k}={v}" for k, v in task.settings.items())
        table.add_row(task.name, task.family, setting, f"{ladder.spec.weights[task.name]:g}")
    console.print(table)
    console.print(
        f"Wrote {made.path}: {len(ladder.tasks)} tasks x {len(ladder.rungs)} rungs, nothing trained yet. Submitted "
        f"blind: {', '.join(e.forecaster for e in made.submitted)}."
        + "".join(f" Not by {why}." for why in made.skipped)
        + "\n"
        f"Forecast it: ladder template --ladder {ladder.name} -o my-forecast.yaml, edit, then ladder submit "
        "my-forecast.yaml (blind while no training of it has started).\n"
        f"Resolve it: ladder run --ladder {ladder.name} --workers 2, then ladder leaderboard --ladder {ladder.name}. "
        f"That trains {resolving_cost(ladder, load_ladder(template), out)}."
    )


@round.command("list")
@PREDICTIONS
@RESULTS
def list_rounds(predictions: Path, out: Path) -> None:
    """Every ladder and round: questions, training state (open, training, resolved) and blind submissions."""
    from harness.rounds.catalog import catalog

    rows = catalog(predictions, out)
    table = Table("ladder", "kind", "from", "hash", "tasks", "questions", "trained", "status", "submissions", "blind")
    for r in rows.itertuples():
        origin = f"{r.template} seed {int(r.seed)}" if r.kind == "round" else "-"
        table.add_row(
            r.ladder, r.kind, origin, r.hash, str(r.tasks), str(r.questions), f"{r.pairs_done}/{r.pairs}", r.status,
            str(r.submissions), str(r.blind),
        )  # fmt: skip
    console.print(table)
    resolved = rows[rows["status"] == "resolved"]
    console.print(
        f"{len(resolved)} resolved ladders with {int(resolved['tasks'].sum())} task questions; questions = tasks x "
        "rungs ('does this rung have the task'), plus one emergence size per task."
    )

"""The ``ladder`` command group, its error handling, and the options and parsers its commands share."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from harness.errors import UserError
from harness.scoring import table
from harness.scoring.table import N_BOOT

# Piped output (logs, CI) gets a wide fixed width rather than rich's 80 columns.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)


class LadderError(click.ClickException):
    """A ``UserError`` shown as one message with exit status 2 and no traceback."""

    exit_code = 2


class Group(click.Group):
    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            error = LadderError(str(exc))
            error.exit_code = exc.exit_code
            raise error from None


def parse_seeds(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        seeds = [int(s) for s in value.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not a comma-separated list of integers; write e.g. --seeds 0,1,2"
        ) from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise click.BadParameter(f"'{value}' must list distinct non-negative integers, e.g. --seeds 0,1,2")
    return seeds


def parse_rungs(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    rungs = [r.strip() for r in value.split(",") if r.strip()]
    if not rungs or len(set(rungs)) != len(rungs):
        raise click.BadParameter(f"'{value}' must list distinct rung names, e.g. --rungs c6,c7")
    return rungs


PREDICTIONS = click.option(
    "--predictions",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("predictions"),
    show_default=True,
    help="Predictions folder holding ledger.jsonl and the stored forecasts.",
)
RESULTS = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Results folder; each ladder's results are in OUT/<ladder>.",
)


class ScoreChoice(click.Choice):
    """A score's name, one of those the score table lists (all ranked ones, or the question scores), read from the
    table when the command runs, so a score added to the table is a choice at once."""

    def __init__(self, questions: bool = False) -> None:
        self.questions = questions
        self.case_sensitive = True

    @property
    def choices(self) -> list[str]:  # type: ignore[override]
        return table.question_scores() if self.questions else table.ranked()


def score_help(questions: bool = False) -> str:
    """One line per score of the table, for an option's help: its name, label and direction."""
    rows = [s for s in table.scores() if (s.question if questions else s.ranked)]
    return "; ".join(f"{s.name}: {s.label}, {s.direction}" for s in rows)


BOOTSTRAP = click.option(
    "--bootstrap",
    "n_boot",
    default=N_BOOT,
    show_default=True,
    type=click.IntRange(min=1000),
    help="Bootstrap resamples (of tasks and training seeds) for the 95% intervals.",
)
BOOT_SEED = click.option(
    "--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of the bootstrap."
)
LADDER = click.option(
    "--ladder",
    "ladder_name",
    default="cpu",
    show_default=True,
    help="Built-in ladder name or path to a ladder YAML file.",
)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """emergence-ladder: forecast, then measure, which capabilities emerge at which model size."""

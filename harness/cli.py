"""The ``ladder`` command line: run the model ladder, list tasks and ladders."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from harness.errors import UserError

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
            raise LadderError(str(exc)) from None


def parse_seeds(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        seeds = [int(s) for s in value.split(",") if s.strip()]
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a comma-separated list of integers; write e.g. --seeds 0,1,2") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise click.BadParameter(f"'{value}' must list distinct non-negative integers, e.g. --seeds 0,1,2")
    return seeds


def sci(n: float) -> str:
    """Compact scientific notation for parameter counts: 1722 -> '1.7e3'."""
    mantissa, exponent = f"{n:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """emergence-ladder: forecast, then measure, which capabilities emerge at which model size."""


@main.command()
@click.option("--ladder", "ladder_name", default="cpu", show_default=True, help="Built-in ladder name or path to a ladder YAML file.")
@click.option("--seeds", callback=parse_seeds, help="Comma-separated seeds, e.g. 0,1,2 (default: the ladder's own seeds).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True, help="Results root; the ladder's results go to OUT/<ladder>.")
@click.option("--wandb", "wandb_mode", type=click.Choice(["offline", "online", "disabled"]), default="offline", show_default=True, help="wandb logging: offline runs are written under OUT/<ladder>/wandb and never touch the network.")
@click.option("--force", is_flag=True, help="Retrain (rung, seed) pairs that already finished, replacing their rows.")
def run(ladder_name: str, seeds: list[int] | None, out: Path, wandb_mode: str, force: bool) -> None:
    """Train every rung of a ladder for every seed and record learning curves."""
    from harness.ladder import load_ladder
    from harness.train import run_ladder

    ladder = load_ladder(ladder_name)
    seeds = seeds if seeds is not None else ladder.spec.seeds
    store = run_ladder(ladder, seeds, out, wandb_mode, force, say=console.print)
    console.print(f"Curves: {store.curves_path}  Manifest: {store.manifest_path}")


@main.command()
def tasks() -> None:
    """List the registered tasks."""
    from harness.tasks import TASKS

    table = Table("task", "version", "chance", "threshold", "length", "description")
    for name in sorted(TASKS, key=lambda n: TASKS.get(n).tag):
        t = TASKS.get(name)
        table.add_row(name, str(t.version), f"{t.chance:.3g}", f"{t.threshold:g}", str(t.seq_len), t.description)
    console.print(table)


@main.command()
def ladders() -> None:
    """List the built-in ladders."""
    from harness.ladder import builtin_ladders, load_ladder

    table = Table("ladder", "family", "rungs", "parameters", "tasks", "steps", "seeds")
    table.add_column("hash", no_wrap=True, min_width=12)
    for name in builtin_ladders():
        lad = load_ladder(name)
        spec = lad.spec
        span = f"{sci(lad.rungs[0].params)} .. {sci(lad.rungs[-1].params)}"
        table.add_row(name, spec.family, str(len(lad.rungs)), span, str(len(spec.tasks)), str(spec.training.steps), ",".join(map(str, spec.seeds)), lad.hash[:12])
    console.print(table)

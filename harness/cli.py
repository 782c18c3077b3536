"""The ``ladder`` command line: run the model ladder, list tasks and ladders."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from harness.errors import UserError
from harness.fmt import sci

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
@click.option("--ladder", "ladder_name", default="cpu", show_default=True, help="Built-in ladder name or path to a ladder YAML file.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True, help="Results root; reads and writes OUT/<ladder>.")
@click.option("--check", is_flag=True, help="Exit with status 1 unless every acceptance check of the ground truth passes.")
def emergence(ladder_name: str, out: Path, check: bool) -> None:
    """Where each task emerges: print the table, write emergence.parquet and the emergence map."""
    from harness.calibration import check as run_checks
    from harness.ground_truth import measure
    from harness.ladder import load_ladder

    ladder = load_ladder(ladder_name)
    truth = measure(ladder, out / ladder.name)
    if truth.missing:
        pairs = ", ".join(f"{r}/seed{s}" for r, s in truth.missing)
        console.print(f"[yellow]Not finished yet, left out: {pairs}. Run 'ladder run --ladder {ladder.cli_name}' to complete them.[/]")
    for metric in ("accuracy", "loss"):
        console.print(emergence_grid(truth.table, metric))
    checks = run_checks(truth.table, truth.wall_times)
    console.print(checks_table(checks))
    console.print(f"Emergence table: {truth.table_path}  Map: {truth.map_path}")
    if check and not all(c.passed for c in checks):
        raise SystemExit(1)


def emergence_grid(table, metric: str) -> Table:
    """Tasks by rungs: seeds with the capability per rung, then the emergence size over seeds."""
    from harness.emergence import fraction_emerged, rung_sizes, summarize, task_order
    from harness.fmt import size_summary

    one = table[table["metric"] == metric]
    n_seeds = one["seed"].nunique()
    rungs = rung_sizes(one)
    bottom, top = int(rungs["params"].iloc[0]), int(rungs["params"].iloc[-1])
    grid = fraction_emerged(one, metric)
    summary = summarize(one).set_index("task")
    thresholds = one.drop_duplicates("task").set_index("task")["threshold"]
    title = {"accuracy": "exact-match accuracy at or above the task's threshold", "loss": "answer loss (nats per token) at or below -ln(threshold) / answer length"}[metric]
    out = Table(title=f"Seeds with the capability, {metric}: {title}", title_justify="left")
    out.add_column("task")
    out.add_column("threshold", justify="right")
    for rung, params in zip(rungs["rung"], rungs["params"]):
        out.add_column(f"{rung}\n{sci(params)}", justify="center")
    out.add_column("emerges at, median [seed range]")
    for task in task_order(table, metric):
        cells = []
        for rung in rungs["rung"]:
            k = round(grid.loc[task, rung] * n_seeds)
            colour = "green" if k == n_seeds else ("yellow" if k else "dim")
            cells.append(f"[{colour}]{k}/{n_seeds}[/]")
        s = summary.loc[task]
        size = size_summary(s["low"], s["median"], s["high"], bottom, top)
        if s["n_regressed"]:
            size += f"  ({int(s['n_regressed'])} regressed)"
        out.add_row(task, f"{thresholds[task]:.3g}", *cells, size)
    return out


def checks_table(checks) -> Table:
    out = Table("check", "result", "detail", title="Acceptance checks of the ground truth (accuracy)", title_justify="left")
    for c in checks:
        out.add_row(c.name, "[green]pass[/]" if c.passed else "[red]FAIL[/]", c.detail)
    return out


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

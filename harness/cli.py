"""The ``ladder`` command line: run the ladder, measure emergence, submit and score forecasts."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from harness.errors import UserError
from harness.executors import EXECUTORS
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
            error = LadderError(str(exc))
            error.exit_code = exc.exit_code
            raise error from None


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


def parse_rungs(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    rungs = [r.strip() for r in value.split(",") if r.strip()]
    if not rungs or len(set(rungs)) != len(rungs):
        raise click.BadParameter(f"'{value}' must list distinct rung names, e.g. --rungs c6,c7")
    return rungs


PREDICTIONS = click.option("--predictions", type=click.Path(file_okay=False, path_type=Path), default=Path("predictions"), show_default=True, help="Predictions folder holding ledger.jsonl and the stored forecasts.")
RESULTS = click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True, help="Results root holding OUT/<ladder>.")
LADDER = click.option("--ladder", "ladder_name", default="cpu", show_default=True, help="Built-in ladder name or path to a ladder YAML file.")


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """emergence-ladder: forecast, then measure, which capabilities emerge at which model size."""


@main.command()
@LADDER
@click.option("--seeds", callback=parse_seeds, help="Comma-separated seeds, e.g. 0,1,2 (default: the ladder's own seeds).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("results"), show_default=True, help="Results root; the ladder's results go to OUT/<ladder>.")
@click.option("--executor", type=click.Choice(EXECUTORS.names()), default="local", show_default=True, help="local: this process, or --workers processes; ray: a local Ray cluster, or the one at --address.")
@click.option("--workers", type=click.IntRange(min=1), help="(rung, seed) jobs at once [local: 1; ray: this machine's cores, or the whole cluster with --address].")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True, help="torch threads (and CPUs reserved) per job; curves depend on it, so the default is fixed.")
@click.option("--address", help="Join the Ray cluster at HOST:PORT (or ray://HOST:PORT, or 'auto') instead of starting a local one.")
@click.option("--accelerator", help="Lightning accelerator: cpu, gpu or auto [the ladder file's].")
@click.option("--devices", type=click.IntRange(min=1), help="Devices per (rung, seed) job [the ladder file's].")
@click.option("--strategy", help="Lightning strategy for several devices, e.g. ddp_spawn [the ladder file's, else auto].")
@click.option("--precision", help="Lightning precision: 32-true, bf16-mixed, 16-mixed or bf16-true [the ladder file's].")
@click.option("--wandb", "wandb_mode", type=click.Choice(["offline", "online", "disabled"]), default="offline", show_default=True, help="wandb logging: offline runs are written under OUT/<ladder>/wandb and never touch the network.")
@click.option("--rungs", callback=parse_rungs, help="Comma-separated rungs to train, e.g. c6,c7 (default: all).")
@click.option("--force", is_flag=True, help="Retrain (rung, seed) pairs that already finished, replacing their rows.")
@click.option("--restore", is_flag=True, help="Retrain finished pairs whose checkpoints are missing or damaged, and keep the new checkpoints only if byte-identical to the recorded ones.")
def run(ladder_name: str, seeds: list[int] | None, out: Path, wandb_mode: str, force: bool, restore: bool, rungs: list[str] | None, executor: str, workers: int | None, threads: int, address: str | None, **devices: object) -> None:
    """Train every rung of a ladder for every seed and record learning curves."""
    from harness.ladder import load_ladder
    from harness.runner import RunOptions, run_ladder

    ladder = load_ladder(ladder_name)
    seeds = seeds if seeds is not None else ladder.spec.seeds
    options = RunOptions(executor=executor, workers=workers, threads=threads, address=address, wandb=wandb_mode, force=force, restore=restore, rungs=rungs, devices={k: v for k, v in devices.items() if v is not None})
    store = run_ladder(ladder, seeds, out, options, say=console.print)
    console.print(f"Curves: {store.curves_path}  Manifest: {store.manifest_path}")


@main.command()
@LADDER
@click.option("--rung", required=True, help="Rung to load, e.g. c3.")
@click.option("--seed", required=True, type=click.IntRange(min=0), help="Training seed of the pair to load.")
@click.option("--step", default="final", show_default=True, help="Checkpoint step (one the pair saved), or 'final'.")
@click.option("--task", required=True, help="Task whose examples the model reads (see 'ladder tasks').")
@click.option("--n", "n", default=64, show_default=True, type=click.IntRange(min=1), help="Number of examples.")
@click.option("--examples-seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of the examples; the same seed gives every model the same examples.")
@click.option("--hooks", help="Comma-separated globs of hook points, e.g. 'blocks.*.attn.hook_pattern' (default: every hook point).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="safetensors file to write.")
@click.option("--replace", is_flag=True, help="Replace OUTPUT if it exists (by default an existing file is never overwritten).")
@RESULTS
def record(ladder_name: str, rung: str, seed: int, step: str, task: str, n: int, examples_seed: int, hooks: str | None, output: Path, replace: bool, out: Path) -> None:
    """Record a trained model's activations at every hook point on a task's examples, to safetensors."""
    from harness.recording import record_file

    if output.exists() and not replace:
        raise UserError(f"'{output}' already exists and is not overwritten; choose another -o/--output, or pass --replace.")
    try:
        shapes = record_file(ladder_name, rung, seed, step, task, n, examples_seed, hooks, output, out)
    except OSError as exc:
        raise UserError(f"Could not write '{output}': {exc.strerror or exc}. Choose an -o/--output in a folder you can write to, with room for the file.") from None
    hooked = sum("hook_" in name for name in shapes)
    console.print(f"Recorded {hooked} hook points on {n} '{task}' examples: {output} ({output.stat().st_size / 2**20:.1f} MiB)")


@main.command()
@LADDER
@RESULTS
@click.option("--check", is_flag=True, help="Exit with status 1 unless every acceptance check of the ground truth passes.")
def emergence(ladder_name: str, out: Path, check: bool) -> None:
    """Where each task emerges: print the table, write emergence.parquet and the emergence map."""
    from harness.calibration import check as run_checks
    from harness.ground_truth import measure
    from harness.ladder import load_ladder
    from harness.tables import checks_table, emergence_grid

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


@main.command()
@LADDER
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here (.yaml or .json) instead of to standard output; never overwrites a file.")
@click.option("--forecaster", default="your-name", show_default=True, help="Forecaster name to put in the file.")
def template(ladder_name: str, output: Path | None, forecaster: str) -> None:
    """Write a prediction file with every task and rung and neutral values, ready to edit."""
    import json

    import yaml

    from harness.forecast import to_data, uninformed
    from harness.ladder import load_ladder
    from harness.store import atomic_write

    ladder = load_ladder(ladder_name)
    try:
        data = to_data(uninformed(ladder, forecaster, description="Edit every value; delete what you do not want to forecast."))
    except ValueError:
        raise UserError(f"--forecaster '{forecaster}' is not a valid name: use 1-64 lower-case letters, digits, '-' or '_'.") from None
    text = json.dumps(data, indent=2) + "\n" if output is not None and output.suffix.lower() == ".json" else yaml.safe_dump(data, sort_keys=False)
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists():
        raise UserError(f"'{output}' already exists; template never overwrites a file. Give another -o path or delete it first.")
    atomic_write(output, text.encode())
    console.print(f"Wrote {output}: {len(ladder.spec.tasks)} tasks x {len(ladder.rungs)} rungs of ladder '{ladder.name}'. Edit it, then 'ladder validate {output}'.")


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
def validate(file: Path) -> None:
    """Check a prediction file and report every problem at once (exit 2 on any)."""
    from harness.forecast import load_forecast

    forecast, ladder = load_forecast(file)
    console.print(summary(file, forecast, ladder))


def summary(file: Path, forecast, ladder) -> str:  # noqa: ANN001 - Forecast, Ladder
    n_rungs = len(ladder.rungs)
    counts = {kind: sum(len(getattr(t, kind)) for t in forecast.tasks.values()) for kind in ("p_emerged", "emergence_quantiles", "accuracy")}
    with_q = sum(bool(t.emergence_quantiles) for t in forecast.tasks.values())
    track = f"extrapolation track (curves seen up to {forecast.revealed_up_to})" if forecast.revealed_up_to else "blind track"
    return (
        f"'{file}' is a valid forecast by '{forecast.forecaster}' for ladder '{ladder.name}' ({ladder.hash[:12]}), {track}. "
        f"It covers {len(forecast.tasks)} of {len(ladder.spec.tasks)} tasks: {counts['p_emerged']} of {len(ladder.spec.tasks) * n_rungs} "
        f"rung probabilities, emergence quantiles for {with_q} tasks ({counts['emergence_quantiles']} values), "
        f"and {counts['accuracy']} expected accuracies. Unanswered questions are scored as the uninformed forecaster's answers."
    )


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--forecaster", help="Submit under this name instead of the file's forecaster field.")
@PREDICTIONS
@RESULTS
def submit(file: Path, forecaster: str | None, predictions: Path, out: Path) -> None:
    """Validate a prediction file, store an immutable copy and append it to the ledger."""
    from harness.ledger import submit as record_submission

    entry, new = record_submission(file, predictions, out, forecaster)
    if not new:
        console.print(f"Already submitted: '{file}' by '{entry.forecaster}' is {predictions / entry.file} (sha256 {entry.sha256[:12]}, {entry.submitted_at}); nothing changed.")
        return
    blind = "blind: no measured results of this ladder existed" if entry.blind else "not blind: measured results of this ladder already existed"
    console.print(f"Submitted '{file}' as {predictions / entry.file} (sha256 {entry.sha256[:12]}) at {entry.submitted_at}, {entry.track} track, {blind}.")


@main.command()
@LADDER
@PREDICTIONS
@RESULTS
@click.option("--bootstrap", "n_boot", default=2000, show_default=True, type=click.IntRange(min=1000), help="Bootstrap resamples over tasks for the 95% intervals.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed of the bootstrap.")
def score(ladder_name: str, predictions: Path, out: Path, n_boot: int, seed: int) -> None:
    """Score every submission against the measured curves; write OUT/<ladder>/scores.parquet."""
    from harness.ladder import load_ladder
    from harness.scoreboard import score_ladder

    board = score_ladder(load_ladder(ladder_name), predictions, out, n_boot, seed)
    show_leaderboard(board, "all", "brier_index", show_oracle=True, page=None)
    console.print(f"Scores: {board.path}")


@main.command()
@LADDER
@RESULTS
@click.option("--up-to", "up_to", required=True, help="Highest rung to reveal; the rungs above it stay hidden and are the ones scored.")
def reveal(ladder_name: str, out: Path, up_to: str) -> None:
    """Write the measured curves of the rungs up to RUNG (and nothing else) for the extrapolation track."""
    from harness.ladder import load_ladder
    from harness.scoreboard import reveal as write_revealed

    ladder = load_ladder(ladder_name)
    path = write_revealed(ladder, out, up_to)
    console.print(f"Revealed curves up to {up_to}: {path}. Forecast with 'track: extrapolation' and 'revealed_up_to: {up_to}'.")


@main.command()
@LADDER
@PREDICTIONS
@RESULTS
@click.option("--up-to", "up_to", help="Highest rung the extrapolator sees (default: the top of the lower half of the ladder).")
def baselines(ladder_name: str, predictions: Path, out: Path, up_to: str | None) -> None:
    """Regenerate and submit the built-in forecasters: uninformed, extrapolator, oracle."""
    from harness.ladder import load_ladder
    from harness.scoreboard import write_baselines

    ladder = load_ladder(ladder_name)
    for entry, new in write_baselines(ladder, predictions, out, up_to):
        state = "submitted" if new else "unchanged"
        console.print(f"{entry.forecaster}: {state}, {predictions / entry.file}")


@main.command()
@LADDER
@PREDICTIONS
@RESULTS
@click.option("--track", type=click.Choice(["blind", "extrapolation", "all"]), default="all", show_default=True, help="Show blind forecasts, extrapolation forecasts, or both (each ranked in its own group).")
@click.option("--sort", "sort_by", type=click.Choice(["brier_index", "brier", "brier_skill", "pinball", "pinball_skill", "accuracy_mse"]), default="brier_index", show_default=True, help="Score to rank by (each in its better direction).")
@click.option("--show-oracle", is_flag=True, help="Also show the oracle, which reads the answers off the truth (never ranked).")
@click.option("--html", is_flag=False, flag_value="", default=None, type=click.Path(dir_okay=False), help="Also write the self-contained web page here (--html alone: OUT/<ladder>/leaderboard.html).")
def leaderboard(ladder_name: str, predictions: Path, out: Path, track: str, sort_by: str, show_oracle: bool, html: str | None) -> None:
    """Rank every submission for a ladder (scoring them afresh) and print the table; optionally write the page."""
    from harness.ladder import load_ladder
    from harness.scoreboard import score_ladder

    ladder = load_ladder(ladder_name)
    board = score_ladder(ladder, predictions, out)
    page = None if html is None else Path(html) if html else out / ladder.name / "leaderboard.html"
    show_leaderboard(board, track, sort_by, show_oracle, page)


def show_leaderboard(board, track: str, sort_by: str, show_oracle: bool, page: Path | None) -> None:  # noqa: ANN001 - a Scoreboard
    """Print the ranked table of ``board`` and, if ``page`` is given, write the web page there."""
    from harness.leaderboard import standings
    from harness.tables import leaderboard_table

    for note in board.notes:
        console.print(f"[yellow]{note}[/]")
    rows = standings(board.scores, track, sort_by, show_oracle)
    if rows.empty:
        raise UserError(f"No {track}-track submissions for ladder '{board.ladder.name}' among the {len(board.entries)} scored; use --track all to see the others.")
    console.print(leaderboard_table(rows, f"Leaderboard of ladder '{board.ladder.name}' ({track} track{'s' * (track == 'all')}, ranked by {sort_by})"))
    if page is not None:
        from harness.report import write_report

        console.print(f"Web page: {write_report(board, rows, page)}")


@main.command()
@PREDICTIONS
@RESULTS
def demo(predictions: Path, out: Path) -> None:
    """Leaderboard in one command: the committed cpu results (or a fresh smoke run), baselines, scores, page."""
    from harness.ladder import load_ladder
    from harness.ledger import results_exist
    from harness.scoreboard import score_ladder, write_baselines
    from harness.runner import RunOptions, run_ladder

    ladder = load_ladder("cpu")
    if results_exist(out, ladder):
        console.print(f"Using the measured results of ladder 'cpu' under {out / 'cpu'}.")
    else:
        ladder = load_ladder("smoke")
        console.print(f"No results of the current version of ladder 'cpu' under {out / 'cpu'}: training the small 'smoke' ladder instead.")
        run_ladder(ladder, ladder.spec.seeds, out, RunOptions(wandb="disabled"), say=console.print)
    for entry, new in write_baselines(ladder, predictions, out):
        console.print(f"Baseline {entry.forecaster}: {'submitted' if new else 'already in the ledger'}.")
    board = score_ladder(ladder, predictions, out)
    show_leaderboard(board, "all", "brier_index", False, out / ladder.name / "leaderboard.html")

"""``ladder tasks``, ``ladder ladders`` and ``ladder run``: what can be trained, and training it."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from harness.board.fmt import sci
from harness.cli.app import LADDER, RESULTS, console, main, parse_rungs, parse_seeds
from harness.training.executors import EXECUTORS


@main.command()
def tasks() -> None:
    """List the task families: their difficulty parameters (default and range) and what they ask at the defaults."""
    from harness.tasks import TASKS

    table = Table("task", "version", "parameters: default (range)", "chance", "threshold", "length", "description")
    for name in sorted(TASKS, key=lambda n: TASKS.get(n).home_tag):
        t = TASKS.get(name)
        knobs = "\n".join(f"{k}: {d} ({lo}-{hi})" for k, (d, lo, hi) in t.ranges().items()) or "-"
        table.add_row(name, str(t.version), knobs, f"{t.chance:.3g}", f"{t.threshold:g}", str(t.seq_len), t.description)
    console.print(table)
    console.print(
        "A ladder holds a family at other parameters as "
        "'NAME: {family: FAMILY, PARAMETER: VALUE, ..., weight: W}'; see docs/running.md#task-families."
    )


@main.command()
def ladders() -> None:
    """List the built-in ladders (the rounds drawn from them: 'ladder round list')."""
    from harness.ladders.ladder import builtin_ladders, load_ladder

    table = Table("ladder", "family", "rungs", "parameters", "tasks", "steps", "seeds")
    table.add_column("hash", no_wrap=True, min_width=12)
    for name in builtin_ladders():
        lad = load_ladder(name)
        spec = lad.spec
        span = f"{sci(lad.rungs[0].params)} .. {sci(lad.rungs[-1].params)}"
        table.add_row(
            name,
            spec.family,
            str(len(lad.rungs)),
            span,
            str(len(spec.tasks)),
            str(spec.training.steps),
            ",".join(map(str, spec.seeds)),
            lad.hash[:12],
        )
    console.print(table)
    for name in builtin_ladders():
        if not load_ladder(name).spec.tuned:
            console.print(f"'{name}' is UNTUNED: nobody has trained it to check that its questions separate sizes.")


@main.command()
@LADDER
@click.option(
    "--seeds", callback=parse_seeds, help="Comma-separated seeds, e.g. 0,1,2 (default: the ladder's own seeds)."
)
@RESULTS
@click.option(
    "--executor",
    type=click.Choice(EXECUTORS.names()),
    default="local",
    show_default=True,
    help="local: this process, or --workers processes; ray: a local Ray cluster, or the one at --address.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="(rung, seed) jobs at once [local: 1; ray: this machine's cores, or the whole cluster with --address].",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="torch threads (and CPUs reserved) per job; curves depend on it, so the default is fixed.",
)
@click.option(
    "--address",
    help="Join the Ray cluster at HOST:PORT (or ray://HOST:PORT, or 'auto') instead of starting a local one.",
)
@click.option(
    "--ray-shared-out",
    "shared_out",
    is_flag=True,
    help="Every node of the Ray cluster at --address sees --out at the same path: workers write checkpoints there "
    "instead of sending their bytes back through Ray's object store (faster for large rungs).",
)
@click.option("--accelerator", help="Lightning accelerator: cpu, gpu or auto [the ladder file's].")
@click.option("--devices", type=click.IntRange(min=1), help="Devices per (rung, seed) job [the ladder file's].")
@click.option(
    "--strategy", help="Lightning strategy for several devices, e.g. ddp_spawn [the ladder file's, else auto]."
)
@click.option(
    "--precision", help="Lightning precision: 32-true, bf16-mixed, 16-mixed or bf16-true [the ladder file's]."
)
@click.option(
    "--wandb",
    "wandb_mode",
    type=click.Choice(["offline", "online", "disabled"]),
    default="offline",
    show_default=True,
    help="wandb logging: offline runs are written under OUT/<ladder>/wandb and never touch the network (on a Ray "
    "cluster without --ray-shared-out, in the workers' scratch, and removed with it).",
)
@click.option("--rungs", callback=parse_rungs, help="Comma-separated rungs to train, e.g. c6,c7 (default: all).")
@click.option("--force", is_flag=True, help="Retrain (rung, seed) pairs that already finished, replacing their rows.")
@click.option(
    "--restore",
    is_flag=True,
    help="Retrain finished pairs whose checkpoints are missing or damaged, and keep the new checkpoints only if "
    "byte-identical to the recorded ones.",
)
@click.option(
    "--retime",
    is_flag=True,
    help="Retrain finished pairs to re-measure their wall time (say, one recorded while other jobs shared the "
    "cores); the new time is recorded, the earlier ones kept, only where the checkpoints come out byte-identical.",
)
def run(
    ladder_name: str,
    seeds: list[int] | None,
    out: Path,
    wandb_mode: str,
    force: bool,
    restore: bool,
    retime: bool,
    rungs: list[str] | None,
    executor: str,
    workers: int | None,
    threads: int,
    address: str | None,
    shared_out: bool,
    **devices: object,
) -> None:
    """Train every rung of a ladder for every seed and record learning curves."""
    from harness.ladders.ladder import load_ladder
    from harness.training.runner import RunOptions, run_ladder

    ladder = load_ladder(ladder_name)
    seeds = seeds if seeds is not None else ladder.spec.seeds
    options = RunOptions(
        executor=executor,
        workers=workers,
        threads=threads,
        address=address,
        shared_out=shared_out,
        wandb=wandb_mode,
        force=force,
        restore=restore,
        retime=retime,
        rungs=rungs,
        devices={k: v for k, v in devices.items() if v is not None},
    )
    store = run_ladder(ladder, seeds, out, options, say=console.print)
    console.print(f"Curves: {store.curves_path}  Manifest: {store.manifest_path}")

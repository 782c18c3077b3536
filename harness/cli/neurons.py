"""``ladder record``: a trained model's activations to safetensors; ``ladder export``: it as a Hugging Face folder."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.app import LADDER, RESULTS, console, main
from harness.errors import UserError


@main.command()
@LADDER
@click.option("--rung", required=True, help="Rung to load, e.g. c3.")
@click.option("--seed", required=True, type=click.IntRange(min=0), help="Training seed of the pair to load.")
@click.option("--step", default="final", show_default=True, help="Checkpoint step (one the pair saved), or 'final'.")
@click.option("--task", required=True, help="Task of the ladder (its name in the ladder file) whose examples are read.")
@click.option("--n", "n", default=64, show_default=True, type=click.IntRange(min=1), help="Number of examples.")
@click.option(
    "--examples-seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Seed of the examples; the same seed gives every model the same examples.",
)
@click.option(
    "--hooks",
    help="Comma-separated globs of hook points, e.g. 'blocks.*.attn.hook_pattern' (default: every hook point).",
)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="safetensors file to write."
)
@click.option(
    "--replace", is_flag=True, help="Replace OUTPUT if it exists (by default an existing file is never overwritten)."
)
@RESULTS
def record(
    ladder_name: str,
    rung: str,
    seed: int,
    step: str,
    task: str,
    n: int,
    examples_seed: int,
    hooks: str | None,
    output: Path,
    replace: bool,
    out: Path,
) -> None:
    """Record a trained model's activations at every hook point on a task's examples, to safetensors."""
    from harness.neurons.recording import record_file

    if output.exists() and not replace:
        raise UserError(
            f"'{output}' already exists and is not overwritten; choose another -o/--output, or pass --replace."
        )
    try:
        shapes = record_file(ladder_name, rung, seed, step, task, n, examples_seed, hooks, output, out)
    except OSError as exc:
        raise UserError(
            f"Could not write '{output}': {exc.strerror or exc}. Choose an -o/--output in a folder you can write to, "
            "with room for the file."
        ) from None
    hooked = sum("hook_" in name for name in shapes)
    console.print(
        f"Recorded {hooked} hook points on {n} '{task}' examples: {output} ({output.stat().st_size / 2**20:.1f} MiB)"
    )


@main.command()
@LADDER
@click.option("--rung", required=True, help="Rung to export, e.g. c3 (a rung of the gpt family).")
@click.option("--seed", required=True, type=click.IntRange(min=0), help="Training seed of the pair to export.")
@click.option("--step", default="final", show_default=True, help="Checkpoint step (one the pair saved), or 'final'.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder to write: config.json, model.safetensors, the tokenizer and emergence_ladder.json.",
)
@click.option("--replace", is_flag=True, help="Replace OUTPUT if an earlier 'ladder export' wrote it.")
@RESULTS
def export(ladder_name: str, rung: str, seed: int, step: str, output: Path, replace: bool, out: Path) -> None:
    """Write a trained gpt model as a Hugging Face folder (GPT2LMHeadModel), for transformers and TransformerLens."""
    from harness.neurons.exporting import export_folder

    try:
        about = export_folder(ladder_name, rung, seed, step, output, out, replace)
    except OSError as exc:
        raise UserError(
            f"Could not write '{output}': {exc.strerror or exc}. Choose an -o/--output in a folder you can write to, "
            "with room for the model."
        ) from None
    console.print(
        f"Exported rung {rung} seed {seed} step {about['step']} of ladder '{about['ladder']}' "
        f"({about['params']:,} parameters) to {output}: GPT2LMHeadModel.from_pretrained('{output}')"
    )

"""Forecasters as code: ``ladder methods``, ``ladder forecast`` and ``ladder backtest``."""

from __future__ import annotations

from pathlib import Path

import click

from harness.cli.app import BOOT_SEED, BOOTSTRAP, LADDER, PREDICTIONS, RESULTS, console, main
from harness.errors import UserError

METHOD = click.option(
    "--method",
    "method_name",
    required=True,
    help="A built-in or installed method's name (see 'ladder methods'), or a path package.module:function.",
)


@main.command()
def methods() -> None:
    """List the forecasting methods: built-in, and those installed packages register."""
    from rich.table import Table

    from harness.methods.registry import GROUP, registered

    table = Table("method", "tracks", "needs", "from", "what it does", title="Forecasting methods")
    for method in registered():
        needs = "a round's template results" if method.needs_template else "-"
        table.add_row(method.name, ", ".join(method.tracks), needs, method.origin, method.summary)
    console.print(table)
    console.print(
        f"Packages add methods under the entry-point group '{GROUP}'; any function is also a method as "
        "--method package.module:function."
    )


@main.command()
@METHOD
@LADDER
@click.option(
    "--up-to",
    "up_to",
    help="Extrapolation track: the highest rung whose curves the method sees. Left out: the blind track.",
)
@click.option(
    "--internals",
    "with_internals",
    is_flag=True,
    help="The internals track (with --up-to): the method also sees the revealed rungs' checkpoints and internals "
    "(implied for a method that answers the internals track only).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the forecast here (.yaml or .json) instead of to standard output; never overwrites a file.",
)
@click.option("--submit", "submit_it", is_flag=True, help="Record the forecast in the ledger, as 'ladder submit'.")
@click.option("--forecaster", help="Name the forecast [default: the method's name].")
@PREDICTIONS
@RESULTS
def forecast(
    method_name: str,
    ladder_name: str,
    up_to: str | None,
    with_internals: bool,
    output: Path | None,
    submit_it: bool,
    forecaster: str | None,
    predictions: Path,
    out: Path,
) -> None:
    """Run a forecasting method on a ladder: print its forecast, or write it (-o) and submit it (--submit)."""
    from harness.files import atomic_write
    from harness.forecasts.ledger import read_ledger
    from harness.forecasts.schema import dump
    from harness.forecasts.track import in_words
    from harness.ladders.ladder import load_ladder
    from harness.methods.question import asking
    from harness.methods.registry import find
    from harness.methods.running import answer, record_answer, require_track

    if output is not None and output.exists():
        raise UserError(f"'{output}' already exists; ladder forecast never overwrites a file. Give another -o path.")
    if with_internals and up_to is None:
        raise UserError("--internals asks the internals track, which reveals the rungs up to one: give --up-to RUNG.")
    if submit_it:
        read_ledger(predictions)  # a broken ledger is refused before anything is written
    method, ladder = find(method_name), load_ladder(ladder_name)
    with_internals |= up_to is not None and method.tracks == ("internals",)  # its only track that reveals rungs
    track_name = "blind" if up_to is None else "internals" if with_internals else "extrapolation"
    require_track(method, track_name)
    with asking(ladder, out, track_name, up_to) as question:
        made = answer(method, question, forecaster)
    fmt = "json" if output is not None and output.suffix.lower() == ".json" else "yaml"
    if output is None and not submit_it:
        click.echo(dump(made, fmt).decode("utf-8"), nl=False)
        return
    track = in_words(track_name, up_to)
    if output is not None:
        atomic_write(output, dump(made, fmt))
        console.print(f"Wrote {output}: the forecast of method '{method.name}' for ladder '{ladder.name}', {track}.")
    if submit_it:
        entry, new = record_answer(made, ladder, method, predictions, out, fmt)
        state = "Submitted" if new else "Already in the ledger, unchanged:"
        blind = "blind" if entry.blind else "not blind: measured results of this ladder already existed"
        console.print(
            f"{state} '{entry.forecaster}' as {predictions / entry.file} (sha256 {entry.sha256[:12]}) at "
            f"{entry.submitted_at}, {track}, {blind}."
        )


@main.command()
@METHOD
@click.option(
    "--ladder",
    "ladders",
    multiple=True,
    help="Backtest on this ladder only (repeat for several) [default: every resolved ladder and round].",
)
@click.option(
    "--up-to",
    "up_to",
    help="Extrapolation track: the rung revealed on every ladder [default: the top of each ladder's lower half].",
)
@click.option(
    "--against",
    multiple=True,
    metavar="METHOD",
    help="Set the method against this one (repeat for several): the paired difference of every question score on "
    "the same questions, with its 95% interval.",
)
@RESULTS
@BOOTSTRAP
@BOOT_SEED
def backtest(
    method_name: str,
    ladders: tuple[str, ...],
    up_to: str | None,
    against: tuple[str, ...],
    out: Path,
    n_boot: int,
    seed: int,
) -> None:
    """Run a method on every resolved ladder and score it there; submits and writes nothing."""
    from harness.methods.backtest import backtest as run_backtest
    from harness.methods.registry import find

    others = [find(name) for name in against]
    result = run_backtest(find(method_name), out, list(ladders), up_to, n_boot, seed, others)
    from harness.board.terminal import backtest_table, versus_table

    console.print(backtest_table(result, console.width))
    if result.versus is not None:
        console.print(versus_table(result))
    pinball = result.scores[result.scores["score"] == "pinball"]
    for ladder in dict.fromkeys(pinball.loc[pinball["n_questions"] < 2, "ladder"]):  # one emergence size per task
        console.print(f"{ladder} has one task: its intervals over tasks hold that task's score alone.")
    for line in result.skipped:
        console.print(f"Not answered: {line}.")

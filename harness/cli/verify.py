"""Checking the stored record: ``ladder verify`` (results stores and predictions) and ``ladder ledger``."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import click

from harness.cli.app import PREDICTIONS, RESULTS, console, main
from harness.errors import Problem, UserError


@main.command()
@click.option("--ladder", "ladder_name", help="Check only this ladder's results (default: every store under --out).")
@click.option("--repair", is_flag=True, help="Make the safe repairs first (see below), then check.")
@PREDICTIONS
@RESULTS
def verify(ladder_name: str | None, repair: bool, predictions: Path, out: Path) -> None:
    """Check results stores and the predictions folder in one pass; exit 0 only when everything holds.

    Checked: each store's curves are readable, have the promised columns and the
    sha256 its manifest recorded, and hold exactly the rows of the finished pairs;
    checkpoints present have their recorded hashes; the ledger's hash chain holds;
    every stored forecast matches its ledger line. One line per problem, with its
    repair.

    --repair does only what loses nothing: it drops rows of pairs that never
    finished, records the curves' sha256 in a manifest from before it was
    recorded, removes an unfinished last ledger line (after recording any stored
    forecast it described) and adds a missing final newline. Complete ledger lines
    are never changed.
    """
    from harness.forecasts import ledger
    from harness.training import integrity

    start = time.perf_counter()
    stores, skipped = _stores(ladder_name, out)
    for name in skipped:
        console.print(f"skipped {out / name}: no built-in ladder of that name; check it with --ladder PATH_TO_ITS_FILE")
    if repair:
        for store in stores:
            _say(_attempt(partial(integrity.repair, store), store.folder))
        _say(_attempt(lambda: ledger.repair(predictions, out), predictions))
    problems, absent = [], 0
    for store in stores:
        found, missing = integrity.problems(store)
        problems += found
        absent += missing
    problems += ledger.problems(predictions)
    _show(problems)
    checked = ", ".join(str(s.folder) for s in stores) or f"no results store under {out}"
    note = f"; {absent} recorded checkpoints are absent (recreate them with 'ladder run --restore')" if absent else ""
    verdict = f"{len(problems)} problem{'s' * (len(problems) != 1)}" if problems else "everything holds"
    console.print(f"Checked {checked} and {predictions} in {time.perf_counter() - start:.1f} s: {verdict}{note}.")
    if problems:
        sys.exit(1)


@main.group()
def ledger() -> None:
    """The hash-chained ledger of submissions: verify its chain, migrate an old one, re-chain a branch's lines."""


@ledger.command(name="verify")
@PREDICTIONS
def ledger_verify(predictions: Path) -> None:
    """Check the chain and every stored forecast; print the head hash; exit 1 naming the first broken line."""
    from harness.forecasts import ledger as chain

    problems = chain.problems(predictions)
    _show(problems)
    if problems:
        sys.exit(1)
    entries = chain.read_ledger(predictions)
    console.print(
        f"{predictions / chain.LEDGER}: {len(entries)} submissions, chain intact, every stored forecast matches. "
        f"Head {chain.head(predictions)}: compare it with a published head to pin the whole history."
    )


@ledger.command()
@PREDICTIONS
def migrate(predictions: Path) -> None:
    """Add the hash chain to a ledger written before it, keeping every entry, its time and order."""
    from harness.forecasts import ledger as chain

    n = chain.migrate(predictions)
    if n == 0:
        console.print(f"{predictions / chain.LEDGER} needs no migration; nothing changed.")
        return
    console.print(f"Migrated {n} entries of {predictions / chain.LEDGER}; a last line records the migration.")


def _stores(ladder_name: str | None, out: Path) -> tuple[list, list[str]]:
    """The results stores to check (the named ladder's, or every built-in ladder's and round's under ``out`` with a
    manifest), and the names of folders with a manifest but no such ladder, which cannot be checked without its file."""
    from harness.ladders.ladder import builtin_ladders, load_ladder, round_ladders
    from harness.training.store import ResultsStore

    if ladder_name is not None:
        return [ResultsStore.of(load_ladder(ladder_name), out)], []
    names = sorted(p.parent.name for p in out.glob("*/manifest.json"))
    known = set(builtin_ladders()) | set(round_ladders())
    return [ResultsStore.of(load_ladder(n), out) for n in names if n in known], [n for n in names if n not in known]


def _attempt(repair: Callable[[], list[str]], where: Path) -> list[str]:
    """What ``repair`` did, or nothing when the damage is beyond its safe repairs (said on the console)."""
    try:
        return repair()
    except UserError as exc:  # damage beyond the safe repairs, or another ladder version's store
        console.print(f"[yellow]not repaired[/yellow] {where}: {exc}", soft_wrap=True)
        return []


def _show(problems: list[Problem]) -> None:
    for problem in problems:
        console.print(f"[red]PROBLEM[/red] {problem.message}", soft_wrap=True)


def _say(done: list[str]) -> None:
    for line in done:
        console.print(f"[green]repaired[/green] {line}")

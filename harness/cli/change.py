"""Forecasts by pull request: ``ladder check-change`` (what CI runs) and ``ladder ledger rebase`` (its author's fix)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from harness.cli.app import PREDICTIONS, console, main
from harness.cli.verify import ledger


@main.command("check-change")
@click.option("--base", "base", required=True, metavar="REF", help="The commit the change is proposed against.")
@PREDICTIONS
def check_change(base: str, predictions: Path) -> None:
    """Check what HEAD changes since REF: new forecasts valid and recorded, the ledger only grown, nothing else moved.

    Read from commits, not the working folder, of the git repository that holds --predictions: every stored
    forecast added validates against the change's own ladders and matches its new ledger line; REF's ledger
    begins HEAD's and the chain holds; nothing under results/, no round and no stored forecast changed; no new
    line is dated in the future (5 minutes of clock skew allowed) or before REF made its ladder's file or results
    public. Every problem at once; exit 2 on any. docs/contributing.md.
    """
    from harness.forecasts.change import check

    found = check(predictions, base)
    for problem in found.problems:
        console.print(f"[red]PROBLEM[/red] {problem.message}", soft_wrap=True)
    if found.others:
        listed = ", ".join(found.others[:5]) + (", ..." if len(found.others) > 5 else "")
        console.print(
            f"It also changes {len(found.others)} file{'s' * (len(found.others) != 1)} outside the record of "
            f"forecasts, not checked here (code or docs: for a reviewer): {listed}",
            soft_wrap=True,
        )
    span = f"from {base} ({found.base[:12]}) to HEAD ({found.head[:12]})"
    if found.problems:
        n = len(found.problems)
        console.print(f"{n} problem{'s' * (n != 1)} in the change {span}.")
        sys.exit(2)
    n = len(found.added)
    added = "".join(
        f" {e.forecaster} for {e.ladder}, {predictions / e.file}, at {e.submitted_at};" for e in found.added
    )
    console.print(
        f"The change {span} holds. {n} new forecast{'s' * (n != 1)}, each valid and recorded:{added or ' none;'} the "
        "ledger only grew and its chain holds; no result, round or stored forecast changed."
    )


@ledger.command()
@click.option("--onto", required=True, metavar="REF", help="The branch this one is merged into, e.g. origin/main.")
@PREDICTIONS
def rebase(onto: str, predictions: Path) -> None:
    """Re-chain this branch's new ledger lines after REF's, each file and time unchanged (after git merge REF)."""
    from harness.forecasts.change import rebase as rechain

    done = rechain(predictions, onto)
    if not done.changed:
        console.print(f"{done.path} already holds {onto}'s ledger followed by this branch's lines; nothing changed.")
        return
    who = ", ".join(f"{e.forecaster} ({e.submitted_at})" for e in done.moved) or "none"
    console.print(
        f"Wrote {done.path}: {onto}'s {done.base_lines} lines, then this branch's {len(done.moved)} re-chained onto "
        f"them: {who}; stored forecasts and times unchanged. Now: git add {done.path}, git commit, then "
        f"ladder check-change --base {onto}."
    )

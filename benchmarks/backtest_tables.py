"""The backtest tables of docs/forecasting.md: every built-in method on every resolved ladder, as markdown.

For each built-in method (``harness.methods.registry.builtin_methods``) this runs ``ladder backtest`` on every
resolved ladder and round under ``--out`` (2,000 resamples of tasks and training seeds by default, seed 0),
and prints, per score, one table of ladders by methods: the score with its 95% interval, and the paired
difference to the uninformed forecaster. Then ``progress`` (internals track) minus each of ``two-step`` and
``extrapolator`` on the same questions, paired, with 95% intervals: the measured answer to whether reading
the revealed rungs' insides adds skill to curve-fitting; the same for ``progress-mechanistic``, ``progress``
without ``solved_share`` (the probe's accuracy), which asks what the mechanistic measures add on their own;
and the measure ``progress`` used for each task of each ladder.

Reads and writes nothing but standard output. Minutes on 2 cores (one backtest per method and ladder, each
scoring with 2,000 resamples); not a test.

    python benchmarks/backtest_tables.py > /tmp/tables.md
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import pandas as pd

from harness.forecasts.track import default_revealed
from harness.ladders.ladder import load_ladder
from harness.methods import progress
from harness.methods.backtest import backtest
from harness.methods.evidence import resolved_ladders
from harness.methods.question import asking_if_shown
from harness.methods.registry import Method, builtin_methods, declare, find
from harness.scoring.table import N_BOOT, get

SCORES = ["brier_index", "brier", "brier_true", "pinball", "pinball_loss", "pinball_step"]


def cell(value: float, low: float, high: float, fmt: str) -> str:
    return "-" if pd.isna(value) else f"{value:{fmt}} [{low:{fmt}}, {high:{fmt}}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--n-boot", type=int, default=N_BOOT)
    args = parser.parse_args()
    ladders = resolved_ladders(args.out)
    frames, skipped = [], []
    mechanistic = declare(tracks=("internals",))(partial(progress.progress, leave_out=("solved_share",)))
    versus = []
    for method in [*builtin_methods(), Method("progress-mechanistic", mechanistic, "progress without solved_share")]:
        against = [find("two-step"), find("extrapolator")] if method.name.startswith("progress") else []
        result = backtest(method, args.out, ladders, n_boot=args.n_boot, against=against)
        frames.append(result.scores.assign(method=method.name))
        skipped += [f"{method.name}: {line}" for line in result.skipped]
        if result.versus is not None:
            versus.append(result.versus.assign(method=method.name))
    versus = pd.concat(versus, ignore_index=True) if versus else pd.DataFrame(columns=["method", "score"])
    scores = pd.concat(frames, ignore_index=True)
    methods = list(dict.fromkeys(scores["method"]))
    floors = scores.dropna(subset=["revealed_up_to"]).groupby("ladder")["revealed_up_to"].first()
    for name in SCORES:
        rows = scores[scores["score"] == name]
        if rows.empty:
            continue
        fmt = "+.3f" if get(name).fmt.startswith("+") else (".1f" if name == "brier_index" else ".3f")
        for paired in (False, True) if name != "brier_index" else (False,):
            shown = [m for m in methods if not (paired and m == "uninformed")]
            title = f"{get(name).label}{' minus uninformed, paired' if paired else ''}"
            print(f"\n{title}:\n\n| ladder | revealed | " + " | ".join(shown) + " |")
            print("|---" * (len(shown) + 2) + "|")
            for ladder in ladders:
                cells = []
                for method in shown:
                    one = rows[(rows["ladder"] == ladder) & (rows["method"] == method)]
                    if one.empty:
                        cells.append("-")
                        continue
                    r = one.iloc[0]
                    cells.append(
                        cell(r.vs_uninformed, r.vs_uninformed_low, r.vs_uninformed_high, "+.3f")
                        if paired
                        else cell(r.value, r.ci_low, r.ci_high, fmt)
                    )
                print(f"| `{ladder}` | {floors.get(ladder, '-')} | " + " | ".join(cells) + " |")
    print("\nprogress (internals track) minus each method on the same questions, paired [95% interval]:\n")
    shown = [s for s in SCORES[1:] if s in set(versus["score"])]
    print("| method | ladder | against | " + " | ".join(get(s).label for s in shown) + " |")
    print("|---" * (len(shown) + 3) + "|")
    for (method, ladder, other), rows in versus.groupby(["method", "ladder", "against"], sort=False):
        by = rows.set_index("score")
        cells = [cell(by.difference[s], by.low[s], by.high[s], "+.3f") if s in by.index else "-" for s in shown]
        print(f"| {method} | `{ladder}` | {other} | " + " | ".join(cells) + " |")
    print("\nThe measure each used, per ladder and task (from the forecast's description):\n")
    for ladder in ladders:
        with asking_if_shown(load_ladder(ladder), args.out, "internals", default_revealed(load_ladder(ladder))) as (
            question,
            why,
        ):
            for name, leave_out in (("progress", ()), ("progress-mechanistic", ("solved_share",))):
                said = why if question is None else progress.progress(question, leave_out).description
                print(f"- {name}, `{ladder}`: {said.split('from those without: ')[-1]}")
    if skipped:
        print("\nNot answered: " + "; ".join(skipped))


if __name__ == "__main__":
    main()

"""Statistical power of the paired comparison with uninformed, for the committed question set.

How large must a forecaster's mean advantage over the uninformed forecaster be
before the leaderboard's paired test (the 95% bootstrap interval over tasks of
the per-task Brier difference lies wholly below 0) detects it? Per-task
differences are simulated as normal with the spread of ``literature-prior``'s
on the committed ``cpu`` results; for each number of questions (the tasks of
``cpu`` alone, then with each further resolved ladder added, up to every
committed one) it prints the smallest mean advantage detected in at least 50%
and 80% of simulated forecasters. Not a test: run it by hand.

    python benchmarks/power.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from harness.forecasts.ledger import read_ledger, stored
from harness.ladders.ladder import load_ladder
from harness.scoring import rules
from harness.scoring.scoreboard import answer_tables, pooled_task_scores, reference
from harness.truth.ground_truth import measure


def spread(predictions: Path, out: Path, forecaster: str) -> float:
    """Standard deviation over tasks of ``forecaster``'s per-task Brier minus uninformed's, on the cpu ladder."""
    ladder = load_ladder("cpu")
    entry = [e for e in read_ledger(predictions) if e.ladder_hash == ladder.hash and e.forecaster == forecaster][-1]
    answers = answer_tables({entry.sha256: stored(predictions, entry)})
    table = rules.task_scores(
        rules.outcomes(measure(ladder, out).table, ladder.spec.training.steps), answers, reference(ladder)
    )
    brier = table[table["score"] == "brier"]
    return float((brier["value"] - brier["ref"]).std(ddof=1))


def detected(advantage: float, sigma: float, n: int, rng: np.random.Generator, sims: int, n_boot: int) -> float:
    """Share of simulated forecasters (per-task differences ~ N(-advantage, sigma)) the paired test detects."""
    diffs = rng.normal(-advantage, sigma, size=(sims, n))  # (S, n)
    picks = rng.integers(0, n, size=(n_boot, n))  # the same task resamples for every simulated forecaster
    boot = diffs[:, picks].mean(axis=2)  # (S, B)
    return float((np.percentile(boot, 97.5, axis=1) < 0).mean())


def smallest(level: float, sigma: float, n: int, seed: int, sims: int, n_boot: int) -> float:
    """The smallest advantage on a grid of 0.002 detected in at least ``level`` of simulations."""
    for advantage in np.arange(0.002, 0.5, 0.002):
        if detected(advantage, sigma, n, np.random.default_rng(seed), sims, n_boot) >= level:
            return float(advantage)
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=Path, default=Path("predictions"))
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument("--like", default="literature-prior", help="forecaster whose per-task spread is simulated")
    parser.add_argument("--sims", type=int, default=400)
    parser.add_argument("--bootstrap", type=int, default=1000)
    args = parser.parse_args()
    sigma = spread(args.predictions, args.out, args.like)
    scores, ladders = pooled_task_scores(args.predictions, args.out)
    sizes = scores[scores["score"] == "brier"].drop_duplicates(["ladder", "task"]).groupby("ladder").size()
    order = ["cpu", *[name for name in ladders if name != "cpu"]]
    print(f"per-task Brier difference of {args.like} vs uninformed on cpu: sd {sigma:.3f}")
    print(f"{'ladders pooled':<42}{'questions':>10}{'detected in 50%':>17}{'in 80%':>9}")
    total = 0
    for i, name in enumerate(order):
        total += int(sizes.get(name, 0))
        label = ", ".join(order[: i + 1])
        half, most = (smallest(level, sigma, total, 0, args.sims, args.bootstrap) for level in (0.5, 0.8))
        print(f"{label:<42}{total:>10}{half:>17.3f}{most:>9.3f}")


if __name__ == "__main__":
    main()

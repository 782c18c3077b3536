"""Benchmark: score 1,000 submissions spread over every committed ladder, one ``rules.score`` call per ladder.

Submissions are random perturbations of the uninformed forecast with every
question answered (every task, rung and quantile of all five kinds), so the
scorer does the full amount of work per submission. ``--n`` submissions are
shared evenly by the resolved ladders (``--per-ladder``: ``--n`` on each).
Printed per ladder: the wall time of building the tables and of scoring, with
2,000 bootstrap resamples that draw training seeds too; and the total.
Target: under 5 s on 2 cores for 1,000 submissions in all.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harness.forecasts.schema import Forecast, TaskForecast, uninformed
from harness.ladders.ladder import builtin_ladders, load_ladder, round_ladders
from harness.scoring.rules import outcomes, score
from harness.scoring.scoreboard import answer_tables, reference
from harness.training.store import ResultsStore


def perturbed(base: Forecast, n: int, rng: np.random.Generator) -> dict[str, Forecast]:
    """``n`` forecasts: random probabilities and accuracies, the quantiles of every kind shifted at random."""
    forecasts = {}
    for i in range(n):
        tasks = {}
        for name, t in base.tasks.items():
            shift, step_shift = float(rng.normal(0, 0.3)), float(rng.normal(0, 0.3))
            tasks[name] = TaskForecast(
                p_emerged={r: float(rng.random()) for r in t.p_emerged},
                emergence_quantiles={lv: q + shift for lv, q in t.emergence_quantiles.items()},
                loss_emergence_quantiles={lv: q - shift for lv, q in t.loss_emergence_quantiles.items()},
                emergence_step_quantiles={
                    r: {lv: max(0.0, q + step_shift) for lv, q in qs.items()}
                    for r, qs in t.emergence_step_quantiles.items()
                },
                accuracy={r: float(rng.random()) for r in t.accuracy},
            )
        forecasts[f"s{i}"] = Forecast(**{**base.model_dump(), "forecaster": f"f{i}", "tasks": tasks})
    return forecasts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="submissions in all, shared evenly by the ladders")
    parser.add_argument("--per-ladder", action="store_true", help="score --n submissions on each ladder instead")
    parser.add_argument("--results", type=Path, default=Path("results"))
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    names = [n for n in builtin_ladders() + round_ladders() if ResultsStore.of(load_ladder(n), args.results).resolved()]
    each = args.n if args.per_ladder else -(-args.n // len(names))
    total, count = 0.0, 0
    for name in names:
        ladder = load_ladder(name)
        table = pd.read_parquet(args.results / name / "emergence.parquet")
        forecasts = perturbed(uninformed(ladder, "x", every_question=True), each, rng)
        start = time.perf_counter()
        answers = answer_tables(forecasts)
        built = time.perf_counter() - start
        start = time.perf_counter()
        scores = score(outcomes(table, ladder.spec.training.steps), answers, reference(ladder), n_boot=2000)
        scored = time.perf_counter() - start
        total, count = total + built + scored, count + each
        print(
            f"{name:<10}{each} submissions x {len(ladder.spec.tasks)} tasks x {len(ladder.rungs)} rungs, "
            f"{table['seed'].nunique()} seeds: tables {built:.2f} s, scoring {scored:.2f} s; {len(scores):,} score rows"
        )
    print(
        f"total: {count:,} submissions over {len(names)} ladders in {total:.2f} s (2,000 bootstrap resamples over "
        "tasks and seeds; target for 1,000 in all: under 5 s)"
    )


if __name__ == "__main__":
    main()

"""Benchmark: score 1,000 submissions on the committed ``cpu`` results in one ``scoring.score`` call.

Submissions are random perturbations of the uninformed forecast (every task,
rung and quantile answered), so the scorer does the full amount of work per
submission. Printed: the wall time of building the tables and of scoring, with
2,000 bootstrap resamples. Target: under 5 s on 2 cores.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harness.forecasts.schema import Forecast, TaskForecast, uninformed
from harness.forecasts.scoreboard import answer_tables, uninformed_quantiles
from harness.forecasts.scoring import outcomes, score
from harness.training.ladder import load_ladder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="number of submissions")
    parser.add_argument("--results", type=Path, default=Path("results"))
    args = parser.parse_args()
    ladder = load_ladder("cpu")
    table = pd.read_parquet(args.results / "cpu" / "emergence.parquet")
    base = uninformed(ladder, "x")
    rng = np.random.default_rng(0)
    forecasts = {}
    for i in range(args.n):
        tasks = {}
        for name, t in base.tasks.items():
            shift = float(rng.normal(0, 0.3))
            tasks[name] = TaskForecast(
                p_emerged={r: float(rng.random()) for r in t.p_emerged},
                emergence_quantiles={lv: q + shift for lv, q in t.emergence_quantiles.items()},
                accuracy={r: float(rng.random()) for r in t.accuracy},
            )
        forecasts[f"s{i}"] = Forecast(**{**base.model_dump(), "forecaster": f"f{i}", "tasks": tasks})
    start = time.perf_counter()
    tables = answer_tables(forecasts)
    built = time.perf_counter() - start
    start = time.perf_counter()
    scores = score(outcomes(table), *tables, uninformed_quantiles=uninformed_quantiles(ladder), n_boot=2000)
    scored = time.perf_counter() - start
    print(
        f"{args.n} submissions x {len(ladder.spec.tasks)} tasks x {len(ladder.rungs)} rungs: tables {built:.2f} s, "
        f"scoring {scored:.2f} s "
        f"(2,000 bootstrap resamples), total {built + scored:.2f} s; {len(scores):,} score rows"
    )


if __name__ == "__main__":
    main()

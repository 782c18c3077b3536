"""Performance report: ladder wall time per executor, and per-rung step speed against the machine's peak.

Part 1 trains a ladder (``cpu`` by default) from scratch with each executor
setting, for one seed and for three, each in a fresh results folder, one run at
a time, and prints the wall time of ``ladder run`` (process start-up, Ray
start-up and evaluation included). The target on 2 CPU cores: three seeds in
at most twice the wall time of one seed trained the default way (one process).
``--steps N`` trains every rung for N steps instead of the ladder's own count,
in a copy of the ladder file, for a quicker report; the note printed says so.

Part 2 is ``lightning_vs_plain.step_table`` on every rung: ms per step of the
Lightning step and of a plain PyTorch loop, tokens/s, FLOP/s against the
measured fp32 matmul peak. Not a test: ``make bench`` runs it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from lightning_vs_plain import step_table

from harness.training.ladder import load_ladder

# (executor, workers): the default single process, two local worker processes, a local Ray cluster of two.
SETTINGS = (("local", 1), ("local", 2), ("ray", 2))


def ladder_file(name: str, steps: int | None, folder: Path) -> str:
    """The ladder to time: the built-in one, or a copy of it that trains ``steps`` steps."""
    if steps is None:
        return name
    spec = yaml.safe_load(load_ladder(name).source.read_text())
    spec["training"]["steps"] = steps
    spec["training"]["warmup_steps"] = min(spec["training"].get("warmup_steps", 0), steps // 10)
    path = folder / f"{name}-{steps}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(path)


def wall_time(ladder: str, seeds: str, executor: str, workers: int, out: Path) -> float:
    """Seconds for ``ladder run`` to train ``seeds`` from nothing (wandb off, nothing else running)."""
    cmd = [
        sys.executable,
        "-m",
        "harness",
        "run",
        "--ladder",
        ladder,
        "--seeds",
        seeds,
        "--out",
        str(out),
        "--wandb",
        "disabled",
        "--executor",
        executor,
        "--workers",
        str(workers),
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def executor_table(ladder: str, settings: list[tuple[str, int]], steps: int | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = ladder_file(ladder, steps, folder)
        print(
            f"Part 1: wall time of 'ladder run --ladder {ladder}' from scratch on {os.cpu_count()} cores"
            + (
                f", every rung {steps} steps instead of the ladder's {load_ladder(ladder).spec.training.steps}"
                if steps
                else ""
            )
        )
        print(
            f"{'executor':>8} {'workers':>7} {'1 seed':>9} {'3 seeds':>9} {'3 / 1':>6} {'3 seeds / default 1 seed':>25}"
        )
        baseline = None
        for executor, workers in settings:
            one = wall_time(path, "0", executor, workers, folder / f"{executor}{workers}-one")
            three = wall_time(path, "0,1,2", executor, workers, folder / f"{executor}{workers}-three")
            baseline = baseline or one
            print(
                f"{executor:>8} {workers:>7} {one / 60:>7.2f} m {three / 60:>7.2f} m {three / one:>6.2f} "
                f"{three / baseline:>25.2f}",
                flush=True,
            )
        print("(default 1 seed: the first setting, one process; target for 3 seeds: at most 2.00 of it)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ladder", default="cpu")
    parser.add_argument("--steps", type=int, help="train every rung this many steps (default: the ladder's own)")
    parser.add_argument(
        "--settings",
        default=",".join(f"{e}:{w}" for e, w in SETTINGS),
        help="executor:workers list, the first is the baseline",
    )
    parser.add_argument("--skip-ladder", action="store_true", help="only part 2")
    parser.add_argument("--step-repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.skip_ladder:
        settings = [(e, int(w)) for e, w in (s.split(":") for s in args.settings.split(","))]
        executor_table(args.ladder, settings, args.steps)
    print("Part 2: the training step, Lightning against plain PyTorch, every rung")
    step_table(args.ladder, None, steps=150, warmup=15, repeats=args.step_repeats)


if __name__ == "__main__":
    main()

"""Performance report: this code against an earlier git ref, in one run on one machine.

Both versions train with their own ``ladder run`` (each in its own checkout: the
ref in a temporary ``git worktree``), so what is timed is what a user runs:
data, Lightning, evaluation and checkpoints included. Timings on these
machines drift by up to 2x between sessions, so only the ratios of one run mean
anything; the versions alternate, and each number is the best of ``--repeats``.

Part 1, per rung: both versions train seed 0 of every rung for ``--rung-steps``
steps (a copy of the ladder file with that budget). Printed: ms per step (wall
time of the pair over its steps; for this code, less the one-time generation of
the seed's shared batches, which is printed apart), the speed-up, real tokens
per second, and achieved FLOP/s (6 x parameters x real tokens per step) against
the machine's measured fp32 matmul peak.

Part 2: the Lightning step against a plain loop of this code on every rung
(``lightning_vs_plain.step_table``): the target is at most 10% Lightning overhead.

Part 3, end to end: the whole ladder from nothing, one seed with one worker and
three seeds with two workers, for both versions (``--steps N`` trains every rung
N steps instead of the ladder's own, for a quicker report; the note says so).

``--answers-only`` has this code train with ``training.answers_only`` on (a copy of the
ladder file), so that against ``--before HEAD`` the run measures that switch alone.

    python benchmarks/performance.py --before e1e7105
    python benchmarks/performance.py --before HEAD --answers-only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml
from lightning_vs_plain import matmul_peak, step_table

from harness.ladders.ladder import load_ladder
from harness.training.data import Mixture

ROOT = Path(__file__).resolve().parents[1]


def checkout(ref: str, folder: Path) -> Path:
    """A detached worktree of ``ref`` in ``folder`` (removed by ``release``)."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(folder), ref], check=True)
    return folder


def release(folder: Path) -> None:
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)], check=False)


def ladder_file(code: Path, name: str, steps: int | None, folder: Path, answers_only: bool = False) -> str:
    """The ladder as that checkout defines it, or a copy that trains every rung ``steps`` steps, or with
    ``training.answers_only`` on."""
    where = ("harness/ladders/builtin", "ladders", "model_zoo/ladders")  # where built-in ladders have lived
    source = next(code / folder / f"{name}.yaml" for folder in where if (code / folder / f"{name}.yaml").is_file())
    if steps is None and not answers_only:
        return str(source)
    spec = yaml.safe_load(source.read_text())
    if steps is not None:
        spec["training"]["steps"] = steps
        spec["training"]["warmup_steps"] = min(spec["training"].get("warmup_steps", 0), steps // 10)
    if answers_only:
        spec["training"]["answers_only"] = True
    path = folder / f"{name}-{steps}-{answers_only}-{code.name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return str(path)


def run(code: Path, ladder: str, seeds: str, workers: int, out: Path) -> tuple[float, dict]:
    """Wall seconds of ``ladder run`` from nothing with the code in ``code``, and the manifest it wrote."""
    cmd = [sys.executable, "-m", "harness", "run", "--ladder", ladder, "--seeds", seeds, "--out", str(out),
           "--wandb", "disabled", "--workers", str(workers)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(code)}
    start = time.perf_counter()
    subprocess.run(cmd, cwd=code, env=env, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    (manifest,) = out.glob("*/manifest.json")
    return wall, json.loads(manifest.read_text())


def rung_table(
    versions: dict[str, Path], name: str, steps: int, repeats: int, folder: Path, answers_only: bool
) -> None:
    ladder = load_ladder(name)
    mixture = Mixture.of(ladder)
    tokens = mixture.tokens_per_step
    best: dict[str, dict[str, float]] = {v: {} for v in versions}
    batches_s = 0.0
    for repeat in range(repeats):
        for version, code in versions.items():
            path = ladder_file(code, name, steps, folder, answers_only and version == "now")
            _, manifest = run(code, path, "0", 1, folder / f"rungs-{version}-{repeat}")
            for entry in manifest["runs"].values():
                ms = 1000 * (entry["wall_time_s"] - entry.get("batches_s", 0.0)) / entry["steps"]
                best[version][entry["rung"]] = min(best[version].get(entry["rung"], ms), ms)
                if version == "now" and entry.get("batches_s", 0) > 0.5:
                    batches_s = entry["batches_s"]
    peak = matmul_peak()
    print(f"Part 1: ms per step of ladder '{name}', seed 0, every rung {steps} steps, best of {repeats}; "
          f"fp32 matmul peak {peak / 1e9:.1f} GFLOP/s, {tokens} real tokens per step")  # fmt: skip
    print(f"{'rung':>5} {'params':>9} {'before ms':>10} {'now ms':>8} {'speed-up':>9} {'tokens/s':>10} "
          f"{'GFLOP/s before':>15} {'GFLOP/s now':>12} {'of peak':>8}")  # fmt: skip
    for rung in ladder.rungs:
        before, now = best["before"][rung.name], best["now"][rung.name]
        flop = 6 * rung.params * tokens
        print(f"{rung.name:>5} {rung.params:>9,} {before:>10.2f} {now:>8.2f} {before / now:>8.2f}x "
              f"{tokens / now * 1000:>10,.0f} {flop / before / 1e6:>15.2f} {flop / now / 1e6:>12.2f} "
              f"{flop / now * 1000 / peak:>8.1%}")  # fmt: skip
    print(f"(now: the seed's {steps} shared batches were generated once, in {batches_s:.1f} s, outside the steps)\n")


def end_to_end(versions: dict[str, Path], name: str, steps: int | None, folder: Path, answers_only: bool) -> None:
    budget = f", every rung {steps} steps instead of the ladder's own" if steps else ""
    print(f"Part 3: wall time of 'ladder run --ladder {name}' from nothing{budget}, minutes")
    print(f"{'version':>8} {'1 seed, 1 worker':>17} {'3 seeds, 2 workers':>19}")
    times = {}
    for version, code in versions.items():
        path = ladder_file(code, name, steps, folder, answers_only and version == "now")
        one, _ = run(code, path, "0", 1, folder / f"one-{version}")
        three, _ = run(code, path, "0,1,2", 2, folder / f"three-{version}")
        times[version] = (one, three)
        print(f"{version:>8} {one / 60:>17.2f} {three / 60:>19.2f}", flush=True)
    (b1, b3), (n1, n3) = times["before"], times["now"]
    print(f"{'speed-up':>8} {b1 / n1:>16.2f}x {b3 / n3:>18.2f}x   (target for 3 seeds, 2 workers: at least 2.5x)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git ref of the code to compare with, e.g. e1e7105")
    parser.add_argument("--ladder", default="cpu")
    parser.add_argument("--rung-steps", type=int, default=600, help="steps per rung in part 1")
    parser.add_argument("--repeats", type=int, default=2, help="repeats of part 1 (best is kept)")
    parser.add_argument("--steps", type=int, help="part 3: train every rung this many steps (default: the ladder's)")
    parser.add_argument("--skip-ladder", action="store_true", help="leave out part 3 (the longest)")
    parser.add_argument(
        "--answers-only",
        action="store_true",
        help="this code trains with training.answers_only on (a copy of the ladder file: another hash, other bits)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)  # as every ladder job trains (--threads 1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        before = checkout(args.before, folder / "before")
        try:
            versions = {"before": before, "now": ROOT}
            if args.answers_only:
                print("now: training.answers_only is on (the last block's MLP and the readout at answer positions)\n")
            rung_table(versions, args.ladder, args.rung_steps, args.repeats, folder, args.answers_only)
            print("Part 2: the training step of this code, Lightning against a plain loop, every rung")
            step_table(args.ladder, None, steps=150, warmup=15, repeats=3, answers_only=args.answers_only)
            print()
            if not args.skip_ladder:
                end_to_end(versions, args.ladder, args.steps, folder, args.answers_only)
        finally:
            release(before)


if __name__ == "__main__":
    main()

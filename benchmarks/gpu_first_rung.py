"""Check on CPU that the gpu ladder's first rung does not already answer its questions.

The gpu ladder is meant for a GPU (20,000 steps of 256 rows on 9 rungs up to 1e8
parameters); on a machine without one, this trains only its first rung, g0
(about 1e5 parameters), with a reduced step budget, on CPU in full precision,
and prints each task's final accuracy and answer loss against its thresholds.
A task that g0 learns within the reduced budget would be answered at the first
rung with the full one too, so the ladder would ask nothing about it; a task it
does not learn may still be learned with the full budget, so a pass here is
necessary, not sufficient. Not a test (minutes of training): run it by hand,
alone on the machine.

    OMP_NUM_THREADS=1 python benchmarks/gpu_first_rung.py --steps 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import yaml

from harness.training.ladder import LADDER_DIR, load_ladder
from harness.training.runner import RunOptions, run_ladder
from harness.truth.ground_truth import measure


def reduced(steps: int, batch_size: int, folder: Path) -> Path:
    """The gpu ladder with its first rung only, ``steps`` steps of ``batch_size`` rows, on CPU in fp32."""
    raw = yaml.safe_load((LADDER_DIR / "gpu.yaml").read_text())
    raw["name"] = "gpu-first-rung"
    raw["rungs"] = raw["rungs"][:1]
    raw["seeds"] = [0]
    raw["training"].update(
        steps=steps, batch_size=batch_size, warmup_steps=min(raw["training"]["warmup_steps"], steps // 10),
        accelerator="cpu", precision="32-true",
    )  # fmt: skip
    raw["evaluation"]["n_checkpoints"] = 1
    path = folder / "gpu-first-rung.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="training steps (the ladder's budget is 20,000)")
    parser.add_argument("--batch-size", type=int, default=256, help="rows per step (the ladder's: 256)")
    args = parser.parse_args()
    full = load_ladder("gpu")
    with tempfile.TemporaryDirectory() as scratch:
        ladder = load_ladder(reduced(args.steps, args.batch_size, Path(scratch)))
        start = time.perf_counter()
        run_ladder(ladder, [0], Path(scratch) / "results", RunOptions(wandb="disabled"))
        table = measure(ladder, Path(scratch) / "results").table
    final = table.pivot_table(index="task", columns="metric", values=["final", "threshold", "reached"], aggfunc="first")
    print(
        f"gpu ladder ({full.hash[:12]}), first rung {ladder.rungs[0].name} ({ladder.rungs[0].params:,} parameters), "
        f"{args.steps} of {full.spec.training.steps} steps x {args.batch_size} rows on CPU, "
        f"{time.perf_counter() - start:.0f} s"
    )
    print(f"{'task':<15}{'accuracy':>10}{'threshold':>11}{'loss':>9}{'threshold':>11}  first rung has it")
    for task, row in final.iterrows():
        learned = bool(row[("reached", "accuracy")]) or bool(row[("reached", "loss")])
        print(
            f"{task:<15}{row[('final', 'accuracy')]:>10.3f}{row[('threshold', 'accuracy')]:>11.3g}"
            f"{row[('final', 'loss')]:>9.3f}{row[('threshold', 'loss')]:>11.3g}  {'YES' if learned else 'no'}"
        )


if __name__ == "__main__":
    main()

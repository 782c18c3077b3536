"""Try the gpu ladder with a reduced budget: which tasks each rung learns, and what a step costs.

The gpu ladder is meant for a GPU (20,000 steps of 256 rows on 9 rungs up to 1e8
parameters). This trains the rungs named by ``--rungs`` (default: the first, g0)
on one seed with ``--steps`` steps, on the accelerator and precision asked for,
and prints two tables:

- per rung: parameters, wall time, ms per step, tokens per second, model FLOP/s
  (6 x parameters x tokens, over the wall time) and the wall time projected for
  the ladder's full budget (ms per step x 20,000: evaluation is a few per cent);
- per rung and task: final accuracy and answer loss against their thresholds.

A task that the first rung learns within a reduced budget would be answered at
the first rung with the full one too, so the ladder would ask nothing about it;
a task it does not learn may still be learned with the full budget, so a pass
here is necessary, not sufficient. Not a test (minutes of training): run it by
hand, alone on the machine.

    OMP_NUM_THREADS=1 python benchmarks/gpu_ladder.py --steps 2000               # g0 on CPU, fp32
    python benchmarks/gpu_ladder.py --rungs all --steps 1000 --accelerator gpu   # every rung, bf16-mixed
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import yaml

from harness.ladders.ladder import LADDER_DIR, load_ladder
from harness.training.runner import RunOptions, run_ladder
from harness.training.store import ResultsStore
from harness.truth.ground_truth import measure


def reduced(steps: int, rungs: list[str], accelerator: str, precision: str, folder: Path) -> Path:
    """The gpu ladder with only ``rungs``, seed 0 and ``steps`` steps, on ``accelerator`` in ``precision``."""
    raw = yaml.safe_load((LADDER_DIR / "gpu.yaml").read_text())
    raw["name"] = "gpu-reduced"
    raw["rungs"] = [r for r in raw["rungs"] if r["name"] in rungs]
    raw["seeds"] = [0]
    raw["training"].update(
        steps=steps, warmup_steps=min(raw["training"]["warmup_steps"], steps // 10),
        accelerator=accelerator, precision=precision,
    )  # fmt: skip
    raw["evaluation"]["n_checkpoints"] = 1
    path = folder / "gpu-reduced.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="training steps (the ladder's budget is 20,000)")
    parser.add_argument("--rungs", default="g0", help="comma-separated rungs, or 'all' (default: g0)")
    parser.add_argument("--accelerator", default="cpu", help="cpu or gpu (default: cpu)")
    parser.add_argument("--precision", default=None, help="default: 32-true on cpu, the ladder's on gpu")
    parser.add_argument("--json", type=Path, help="also write both tables here as JSON")
    args = parser.parse_args()
    full = load_ladder("gpu")
    names = [r.name for r in full.rungs] if args.rungs == "all" else args.rungs.split(",")
    unknown = sorted(set(names) - {r.name for r in full.rungs})
    if unknown:
        parser.error(f"--rungs: no rung {unknown} in the gpu ladder ({', '.join(r.name for r in full.rungs)})")
    precision = args.precision or ("32-true" if args.accelerator == "cpu" else full.spec.training.precision)
    budget = full.spec.training.steps
    with tempfile.TemporaryDirectory() as scratch:
        ladder = load_ladder(reduced(args.steps, names, args.accelerator, precision, Path(scratch)))
        start = time.perf_counter()
        run_ladder(ladder, [0], Path(scratch) / "results", RunOptions(wandb="disabled"))
        total = time.perf_counter() - start
        runs = ResultsStore.of(ladder, Path(scratch) / "results").manifest()["runs"]
        table = measure(ladder, Path(scratch) / "results").table
    final = table.pivot_table(index=["rung", "task"], columns="metric", values=["final", "threshold", "reached"],
                              aggfunc="first", sort=False)  # fmt: skip
    tokens = full.spec.training.batch_size * full.spec.model["n_ctx"]
    print(
        f"gpu ladder ({full.hash[:12]}), rungs {','.join(names)}, seed 0, {args.steps} of {budget} steps x "
        f"{full.spec.training.batch_size} rows, {args.accelerator} {precision}, {total:.0f} s in all"
    )
    timing = []
    print(f"{'rung':<6}{'params':>13}{'wall s':>9}{'ms/step':>9}{'tokens/s':>12}{'FLOP/s':>10}{'full budget':>13}")
    for rung in ladder.rungs:
        entry = next(e for e in runs.values() if e["rung"] == rung.name)
        ms = 1000 * (entry["wall_time_s"] - entry["batches_s"]) / args.steps
        row = {
            "rung": rung.name, "params": rung.params, "wall_s": entry["wall_time_s"], "ms_per_step": ms,
            "tokens_per_s": tokens / ms * 1000, "flop_per_s": 6 * rung.params * tokens / ms * 1000,
            "full_budget_s": ms * budget / 1000,
        }  # fmt: skip
        timing.append(row)
        print(
            f"{rung.name:<6}{rung.params:>13,}{row['wall_s']:>9.1f}{ms:>9.2f}{row['tokens_per_s']:>12,.0f}"
            f"{row['flop_per_s']:>10.2e}{row['full_budget_s'] / 60:>11.1f} m"
        )
    print(f"projected full budget, one seed: {sum(r['full_budget_s'] for r in timing) / 60:.1f} min")
    learned = []
    print(f"{'rung':<6}{'task':<15}{'accuracy':>10}{'threshold':>11}{'loss':>9}{'threshold':>11}  has it")
    for (rung, task), row in final.iterrows():
        acc, loss = row[("final", "accuracy")], row[("final", "loss")]
        has = bool(row[("reached", "accuracy")]) or bool(row[("reached", "loss")])
        learned.append({"rung": rung, "task": task, "accuracy": acc, "loss": loss, "learned": has})
        print(
            f"{rung:<6}{task:<15}{acc:>10.3f}{row[('threshold', 'accuracy')]:>11.3g}"
            f"{loss:>9.3f}{row[('threshold', 'loss')]:>11.3g}  {'YES' if has else 'no'}"
        )
    if args.json:
        args.json.write_text(json.dumps({"timing": timing, "learned": learned}, indent=1))


if __name__ == "__main__":
    main()

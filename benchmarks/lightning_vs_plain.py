"""Benchmark: the Lightning training step against a plain PyTorch loop, on the same model and batches.

For chosen rungs of a ladder (the smallest and the largest by default), both paths train
the same initial model on the same pre-generated batches with the same
optimiser, schedule and gradient clipping. Printed per rung: milliseconds per
step for each path, their ratio, tokens per second, and achieved FLOP/s (counted by
``torch.utils.flop_counter`` over one training step) against this machine's
measured fp32 matmul peak. Not a test; ``benchmarks/performance.py`` runs it on every rung.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

import lightning as L
import torch
from torch.utils.flop_counter import FlopCounterMode

from harness.ladders.families import FAMILIES
from harness.ladders.ladder import load_ladder
from harness.training.data import Mixture
from harness.training.groups import plan
from harness.training.module import LadderModule
from harness.training.train import quiet_lightning


def matmul_peak(sizes: tuple[int, ...] = (256, 512, 1024), repeats: int = 30) -> float:
    """Best fp32 FLOP/s of square matmuls on this machine (the best size and run count)."""
    best = 0.0
    for n in sizes:
        a, b = torch.randn(n, n), torch.randn(n, n)
        for _ in range(5):
            a @ b
        for _ in range(repeats):
            start = time.perf_counter()
            a @ b
            best = max(best, 2 * n**3 / (time.perf_counter() - start))
    return best


class StepTimer(L.Callback):
    """Wall time from the start of batch ``skip`` to the end of the last batch."""

    def __init__(self, skip: int) -> None:
        self.skip, self.start, self.end = skip, 0.0, 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if batch_idx == self.skip:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.end = time.perf_counter()


def lightning_ms(module: LadderModule, batches: list, skip: int, clip: float | None) -> float:
    timer = StepTimer(skip)
    trainer = L.Trainer(
        max_steps=len(batches),
        accelerator="cpu",
        devices=1,
        logger=False,
        callbacks=[timer],
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=False,
        gradient_clip_val=clip,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )
    trainer.fit(module, train_dataloaders=torch.utils.data.DataLoader(batches, batch_size=None))
    return 1000 * (timer.end - timer.start) / (len(batches) - skip)


def plain_ms(module: LadderModule, batches: list, skip: int, clip: float | None, losses: list | None = None) -> float:
    """The same training in a plain loop: ms per step after ``skip``; each step's loss appended to ``losses``."""
    conf = module.configure_optimizers()
    optimizer, schedule = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
    module.train()
    for i, batch in enumerate(batches):
        if i == skip:
            start = time.perf_counter()
        loss = module.plain_step(batch, optimizer, schedule)
        if losses is not None:
            losses.append(loss)
    return 1000 * (time.perf_counter() - start) / (len(batches) - skip)


def step_flops(module: LadderModule, batch) -> int:
    """FLOPs of one forward and backward pass, counted by torch."""
    counter = FlopCounterMode(display=False)
    with counter:
        module.loss(batch).backward()
    module.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def step_table(
    ladder_name: str, rungs: list[str] | None, steps: int, warmup: int, repeats: int, answers_only: bool = False
) -> None:
    """Print, per rung, ms per step of both paths, their ratio, tokens/s and FLOP/s against the matmul peak."""
    quiet_lightning()
    ladder = load_ladder(ladder_name)
    spec = ladder.spec
    mixture = Mixture.of(ladder)
    batches = [mixture.train_batch(0, s) for s in range(warmup + steps)]
    peak = matmul_peak()
    print(f"machine fp32 matmul peak: {peak / 1e9:.1f} GFLOP/s, torch threads: {torch.get_num_threads()}")
    print("ms per training step, best of the repeats (median in brackets); tokens/s and FLOP/s of the Lightning path")
    print(
        f"{'rung':>5} {'params':>9} {'lightning ms':>16} {'plain ms':>16} {'ratio':>6} {'tokens/s':>9} {'GFLOP/s':>8} "
        f"{'of peak':>8}"
    )
    for rung in ladder.rungs:
        if rungs is not None and rung.name not in rungs:
            continue
        training = ladder.training(rung).model_copy(update={"answers_only": answers_only})
        groups = plan(mixture.rows_by_length(), rung.params)
        torch.manual_seed(0)
        model = FAMILIES.get(spec.family).build(rung.config)
        flops = step_flops(LadderModule(copy.deepcopy(model), training, groups), batches[0])
        light, plain = [], []
        for _ in range(repeats):
            light.append(
                lightning_ms(LadderModule(copy.deepcopy(model), training, groups), batches, warmup, training.grad_clip)
            )
            plain.append(
                plain_ms(LadderModule(copy.deepcopy(model), training, groups), batches, warmup, training.grad_clip)
            )
        lt, pt = min(light), min(plain)
        achieved = flops / (lt / 1000)
        both = f"{lt:.2f} ({statistics.median(light):.2f})", f"{pt:.2f} ({statistics.median(plain):.2f})"
        tokens = mixture.tokens_per_step / (lt / 1000)
        print(
            f"{rung.name:>5} {rung.params:>9,} {both[0]:>16} {both[1]:>16} {lt / pt:>6.3f} {tokens:>9,.0f} "
            f"{achieved / 1e9:>8.2f} {achieved / peak:>8.1%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ladder", default="cpu")
    parser.add_argument("--rungs", help="comma-separated rung names (default: the smallest and the largest)")
    parser.add_argument("--steps", type=int, default=200, help="timed steps per path (after warm-up)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5, help="alternating repeats; the best of each path counts")
    args = parser.parse_args()
    ladder = load_ladder(args.ladder)
    rungs = args.rungs.split(",") if args.rungs else [ladder.rungs[0].name, ladder.rungs[-1].name]
    step_table(args.ladder, rungs, args.steps, args.warmup, args.repeats)


if __name__ == "__main__":
    main()

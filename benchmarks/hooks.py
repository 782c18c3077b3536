"""Benchmark: what the hook points cost a training step, and what hooking an attention pattern costs.

For each rung, three copies of the same model train on the same batches with
the same optimiser, schedule and clipping, their steps interleaved one by one
(so a slow spell of the machine hits all three alike):

- bare: every ``HookPoint`` call replaced by a plain function that returns its
  input, i.e. the model as if it had no hook modules;
- hooks: the model as shipped, nothing attached (what ``ladder run`` trains);
- pattern hooked: a no-op hook on every ``attn.hook_pattern``, so attention is
  formed explicitly instead of by the fused kernel (what recording a pattern does).

Printed per rung: the median ms per step of each, and the ratios. A second,
noise-free estimate of the hook cost: hook-point calls per training step (a
forward pass; identities add nothing to the backward pass) times the measured
cost of one call, against the bare step time. Target: hooks within 3% of bare.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
import timeit

import torch

from harness.ladders.families import FAMILIES
from harness.ladders.ladder import TrainingSpec, load_ladder
from harness.training.data import Mixture
from harness.training.module import LadderModule
from model_zoo.hooks import HookPoint, hook_points


def bare(on: bool) -> None:
    """Make calling a HookPoint a plain function call returning its input (on), or the module call again (off)."""
    if on:
        HookPoint.__call__ = lambda self, x: x  # type: ignore[method-assign]
    elif "__call__" in HookPoint.__dict__:
        del HookPoint.__call__


class Variant:
    """One copy of the model with its own optimiser, trained one step at a time."""

    def __init__(self, model: torch.nn.Module, training: TrainingSpec, bare: bool, hook_pattern: bool) -> None:
        self.module, self.bare, self.clip = LadderModule(model, training), bare, training.grad_clip
        conf = self.module.configure_optimizers()
        self.optimizer, self.schedule = conf["optimizer"], conf["lr_scheduler"]["scheduler"]
        if hook_pattern:
            for name, point in hook_points(model).items():
                if name.endswith("hook_pattern"):
                    point.register_forward_hook(lambda *_: None)
        self.ms: list[float] = []

    def step(self, batch: tuple[torch.Tensor, torch.Tensor]) -> None:
        bare(self.bare)
        start = time.perf_counter()
        self.module.plain_step(batch, self.optimizer, self.schedule)
        self.ms.append(1000 * (time.perf_counter() - start))
        bare(False)


def hook_call_us(repeats: int = 20, number: int = 20_000) -> float:
    """Best time of one call of a HookPoint with nothing attached, in microseconds."""
    point, x = HookPoint(), torch.zeros(4)
    return min(timeit.repeat(lambda: point(x), number=number, repeat=repeats)) / number * 1e6


def calls_per_step(model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> int:
    fired = []
    handles = [p.register_forward_hook(lambda *_: fired.append(1)) for p in hook_points(model).values()]
    with torch.no_grad():
        model(batch[0][:, :-1])
    for h in handles:
        h.remove()
    return len(fired)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ladder", default="cpu")
    parser.add_argument("--rungs", help="comma-separated rung names (default: all)")
    parser.add_argument("--steps", type=int, default=600, help="timed steps of each variant (after warm-up)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (ladder run's default is 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ladder = load_ladder(args.ladder)
    spec = ladder.spec
    mixture = Mixture.of(ladder)
    batches = [mixture.train_batch(0, s) for s in range(args.warmup + args.steps)]
    per_call = hook_call_us()
    print(
        f"ladder {ladder.name}: {args.steps} interleaved steps per variant, {args.threads} torch thread(s); one "
        f"hook-point call costs {per_call:.2f} us"
    )
    print(
        f"{'rung':>5} {'params':>9} {'bare ms':>8} {'hooks ms':>9} {'pattern ms':>11} {'hooks/bare':>11} "
        f"{'pattern/bare':>13} {'calls':>6} {'calls x cost':>13}"
    )
    for rung in ladder.rungs:
        if args.rungs and rung.name not in args.rungs.split(","):
            continue
        torch.manual_seed(0)
        model = FAMILIES.get(spec.family).build(rung.config)
        training = ladder.training(rung)
        variants = {
            name: Variant(copy.deepcopy(model), training, name == "bare", name == "pattern")
            for name in ("bare", "hooks", "pattern")
        }
        order = list(variants.values())
        for i, batch in enumerate(batches):
            for variant in order[i % 3 :] + order[: i % 3]:
                variant.step(batch)
        ms = {name: statistics.median(v.ms[args.warmup :]) for name, v in variants.items()}
        calls = calls_per_step(model, batches[0])
        estimate = calls * per_call / 1000 / ms["bare"]
        print(
            f"{rung.name:>5} {rung.params:>9,} {ms['bare']:>8.2f} {ms['hooks']:>9.2f} {ms['pattern']:>11.2f} "
            f"{ms['hooks'] / ms['bare']:>11.3f} {ms['pattern'] / ms['bare']:>13.3f} {calls:>6} {estimate:>13.2%}"
        )


if __name__ == "__main__":
    main()

"""Benchmark: several seeds of one rung as separate processes, or as one ``torch.func`` ensemble.

Why: a ladder trains every rung on several seeds, and the small rungs of the
``cpu`` ladder are far too small to keep even one core busy. For each chosen
rung and E seeds, three ways to train the E seeds with one torch thread per
worker run on the same pre-generated batches:

- sequential: the plain loop of ``lightning_vs_plain.plain_ms`` (AdamW, schedule,
  gradient clipping), one seed after the other in this process;
- ensemble: the E seed-models' parameters stacked (``stack_module_state``), the
  forward vmapped over members, each member on its own seed's batch, the sum of
  member losses backpropagated, each member's gradients clipped by its own
  global norm, and one AdamW over the stacked parameters (AdamW is elementwise,
  so that is E optimisers);
- processes: two spawned processes side by side (2 cores), one seed each; E
  seeds then take ceil(E/2) rounds. Process start-up is not counted.

Every time is milliseconds per step of all E seeds, warm-up steps excluded. The
ensemble also checks that it reproduces the sequential runs: loss trajectories
and final parameters. Its loss is the masked mean of per-token cross-entropy,
because ``answer_loss`` indexes by a boolean mask, which ``vmap`` cannot do.
Not a test: run it by hand with ``OMP_NUM_THREADS=1``.
"""

from __future__ import annotations

import argparse
import copy
import math
import multiprocessing as mp
import time

import torch
import torch.nn.functional as F
from lightning_vs_plain import plain_ms
from torch.func import functional_call, stack_module_state, vmap

from harness.ladders.families import FAMILIES
from harness.ladders.ladder import TrainingSpec, load_ladder
from harness.training.data import Mixture
from harness.training.module import LadderModule
from harness.training.schedule import lr_factor


def setup(ladder_name: str, rung_name: str, seeds: list[int], n_steps: int):
    """The rung, its training spec, one seed-initialised model per seed and each seed's batches."""
    ladder = load_ladder(ladder_name)
    rung = next(r for r in ladder.rungs if r.name == rung_name)
    mixture = Mixture.of(ladder)
    models, batches = [], []
    for seed in seeds:
        torch.manual_seed(seed)
        models.append(FAMILIES.get(ladder.spec.family).build(rung.config))
        batches.append([mixture.train_batch(seed, s) for s in range(n_steps)])
    return rung, ladder.training(rung), models, batches


def train_one(model: torch.nn.Module, training: TrainingSpec, batches: list, skip: int):
    """The plain loop of ``lightning_vs_plain.plain_ms``: (ms per step after ``skip``, losses (N,), module)."""
    module, losses = LadderModule(model, training), []
    ms = plain_ms(module, batches, skip, training.grad_clip, losses)
    return ms, torch.stack(losses), module.model


def clip_members(grads: list[torch.Tensor], max_norm: float) -> None:
    """``clip_grad_norm_`` per member: each member's gradients scaled by its own global norm."""
    norms = torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads])  # (n_tensors, E)
    coef = (max_norm / (torch.linalg.vector_norm(norms, dim=0) + 1e-6)).clamp(max=1.0)  # (E,)
    for g in grads:
        g.mul_(coef.view(-1, *[1] * (g.dim() - 1)))


def train_ensemble(models: list[torch.nn.Module], training: TrainingSpec, batches: list[list], skip: int):
    """All members in one vmapped step: (ms per step after ``skip``, losses (E, N), stacked params)."""
    params, buffers = stack_module_state(models)
    params = {k: v.detach().requires_grad_() for k, v in params.items()}
    base = copy.deepcopy(models[0]).to("meta")

    def member_loss(p, b, tokens, answer_mask):  # one member: tokens, answer_mask (B, T)
        logits = functional_call(base, (p, b), (tokens[:, :-1],))  # (B, T-1, V)
        ce = F.cross_entropy(logits.flatten(0, 1), tokens[:, 1:].flatten(), reduction="none")  # (B*(T-1),)
        mask = answer_mask[:, 1:].flatten().to(ce.dtype)
        return (ce * mask).sum() / mask.sum()

    step_losses = vmap(member_loss)
    decay = [p for p in params.values() if p.dim() - 1 >= 2]  # the member's own dim, as in LadderModule
    no_decay = [p for p in params.values() if p.dim() - 1 < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": training.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=training.lr,
        betas=(0.9, 0.98),
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, training.warmup_steps, training.steps, training.min_lr_ratio)
    )
    stacked = [(torch.stack(t), torch.stack(a)) for t, a in (zip(*step) for step in zip(*batches))]  # (E, B, T) each
    losses = []
    for i, (tokens, answer_mask) in enumerate(stacked):
        if i == skip:
            start = time.perf_counter()
        member = step_losses(params, buffers, tokens, answer_mask)  # (E,)
        optimizer.zero_grad(set_to_none=True)
        member.sum().backward()
        if training.grad_clip is not None:
            clip_members([p.grad for p in params.values()], training.grad_clip)
        optimizer.step()
        schedule.step()
        losses.append(member.detach())
    return 1000 * (time.perf_counter() - start) / (len(stacked) - skip), torch.stack(losses, dim=1), params


def worker(ladder_name: str, rung_name: str, seed: int, n_steps: int, skip: int, barrier, results) -> None:
    """One seed's sequential loop in its own process, started together with the other worker."""
    torch.set_num_threads(1)
    _, training, models, batches = setup(ladder_name, rung_name, [seed], n_steps)
    barrier.wait()
    results.put(train_one(models[0], training, batches[0], skip)[0])


def two_processes_ms(ladder_name: str, rung_name: str, n_steps: int, skip: int) -> float:
    """Mean ms per step of two single-threaded processes training seeds 0 and 1 at the same time."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(ladder_name, rung_name, seed, n_steps, skip, barrier, results))
        for seed in (0, 1)
    ]
    for p in procs:
        p.start()
    times = [results.get() for _ in procs]
    for p in procs:
        p.join()
    return sum(times) / len(times)


def compare(seq_losses: torch.Tensor, seq_models: list, ens_losses: torch.Tensor, ens_params: dict):
    """Max |loss diff| over all steps and members, whether bitwise equal, max |final parameter diff|.

    The attention key bias gets only rounding noise as gradient (softmax ignores a
    shift shared by all keys), which AdamW turns into lr-sized steps: expect its
    difference to dominate ``|dparam|`` without changing any output.
    """
    loss_diff = (seq_losses - ens_losses).abs().max().item()
    param_diff = max(
        (ens_params[name][i].detach() - p.detach()).abs().max().item()
        for i, model in enumerate(seq_models)
        for name, p in model.named_parameters()
    )
    return loss_diff, torch.equal(seq_losses, ens_losses), param_diff


def bench_rung(args, rung_name: str) -> str:
    seeds = list(range(args.seeds))
    n_steps = args.warmup + args.steps
    rung, training, models, batches = setup(args.ladder, rung_name, seeds, n_steps)
    members = [copy.deepcopy(m) for m in models]
    ens_ms, ens_losses, ens_params = train_ensemble(members, training, batches, args.warmup)
    runs = [train_one(m, training, b, args.warmup) for m, b in zip(models, batches)]
    seq_one, seq_all = runs[0][0], sum(r[0] for r in runs)
    proc_ms = two_processes_ms(args.ladder, rung_name, n_steps, args.warmup)
    proc_all = math.ceil(args.seeds / 2) * proc_ms
    seq_losses = torch.stack([r[1] for r in runs])  # (E, N)
    loss_diff, bitwise, param_diff = compare(seq_losses, [r[2] for r in runs], ens_losses, ens_params)
    times = f"{seq_one:>8.2f} {seq_all:>8.2f} {ens_ms:>8.2f} {proc_all:>8.2f} {proc_ms:>8.2f}"
    ups = f"{seq_all / ens_ms:>6.2f}x {seq_all / proc_all:>6.2f}x"
    return f"{rung.name:>5} {rung.params:>8,} {times} {ups} {loss_diff:>10.2e} {str(bitwise):>7} {param_diff:>10.2e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ladder", default="cpu")
    parser.add_argument("--rungs", default="c0,c2,c4", help="comma-separated rung names")
    parser.add_argument("--seeds", type=int, default=3, help="E: seeds 0 .. E-1")
    parser.add_argument("--steps", type=int, default=150, help="timed steps (after warm-up)")
    parser.add_argument("--warmup", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    E = args.seeds
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, E={E}, {args.steps} steps after {args.warmup}")
    print(f"ms per step of all {E} seeds: seq = one after the other, ens = vmapped ensemble (1 process),")
    print("2proc = ceil(E/2) rounds of 2 processes side by side (per-process ms/step in '2p/step');")
    print("|dloss| = max over all steps and members, |dparam| = max over final parameters, ensemble vs sequential")
    print(
        f"{'rung':>5} {'params':>8} {'seq 1':>8} {'seq E':>8} {'ens E':>8} {'2proc E':>8} {'2p/step':>8}"
        f" {'ens up':>7} {'2p up':>7} {'|dloss|':>10} {'bitwise':>7} {'|dparam|':>10}"
    )
    for name in args.rungs.split(","):
        print(bench_rung(args, name.strip()), flush=True)


if __name__ == "__main__":
    main()

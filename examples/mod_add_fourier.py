"""Worked example: the Fourier structure behind mod_add, in TransformerLens, in rungs that have and have not learned it.

``mod_add`` asks for (a + b) mod p (p = 31 on the cpu ladder), and there are only
p**2 questions, so the model can be run on every one of them. At the answer
position (SEP), each MLP neuron's activation is then a function of (a, b) on a
p x p grid, whose 2D Fourier transform says what it depends on: energy at the
frequencies (k, k) is the part that depends on a + b alone (the sum a model must
compute), energy elsewhere depends on a and b separately. This script opens each
rung in TransformerLens (``harness.to_transformer_lens``), runs all p**2
questions with ``run_with_cache`` and prints, per layer, the share of the MLP
neurons' variance that is a function of (a + b) mod p (a random function puts
1 / (p + 1), 0.03, there), the same share for the residual stream the
unembedding reads, and the sum frequencies k that carry most of it.

    python examples/mod_add_fourier.py --ladder cpu --seed 0 --rungs c1,c2,c3,c4
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the models are converted in memory: nothing comes from the Hub

import torch

import harness
from harness.errors import UserError
from harness.ladders.ladder import Ladder, load_ladder
from harness.tasks import vocab


def questions(tag: int, p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every mod_add question as the model reads it, TAG a b SEP, (p*p, 4); and its answer token, (p*p,).

    Row a * p + b holds (a, b): the rows reshape to a (p, p) grid.
    """
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")  # (p, p) each
    n = p * p
    tag_column, sep_column = torch.full((n,), vocab.tag(tag)), torch.full((n,), vocab.SEP)
    tokens = torch.stack([tag_column, vocab.SYM0 + a.flatten(), vocab.SYM0 + b.flatten(), sep_column], dim=1)
    return tokens, vocab.SYM0 + (a + b).flatten() % p


def spectrum(act: torch.Tensor, p: int) -> torch.Tensor:
    """act (p*p, units), one row per (a, b) -> (p, p, units): energy of each 2D Fourier frequency, mean removed."""
    grid = act.double().reshape(p, p, -1)
    return torch.fft.fft2(grid - grid.mean(dim=(0, 1)), dim=(0, 1)).abs() ** 2


def sum_share(energy: torch.Tensor) -> float:
    """The share of all units' variance at the frequencies (k, k), k != 0: what depends on (a + b) mod p alone."""
    k = torch.arange(1, energy.shape[0])
    return (energy[k, k].sum() / energy.sum()).item()


def top_sum_frequencies(energy: torch.Tensor, n: int = 3) -> list[tuple[int, float]]:
    """The ``n`` sum frequencies k (k and p - k together) with most energy, with their share of the (k, k) energy."""
    p = energy.shape[0]
    diagonal = energy[torch.arange(p), torch.arange(p)].sum(dim=-1)  # (p,)
    folded = {k: (diagonal[k] + diagonal[p - k]).item() for k in range(1, p // 2 + 1)}
    total = sum(folded.values())
    return [(k, e / total) for k, e in sorted(folded.items(), key=lambda kv: -kv[1])[:n]]


def report(ladder: Ladder, rungs: list[str], seed: int, out: Path) -> None:
    """Per rung: accuracy on all p**2 questions, the (a + b) share per layer and of the residual, and the top k."""
    task = ladder.task("mod_add")
    p = task.modulus
    tokens, answers = questions(task.tag, p)
    print(f"{'rung':<6}{'params':>9}{'accuracy':>10}  share that is a function of (a+b) mod {p}: MLP per layer | resid")
    for name in rungs:
        model = harness.load_model(ladder, name, seed, out=out)
        bridge = harness.to_transformer_lens(model)
        with torch.no_grad():
            logits, cache = bridge.run_with_cache(tokens)  # logits (p*p, 4, d_vocab)
        accuracy = (logits[:, -1].argmax(dim=-1) == answers).float().mean().item()
        layers = [spectrum(cache[f"blocks.{i}.mlp.hook_post"][:, -1], p) for i in range(model.cfg.n_layers)]
        resid = spectrum(cache[f"blocks.{model.cfg.n_layers - 1}.hook_resid_post"][:, -1], p)
        shares = "  ".join(f"L{i} {sum_share(e):.2f}" for i, e in enumerate(layers))
        top = ", ".join(f"k={k} {share:.2f}" for k, share in top_sum_frequencies(layers[-1]))
        rung = ladder.rung(name)
        print(f"{name:<6}{rung.params:>9,}{accuracy:>10.3f}  {shares} | {sum_share(resid):.2f}   top: {top}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ladder", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rungs", help="comma-separated rungs (default: every rung)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="results root")
    args = parser.parse_args()
    ladder = load_ladder(args.ladder)
    rungs = args.rungs.split(",") if args.rungs else [r.name for r in ladder.rungs]
    try:
        report(ladder, rungs, args.seed, args.out)
    except UserError as exc:  # an untrained rung, a missing checkpoint, no interp extra: the message says what to do
        raise SystemExit(f"Error: {exc}") from None


if __name__ == "__main__":
    main()

"""Worked example: find the induction heads of a trained ladder by recording its attention.

An induction head continues a repeated sequence: at a token that occurred
before, it attends to the token that *followed* the earlier occurrence, so
that token can be copied forward. For every head of every rung this script
records the attention pattern on examples of the ``induction`` task and
prints the head's induction score: the mean attention from each position to
the position right after the previous occurrence of the same token.

    python examples/induction_heads.py --ladder induction --seed 0
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import harness
from harness.errors import UserError
from harness.ladders.ladder import Ladder, load_ladder


def induction_targets(tokens: torch.Tensor) -> torch.Tensor:
    """tokens (n, T) -> (n, T): for each position, the one after the previous occurrence of its token, or -1."""
    T = tokens.shape[1]
    same = tokens[:, :, None] == tokens[:, None, :]  # (n, T_query, T_key)
    before = torch.ones(T, T, dtype=torch.bool).tril(-2)  # key <= query - 2: the next position is still in the past
    previous = torch.where(same & before, torch.arange(T), -1).amax(dim=-1)  # (n, T) latest earlier occurrence
    return torch.where(previous >= 0, previous + 1, -1)


def induction_scores(pattern: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """pattern (n, heads, T, T), tokens (n, T) -> (heads,) mean attention paid to the induction target."""
    target = induction_targets(tokens)  # (n, T)
    has = target >= 0
    paid = pattern.gather(-1, target.clamp(min=0)[:, None, :, None].expand(-1, pattern.shape[1], -1, 1))[
        ..., 0
    ]  # (n, heads, T)
    return (paid * has[:, None]).sum(dim=(0, 2)) / has.sum()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ladder", default="induction")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=256, help="induction examples to record")
    parser.add_argument("--out", type=Path, default=Path("results"), help="results root")
    args = parser.parse_args()
    try:
        report(load_ladder(args.ladder), args.seed, args.n, args.out)
    except UserError as exc:  # an untrained rung, a missing checkpoint: the message says what to run
        raise SystemExit(f"Error: {exc}") from None


def report(ladder: Ladder, seed: int, n: int, out: Path) -> None:
    """One line per rung: its accuracy on the recorded examples and every head's induction score."""
    print(f"{'rung':<6}{'params':>9}{'accuracy':>10}  induction score per head (layer: heads)")
    for rung in ladder.rungs:
        model = harness.load_model(ladder, rung.name, seed, out=out)
        rec = harness.record(model, "induction", n=n, seed=0, hooks="blocks.*.attn.hook_pattern")
        layers = [
            f"L{i}: "
            + " ".join(f"{s:.2f}" for s in induction_scores(rec[f"blocks.{i}.attn.hook_pattern"], rec["input"]))
            for i in range(len(model.blocks))
        ]
        print(f"{rung.name:<6}{rung.params:>9,}{rec['correct'].float().mean():>10.3f}  " + " | ".join(layers))


if __name__ == "__main__":
    main()

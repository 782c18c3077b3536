"""Attention patterns of a forward pass, and the two task-free head scores: previous token and induction."""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from harness.tasks import vocab
from model_zoo.hooks import hook_points

PROBE_ROWS = 64  # random sequences the task-free head scores are averaged over
PROBE_SEED = 0


def probe(n_ctx: int, rows: int = PROBE_ROWS, seed: int = PROBE_SEED) -> torch.Tensor:
    """(rows, 2 L) random data symbols, each row a sequence of L = n_ctx // 2 distinct symbols twice over.

    Distinct symbols make "the earlier occurrence of this token" unique, so the prefix-matching target is one position.
    """
    half = min(n_ctx // 2, vocab.N_SYMBOLS)
    generator = torch.Generator().manual_seed(seed)
    first = torch.stack([torch.randperm(vocab.N_SYMBOLS, generator=generator)[:half] for _ in range(rows)])
    return torch.cat([first, first], dim=1) + vocab.SYM0  # (rows, 2 L)


@torch.no_grad()
def forward_with_patterns(model: nn.Module, tokens: torch.Tensor) -> tuple[torch.Tensor, dict[int, torch.Tensor]]:
    """Logits (B, T, d_vocab) of ``tokens`` (B, T) and each attention layer's pattern (B, n_heads, T_query, T_key)
    by layer index; no patterns for a model without attention (the mixer family).

    Hooking ``hook_pattern`` makes the layer form its pattern explicitly (``Attention.explicit``), so the pattern
    is the one its output is computed from.
    """
    patterns: dict[int, torch.Tensor] = {}
    points = {name: p for name, p in hook_points(model).items() if name.endswith("attn.hook_pattern")}
    handles = [point.register_forward_hook(keep(patterns, block(name))) for name, point in points.items()]
    try:
        logits = model(tokens)
    finally:
        for handle in handles:
            handle.remove()
    return logits, patterns


def block(name: str) -> int:
    """The block index of a hook point's name: ``blocks.1.attn.hook_pattern`` -> 1."""
    return int(name.split(".")[1])


def keep(seen: dict[int, torch.Tensor], key: int, at: int | None = None):  # noqa: ANN201 - a forward hook
    """A forward hook that stores its output (at position ``at`` alone, if given) in ``seen[key]``."""

    def hook(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        seen[key] = (output if at is None else output[:, at]).detach()

    return hook


def attention_scores(model: nn.Module, tokens: torch.Tensor) -> pd.DataFrame:
    """Per (layer, head): previous-token and induction (prefix-matching) scores on ``tokens`` (B, 2 L).

    Empty for a model without attention patterns (the mixer family).
    """
    _, patterns = forward_with_patterns(model, tokens)
    half = tokens.shape[1] // 2
    rows = []
    for layer, pattern in patterns.items():  # (B, n_heads, T, T)
        t = torch.arange(1, pattern.shape[-1])
        prev = pattern[:, :, t, t - 1].mean(dim=(0, 2))  # (n_heads,)
        q = torch.arange(half, 2 * half)  # positions of the repeat; their token sits at q - half, its successor after
        induction = pattern[:, :, q, q - half + 1].mean(dim=(0, 2))  # (n_heads,)
        for head in range(pattern.shape[1]):
            rows.append(("prev_token", layer, head, float(prev[head])))
            rows.append(("induction", layer, head, float(induction[head])))
    return pd.DataFrame(rows, columns=["measure", "layer", "head", "value"])

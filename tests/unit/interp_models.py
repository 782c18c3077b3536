"""Shared by the interop tests: gpt models with every weight random, token batches, and the skip without the extra."""

from __future__ import annotations

import importlib.util
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers is imported: no interop test may reach the Hub

import pytest
import torch

from model_zoo.gpt import GPT, GPTConfig

INTERP = all(importlib.util.find_spec(m) is not None for m in ("transformers", "transformer_lens", "nnsight"))
needs_interp = pytest.mark.skipif(
    not INTERP, reason="needs the interp extra (transformers, transformer-lens, nnsight): pip install -e '.[interp]'"
)


def scramble(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Every weight random and far from its initial value (LayerNorm weights not 1, biases not 0), in place.

    So a transposed or misplaced weight changes the output and cannot hide. Drawn in the weights' own dtype: a
    float64 model's weights are not float32 numbers, so a conversion that rounds through float32 shows.
    """
    generator = torch.Generator().manual_seed(seed)

    def noise(p: torch.Tensor) -> torch.Tensor:
        return 0.2 * torch.randn(p.shape, generator=generator, dtype=p.dtype)

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.copy_(1.0 + noise(module.weight))
                module.bias.copy_(noise(module.bias))
            elif isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
                for p in module.parameters():
                    p.copy_(noise(p))
    return model.eval()


def scrambled(cfg: GPTConfig, seed: int = 0, dtype: torch.dtype = torch.float32) -> GPT:
    """A gpt model of shape ``cfg`` and ``dtype`` with every weight random (see ``scramble``)."""
    return scramble(GPT(cfg).to(dtype), seed)


def tokens(cfg: GPTConfig, n: int = 3) -> torch.Tensor:
    """(n, n_ctx) random token ids: every position the model reads."""
    return torch.randint(0, cfg.d_vocab, (n, cfg.n_ctx), generator=torch.Generator().manual_seed(1))

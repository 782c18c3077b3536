"""An attention-free decoder: fixed, learned causal token mixing instead of attention.

Each block mixes tokens with a learned lower-triangular matrix per head (the
same weights for every input, like MLP-Mixer's token MLP made causal). It can
copy from fixed offsets but cannot route by content, so tasks that need lookup
by content (induction, associative recall) separate it from the GPT: a
forecastable question about architecture, not only size.
"""

from __future__ import annotations

import torch
from torch import nn

from model_zoo.config import MixerConfig
from model_zoo.decoder import Block, Decoder
from model_zoo.hooks import HookPoint


class CausalMixing(nn.Module):
    """y[t] = sum over s <= t of M[h, t, s] * x[s], per head group, then a linear map.

    Hook point (prefix ``blocks.{i}.mix.``): hook_z (B, T, n_heads, d_model / n_heads),
    the mixed head groups before the linear map, like attention's ``hook_z``. The
    mixing matrices are weights, the same for every input: ``matrix(T)``.
    """

    def __init__(self, cfg: MixerConfig) -> None:
        super().__init__()
        self.n_heads, self.n_ctx = cfg.n_heads, cfg.n_ctx
        rows, cols = torch.tril_indices(cfg.n_ctx, cfg.n_ctx)
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)
        # Start as a causal running mean, a neutral mixer that trains stably.
        init = 1.0 / (rows + 1).float()
        self.weights = nn.Parameter(init.repeat(cfg.n_heads, 1))  # (n_heads, n_ctx*(n_ctx+1)/2)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.hook_z = HookPoint()

    def matrix(self, T: int) -> torch.Tensor:
        """The (n_heads, T, T) lower-triangular mixing matrices for sequences of length T."""
        m = self.weights.new_zeros(self.n_heads, self.n_ctx, self.n_ctx)
        m[:, self.rows, self.cols] = self.weights
        return m[:, :T, :T]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape  # (B, T, d_model)
        heads = x.view(B, T, self.n_heads, D // self.n_heads)  # (B, T, H, D/H)
        mixed = self.hook_z(torch.einsum("hts,bshd->bthd", self.matrix(T), heads))  # (B, T, H, D/H)
        return self.out(mixed.reshape(B, T, D))  # (B, T, d_model)


class Mixer(Decoder):
    """Blocks of ``mix`` (CausalMixing) and MLP; the mixing output hook is ``blocks.{i}.hook_mix_out``."""

    def __init__(self, cfg: MixerConfig) -> None:
        super().__init__(cfg, [Block(cfg, "mix", CausalMixing(cfg)) for _ in range(cfg.n_layers)])

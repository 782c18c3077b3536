"""A small GPT: pre-norm decoder with fused causal attention (``F.scaled_dot_product_attention``).

Exactly the shape of GPT-2 (exact GELU, LayerNorm eps 1e-5, untied head with no
unembedding bias), so every rung converts without loss to the formats
researchers load (Hugging Face's ``GPT2LMHeadModel``, TransformerLens).

Module and hook-point names follow TransformerLens (``embed``, ``pos_embed``,
``blocks.{i}.attn``, ``blocks.{i}.mlp``, ``ln_final``, ``unembed``;
``blocks.{i}.attn.hook_pattern``, ...) so checkpoints and recordings map onto its tools.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from model_zoo.config import GPTConfig
from model_zoo.decoder import Block, Decoder
from model_zoo.hooks import HookPoint


class Attention(nn.Module):
    """Causal multi-head attention; the pattern is computed explicitly only when it is hooked.

    Hook points (TransformerLens names, prefix ``blocks.{i}.attn.``):
    hook_q, hook_k, hook_v (B, T, n_heads, d_head); hook_attn_scores and
    hook_pattern (B, n_heads, T_query, T_key); hook_z (B, T, n_heads, d_head).
    With neither scores nor pattern hooked, the fused kernel
    (``F.scaled_dot_product_attention``) runs and they are never formed.
    ``explicit = True`` forms them regardless: recording sets it, so recorded
    values do not depend on which hook points were asked for (the two paths
    differ by float rounding, ~1e-7).
    """

    explicit = False

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.n_heads, self.d_head = cfg.n_heads, cfg.head_width
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.n_heads * cfg.head_width)
        self.out = nn.Linear(cfg.n_heads * cfg.head_width, cfg.d_model)
        for name in ("q", "k", "v", "attn_scores", "pattern", "z"):
            self.add_module(f"hook_{name}", HookPoint())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape  # (B, T, d_model)
        qkv = self.qkv(x).view(B, T, 3, self.n_heads, self.d_head)
        q, k, v = (
            hook(t).transpose(1, 2) for t, hook in zip(qkv.unbind(2), (self.hook_q, self.hook_k, self.hook_v))
        )  # each (B, n_heads, T, d_head)
        if self.explicit or self.hook_pattern.hooked or self.hook_attn_scores.hooked:
            z = self._explicit(q, k, v)
        else:
            z = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, n_heads, T, d_head)
        z = self.hook_z(z.transpose(1, 2))  # (B, T, n_heads, d_head)
        return self.out(z.reshape(B, T, -1))  # (B, T, d_model)

    def _explicit(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Softmax(q k^T / sqrt(d_head)) v with the causal mask, through the two hook points."""
        T = q.shape[2]
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)  # (B, n_heads, T, T)
        future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)
        scores = self.hook_attn_scores(scores.masked_fill(future, float("-inf")))
        pattern = self.hook_pattern(scores.softmax(dim=-1))  # (B, n_heads, T_query, T_key)
        return pattern @ v  # (B, n_heads, T, d_head)


class GPT(Decoder):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__(cfg, [Block(cfg, "attn", Attention(cfg)) for _ in range(cfg.n_layers)])

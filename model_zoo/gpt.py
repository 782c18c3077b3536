"""A small GPT: pre-norm decoder with fused causal attention (``F.scaled_dot_product_attention``).

Module names follow TransformerLens (``embed``, ``pos_embed``, ``blocks.{i}.attn``,
``blocks.{i}.mlp``, ``ln_final``, ``unembed``) so checkpoints map onto its tools.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import model_validator
from torch import nn

from model_zoo.config import ModelConfig
from model_zoo.decoder import Decoder, make_mlp


class GPTConfig(ModelConfig):
    """Decoder-only transformer. d_head: width of one head; None means d_model // n_heads."""

    d_head: int | None = None

    @model_validator(mode="after")
    def _heads_fit(self) -> GPTConfig:
        if self.d_head is None and self.d_model % self.n_heads:
            raise ValueError(
                f"n_heads={self.n_heads} does not divide d_model={self.d_model}; "
                "choose n_heads that divides d_model or set d_head explicitly"
            )
        return self

    @property
    def head_width(self) -> int:
        return self.d_head if self.d_head is not None else self.d_model // self.n_heads

    def n_params(self) -> int:
        """Exact number of trainable parameters (equals ``sum(p.numel())``)."""
        d, hd = self.d_model, self.n_heads * self.head_width
        attn = (d * 3 * hd + 3 * hd) + (hd * d + d)
        return self._shared_params() + self.n_layers * (attn + self._mlp_params())


class Attention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.n_heads, self.d_head = cfg.n_heads, cfg.head_width
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.n_heads * cfg.head_width)
        self.out = nn.Linear(cfg.n_heads * cfg.head_width, cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape  # (B, T, d_model)
        qkv = self.qkv(x).view(B, T, 3, self.n_heads, self.d_head)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, n_heads, T, d_head)
        z = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, n_heads, T, d_head)
        return self.out(z.transpose(1, 2).reshape(B, T, -1))  # (B, T, d_model)


class Block(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = Attention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.mlp = make_mlp(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(Decoder):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__(cfg, [Block(cfg) for _ in range(cfg.n_layers)])

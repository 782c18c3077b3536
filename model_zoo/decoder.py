"""What every family shares: embeddings, a stack of blocks, final norm and unembedding."""

from __future__ import annotations

import torch
from torch import nn

from model_zoo.config import ModelConfig


def make_mlp(cfg: ModelConfig) -> nn.Sequential:
    """d_model -> d_mlp -> d_model with the configured nonlinearity."""
    act = nn.GELU() if cfg.act_fn == "gelu" else nn.ReLU()
    return nn.Sequential(nn.Linear(cfg.d_model, cfg.mlp_width), act, nn.Linear(cfg.mlp_width, cfg.d_model))


class Decoder(nn.Module):
    """Embedding, a stack of blocks, final norm and unembedding; the blocks define the family."""

    def __init__(self, cfg: ModelConfig, blocks: list[nn.Module]) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.d_vocab, cfg.d_model)
        self.pos_embed = nn.Embedding(cfg.n_ctx, cfg.d_model)
        self.blocks = nn.ModuleList(blocks)
        self.ln_final = nn.LayerNorm(cfg.d_model)
        self.unembed = nn.Linear(cfg.d_model, cfg.d_vocab)
        self.apply(_init_weights)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) int64 -> logits (B, T, d_vocab)."""
        T = tokens.shape[1]
        if T > self.cfg.n_ctx:
            raise ValueError(f"sequence of {T} tokens exceeds n_ctx={self.cfg.n_ctx}")
        pos = torch.arange(T, device=tokens.device)
        x = self.embed(tokens) + self.pos_embed(pos)  # (B, T, d_model)
        for block in self.blocks:
            x = block(x)
        return self.unembed(self.ln_final(x))  # (B, T, d_vocab)


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)



"""What every family shares: embeddings, a stack of blocks, final norm and unembedding.

Hook points (``model_zoo.hooks``) follow TransformerLens names. Shared by every family:

    hook_embed                     (B, T, d_model)  token embedding
    hook_pos_embed                 (B, T, d_model)  position embedding
    blocks.{i}.hook_resid_pre      (B, T, d_model)  residual stream into block i
    blocks.{i}.ln1.hook_normalized (B, T, d_model)  input of the token-mixing sublayer
    blocks.{i}.hook_resid_mid      (B, T, d_model)  residual after token mixing, before the MLP
    blocks.{i}.ln2.hook_normalized (B, T, d_model)  input of the MLP
    blocks.{i}.mlp.hook_pre        (B, T, d_mlp)    MLP pre-activation
    blocks.{i}.mlp.hook_post       (B, T, d_mlp)    MLP neurons (after the nonlinearity)
    blocks.{i}.hook_mlp_out        (B, T, d_model)  MLP output, added to the residual
    blocks.{i}.hook_resid_post     (B, T, d_model)  residual stream out of block i
    ln_final.hook_normalized       (B, T, d_model)  what the unembedding reads

Each family adds the hooks of its token-mixing sublayer (see ``gpt.py``, ``mixer.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from model_zoo.config import ModelConfig
from model_zoo.hooks import HookPoint


class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` (same weights and names) with ``hook_normalized`` on its output."""

    def __init__(self, d_model: int) -> None:
        super().__init__(d_model)
        self.hook_normalized = HookPoint()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hook_normalized(super().forward(x))  # (B, T, d_model)


class MLP(nn.Module):
    """d_model -> d_mlp -> d_model with the configured nonlinearity.

    Its parts are named "0", "1" and "2", as in the ``nn.Sequential`` it replaced,
    so stored checkpoints keep their keys (``mlp.0.weight``, ``mlp.2.bias``, ...)
    and the sha256 the manifests recorded.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.add_module("0", nn.Linear(cfg.d_model, cfg.mlp_width))
        self.add_module("1", nn.GELU() if cfg.act_fn == "gelu" else nn.ReLU())
        self.add_module("2", nn.Linear(cfg.mlp_width, cfg.d_model))
        self.hook_pre = HookPoint()
        self.hook_post = HookPoint()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fc_in, act, fc_out = (self._modules[k] for k in "012")
        pre = self.hook_pre(fc_in(x))  # (B, T, d_mlp)
        return fc_out(self.hook_post(act(pre)))  # (B, T, d_model)


class Block(nn.Module):
    """Pre-norm residual block: the family's token-mixing sublayer, then an MLP.

    The sublayer is registered as ``name`` (``attn``, ``mix``) and its output hook
    is ``hook_{name}_out`` (``hook_attn_out``, ``hook_mix_out``), as in TransformerLens.
    """

    def __init__(self, cfg: ModelConfig, name: str, mixing: nn.Module) -> None:
        super().__init__()
        self.name = name
        # Registered in the order the forward pass reaches them, so hook_points() lists them that way.
        self.hook_resid_pre = HookPoint()
        self.ln1 = LayerNorm(cfg.d_model)
        self.add_module(name, mixing)
        self.add_module(f"hook_{name}_out", HookPoint())
        self.hook_resid_mid = HookPoint()
        self.ln2 = LayerNorm(cfg.d_model)
        self.mlp = MLP(cfg)
        self.hook_mlp_out = HookPoint()
        self.hook_resid_post = HookPoint()

    def forward(self, x: torch.Tensor, at: torch.Tensor | None = None) -> torch.Tensor:
        """x (B, T, d_model) -> (B, T, d_model); with ``at`` (B, T) bool, only those positions: (N, d_model).

        The MLP works on each position alone, so after the token-mixing sublayer (which
        needs every position) the positions nobody reads can be dropped. Training passes
        the answer positions to the last block and skips most of its MLP.
        """
        x = self.hook_resid_pre(x)  # (B, T, d_model)
        mixed = getattr(self, f"hook_{self.name}_out")(getattr(self, self.name)(self.ln1(x)))  # (B, T, d_model)
        x = self.hook_resid_mid(x + mixed)
        if at is not None:
            x = x[at]  # (N, d_model)
        return self.hook_resid_post(x + self.hook_mlp_out(self.mlp(self.ln2(x))))  # (B, T, d_model) or (N, d_model)


class Decoder(nn.Module):
    """Embedding, a stack of blocks, final norm and unembedding; the blocks define the family.

    ``forward`` is ``readout(blocks[-1](... blocks[0](embed_input(tokens))))``;
    the parts are public so activations can be recorded one block at a time.
    """

    def __init__(self, cfg: ModelConfig, blocks: list[nn.Module]) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.d_vocab, cfg.d_model)
        self.hook_embed = HookPoint()
        self.pos_embed = nn.Embedding(cfg.n_ctx, cfg.d_model)
        self.hook_pos_embed = HookPoint()
        self.blocks = nn.ModuleList(blocks)
        self.ln_final = LayerNorm(cfg.d_model)
        self.unembed = nn.Linear(cfg.d_model, cfg.d_vocab, bias=cfg.unembed_bias)
        self.apply(_init_weights)

    def forward(self, tokens: torch.Tensor, at: torch.Tensor | None = None) -> torch.Tensor:
        """tokens (B, T) int64 -> logits (B, T, d_vocab); with ``at`` (B, T) bool, logits there only: (N, d_vocab).

        The logits at ``at`` equal those of the full pass at the same positions: only the
        last block's MLP, the final norm and the unembedding skip the other positions.
        """
        x = self.embed_input(tokens)
        *inner, last = self.blocks
        for block in inner:
            x = block(x)
        return self.readout(last(x, at))

    def embed_input(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (B, T) int64 -> residual stream into the first block (B, T, d_model)."""
        T = tokens.shape[1]
        if T > self.cfg.n_ctx:
            raise ValueError(f"sequence of {T} tokens exceeds n_ctx={self.cfg.n_ctx}")
        pos = torch.arange(T, device=tokens.device)
        pos_embed = self.pos_embed(pos).expand(tokens.shape[0], -1, -1)  # (B, T, d_model), a view
        return self.hook_embed(self.embed(tokens)) + self.hook_pos_embed(pos_embed)

    def readout(self, resid: torch.Tensor) -> torch.Tensor:
        """Residual stream out of the last block (..., d_model) -> logits (..., d_vocab)."""
        return self.unembed(self.ln_final(resid))


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)

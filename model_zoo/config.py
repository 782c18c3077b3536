"""Each family's config: the fields every family shares, with TransformerLens names (d_model, n_layers, ...),
and each family's own fields and exact parameter count. Plain pydantic, no torch: reading a ladder file needs
only these."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ModelConfig(BaseModel):
    """Common shape of a sequence model over the shared vocabulary.

    d_model: width of the residual stream.
    n_layers: number of blocks.
    n_heads: attention heads (or token-mixing heads for attention-free families).
    d_mlp: hidden width of each block's MLP; None means 4 * d_model.
    n_ctx: longest input the model accepts (positions).
    d_vocab: vocabulary size; filled in by the harness from ``harness.tasks.vocab``.
    act_fn: nonlinearity of the MLP.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    d_model: int = Field(gt=0)
    n_layers: int = Field(gt=0)
    n_heads: int = Field(gt=0)
    d_mlp: int | None = Field(default=None, gt=0)
    n_ctx: int = Field(gt=1)
    d_vocab: int = Field(gt=0)
    act_fn: Literal["gelu", "relu"] = "gelu"
    # Whether the unembedding adds a bias to the logits. A family constant, not a rung's choice:
    # GPT-2's head has none, so the gpt family drops it and converts exactly to that format.
    unembed_bias: ClassVar[bool] = True

    @property
    def mlp_width(self) -> int:
        return self.d_mlp if self.d_mlp is not None else 4 * self.d_model

    def n_params(self) -> int:  # pragma: no cover - every family overrides it
        raise NotImplementedError

    def _shared_params(self) -> int:
        """Embedding, position embedding, final norm and unembedding (its bias where the family has one)."""
        d, v = self.d_model, self.d_vocab
        return v * d + self.n_ctx * d + 2 * d + d * v + (v if self.unembed_bias else 0)

    def _mlp_params(self) -> int:
        """One block's MLP and the two layer norms around its sublayers."""
        d, m = self.d_model, self.mlp_width
        return 2 * (2 * d) + (d * m + m) + (m * d + d)


class GPTConfig(ModelConfig):
    """Decoder-only transformer. d_head: width of one head; None means d_model // n_heads."""

    d_head: int | None = None
    unembed_bias: ClassVar[bool] = False  # GPT-2's head has no bias

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


class MixerConfig(ModelConfig):
    """Attention-free decoder; n_heads splits d_model into independently mixed groups."""

    def n_params(self) -> int:
        """Exact number of trainable parameters (equals ``sum(p.numel())``)."""
        d = self.d_model
        mixing = self.n_heads * self.n_ctx * (self.n_ctx + 1) // 2 + (d * d + d)
        return self._shared_params() + self.n_layers * (mixing + self._mlp_params())

    @model_validator(mode="after")
    def _heads_fit(self) -> MixerConfig:
        if self.d_model % self.n_heads:
            raise ValueError(
                f"n_heads={self.n_heads} does not divide d_model={self.d_model}; choose n_heads that divides d_model"
            )
        return self

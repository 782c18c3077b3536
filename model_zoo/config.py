"""Fields every model family shares, with TransformerLens names (d_model, n_layers, ...)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field


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

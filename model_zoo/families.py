"""The model families by name: each is a config class and the module it builds.

A plain mapping: ``model_zoo`` is plain torch and imports nothing from the harness,
which wraps this mapping in its registry (``harness.ladders.families``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from model_zoo.config import GPTConfig, MixerConfig, ModelConfig

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Family:
    """A model family: how to validate a rung's shape and how to build it."""

    config: type[ModelConfig]
    # Where the module lives, as "package.module:Class": imported on first use, so that reading a ladder file (its
    # rungs' shapes and parameter counts need only ``config``) imports no torch.
    module: str
    description: str
    # Bumped whenever the same config builds a different network; ``changes`` pairs each later version with
    # what it changed.
    # Part of every ladder's hash and of every checkpoint, so old results and weights are told apart.
    version: int = 1
    changes: tuple[tuple[int, str], ...] = ()

    def change_since(self, version: int) -> str:
        """What changed in this family after ``version``, in words."""
        return "; ".join(text for v, text in self.changes if v > version) or "nothing recorded"

    @property
    def model(self) -> type[nn.Module]:
        """The family's ``nn.Module`` class (imports torch)."""
        path, name = self.module.split(":")
        return getattr(importlib.import_module(path), name)

    def build(self, cfg: ModelConfig) -> nn.Module:
        return self.model(cfg)


FAMILIES: dict[str, Family] = {
    "gpt": Family(
        GPTConfig,
        "model_zoo.gpt:GPT",
        "pre-norm decoder-only transformer with causal attention, in the shape of GPT-2",
        version=2,
        changes=((2, "the unembedding lost its bias, giving the exact shape of GPT-2"),),
    ),
    "mixer": Family(MixerConfig, "model_zoo.mixer:Mixer", "attention-free decoder with learned causal token mixing"),
}

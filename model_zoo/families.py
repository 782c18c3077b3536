"""The model families by name: each is a config class and the module it builds.

A plain mapping: ``model_zoo`` is plain torch and imports nothing from the harness,
which wraps this mapping in its registry (``harness.training.families``).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from model_zoo.config import ModelConfig
from model_zoo.gpt import GPT, GPTConfig
from model_zoo.mixer import Mixer, MixerConfig


@dataclass(frozen=True)
class Family:
    """A model family: how to validate a rung's shape and how to build it."""

    config: type[ModelConfig]
    model: type[nn.Module]
    description: str

    def build(self, cfg: ModelConfig) -> nn.Module:
        return self.model(cfg)


FAMILIES: dict[str, Family] = {
    "gpt": Family(GPTConfig, GPT, "pre-norm decoder-only transformer with causal attention"),
    "mixer": Family(MixerConfig, Mixer, "attention-free decoder with learned causal token mixing"),
}

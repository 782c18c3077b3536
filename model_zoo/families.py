"""The model-family registry: each family is a config class and the module it builds."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from harness.registry import Registry
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


FAMILIES: Registry[Family] = Registry("model family")
FAMILIES.register("gpt")(Family(GPTConfig, GPT, "pre-norm decoder-only transformer with causal attention"))
FAMILIES.register("mixer")(Family(MixerConfig, Mixer, "attention-free decoder with learned causal token mixing"))

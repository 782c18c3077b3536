"""Plain ``torch.nn.Module`` model families and the ladder definitions (``ladders/*.yaml``)."""

from model_zoo.config import ModelConfig
from model_zoo.families import FAMILIES, Family

__all__ = ["FAMILIES", "Family", "ModelConfig"]

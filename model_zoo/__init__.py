"""Plain ``torch.nn.Module`` model families; nothing here imports the harness."""

from model_zoo.config import ModelConfig
from model_zoo.families import FAMILIES, Family

__all__ = ["FAMILIES", "Family", "ModelConfig"]

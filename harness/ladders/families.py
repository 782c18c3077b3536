"""The model families a ladder can name: ``model_zoo``'s families in a registry with "did you mean"."""

from __future__ import annotations

import model_zoo
from harness.registry import Registry
from model_zoo import Family

FAMILIES: Registry[Family] = Registry.of("model family", model_zoo.FAMILIES)

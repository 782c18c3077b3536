"""emergence-ladder's harness: tasks, training, scoring, leaderboard and the ``ladder`` command line.

``harness.load_model`` and ``harness.record`` open trained models for study;
``harness.to_hf`` and ``harness.to_transformer_lens`` convert a ``gpt`` model for
Hugging Face and TransformerLens (the ``interp`` extra). They are imported on
first use, so that ``import harness.scoring.rules`` stays free of torch.
"""

from __future__ import annotations

import importlib

__all__ = ["load_model", "record", "to_hf", "to_transformer_lens"]
_HOMES = {
    "load_model": "harness.neurons.loading",
    "record": "harness.neurons.recording",
    "to_hf": "harness.neurons.hf",
    "to_transformer_lens": "harness.neurons.lens",
}


def __getattr__(name: str) -> object:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'harness' has no attribute '{name}'")

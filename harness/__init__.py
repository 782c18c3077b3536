"""emergence-ladder's harness: tasks, training, scoring, leaderboard and the ``ladder`` command line.

``harness.load_model`` and ``harness.record`` open trained models for study;
they are imported on first use, so that ``import harness.forecasts.scoring`` stays free of torch.
"""

from __future__ import annotations

__all__ = ["load_model", "record"]


def __getattr__(name: str) -> object:
    if name == "load_model":
        from harness.neurons.loading import load_model

        return load_model
    if name == "record":
        from harness.neurons.recording import record

        return record
    raise AttributeError(f"module 'harness' has no attribute '{name}'")

"""Measures every task on its held-out set at log-spaced steps, and saves checkpoints.

A Lightning callback, so the measurement happens inside ``Trainer.fit`` at
exactly the scheduled optimiser steps (step 0 before any update).
"""

from __future__ import annotations

from collections.abc import Callable

import lightning as L
import torch
from torch import nn

from harness.training.data import Mixture
from harness.training.metrics import per_example

EVAL_CHUNK = 1024  # rows per forward pass during evaluation


@torch.inference_mode()
def evaluate(model: nn.Module, sets: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per task: (exact-match accuracy (n_tasks,), mean answer-token loss (n_tasks,)).

    sets: per task, tokens (n, L) and answer mask (n, L) at the task's own length, so
    no position is spent on padding.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    accuracy, loss = torch.zeros(len(sets), dtype=torch.float64), torch.zeros(len(sets), dtype=torch.float64)
    for i, (tokens, answer_mask) in enumerate(sets):
        loss_sum = correct = 0.0
        for lo in range(0, len(tokens), EVAL_CHUNK):
            chunk = tokens[lo : lo + EVAL_CHUNK].to(device)  # (b, L)
            mask = answer_mask[lo : lo + EVAL_CHUNK, 1:].to(device)  # (b, L-1)
            logits = model(chunk[:, :-1]).float()  # (b, L-1, V)
            rows_loss, rows_exact = per_example(logits, chunk[:, 1:], mask)
            loss_sum += rows_loss.double().sum().item()
            correct += rows_exact.double().sum().item()
        accuracy[i] = correct / len(tokens)
        loss[i] = loss_sum / answer_mask[:, 1:].sum().item()
    model.train(was_training)
    return accuracy, loss


class Evaluator(L.Callback):
    """Appends one row per (task, metric) at each evaluation step; checkpoints at checkpoint steps.

    rows: dicts with keys task, step, tokens, metric, value.
    save: called as save(step, model) at each checkpoint step.
    report: called as report(rows) when training ends. Both are called on the
    first device's process only; with a strategy that spawns one process per
    device, that process is not the one that built the callback, so the rows
    leave it through ``report`` rather than through this object.
    """

    def __init__(
        self,
        mixture: Mixture,
        per_task: int,
        eval_steps: list[int],
        ckpt_steps: list[int],
        save: Callable[[int, nn.Module], None],
        report: Callable[[list[dict]], None],
    ) -> None:
        self.mixture = mixture
        self.sets = mixture.eval_sets(per_task)
        self.eval_steps, self.ckpt_steps = set(eval_steps), set(ckpt_steps)
        self.save, self.report = save, report
        self.rows: list[dict] = []

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._at(0, trainer, pl_module)

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        self._at(trainer.global_step, trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            self.report(self.rows)

    def _at(self, step: int, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if step in self.eval_steps and trainer.is_global_zero:
            self._measure(step, trainer, pl_module.model)
        if step in self.ckpt_steps and trainer.is_global_zero:
            self.save(step, pl_module.model)

    def _measure(self, step: int, trainer: L.Trainer, model: nn.Module) -> None:
        accuracy, loss = evaluate(model, self.sets)
        tokens = step * self.mixture.tokens_per_step
        logged = {}
        for i, task in enumerate(self.mixture.tasks):
            for metric, values in (("accuracy", accuracy), ("loss", loss)):
                value = float(values[i])
                self.rows.append({"task": task.name, "step": step, "tokens": tokens, "metric": metric, "value": value})
                logged[f"{metric}/{task.name}"] = value
        if trainer.logger is not None:
            trainer.logger.log_metrics({**logged, "tokens": tokens}, step=step)

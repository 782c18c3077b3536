"""The Lightning wrapping of a plain model: loss over length groups, optimiser and learning-rate schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING

import lightning as L
import torch
from torch import nn

from harness.ladders.ladder import TrainingSpec
from harness.tasks import vocab
from harness.training.metrics import answer_loss_sum
from harness.training.schedule import lr_factor

if TYPE_CHECKING:
    from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig


class LadderModule(L.LightningModule):
    """Trains ``model`` on answer tokens with AdamW, linear warmup and cosine decay.

    Weight decay applies to every parameter with two or more dimensions (linear
    and embedding matrices, and the mixer's per-head mixing weights) and to
    nothing else (biases, norm gains), the usual choice for transformers.

    ``groups`` are the lengths of the batch's length groups (``harness.training.groups.plan``);
    None runs the whole batch in one pass at its full length.

    The parameters of each weight-decay group live in one flat tensor (the model's
    parameters become views of it, and so do their gradients), so the optimiser and
    gradient clipping handle two tensors a step instead of one per weight: for the
    smallest rungs, whose arithmetic is tiny, that per-tensor work was a third of a step.
    """

    def __init__(self, model: nn.Module, training: TrainingSpec, groups: tuple[int, ...] | None = None) -> None:
        super().__init__()
        self.model = model
        self.training_spec = training
        self.groups = groups
        self.flat: list[nn.Parameter] = []

    def __setattr__(self, name: str, value: object) -> None:
        # Lightning sets _current_fx_name around each of its ~25 hook calls a step; through
        # nn.Module.__setattr__ (checks for parameters and buffers) that cost 0.4 ms of the
        # smallest rung's 3.3 ms step. It is a plain attribute, so set it plainly.
        if name == "_current_fx_name":
            object.__setattr__(self, name, value)
        else:
            super().__setattr__(name, value)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.model(tokens)

    def loss(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """Mean cross-entropy over the answer tokens of a batch (the plain loops of the benchmarks call it too)."""
        tokens, answer_mask = batch  # (B, T) each
        total = answer_mask[:, 1:].sum()
        if self.groups is None or len(self.groups) == 1:
            return self._loss_sum(tokens, answer_mask) / total
        lengths = (tokens != vocab.PAD).sum(dim=1)  # (B,) real tokens of each row; padding only trails
        loss, shorter = tokens.new_zeros((), dtype=torch.float32), 0
        for length in self.groups:
            rows = ((lengths > shorter) & (lengths <= length)).nonzero().squeeze(1)  # (b,)
            shorter = length
            if len(rows):
                loss = loss + self._loss_sum(tokens[rows, :length], answer_mask[rows, :length])
        return loss / total

    def _loss_sum(self, tokens: torch.Tensor, answer_mask: torch.Tensor) -> torch.Tensor:
        at = answer_mask[:, 1:]  # (b, L-1): position t predicts token t+1, an answer token
        if self.training_spec.answers_only:
            logits = self.model(tokens[:, :-1], at=at)  # (N, V): computed at the answer positions only
        else:
            logits = self.model(tokens[:, :-1])[at]  # (b, L-1, V) computed, (N, V) kept
        return answer_loss_sum(logits, tokens[:, 1:], at)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self.loss(batch)

    def configure_optimizers(self) -> OptimizerLRSchedulerConfig:
        spec = self.training_spec
        params = [p for p in self.model.parameters() if p.requires_grad]
        decayed, plain = [p for p in params if p.dim() >= 2], [p for p in params if p.dim() < 2]
        pairs = ((decayed, spec.weight_decay), (plain, 0.0))
        groups = [{"params": [flatten(group)], "weight_decay": decay} for group, decay in pairs if group]
        self.flat = [group["params"][0] for group in groups]
        # Fused AdamW unscales inside its step, so Lightning's mixed-precision plugin refuses to clip
        # gradients before it (under 16-mixed they are still scaled there). With two flat tensors the
        # foreach kernels cost about the same, so mixed precision uses them.
        mixed = self._trainer is not None and str(self._trainer.precision).endswith("-mixed")
        optimizer = torch.optim.AdamW(groups, lr=spec.lr, betas=(0.9, 0.98), fused=not mixed, foreach=mixed)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: lr_factor(step, spec.warmup_steps, spec.steps, spec.min_lr_ratio)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def optimizer_zero_grad(self, epoch: int, batch_idx: int, optimizer: torch.optim.Optimizer) -> None:
        # Zeroed in place, never set to None: the model's gradients are views of these.
        for flat in self.flat:
            flat.grad.zero_()
        # The Trainer sets every .grad to None when fitting starts; point them back at the flat gradient.
        if self.flat and self.flat[0].views[0].grad is not self.flat[0].grad_views[0]:
            for flat in self.flat:
                for p, grad in zip(flat.views, flat.grad_views):
                    p.grad = grad

    def plain_step(
        self,
        batch: tuple[torch.Tensor, torch.Tensor],
        optimizer: torch.optim.Optimizer,
        schedule: torch.optim.lr_scheduler.LRScheduler,
    ) -> torch.Tensor:
        """One training step without the Trainer, in the Trainer's order (loss, zero, backward, clip, step).

        The benchmarks time it against Lightning's step; returns the loss.
        """
        loss = self.loss(batch)
        self.optimizer_zero_grad(0, 0, optimizer)
        loss.backward()
        if self.training_spec.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.flat, self.training_spec.grad_clip)
        optimizer.step()
        schedule.step()
        return loss.detach()


def flatten(params: list[nn.Parameter]) -> nn.Parameter:
    """One parameter holding ``params``, which become views of it; their gradients are views of its gradient.

    Autograd accumulates into an existing ``.grad`` in place, so backward fills the
    flat gradient, and an optimiser step on the flat parameter updates every view.
    """
    size = sum(p.numel() for p in params)
    flat = torch.empty(size, dtype=params[0].dtype, device=params[0].device)
    grad = torch.zeros_like(flat)
    grad_views, offset = [], 0
    for p in params:
        n = p.numel()
        flat[offset : offset + n].copy_(p.detach().flatten())
        p.data = flat[offset : offset + n].view_as(p)
        p.grad = grad[offset : offset + n].view_as(p)
        grad_views.append(p.grad)
        offset += n
    out = nn.Parameter(flat)
    out.grad = grad
    out.views, out.grad_views = params, grad_views  # for re-linking the gradients (optimizer_zero_grad)
    return out

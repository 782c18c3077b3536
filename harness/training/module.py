"""The Lightning wrapping of a plain model: loss, optimiser and learning-rate schedule."""

from __future__ import annotations

import lightning as L
import torch
from torch import nn

from harness.training.ladder import TrainingSpec
from harness.training.metrics import answer_loss
from harness.training.schedule import lr_factor


class LadderModule(L.LightningModule):
    """Trains ``model`` on answer tokens with AdamW, linear warmup and cosine decay.

    Weight decay applies to every parameter with two or more dimensions (linear
    and embedding matrices, and the mixer's per-head mixing weights) and to
    nothing else (biases, norm gains), the usual choice for transformers.
    """

    def __init__(self, model: nn.Module, training: TrainingSpec) -> None:
        super().__init__()
        self.model = model
        self.training_spec = training

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
        logits = self.model(tokens[:, :-1])  # (B, T-1, V): position t predicts token t+1
        return answer_loss(logits, tokens[:, 1:], answer_mask[:, 1:])

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self.loss(batch)

    def configure_optimizers(self):  # noqa: ANN201 - Lightning's own return convention
        spec = self.training_spec
        params = [p for p in self.model.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.dim() >= 2], "weight_decay": spec.weight_decay},
            {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(groups, lr=spec.lr, betas=(0.9, 0.98))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: lr_factor(step, spec.warmup_steps, spec.steps, spec.min_lr_ratio)
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

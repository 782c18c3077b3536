"""Hook points: named identity modules on every intermediate activation, as in TransformerLens.

A model calls ``self.hook_x(x)`` wherever an activation worth studying is made.
With nothing attached that is an identity (one module call, a microsecond or
two); attach a standard PyTorch forward hook to read the activation, or return
a tensor from the hook to replace it (activation patching)::

    model.blocks[1].attn.hook_pattern.register_forward_hook(lambda mod, inp, out: print(out.shape))

``harness.record`` uses exactly this to record whole models. A module with an
``explicit`` attribute (GPT attention) forms, while it is True, the activations
it would otherwise fuse away; recording sets it, so recorded values do not
depend on which hook points were asked for.
"""

from __future__ import annotations

import torch
from torch import nn


class HookPoint(nn.Module):
    """Identity on one activation, with a name in ``model.named_modules()`` to attach hooks to."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @property
    def hooked(self) -> bool:
        """Whether a forward hook is attached: lets a model compute an activation only when it is read."""
        return bool(self._forward_hooks or self._forward_pre_hooks)


def hook_points(model: nn.Module) -> dict[str, HookPoint]:
    """Every hook point of ``model`` by its full name (``blocks.1.attn.hook_pattern``), in forward order."""
    return {name: module for name, module in model.named_modules() if isinstance(module, HookPoint)}

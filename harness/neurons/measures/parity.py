"""Sparse parity's hidden progress (Barak et al. 2022): how much of the response to a bit comes from the secret bits.

Barak et al. show that a network learning a sparse parity concentrates its first layer's weights on the k
relevant coordinates long before its accuracy leaves chance. Here the bits are tokens (data symbols 0 and 1
at positions 1 .. n_bits, the secret ones at 1 + s for s in ``task.secret``, fixed per task setting) and the
answer is predicted at the SEP position, so "the weight on a bit" is measured as a response: flip bit j in
each probe row and take the norm of the change of a block's output (``blocks.{i}.hook_resid_post``) at the
SEP position. The share of the secret bits in the summed response is 1 for a model that reads only them and
k / n_bits for one that reads every bit alike. This works for every family (attention or fixed mixing).
"""

from __future__ import annotations

import math

import pandas as pd
import torch
from torch import nn

from harness.neurons.measures.heads import block, keep
from harness.neurons.measures.probes import TaskProbe
from harness.tasks import vocab
from model_zoo.hooks import hook_points

ROWS = 32  # probe rows flipped: each is run 1 + n_bits times, the costliest measure of a checkpoint


@torch.no_grad()
def bit_responses(model: nn.Module, probe: TaskProbe) -> torch.Tensor:
    """(n_blocks, n_bits): the mean over the first ``ROWS`` probe rows of ||h_i(x) - h_i(x with bit j flipped)|| at
    the SEP position, h_i the residual stream out of block i."""
    x, n_bits = probe.input[:ROWS], probe.task.n_bits  # (n, T)
    flipped = x.repeat(n_bits, 1, 1)  # (n_bits, n, T): copy j has bit j flipped
    j = torch.arange(n_bits)
    flipped[j, :, 1 + j] = 2 * vocab.SYM0 + 1 - flipped[j, :, 1 + j]  # symbol 0 <-> symbol 1
    batch = torch.cat([x[None], flipped]).reshape(-1, x.shape[1])  # ((1 + n_bits) n, T)
    at = int(probe.answer_positions[0])
    seen: dict[int, torch.Tensor] = {}
    points = {n: p for n, p in hook_points(model).items() if n.startswith("blocks.") and n.endswith("hook_resid_post")}
    handles = [point.register_forward_hook(keep(seen, block(name), at)) for name, point in points.items()]
    try:
        model(batch)
    finally:
        for handle in handles:
            handle.remove()
    out = []
    for i in sorted(seen):
        h = seen[i].double().reshape(1 + n_bits, x.shape[0], -1)  # (1 + n_bits, n, d_model)
        out.append((h[1:] - h[:1]).norm(dim=2).mean(dim=1))  # (n_bits,)
    return torch.stack(out)


def secret_share(model: nn.Module, probe: TaskProbe) -> pd.DataFrame:
    """Per block (``layer``): the secret bits' share of the summed response to flipping one bit (NaN if none)."""
    response = bit_responses(model, probe)  # (n_blocks, n_bits)
    secret = list(probe.task.secret)
    total = response.sum(dim=1)
    rows = [
        (layer, -1, float(response[layer, secret].sum() / total[layer]) if total[layer] > 0 else math.nan)
        for layer in range(len(response))
    ]
    return pd.DataFrame(rows, columns=["layer", "head", "value"])

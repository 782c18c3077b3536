"""Measures read off the weights alone: weight norms, and the Fourier share of mod_add's residue embeddings."""

from __future__ import annotations

import math

import pandas as pd
import torch
from torch import nn

from harness.tasks import vocab

TOP_FREQUENCIES = 5


def weight_norms(model: nn.Module) -> pd.DataFrame:
    """Frobenius norm of the weight matrices per block (``layer`` its index), embeddings (-1), unembedding (last)."""
    n_blocks = len(model.blocks)
    sums: dict[int, float] = {}
    for name, param in model.named_parameters():
        if param.dim() < 2:
            continue
        top = name.split(".")[0]
        layer = int(name.split(".")[1]) if top == "blocks" else n_blocks if top == "unembed" else -1
        sums[layer] = sums.get(layer, 0.0) + float(param.detach().double().pow(2).sum())
    return pd.DataFrame(
        [("weight_norm", layer, -1, math.sqrt(total)) for layer, total in sorted(sums.items())],
        columns=["measure", "layer", "head", "value"],
    )


def fourier_share(embedding: torch.Tensor, modulus: int, top: int = TOP_FREQUENCIES) -> float:
    """Share of the residues' centred embedding energy in its ``top`` largest frequencies.

    embedding: (vocabulary, d_model); the rows of residues 0 .. modulus-1 are the data symbols 0 .. modulus-1.
    """
    rows = embedding[vocab.SYM0 : vocab.SYM0 + modulus].detach().double()  # (p, d)
    rows = rows - rows.mean(dim=0)  # the constant (frequency 0) carries no residue
    power = torch.fft.rfft(rows, dim=0).abs().pow(2).sum(dim=1)[1:]  # (p // 2,) energy per frequency 1 .. p // 2
    total = float(power.sum())
    return float(power.sort(descending=True).values[:top].sum()) / total if total > 0 else math.nan

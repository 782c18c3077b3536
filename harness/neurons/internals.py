"""Progress measures: what the weights and attention of every stored checkpoint say, over training.

The curves record whether and when a capability appears; these measures record the internals at
the same checkpoints, so that a researcher can ask whether something in the weights moves before
the accuracy jumps (Barak et al. on sparse parity, Nanda et al.'s progress measures on modular
addition, Olsson et al. on induction heads). One tidy long table, one row per (checkpoint, measure,
layer, head):

- ``weight_norm``: Frobenius norm of the weight matrices (two or more dimensions) of each block
  (``layer`` = block index), of the embeddings (``layer`` -1) and of the unembedding (``layer`` =
  number of blocks); ``head`` -1. Weight decay and grokking both show here first.
- ``prev_token`` (attention families only), per layer and head: the mean attention from each
  position to the one before it, on random symbol sequences.
- ``induction`` (attention families only), per layer and head: on a random sequence of symbols
  followed by the same sequence again, the mean attention from each position of the repeat to
  the position just after the earlier occurrence of its token (the prefix-matching score of
  Olsson et al.); a perfect induction head scores 1.
- ``fourier_share``, for each ``mod_add`` task of the ladder (``head`` -1, ``layer`` -1, named in
  ``task``): the share of the token embedding's energy over the residues 0 .. p-1 (centred over
  the residues) in its ``TOP_FREQUENCIES`` largest frequencies, of the p // 2 there are; a few
  clean frequencies are the Fourier algorithm Nanda et al. found, random embeddings spread evenly.

The probe sequences are drawn from a fixed seed, so the table is a pure function of the checkpoints.
Pure torch and numpy over plain ``nn.Module`` models; the command line is ``ladder internals``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from harness.errors import UserError
from harness.ladders.ladder import Ladder
from harness.neurons import internals_table
from harness.neurons.loading import find_checkpoint, load_checkpoint
from harness.tasks import vocab
from harness.training.restore import checkpoints_intact
from harness.training.store import ResultsStore
from model_zoo.hooks import hook_points

COLUMNS = ["ladder", "rung", "params", "seed", "step", "measure", "task", "layer", "head", "value"]
TOP_FREQUENCIES = 5
PROBE_ROWS = 64  # random sequences the attention scores are averaged over
PROBE_SEED = 0


def probe(n_ctx: int, rows: int = PROBE_ROWS, seed: int = PROBE_SEED) -> torch.Tensor:
    """(rows, 2 L) random data symbols, each row a sequence of L = n_ctx // 2 distinct symbols twice over.

    Distinct symbols make "the earlier occurrence of this token" unique, so the prefix-matching target is one position.
    """
    half = min(n_ctx // 2, vocab.N_SYMBOLS)
    generator = torch.Generator().manual_seed(seed)
    first = torch.stack([torch.randperm(vocab.N_SYMBOLS, generator=generator)[:half] for _ in range(rows)])
    return torch.cat([first, first], dim=1) + vocab.SYM0  # (rows, 2 L)


@torch.no_grad()
def attention_scores(model: nn.Module, tokens: torch.Tensor) -> pd.DataFrame:
    """Per (layer, head): previous-token and induction (prefix-matching) scores on ``tokens`` (B, 2 L).

    Empty for a model without attention patterns (the mixer family).
    """
    patterns = {}
    points = {name: p for name, p in hook_points(model).items() if name.endswith("attn.hook_pattern")}
    handles = [
        point.register_forward_hook(lambda _m, _i, out, name=name: patterns.__setitem__(name, out))
        for name, point in points.items()
    ]
    try:
        model(tokens)
    finally:
        for handle in handles:
            handle.remove()
    half = tokens.shape[1] // 2
    rows = []
    for name, pattern in patterns.items():  # (B, n_heads, T, T)
        layer = int(name.split(".")[1])
        t = torch.arange(1, pattern.shape[-1])
        prev = pattern[:, :, t, t - 1].mean(dim=(0, 2))  # (n_heads,)
        q = torch.arange(half, 2 * half)  # positions of the repeat; their token sits at q - half, its successor after
        induction = pattern[:, :, q, q - half + 1].mean(dim=(0, 2))  # (n_heads,)
        for head in range(pattern.shape[1]):
            rows.append(("prev_token", layer, head, float(prev[head])))
            rows.append(("induction", layer, head, float(induction[head])))
    return pd.DataFrame(rows, columns=["measure", "layer", "head", "value"])


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


def measures(model: nn.Module, n_ctx: int, moduli: dict[str, int]) -> pd.DataFrame:
    """Every measure of one model: weight norms, attention scores (if it has attention), Fourier shares.

    moduli: mod_add task name -> its modulus. Returns measure, task ("" unless per task), layer, head, value.
    """
    fourier = pd.DataFrame(
        [("fourier_share", task, -1, -1, fourier_share(model.embed.weight, p)) for task, p in moduli.items()],
        columns=["measure", "task", "layer", "head", "value"],
    )
    frames = [weight_norms(model), attention_scores(model, probe(n_ctx)), fourier]
    table = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    table = table.reindex(columns=["measure", "task", "layer", "head", "value"])
    return table.assign(task=table["task"].astype(object).fillna(""))  # all-NaN float when no measure is per task


def ladder_internals(ladder: Ladder, out: Path, pairs: set[tuple[str, int]] | None = None) -> pd.DataFrame:
    """Every measure of every stored checkpoint of ``ladder``'s finished pairs under ``out`` (COLUMNS), or of
    ``pairs`` (rung, seed) alone.

    Each checkpoint is loaded only after its sha256 check (``harness.neurons.loading``); a missing one
    is a ``UserError`` that names the restore command (``restore_missing`` brings them back first).
    """
    moduli = {t.name: t.modulus for t in ladder.tasks if t.family == "mod_add"}
    frames = []
    for entry in ResultsStore.of(ladder, out).manifest()["runs"].values():
        if pairs is not None and (entry["rung"], entry["seed"]) not in pairs:
            continue
        rung = ladder.rung(entry["rung"])
        for listed in entry["checkpoints"]:
            model = load_checkpoint(find_checkpoint(ladder, rung.name, entry["seed"], listed["step"], out))
            frames.append(
                measures(model, rung.config.n_ctx, moduli).assign(
                    rung=rung.name, params=rung.params, seed=entry["seed"], step=listed["step"]
                )
            )
    if not frames:
        raise UserError(
            f"No finished pairs of ladder '{ladder.name}' under '{out / ladder.name}'. Train it first with 'ladder run "
            f"--ladder {ladder.cli_name}'."
        )
    return _ordered(pd.concat(frames, ignore_index=True).assign(ladder=ladder.name))


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    order = ["params", "rung", "seed", "step", "measure", "task", "layer", "head"]  # rungs by size, not name
    return table[COLUMNS].sort_values(order, ignore_index=True)


def missing_checkpoints(ladder: Ladder, out: Path) -> list[tuple[str, int]]:
    """(rung, seed) of the finished pairs whose checkpoints are not all on disk and intact."""
    store = ResultsStore.of(ladder, out)
    return [
        (entry["rung"], entry["seed"])
        for entry in store.manifest()["runs"].values()
        if not checkpoints_intact(store, entry)
    ]


def restore_missing(
    ladder: Ladder, out: Path, say: Callable[[str], None] = print, pairs: set[tuple[str, int]] | None = None
) -> None:
    """Retrain the finished pairs (of ``pairs``, if given) whose checkpoints are missing or damaged, keeping only
    byte-identical ones."""
    from harness.training.runner import RunOptions, run_ladder

    missing = set(missing_checkpoints(ladder, out))
    if pairs is not None:
        missing &= pairs
    if not missing:
        return
    runs = ResultsStore.of(ladder, out).manifest()["runs"]
    expected = sum(e["wall_time_s"] for e in runs.values() if (e["rung"], e["seed"]) in missing)
    say(
        f"Restoring the checkpoints of {len(missing)} pair(s) first: retraining them took {expected / 60:.1f} min "
        "when they were trained (one at a time)."
    )
    start = time.perf_counter()
    for seed in sorted({s for _, s in missing}):
        rungs = [r for r, s in missing if s == seed]
        run_ladder(ladder, [seed], out, RunOptions(restore=True, rungs=rungs), say=say)
    say(f"Restored in {(time.perf_counter() - start) / 60:.1f} min.")


def measure_internals(ladder: Ladder, out: Path, say: Callable[[str], None] = print) -> tuple[pd.DataFrame, Path]:
    """``ladder internals``: measure every checkpoint the stored table lacks (restoring missing checkpoints of
    those pairs first), keep the stored rows of the pairs it already holds, store internals.parquet; returns the
    table and where it is. Only finished pairs whose checkpoints the manifest still lists count as held."""
    store = ResultsStore.of(ladder, out)
    stored = internals_table.read_current(store)
    finished = {(e["rung"], e["seed"]) for e in store.manifest()["runs"].values()}
    held = set(zip(stored["rung"], stored["seed"])) if stored is not None else set()
    todo = finished - held
    if not todo:
        say(f"Every finished pair of ladder '{ladder.name}' is measured already.")
        return stored, internals_table.path(store)
    restore_missing(ladder, out, say, todo)
    start = time.perf_counter()
    new = ladder_internals(ladder, out, todo)
    table = _ordered(pd.concat([stored, new], ignore_index=True)) if stored is not None else new
    where = internals_table.write(store, table)
    n = new.groupby(["rung", "seed", "step"]).ngroups
    say(
        f"Measured {n} checkpoints of ladder '{ladder.name}' in {time.perf_counter() - start:.1f} s "
        f"({len(held)} pairs were measured before): {', '.join(sorted(table['measure'].unique()))}."
    )
    return table, where

"""Progress measures: what the weights and attention of every stored checkpoint say, over training.

The curves record whether and when a capability appears; these measures record the internals at
the same checkpoints, so that a researcher can ask whether something in the weights moves before
the accuracy jumps (Barak et al. on sparse parity, Nanda et al.'s progress measures on modular
addition, Olsson et al. on induction heads). One tidy long table, one row per (checkpoint, measure,
task, layer, head); ``task`` is "" for the measures of the whole model:

- ``weight_norm``: Frobenius norm of the weight matrices (two or more dimensions) of each block
  (``layer`` = block index), of the embeddings (``layer`` -1) and of the unembedding (``layer`` =
  number of blocks); ``head`` -1. Weight decay and grokking both show here first.
- ``prev_token`` (attention families only), per layer and head: the mean attention from each
  position to the one before it, on random symbol sequences.
- ``induction`` (attention families only), per layer and head: on a random sequence of symbols
  followed by the same sequence again, the mean attention from each position of the repeat to
  the position just after the earlier occurrence of its token (the prefix-matching score of
  Olsson et al.); a perfect induction head scores 1.

and per task of the ladder, on its probe (a fixed subset of its held-out set, ``measures.probes``), the
measures of ``measures.tasks.TASK_MEASURES``:

- ``solved_share`` (every task): the share of probe rows whose every answer token is the argmax.
- ``source_attention`` (attention families; copy, reverse, sort, addition, multiply, mqar, induction,
  sparse_parity), per layer and head: the attention from the position predicting each answer token to the
  positions it is read from (``measures.sources``).
- ``secret_share`` (sparse_parity), per block: the secret bits' share of the response to one flipped bit
  (``measures.parity``, after Barak et al.).
- ``fourier_share`` (mod_add): the share of the residues' (centred) token-embedding energy in its
  ``measures.weights.TOP_FREQUENCIES`` (5) largest frequencies, of the p // 2 there are; a few clean frequencies are the
  Fourier algorithm Nanda et al. found, random embeddings spread evenly.

Every probe is drawn from a fixed seed, so the table is a pure function of the checkpoints. Pure torch
and numpy over plain ``nn.Module`` models (``harness.neurons.measures``); the command line is ``ladder
internals``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from harness.errors import UserError
from harness.ladders.families import FAMILIES
from harness.ladders.ladder import Ladder
from harness.neurons import internals_table
from harness.neurons.internals_table import COLUMNS
from harness.neurons.loading import find_checkpoint, load_checkpoint
from harness.neurons.measures.heads import attention_scores, probe
from harness.neurons.measures.probes import TaskProbe
from harness.neurons.measures.tasks import task_measures
from harness.neurons.measures.weights import weight_norms
from harness.training.restore import checkpoints_intact
from harness.training.store import ResultsStore, committed_file


def measures(model: nn.Module, n_ctx: int, probes: list[TaskProbe]) -> pd.DataFrame:
    """Every measure of one model: weight norms, task-free head scores (if it has attention), and each task's
    measures on its probe. Returns measure, task ("" for the whole model's), layer, head, value."""
    frames = [weight_norms(model).assign(task=""), attention_scores(model, probe(n_ctx)).assign(task="")]
    frames += [task_measures(model, p) for p in probes]
    return pd.concat([f for f in frames if not f.empty], ignore_index=True)[
        ["measure", "task", "layer", "head", "value"]
    ]


def probes_of(ladder: Ladder) -> list[TaskProbe]:
    """Each task's probe, drawn once for a whole ladder."""
    return [TaskProbe.of(task) for task in ladder.tasks]


def measure_names(ladder: Ladder) -> set[str]:
    """The measures this code writes for ``ladder``'s checkpoints (measured on its first rung, untrained; the
    initialisation draws from a fork of torch's generator, so the caller's stream is left as it was)."""
    rung = ladder.rungs[0]
    with torch.random.fork_rng():
        model = FAMILIES.get(ladder.spec.family).build(rung.config).eval()
    return set(measures(model, rung.config.n_ctx, probes_of(ladder))["measure"])


def ladder_internals(
    ladder: Ladder, out: Path, pairs: set[tuple[str, int]] | None = None, at_hand: bool = False
) -> pd.DataFrame:
    """Every measure of every stored checkpoint of ``ladder``'s finished pairs under ``out`` (COLUMNS), or of
    ``pairs`` (rung, seed) alone.

    Each checkpoint is loaded only after its sha256 check (``harness.neurons.loading``); a missing one
    is a ``UserError`` that names the restore command (``restore_missing`` brings them back first), unless
    ``at_hand``: then only the steps with a model file at hand are measured (``steps_at_hand``).
    """
    probes = probes_of(ladder)
    store = ResultsStore.of(ladder, out)
    frames = []
    for entry in store.manifest()["runs"].values():
        if pairs is not None and (entry["rung"], entry["seed"]) not in pairs:
            continue
        rung = ladder.rung(entry["rung"])
        steps = steps_at_hand(store, entry) if at_hand else [c["step"] for c in entry["checkpoints"]]
        for step in steps:
            model = load_checkpoint(find_checkpoint(ladder, rung.name, entry["seed"], step, out))
            frames.append(
                measures(model, rung.config.n_ctx, probes).assign(
                    rung=rung.name, params=rung.params, seed=entry["seed"], step=step
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


def steps_at_hand(store: ResultsStore, entry: dict) -> list[int]:
    """The steps of a finished pair with a model file on disk: its checkpoint, its archived copy, or (the final
    step) its reference weights. Their hashes are checked when they are loaded."""
    return [
        c["step"]
        for c in entry["checkpoints"]
        if store.inside(c["path"]).is_file()
        or ((stand_in := committed_file(entry, c["step"])) is not None and store.inside(stand_in[1]["path"]).is_file())
    ]


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


def measure_internals(
    ladder: Ladder, out: Path, say: Callable[[str], None] = print, at_hand: bool = False
) -> tuple[pd.DataFrame, Path]:
    """``ladder internals``: measure every checkpoint the stored table lacks (restoring missing checkpoints of
    those pairs first), keep the stored rows of the pairs it already holds, store internals.parquet; returns the
    table and where it is. Only finished pairs whose checkpoints the manifest still lists count as held.

    ``at_hand``: retrain nothing; measure the steps whose model files are on disk (``steps_at_hand``), and leave
    out, by name, the pairs with none (trained elsewhere, their checkpoints never committed). A pair measured so
    counts as held, with the steps it had.
    """
    store = ResultsStore.of(ladder, out)
    stored = internals_table.read_current(store)
    runs = store.manifest()["runs"]
    measured = stored.groupby(["rung", "seed"])["step"].agg(set).to_dict() if stored is not None else {}
    # A pair is held when every step it should have is measured: all listed, or (--at-hand) those at hand.
    wanted = {
        (e["rung"], e["seed"]): set(steps_at_hand(store, e) if at_hand else (c["step"] for c in e["checkpoints"]))
        for e in runs.values()
    }
    held = {pair for pair, steps in wanted.items() if pair in measured and steps <= measured[pair]}
    todo = set(wanted) - held
    if at_hand:
        bare = {pair for pair in todo if not wanted[pair]}
        todo -= bare
        if bare:
            say(
                f"Left out, no model file on disk (not retrained, as --at-hand asks): "
                f"{', '.join(f'{r} seed {s}' for r, s in sorted(bare))}."
            )
    if stored is not None:
        _say_older(stored, ladder, say)
    if at_hand and not todo and stored is None:
        raise UserError(
            f"No finished pair of ladder '{ladder.name}' under '{store.folder}' has a model file on disk, so there is "
            f"nothing to measure without retraining. Leave out --at-hand to restore the checkpoints first."
        )
    if not todo:
        say(f"Every finished pair of ladder '{ladder.name}' {'at hand ' if at_hand else ''}is measured already.")
        return stored, internals_table.path(store)
    if not at_hand:
        restore_missing(ladder, out, say, todo)
    start = time.perf_counter()
    new = ladder_internals(ladder, out, todo, at_hand)
    if stored is not None:  # a pair measured again (more steps at hand than before) keeps its new rows only
        kept = stored[[pair not in todo for pair in zip(stored["rung"], stored["seed"])]]
        table = _ordered(pd.concat([kept, new], ignore_index=True))
    else:
        table = new
    where = internals_table.write(store, table)
    n = new.groupby(["rung", "seed", "step"]).ngroups
    say(
        f"Measured {n} checkpoints of ladder '{ladder.name}' in {time.perf_counter() - start:.1f} s "
        f"({len(held)} pairs were measured before): {', '.join(sorted(table['measure'].unique()))}."
    )
    return table, where


def _say_older(stored: pd.DataFrame, ladder: Ladder, say: Callable[[str], None]) -> None:
    """Name the measures the stored table was written without (it is kept: remeasuring may mean retraining)."""
    lacking = sorted(measure_names(ladder) - set(stored["measure"]))
    if lacking:
        say(
            f"The stored table predates the measures {', '.join(lacking)}; the pairs it holds keep their rows. To "
            f"measure every checkpoint with them, delete '{ladder.name}/{internals_table.FILE}' and run ladder "
            "internals again (checkpoints that are not on disk are restored first, by retraining)."
        )

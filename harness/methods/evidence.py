"""What the progress measures say per (task, rung, seed), and what they said on the other resolved ladders.

The internals table (``harness.neurons.internals_table``) has many rows per checkpoint (per layer, head, task).
A forecaster that asks "does this measure tell who gets the capability?" needs one number per (task, rung,
seed): ``features`` makes them, two per measure of a task, both read on the pair's checkpoints over training:

- ``<measure> level``: its value at the last checkpoint (reduced over layers and heads as the table says:
  the best head, the sum over layers, the first layer);
- ``<measure> rise``: how much it moved over the last stretch of training (last checkpoint minus the one
  before): still climbing at the end is what "hidden progress" (Barak et al., 2022) looks like before the
  accuracy jumps.

A measure tagged with a task belongs to that task; the head scores of Olsson et al. (previous-token and
induction heads, tagged with none) belong to the tasks that need them, induction and mqar. Weight norms
belong to no task.

``elsewhere`` is the public evidence of the internals track: the features of every pair of the other resolved
ladders with a measured internals table, beside whether the pair got the capability. A question about one
ladder holds the others' (leave one ladder out), never its own.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.ladders.ladder import Ladder, builtin_ladders, load_ladder, round_ladders
from harness.neurons import internals_table
from harness.neurons.internals_table import MEASURES
from harness.training.store import ResultsStore
from harness.truth.ground_truth import measure

HEADS_FOR = {"induction": ("induction", "mqar"), "prev_token": ("induction", "mqar")}  # untagged head scores
FEATURES = ["task", "rung", "params", "seed", "feature", "value"]
ELSEWHERE = ["ladder", *FEATURES, "reached"]


def resolved_ladders(out: Path) -> list[str]:
    """Every built-in ladder and round whose seeds are all finished under ``out``."""
    return [n for n in builtin_ladders() + round_ladders() if ResultsStore.of(load_ladder(n), out).resolved()]


def features(table: pd.DataFrame) -> pd.DataFrame:
    """FEATURES rows from internals-table rows: per (task, rung, seed), each measure's level and rise.

    A pair measured at its final step only (shown by its reference weights) has a level and no rise.
    """
    frames = []
    for name, rows in table.groupby("measure", sort=True):
        if name not in MEASURES or (rows["task"].fillna("") == "").all() and name not in HEADS_FOR:
            continue
        how = MEASURES[name].reduce
        keys = ["task", "rung", "params", "seed", "step"]
        rows = rows.assign(task=rows["task"].fillna(""))
        if how == "first":
            rows = rows[rows["layer"] == rows.groupby(keys)["layer"].transform("min")]
        one = rows.groupby(keys, as_index=False)["value"].agg("sum" if how == "sum" else "max")  # (checkpoint) rows
        if name in HEADS_FOR:  # untagged: the same number for each task that needs it
            one = pd.concat([one.assign(task=task) for task in HEADS_FOR[name]], ignore_index=True)
        one = one.sort_values([*keys[:-1], "step"])
        last = one.groupby(keys[:-1], as_index=False).tail(1)
        before = one.groupby(keys[:-1], as_index=False).nth(-2).set_index(keys[:-1])["value"]
        rise = last.set_index(keys[:-1])["value"] - before.reindex(last.set_index(keys[:-1]).index)
        frames.append(last.drop(columns="step").assign(feature=f"{name} level"))
        frames.append(rise.dropna().rename("value").reset_index().assign(feature=f"{name} rise"))
    if not frames:
        return pd.DataFrame(columns=FEATURES)
    return pd.concat(frames, ignore_index=True)[FEATURES].sort_values(FEATURES[:5], ignore_index=True)


def elsewhere(ladder: Ladder, out: Path) -> pd.DataFrame:
    """ELSEWHERE rows of every resolved ladder under ``out`` but ``ladder`` that has an internals table."""
    frames = []
    for name in resolved_ladders(out):
        other = load_ladder(name)
        if other.name == ladder.name:
            continue
        table = internals_table.read_current(ResultsStore.of(other, out))
        if table is None or table.empty:
            continue
        truth = measure(other, out, write=False).table
        outcome = truth.loc[truth["metric"] == "accuracy", ["task", "rung", "seed", "reached"]]
        rows = features(table).merge(outcome.astype({"task": str, "rung": str}), on=["task", "rung", "seed"])
        frames.append(rows.assign(ladder=other.name))
    if not frames:
        return pd.DataFrame(columns=ELSEWHERE)
    return pd.concat(frames, ignore_index=True)[ELSEWHERE]

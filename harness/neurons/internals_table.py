"""``internals.parquet``, the progress measures of a ladder's checkpoints: its one reader and writer, and what
each measure in it is (``MEASURES``).

Written by ``ladder internals`` (``harness.neurons.internals``); read by the page, which shows it only while
it is of the checkpoints the manifest lists now. No torch here, so the page can read it without loading torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.files import write_table
from harness.training.store import ResultsStore

FILE = "internals.parquet"
COLUMNS = ["ladder", "rung", "params", "seed", "step", "measure", "task", "layer", "head", "value"]


@dataclass(frozen=True)
class Measure:
    """How to read one measure: a short label; how its rows of one checkpoint (and task) make one number (``sum``
    over layers, ``max`` over layers and heads: the best head, ``first``: the first layer's); whether it is a
    share between 0 and 1; and what it is, in a line."""

    label: str
    reduce: str
    share: bool
    text: str


MEASURES = {
    "weight_norm": Measure("weight norm", "sum", False, "Frobenius norm of the weight matrices, per block"),
    "prev_token": Measure("previous token", "max", True, "attention to the previous position"),
    "induction": Measure("induction", "max", True, "attention to the token after the earlier occurrence"),
    "solved_share": Measure("solved share", "max", True, "share of probe rows with every answer token the argmax"),
    "source_attention": Measure(
        "source attention", "max", True, "attention from each answer position to where its answer is read from"
    ),
    "fourier_share": Measure("Fourier share", "max", True, "share of the residue embeddings in 5 frequencies"),
    "secret_share": Measure(
        "secret-bit share", "first", True, "secret bits' share of the first block's response to a flipped bit"
    ),
}


def path(store: ResultsStore) -> Path:
    return store.folder / FILE


def write(store: ResultsStore, table: pd.DataFrame) -> Path:
    """Store the table (rewritten only when its contents change); returns its path."""
    write_table(path(store), table)
    return path(store)


def empty() -> pd.DataFrame:
    """A table of no rows, with the columns."""
    return pd.DataFrame(columns=COLUMNS)


def read(store: ResultsStore) -> pd.DataFrame | None:
    """The stored table as it is, or None when there is none; ``read_current`` also checks it against the manifest
    (a revealed folder, ``harness.forecasts.revealed``, keeps the rows of checkpoints it could not copy)."""
    return pd.read_parquet(path(store)) if path(store).exists() else None


def read_current(store: ResultsStore) -> pd.DataFrame | None:
    """The stored table, or None when there is none or it holds checkpoints the manifest does not list now (a
    pair retrained since: run ``ladder internals`` again). It may lack pairs finished after it was measured (more
    seeds trained): ``ladder internals`` measures those and keeps the rest; and steps of a pair whose model files
    were not at hand when it was measured (``ladder internals --at-hand``)."""
    table = read(store)
    if table is None:
        return None
    listed = {(e["rung"], e["seed"], c["step"]) for e in store.manifest()["runs"].values() for c in e["checkpoints"]}
    return table if set(zip(table["rung"], table["seed"], table["step"])) <= listed else None

"""``internals.parquet``, the progress measures of a ladder's checkpoints: its one reader and writer.

Written by ``ladder internals`` (``harness.neurons.internals``); read by the page, which shows it only while
it is of the checkpoints the manifest lists now. No torch here, so the page can read it without loading torch.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.files import write_table
from harness.training.store import ResultsStore

FILE = "internals.parquet"


def path(store: ResultsStore) -> Path:
    return store.folder / FILE


def write(store: ResultsStore, table: pd.DataFrame) -> Path:
    """Store the table (rewritten only when its contents change); returns its path."""
    write_table(path(store), table)
    return path(store)


def read_current(store: ResultsStore) -> pd.DataFrame | None:
    """The stored table, or None when there is none or it is not of the checkpoints the manifest lists now (a
    pair retrained since: run ``ladder internals`` again)."""
    if not path(store).exists():
        return None
    table = pd.read_parquet(path(store))
    listed = {(e["rung"], e["seed"], c["step"]) for e in store.manifest()["runs"].values() for c in e["checkpoints"]}
    return table if set(zip(table["rung"], table["seed"], table["step"])) == listed else None

"""Writing and hashing stored files: atomic replacement, sha256, and tables rewritten only when changed.

Every stage that stores something (results, the ledger, prediction copies, pages,
recordings) writes through here, so a crash mid-write never leaves a half file:
readers see the old file or the new one.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import pandas as pd

# Two tables are "the same" when their floats agree this closely: far below any measured
# difference, far above the last-digit noise of another machine's maths library.
TABLE_RTOL = 1e-9


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write that appears at ``path`` only when the block ends without error.

    Readers see the old file or the new one, never a mix; on error nothing is left behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never a mix."""
    with atomic_file(path) as f:
        f.write(data)


def create_new(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` only if nothing is there; False, with nothing written, if something is.

    Create-or-fail and whole at once: the bytes are written to a temporary file in the same folder, which a hard
    link then gives the final name; the link fails when the name exists, so of two writers racing for one name
    exactly one wins, and a reader never sees half a file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def same_table(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same columns, types and rows, floats equal within ``TABLE_RTOL``."""
    try:
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), rtol=TABLE_RTOL, atol=0)
    except AssertionError:
        return False
    return True


def write_table(path: Path, frame: pd.DataFrame) -> bool:
    """Store ``frame`` as parquet at ``path`` unless the file already holds the same table; True if written.

    Derived tables (emergence, scores) are recomputed by every command that needs
    them; rewriting an unchanged one would only churn committed files with another
    machine's last float digit.
    """
    if path.is_file():
        try:
            if same_table(pd.read_parquet(path), frame):
                return False
        except (OSError, ValueError):  # unreadable: replace it with the fresh table
            pass
    atomic_write(path, parquet_bytes(frame))
    return True

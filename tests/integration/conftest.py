from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.integration.common import ROOT


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A results root with copies of the committed cpu curves and manifest (nothing in the repo is written)."""
    (tmp_path / "results" / "cpu").mkdir(parents=True)
    for name in ("curves.parquet", "manifest.json"):
        shutil.copy(ROOT / "results" / "cpu" / name, tmp_path / "results" / "cpu" / name)
    return tmp_path

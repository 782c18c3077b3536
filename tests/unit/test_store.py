"""The results store: canonical curves, the manifest as commit point, and crash recovery."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harness.errors import Damaged, UserError
from harness.ladders.ladder import load_ladder
from harness.training.store import COLUMNS, ResultsStore


def rows(rung: str, seed: int, value: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "ladder": "smoke",
                "rung": rung,
                "params": 1,
                "seed": seed,
                "task": t,
                "step": s,
                "tokens": 10 * s,
                "metric": m,
                "value": value,
            }
            for t in ("mod_add", "copy")
            for s in (5, 0)
            for m in ("loss", "accuracy")
        ]
    )


def entry(rung: str, seed: int) -> dict:
    return {"rung": rung, "seed": seed, "checkpoints": []}


@pytest.fixture
def store(tmp_path):
    return ResultsStore(tmp_path / "smoke", load_ladder("smoke"))


def commit(store, rung, seed, value=0.5):
    store.commit(rung, seed, rows(rung, seed, value), entry(rung, seed))


def test_commit_writes_canonical_curves_and_manifest(store):
    commit(store, "s1", 0)
    commit(store, "s0", 0)
    curves = store.curves()
    assert list(curves.columns) == COLUMNS
    assert curves["rung"].tolist()[:8] == ["s0"] * 8, "rungs in ladder order"
    first = curves[(curves.rung == "s0")]
    assert first["task"].tolist()[:4] == ["copy"] * 4 and first["step"].tolist()[:2] == [0, 5]
    manifest = json.loads(store.manifest_path.read_text())
    assert list(manifest["runs"]) == ["s0/seed0", "s1/seed0"]
    assert manifest["seeds"] == [0] and manifest["task_versions"] == {"copy": 1, "mod_add": 2}
    assert store.finished() == {("s0", 0), ("s1", 0)}


def test_same_rows_in_any_order_give_the_same_file(tmp_path):
    a = ResultsStore(tmp_path / "a" / "smoke", load_ladder("smoke"))
    b = ResultsStore(tmp_path / "b" / "smoke", load_ladder("smoke"))
    commit(a, "s0", 0), commit(a, "s1", 0)
    commit(b, "s1", 0), commit(b, "s0", 0)
    assert a.curves_path.read_bytes() == b.curves_path.read_bytes()


def test_recommit_replaces_only_that_pair(store):
    commit(store, "s0", 0, 0.1)
    commit(store, "s1", 0, 0.2)
    commit(store, "s0", 0, 0.9)
    curves = store.curves()
    assert len(curves) == 16
    assert set(curves[curves.rung == "s0"]["value"]) == {0.9}
    assert set(curves[curves.rung == "s1"]["value"]) == {0.2}


def test_crash_between_curves_and_manifest_is_recovered(store, monkeypatch):
    commit(store, "s0", 0)
    import harness.training.store as mod

    real = mod.atomic_write

    def crash_on_manifest(path, data):
        if path.name == "manifest.json":
            raise KeyboardInterrupt("killed")
        real(path, data)

    monkeypatch.setattr(mod, "atomic_write", crash_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        commit(store, "s1", 0)
    monkeypatch.setattr(mod, "atomic_write", real)
    assert len(store.curves(checked=False)) == 16, "s1's rows landed, its manifest entry did not"
    with pytest.raises(Damaged, match="is not the file .* recorded"):
        store.curves()  # readers refuse the half-committed file ...
    assert store.recover() == 8  # ... which the next run recovers to exactly the recorded one
    assert set(store.curves()["rung"]) == {"s0"}
    assert store.recover() == 0


def test_results_of_another_ladder_version_are_refused(store, tmp_path):
    commit(store, "s0", 0)
    manifest = json.loads(store.manifest_path.read_text())
    manifest["ladder_hash"] = "0" * 64
    store.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(UserError, match="different version of ladder 'smoke'.*--out"):
        store.finished()


def test_one_writer_at_a_time(store):
    with store.locked():
        with pytest.raises(UserError, match="Another 'ladder run'"):
            with store.locked():
                pass

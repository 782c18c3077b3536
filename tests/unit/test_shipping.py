"""Jobs that share no disk with the driver: they train in a scratch folder of their own, removed when they end, and
return their checkpoints' bytes, which the driver writes and checks before committing the pair."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import lightning as L
import pytest
import torch

from harness.files import sha256_bytes
from harness.ladders.ladder import load_ladder
from harness.training.executors import EXECUTORS, Local
from harness.training.runner import RunOptions, commit, device_settings
from harness.training.store import ResultsStore
from harness.training.train import SCRATCH_ENV, Job, Trained, run_job, train_pair

NEEDS_RAY = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray executor is an optional extra")


def tiny_job(folder: Path, ship: bool) -> Job:
    ladder = load_ladder("smoke")
    rung = ladder.rungs[0]
    training = ladder.training(rung, device_settings(ladder, {})).model_copy(update={"steps": 12, "warmup_steps": 2})
    return Job(ladder, rung, 0, folder, training, 1, "disabled", ship)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> tuple[Job, Trained, Path]:
    """A shipping job's result, its scratch root, and (under ``out``) nothing it wrote."""
    root = tmp_path_factory.mktemp("ship")
    scratch = root / "scratch"
    scratch.mkdir()
    job = tiny_job(root / "out", ship=True)
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(SCRATCH_ENV, str(scratch))
        try:
            result = run_job(job)
        finally:
            torch.set_num_threads(threads)
    assert result.error is None, result.error
    return job, result, scratch


def test_a_shipping_job_returns_its_checkpoints_and_leaves_no_scratch(shipped, tmp_path):
    job, result, scratch = shipped
    listed = {Path(c["path"]).name: c["sha256"] for c in result.entry["checkpoints"]}
    assert len(listed) == 3 and {name: sha256_bytes(data) for name, data in result.files.items()} == listed
    assert list(scratch.iterdir()) == [], "its temporary folder is removed"
    assert not job.folder.exists(), "nothing written under --out (batches and checkpoints went to scratch)"
    # The same pair trained into a shared --out (with the job's one thread) gives the same files at the same paths.
    threads = torch.get_num_threads()
    torch.set_num_threads(job.threads)
    try:
        _, entry = train_pair(dataclasses.replace(job, folder=tmp_path, ship=False))
    finally:
        torch.set_num_threads(threads)
    assert entry["checkpoints"] == result.entry["checkpoints"]


def test_a_failing_shipping_job_leaves_no_scratch(monkeypatch, tmp_path):
    def broken(**kwargs):
        raise RuntimeError("no trainer today")

    monkeypatch.setattr(L, "Trainer", broken)
    monkeypatch.setenv(SCRATCH_ENV, str(tmp_path))
    result = run_job(tiny_job(tmp_path / "out", ship=True))
    assert "no trainer today" in result.error
    assert [p.name for p in tmp_path.iterdir()] == [], "neither scratch nor --out is left"


def test_the_driver_writes_shipped_checkpoints_where_local_workers_would(shipped, tmp_path):
    job, result, _ = shipped
    store = ResultsStore(tmp_path / "smoke", job.ladder)
    assert commit(store, dataclasses.replace(job, folder=store.folder), result, "ray", RunOptions()) is None
    for ckpt in result.entry["checkpoints"]:
        assert sha256_bytes((store.folder / ckpt["path"]).read_bytes()) == ckpt["sha256"]
    assert store.finished() == {(job.rung.name, 0)}
    assert not store.pair_partial_dir(job.rung.name, 0).exists()


@pytest.mark.parametrize(
    "damage, said",
    [(lambda data: data[:-1], "arrived damaged"), (lambda data: None, "arrived missing")],
)
def test_shipped_checkpoints_that_do_not_hash_as_listed_commit_nothing(shipped, tmp_path, damage, said):
    job, result, _ = shipped
    first = Path(result.entry["checkpoints"][0]["path"]).name
    files = {**result.files, first: damage(result.files[first])}
    files = {name: data for name, data in files.items() if data is not None}
    store = ResultsStore(tmp_path / "smoke", job.ladder)
    damaged = dataclasses.replace(result, files=files)
    problem = commit(store, dataclasses.replace(job, folder=store.folder), damaged, "ray", RunOptions())
    assert problem is not None and said in problem and first in problem
    assert not store.manifest_path.exists() and not store.curves_path.exists()
    assert not store.pair_partial_dir(job.rung.name, 0).exists()


def test_the_local_executor_refuses_a_shared_out_flag():
    with pytest.raises(Exception, match="--ray-shared-out is for the ray executor"):
        Local(shared_out=True)


@NEEDS_RAY
@pytest.mark.parametrize(
    "address, shared_out, shares", [(None, False, True), ("10.0.0.1:6379", False, False), ("10.0.0.1:6379", True, True)]
)
def test_only_a_joined_ray_cluster_ships_unless_told_its_disk_is_shared(address, shared_out, shares):
    assert EXECUTORS.get("ray")(address=address, shared_out=shared_out).shares_out is shares

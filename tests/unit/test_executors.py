"""Executors on toy jobs, device settings reaching the Trainer, and batches split over devices."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import lightning as L
import pytest
import torch

from harness.errors import UserError
from harness.ladders.ladder import load_ladder
from harness.training.batches import generate
from harness.training.data import Mixture, MixtureStream
from harness.training.executors import EXECUTORS, Local, Lost, probe
from harness.training.runner import RunOptions, check_devices, device_settings
from harness.training.train import Job, train_pair, trainer_devices
from tests.unit.toy_jobs import Toy, square_or_die


def test_one_local_worker_runs_jobs_in_order_in_this_process():
    with Local() as ex:
        assert list(ex.run(lambda job: (job.n, os.getpid()), [Toy(1), Toy(2)])) == [
            (Toy(1), (1, os.getpid())),
            (Toy(2), (2, os.getpid())),
        ]


def test_a_dead_worker_loses_its_job_and_a_new_pool_runs_the_rest():
    jobs = [Toy(n) for n in range(1, 7)]
    with Local(workers=2) as ex:
        results = dict(ex.run(square_or_die, jobs))
    assert results.keys() == set(jobs), "every job is reported exactly once"
    assert isinstance(results[Toy(3)], Lost) and "worker process died" in results[Toy(3)].reason
    # At most the one job beside it in the broken pool is lost too; every other job runs.
    lost = {job.n for job, r in results.items() if isinstance(r, Lost)}
    assert 3 in lost and len(lost) <= 2
    assert all(results[Toy(n)] == n * n for n in set(range(1, 7)) - lost)


def test_unknown_executor_suggests_the_closest():
    with pytest.raises(UserError, match="Unknown executor 'rey'. Did you mean 'ray'"):
        EXECUTORS.get("rey")


def test_the_local_executor_refuses_a_cluster_address():
    with pytest.raises(UserError, match="--executor ray"):
        Local(address="10.0.0.1:6379")


def test_ray_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(UserError, match=r"pip install 'emergence-ladder\[ray\]'"):
        EXECUTORS.get("ray")()


@pytest.mark.parametrize("address", ["nocolon", "host:port", "ray://:10001"])
def test_malformed_ray_address(address):
    with pytest.raises(UserError, match="is not HOST:PORT"):
        probe(address)


def test_device_settings_override_the_ladder_file_and_are_validated():
    ladder = load_ladder("gpu")
    training = device_settings(ladder, {"accelerator": "cpu", "devices": 2, "precision": "32-true"})
    assert (training.accelerator, training.devices, training.precision, training.steps) == (
        "cpu",
        2,
        "32-true",
        ladder.spec.training.steps,
    )
    with pytest.raises(UserError, match="--strategy: strategy 'deepspeed' runs the whole command line again"):
        device_settings(ladder, {"strategy": "deepspeed"})
    with pytest.raises(UserError, match="Did you mean 'ddp_spawn'"):
        device_settings(ladder, {"strategy": "dpp_spawn"})


def test_strategy_is_not_part_of_the_ladder_hash(tmp_path):
    text = (Path(load_ladder("smoke").source)).read_text()
    for strategy, same in (("ddp_spawn", True), ("auto", True)):
        path = tmp_path / f"{strategy}.yaml"
        path.write_text(text.replace("warmup_steps: 15", f"warmup_steps: 15\n  strategy: {strategy}"))
        assert (load_ladder(path).hash == load_ladder("smoke").hash) is same
    path = tmp_path / "precision.yaml"
    path.write_text(text.replace("warmup_steps: 15", "warmup_steps: 15\n  precision: bf16-mixed"))
    assert load_ladder(path).hash != load_ladder("smoke").hash, "precision changes what is trained"


class Stop(Exception):
    pass


def test_device_settings_reach_the_trainer(monkeypatch, tmp_path):
    """The Trainer is built with the job's accelerator, devices, strategy and precision (no GPU needed)."""
    seen = {}

    def spy(**kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(L, "Trainer", spy)
    ladder = load_ladder("smoke")
    rung = ladder.rungs[0]
    for overrides, strategy in (
        ({"accelerator": "gpu", "devices": 4, "precision": "bf16-mixed"}, "ddp_spawn"),
        ({"devices": 1, "strategy": "ddp_spawn", "precision": "16-mixed"}, "ddp_spawn"),
        ({}, "auto"),
    ):
        training = ladder.training(rung, device_settings(ladder, overrides))
        with pytest.raises(Stop):
            train_pair(Job(ladder, rung, 0, tmp_path, training, 1, "disabled"))
        expected = {
            **ladder.spec.training.model_dump(include={"accelerator", "devices", "precision"}),
            **overrides,
            "strategy": strategy,
        }
        assert {k: seen[k] for k in ("accelerator", "devices", "strategy", "precision")} == expected
        assert seen["gradient_clip_val"] == training.grad_clip and seen["max_steps"] == training.steps


def test_mixed_precision_trains_with_gradient_clipping(tmp_path):
    """bf16-mixed through the real Trainer (on CPU): Lightning refuses to clip for a fused AdamW there.

    The gpu ladder's first run on a GPU failed so; the CPU shows it without one.
    """
    ladder = load_ladder("smoke")
    rung = ladder.rungs[0]
    training = ladder.training(rung, device_settings(ladder, {"precision": "bf16-mixed"}))
    training = training.model_copy(update={"steps": 12, "warmup_steps": 2})
    assert training.grad_clip is not None
    rows, entry = train_pair(Job(ladder, rung, 0, tmp_path, training, 1, "disabled"))
    assert entry["devices"]["precision"] == "bf16-mixed" and entry["steps"] == 12
    assert rows["value"].notna().all()


def test_more_than_one_device_spawns_rather_than_relaunching():
    training = load_ladder("gpu").spec.training
    assert trainer_devices(training.model_copy(update={"devices": 8}))["strategy"] == "ddp_spawn"
    assert trainer_devices(training)["strategy"] == "auto"


@pytest.mark.parametrize("world", [2, 3, 4])
def test_devices_together_see_exactly_the_one_device_batch(world):
    mixture = Mixture.build({"copy": 1.0, "mod_add": 2.0, "sort": 1.0}, 10)
    seven = generate(mixture, 7, 3)
    whole = list(MixtureStream(seven))
    shards = [list(MixtureStream(seven, rank=r, world=world)) for r in range(world)]
    for step, (tokens, answer_mask) in enumerate(whole):
        parts = [shards[r][step] for r in range(world)]
        assert sum(len(p[0]) for p in parts) == len(tokens)
        for r, (t, a) in enumerate(parts):
            assert torch.equal(t, tokens[r::world]) and torch.equal(a, answer_mask[r::world])


def test_run_options_forbid_unknown_keys():
    with pytest.raises(ValueError, match="extra"):
        RunOptions(executer="ray")


class FourGpus(Local):
    def gpus(self) -> int:
        return 4


def test_local_gpu_pairs_run_one_at_a_time():
    """Local workers would all see every GPU; only an executor that assigns GPUs may run several."""
    training = load_ladder("gpu").spec.training
    check_devices(training, FourGpus())
    check_devices(training.model_copy(update={"devices": 4}), FourGpus())
    with pytest.raises(UserError, match="one at a time"):
        check_devices(training, FourGpus(workers=2))
    with pytest.raises(UserError, match="asks for 8 GPUs .* this machine has 4"):
        check_devices(training.model_copy(update={"devices": 8}), FourGpus())

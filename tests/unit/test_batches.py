"""Shared batches: every rung reads exactly the batches it would have generated itself."""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
import torch

from harness.ladders.ladder import load_ladder
from harness.training import batches
from harness.training.data import Mixture, MixtureStream

SMOKE = load_ladder("smoke")


def smoke_mixture() -> Mixture:
    return Mixture.of(SMOKE)


def test_shared_batches_are_each_rungs_own_batches_at_every_step(tmp_path):
    """Every step of a smoke run: the shared file, as the training stream yields it, equals train_batch(seed, step)."""
    mixture, steps = smoke_mixture(), SMOKE.spec.training.steps
    first = batches.shared(mixture, 3, steps, tmp_path)  # generated and written
    again = batches.shared(mixture, 3, steps, tmp_path)  # read back, as every later rung does
    assert len(list((tmp_path / batches.FOLDER).glob("*.npz"))) == 1
    for read in (first, again):
        streamed = list(MixtureStream(read))
        assert len(streamed) == steps
        for step, (tokens, answer_mask) in enumerate(streamed):
            own_tokens, own_mask = mixture.train_batch(3, step)
            assert (
                tokens.dtype == torch.int64 and torch.equal(tokens, own_tokens) and torch.equal(answer_mask, own_mask)
            )


def test_the_cache_is_keyed_by_everything_the_batches_depend_on(tmp_path):
    mixture = smoke_mixture()
    base = batches.key(mixture, 0, 10)
    assert batches.key(mixture, 1, 10) != base
    assert batches.key(mixture, 0, 11) != base
    assert batches.key(Mixture.build({"copy": 1.0, "mod_add": 2.0}, 32), 0, 10) != base
    assert batches.key(Mixture.build({"copy": 1.0, "sort": 1.0}, 32), 0, 10) != base
    a, b = batches.shared(mixture, 0, 10, tmp_path), batches.shared(mixture, 1, 10, tmp_path)
    assert not np.array_equal(a.tokens, b.tokens)
    assert len(list((tmp_path / batches.FOLDER).glob("*.npz"))) == 2


def _shared_in_a_process(folder: str) -> bytes:
    return batches.shared(smoke_mixture(), 5, 40, __import__("pathlib").Path(folder)).tokens.tobytes()


def test_workers_asking_at_once_get_one_file_and_the_same_batches(tmp_path):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        results = pool.map(_shared_in_a_process, [str(tmp_path)] * 4)
    assert len(set(results)) == 1
    assert len(list((tmp_path / batches.FOLDER).glob("*.npz"))) == 1
    assert results[0] == batches.generate(smoke_mixture(), 5, 40).tokens.tobytes()


def test_a_damaged_cache_file_is_generated_again(tmp_path):
    mixture = smoke_mixture()
    good = batches.shared(mixture, 0, 12, tmp_path)
    (path,) = (tmp_path / batches.FOLDER).glob("*.npz")
    path.write_bytes(path.read_bytes()[:100])
    again = batches.shared(mixture, 0, 12, tmp_path)
    assert np.array_equal(again.tokens, good.tokens) and np.array_equal(again.answer_mask, good.answer_mask)


@pytest.mark.parametrize("world", [2, 3])
def test_devices_split_the_shared_rows(world):
    shared = batches.generate(smoke_mixture(), 0, 4)
    whole = list(MixtureStream(shared))
    for rank in range(world):
        for (tokens, mask), (t, m) in zip(whole, MixtureStream(shared, rank=rank, world=world)):
            assert torch.equal(t, tokens[rank::world]) and torch.equal(m, mask[rank::world])

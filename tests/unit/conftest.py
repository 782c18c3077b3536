"""Fixtures of the unit tests: a results folder holding stored checkpoints, made by the store's own code."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.ladders.families import FAMILIES
from harness.ladders.ladder import load_ladder
from harness.training import checkpoints
from harness.training.store import ResultsStore, empty_curves
from tests.unit.interp_models import scramble

PAIRS = (("smoke", "s1"), ("mixer", "m0"))
STEP = 7


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """A results folder with one committed checkpoint (seed 0, step 7, random weights) of smoke's s1 and mixer's m0.

    Saved and committed as ``ladder run`` does, so loading it goes through every check; nothing is trained.
    """
    out = tmp_path_factory.mktemp("results")
    for name, rung in PAIRS:
        ladder = load_ladder(name)
        store, family = ResultsStore.of(ladder, out), FAMILIES.get(ladder.spec.family)
        config = ladder.rung(rung).config
        partial = store.pair_partial_dir(rung, 0)
        partial.mkdir(parents=True)
        checkpoints.save(partial, ladder.spec.family, family.version, config, STEP, scramble(family.build(config)))
        listing = checkpoints.listing(partial, store.pair_checkpoint_dir(rung, 0), store.folder)
        store.commit(rung, 0, empty_curves(), {"rung": rung, "seed": 0, "checkpoints": listing})
    return out

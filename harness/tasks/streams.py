"""The roots of every random stream drawn from task generators, in one place so none is used twice.

Each stream is ``numpy.random.SeedSequence(ROOT, spawn_key=...)``; different roots
give independent streams whatever their spawn keys, so training batches can
never reproduce a held-out set, a fact table or the examples a recording reads.
Changing a root changes what every run draws: the committed results depend on
TRAIN, HELDOUT and TABLE.
"""

from __future__ import annotations

TRAIN = 0  # training batches: spawn key (seed, step, task tag)
HELDOUT = 1  # each task's fixed evaluation set: spawn key (task tag, task version)
TABLE = 2  # the facts task's table: spawn key (task tag, task version)
RECORD = 3  # examples for recording activations: spawn key (examples seed, task tag, task version)

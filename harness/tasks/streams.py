"""The roots of every random stream drawn from task generators, in one place so none is used twice.

Each stream is ``numpy.random.SeedSequence(ROOT, spawn_key=...)``; different roots
give independent streams whatever their spawn keys, so training batches can
never reproduce a held-out set, a fact table or the examples a recording reads.
Changing a root changes what every run draws: the committed results depend on
TRAIN, HELDOUT and TABLE.
"""

from __future__ import annotations

TRAIN = 0  # training batches: spawn key (seed, step, task tag)
# The fixed draws below are keyed by a task's ``stream_key``: (home tag, version) for a family at its
# defaults, with a digest of its parameters appended at any other setting.
HELDOUT = 1  # each task's fixed evaluation set: spawn key = stream_key
TABLE = 2  # fixed tables and secrets (facts' table, sparse_parity's positions off the defaults): stream_key
RECORD = 3  # examples for recording activations: spawn key (examples seed, *stream_key)

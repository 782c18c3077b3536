"""Length groups: each batch runs as one forward pass per group of similar lengths, so little goes to padding.

The tasks of a mixture differ in length (5 to 18 tokens in the ``cpu`` ladder);
padding every row to the longest makes the widest rungs compute 1.6 times the
real tokens. Splitting a batch into more passes saves that arithmetic but costs
every pass a fixed overhead, which for the narrowest rungs is worth far more
than the arithmetic saved. ``plan`` picks, per rung, the grouping of the
mixture's lengths that minimises the estimated cost, arithmetic plus
``PASS_COST_FLOP`` per pass: a pure function of the rung's size and the mixture,
so a run stays a pure function of (ladder, seed, thread count).
"""

from __future__ import annotations

import functools

# The fixed cost of one more forward and backward pass (Python, autograd and small-kernel
# overhead), in the arithmetic it is worth. Measured on a 2-core CPU, one torch thread, ms per
# step of the cpu rungs with 1, 2, 3, 4 groups: c2 5.4 6.1 6.0 6.8 (one pays), c3 8.1 7.7 8.5 9.3,
# c4 10.5 10.0 10.8 12.0, c5 14.9 14.3 12.9 14.2, c6 28.4 24.0 22.4 24.4, c7 55.7 45.2 41.1 43.1.
# 3e7 FLOP per pass, with at most 3 groups, picks one group up to c2, two at c3 and three from c4
# on (c4's third group costs 0.8 ms of noise-level difference).
PASS_COST_FLOP = 3e7
MAX_GROUPS = 3


def plan(rows_by_length: dict[int, int], params: int) -> tuple[int, ...]:
    """The groups' lengths, ascending: group g holds the rows longer than group g-1's length and up to its own.

    rows_by_length: tokens per row (the task's length) -> rows of that length in a batch.
    The last length is always the longest, so every row belongs to a group.
    """
    lengths = sorted(rows_by_length)

    @functools.cache
    def best(end: int, groups: int) -> tuple[float, tuple[int, ...]]:
        """Cheapest grouping of lengths[:end] into at most ``groups`` groups: (cost, cut lengths)."""
        if end == 0:
            return 0.0, ()
        if groups == 0:
            return float("inf"), ()
        options = []
        for start in range(end):  # the last group holds lengths[start:end], padded to lengths[end - 1]
            rows = sum(rows_by_length[n] for n in lengths[start:end])
            arithmetic = 6 * params * rows * (lengths[end - 1] - 1)  # forward and backward over the input positions
            cost, cuts = best(start, groups - 1)
            options.append((cost + arithmetic + PASS_COST_FLOP, (*cuts, lengths[end - 1])))
        return min(options)

    return best(len(lengths), MAX_GROUPS)[1]

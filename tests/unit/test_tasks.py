"""Every registered task: determinism, held-out disjointness, and answers checked independently."""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import UserError
from harness.tasks import TASKS, vocab
from harness.tasks.base import Task, train_rng
from harness.tasks.registry import task

ALL = sorted(TASKS)


def split(task, tokens):
    """(question symbols or specials, answer symbol values) of one example row."""
    mask = task.examples(np.random.default_rng(0), 1).answer_mask[0]
    return tokens[1:][~mask[1:]], vocab.unsym(tokens[mask])


def check_copy(q, a):
    assert q[-1] == vocab.SEP
    assert list(a) == list(vocab.unsym(q[:-1]))


def check_reverse(q, a):
    assert list(a) == list(vocab.unsym(q[:-1]))[::-1]


def check_sort(q, a):
    assert list(a) == sorted(vocab.unsym(q[:-1]).tolist())


def check_mod_add(q, a):
    x, y = vocab.unsym(q[:2])
    assert a.tolist() == [(int(x) + int(y)) % 31]


def check_addition(q, a):
    digits = vocab.unsym(q[:-1]).tolist()
    n = len(digits) // 2
    assert n == 2 and len(a) == n + 1
    first = int("".join(map(str, digits[:n][::-1])))
    second = int("".join(map(str, digits[n:][::-1])))
    assert int("".join(map(str, a.tolist()[::-1]))) == first + second


def check_multiply(q, a):
    digits = vocab.unsym(q[:-1]).tolist()
    number = int("".join(map(str, digits[:3][::-1])))
    assert len(digits) == 4
    assert int("".join(map(str, a.tolist()[::-1]))) == number * digits[3]


def check_facts(q, a):
    """Per row only the shape; test_facts_is_one_fixed_table checks the table as a whole."""
    assert len(q) == 3 and q[-1] == vocab.SEP and len(a) == 1
    assert ((vocab.unsym(q[:-1]) >= 0) & (vocab.unsym(q[:-1]) < vocab.N_SYMBOLS)).all()


def check_induction(q, a):
    ctx, cue = vocab.unsym(q[:-1]).tolist(), int(vocab.unsym(q[-1]))
    assert len(set(ctx)) == len(ctx) == 12
    i = ctx.index(cue)
    assert a.tolist() == ctx[i + 1 : i + 1 + len(a)]


def check_mqar(q, a):
    body = vocab.unsym(q[:-1]).tolist()
    pairs, queries = body[:8], body[8:]
    lookup = dict(zip(pairs[0::2], pairs[1::2]))
    assert len(lookup) == 4 and len(queries) == 2
    assert a.tolist() == [lookup[k] for k in queries]


def check_sparse_parity(q, a):
    bits = vocab.unsym(q[:-1]).tolist()
    assert len(bits) == 12
    assert a.tolist() == [bits[2] ^ bits[9]]


CHECKS = {name[len("check_") :]: fn for name, fn in globals().items() if name.startswith("check_")}


def test_every_task_has_an_independent_check():
    assert set(CHECKS) == set(TASKS.names())


@pytest.mark.parametrize("name", ALL)
def test_answers_are_correct(name):
    task = TASKS.get(name)
    block = task.examples(np.random.default_rng(123), 200)
    for row in block.tokens:
        CHECKS[name](*split(task, row))
    for row in task.heldout.tokens[:50]:
        CHECKS[name](*split(task, row))


@pytest.mark.parametrize("name", ALL)
def test_layout_and_metadata(name):
    task = TASKS.get(name)
    block = task.examples(np.random.default_rng(0), 8)
    assert block.tokens.shape == block.answer_mask.shape == (8, task.seq_len)
    assert (block.tokens[:, 0] == vocab.tag(task.tag)).all()
    assert block.answer_mask.any(axis=1).all() and not block.answer_mask[:, 0].any()
    assert ((block.tokens >= vocab.SYM0) | ~block.answer_mask).all(), "answers are data symbols"
    assert (block.tokens < vocab.D_VOCAB).all()
    assert 0 < task.chance < task.threshold <= 1
    assert task.version >= 1 and task.description
    assert "Example" in (type(task).__doc__ or ""), "docstring shows an input/answer example"


@pytest.mark.parametrize("name", ALL)
def test_generation_is_deterministic_and_seeded(name):
    task = TASKS.get(name)
    a = task.examples(np.random.default_rng(7), 64).tokens
    b = task.examples(np.random.default_rng(7), 64).tokens
    c = task.examples(np.random.default_rng(8), 64).tokens
    assert (a == b).all()
    assert (a != c).any()


@pytest.mark.parametrize("name", ALL)
def test_heldout_is_fixed_and_distinct(name):
    task = TASKS.get(name)
    held = task.heldout.tokens
    assert len(held) == task.n_heldout
    assert len(np.unique(held, axis=0)) == len(held)
    fresh = type(task)()  # a new instance recomputes the set from its seed
    assert (fresh.heldout.tokens == held).all()


@pytest.mark.parametrize("name", [n for n in ALL if not TASKS.get(n).recall])
def test_training_never_sees_heldout_examples(name):
    task = TASKS.get(name)
    held = {row.tobytes() for row in task.heldout.tokens}
    for step in range(200):
        rows = task.train_examples(train_rng(0, step, task.tag), 32).tokens
        assert not any(row.tobytes() in held for row in rows)


def test_facts_is_one_fixed_table():
    """Every key has one value, training draws only table rows, and the values follow no simple rule."""
    task = TASKS.get("facts")
    held = task.heldout.tokens
    lookup = {tuple(row[1:3]): row[4] for row in held}
    assert len(lookup) == task.n_facts  # the evaluation set is the whole table, each key once
    for step in range(50):
        for row in task.train_examples(train_rng(0, step, task.tag), 32).tokens:
            assert lookup[tuple(row[1:3])] == row[4]
    keys = vocab.unsym(held[:, 1:3])
    values = vocab.unsym(held[:, 4])
    counts = np.bincount(values, minlength=vocab.N_SYMBOLS)
    assert counts.min() > 0 and counts.max() < 4 * task.n_facts / vocab.N_SYMBOLS
    for rule in (keys[:, 0], keys[:, 1], (keys[:, 0] + keys[:, 1]) % vocab.N_SYMBOLS):
        assert (rule == values).mean() < 0.15


def test_filter_is_not_vacuous():
    """mod_add's space is small: unfiltered draws hit held-out rows, filtered ones never do."""
    task = TASKS.get("mod_add")
    held = {row.tobytes() for row in task.heldout.tokens}
    raw = task.examples(np.random.default_rng(0), 2000).tokens
    assert sum(row.tobytes() in held for row in raw) > 100
    rows = task.train_examples(np.random.default_rng(0), 2000).tokens
    assert not any(row.tobytes() in held for row in rows)


def test_registering_a_used_tag_or_name_is_refused():
    """Two tasks sharing a tag token would be indistinguishable to the model; two sharing a name, to the user."""
    used = {TASKS.get(n).tag for n in TASKS}
    before = TASKS.names()

    class SameTag(Task):
        """A probe that reuses the copy task's tag slot."""

        name, version, tag, threshold, chance = "same_tag_probe", 1, TASKS.get("copy").tag, 0.5, 0.5

        def sample(self, rng, n):
            raise AssertionError("never drawn")

    class SameName(SameTag):
        name, tag = "copy", min(set(range(vocab.N_TAGS)) - used)

    with pytest.raises(ValueError, match=r"reuses tag slot .* of task copy"):
        task(SameTag)
    with pytest.raises(ValueError, match="task 'copy' is registered twice"):
        task(SameName)
    assert TASKS.names() == before


def test_at_least_eight_tasks_with_the_required_ones():
    assert {"copy", "reverse", "sort", "mod_add", "addition", "induction", "mqar", "sparse_parity"} <= set(
        TASKS.names()
    )


def test_unknown_task_suggests_the_closest():
    with pytest.raises(UserError, match="Did you mean 'induction'"):
        TASKS.get("inducton")

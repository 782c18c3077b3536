"""Every task family, at its defaults and at another setting: determinism, held-out disjointness, answers checked
by an independent computation, and the held-out set changing with the parameters."""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import UserError
from harness.tasks import TASKS, vocab
from harness.tasks.base import Task, train_rng
from harness.tasks.registry import make, task

ALL = sorted(TASKS)
# One setting of every family away from its defaults (each parameter changed where the family has several).
OTHER = {
    "copy": {"length": 11, "alphabet": 7},
    "reverse": {"length": 5, "alphabet": 29},
    "sort": {"length": 12, "alphabet": 5},
    "mod_add": {"modulus": 17},
    "addition": {"n_digits": 4},
    "multiply": {"n_digits": 5},
    "facts": {"n_facts": 100},
    "induction": {"context": 9, "continuation": 3, "alphabet": 20},
    "mqar": {"n_pairs": 6, "n_queries": 3},
    "sparse_parity": {"n_bits": 16, "k": 3},
}
SETTINGS = [(name, {}) for name in ALL] + sorted(OTHER.items())
IDS = [f"{name}-{'default' if not s else 'other'}" for name, s in SETTINGS]


def build(name, settings):
    return make(name, settings)


def split(task, tokens):
    """(question symbols or specials, answer symbol values) of one example row."""
    mask = task.examples(np.random.default_rng(0), 1).answer_mask[0]
    return tokens[1:][~mask[1:]], vocab.unsym(tokens[mask])


def check_copy(t, q, a):
    assert q[-1] == vocab.SEP and len(a) == t.length
    assert list(a) == list(vocab.unsym(q[:-1]))
    assert max(a) < t.alphabet


def check_reverse(t, q, a):
    assert len(a) == t.length and max(a) < t.alphabet
    assert list(a) == list(vocab.unsym(q[:-1]))[::-1]


def check_sort(t, q, a):
    assert len(a) == t.length and max(a) < t.alphabet
    assert list(a) == sorted(vocab.unsym(q[:-1]).tolist())


def check_mod_add(t, q, a):
    x, y = vocab.unsym(q[:2])
    assert max(x, y) < t.modulus
    assert a.tolist() == [(int(x) + int(y)) % t.modulus]


def check_addition(t, q, a):
    digits = vocab.unsym(q[:-1]).tolist()
    n = len(digits) // 2
    assert n == t.n_digits and len(a) == n + 1
    first = int("".join(map(str, digits[:n][::-1])))
    second = int("".join(map(str, digits[n:][::-1])))
    assert int("".join(map(str, a.tolist()[::-1]))) == first + second


def check_multiply(t, q, a):
    digits = vocab.unsym(q[:-1]).tolist()
    n = t.n_digits
    number = int("".join(map(str, digits[:n][::-1])))
    assert len(digits) == n + 1 and len(a) == n + 1
    assert int("".join(map(str, a.tolist()[::-1]))) == number * digits[n]


def check_facts(t, q, a):
    """Per row only the shape; test_facts_is_one_fixed_table checks the table as a whole."""
    assert len(q) == 3 and q[-1] == vocab.SEP and len(a) == 1
    assert ((vocab.unsym(q[:-1]) >= 0) & (vocab.unsym(q[:-1]) < vocab.N_SYMBOLS)).all()


def check_induction(t, q, a):
    ctx, cue = vocab.unsym(q[:-1]).tolist(), int(vocab.unsym(q[-1]))
    assert len(set(ctx)) == len(ctx) == t.context and max(ctx) < t.alphabet
    i = ctx.index(cue)
    assert len(a) == t.continuation
    assert a.tolist() == ctx[i + 1 : i + 1 + len(a)]


def check_mqar(t, q, a):
    body = vocab.unsym(q[:-1]).tolist()
    pairs, queries = body[: 2 * t.n_pairs], body[2 * t.n_pairs :]
    lookup = dict(zip(pairs[0::2], pairs[1::2]))
    assert len(lookup) == t.n_pairs and len(queries) == len(set(queries)) == t.n_queries
    assert a.tolist() == [lookup[k] for k in queries]


def check_sparse_parity(t, q, a):
    bits = vocab.unsym(q[:-1]).tolist()
    assert len(bits) == t.n_bits
    secret = (2, 9) if t.is_default else t.secret
    assert len(set(secret)) == t.k and all(0 <= i < t.n_bits for i in secret)
    assert a.tolist() == [sum(bits[i] for i in secret) % 2]


CHECKS = {name[len("check_") :]: fn for name, fn in globals().items() if name.startswith("check_")}


def test_every_task_has_an_independent_check():
    """The check functions name the required tasks, so this also pins the registered set: none missing, none extra."""
    assert set(CHECKS) == set(TASKS.names())


@pytest.mark.parametrize(("name", "settings"), SETTINGS, ids=IDS)
def test_answers_are_correct(name, settings):
    task = build(name, settings)
    block = task.examples(np.random.default_rng(123), 200)
    for row in block.tokens:
        CHECKS[name](task, *split(task, row))
    for row in task.heldout.tokens[:50]:
        CHECKS[name](task, *split(task, row))


@pytest.mark.parametrize(("name", "settings"), SETTINGS, ids=IDS)
def test_layout_and_metadata(name, settings):
    task = build(name, settings)
    block = task.examples(np.random.default_rng(0), 8)
    assert block.tokens.shape == block.answer_mask.shape == (8, task.seq_len)
    assert (block.tokens[:, 0] == vocab.tag(task.tag)).all()
    assert block.answer_mask.any(axis=1).all() and not block.answer_mask[:, 0].any()
    assert ((block.tokens >= vocab.SYM0) | ~block.answer_mask).all(), "answers are data symbols"
    assert (block.tokens < vocab.D_VOCAB).all()
    assert 0 < task.chance < task.threshold <= 1
    assert task.version >= 1 and task.description
    assert "Example" in (type(task).__doc__ or ""), "docstring shows an input/answer example"
    assert not task.problems()
    for key, (default, low, high) in type(task).ranges().items():  # every parameter has a documented range
        assert low <= default <= high and low <= task.settings[key] <= high


@pytest.mark.parametrize(("name", "settings"), SETTINGS, ids=IDS)
def test_generation_is_deterministic_and_seeded(name, settings):
    task = build(name, settings)
    a = task.examples(np.random.default_rng(7), 64).tokens
    b = task.examples(np.random.default_rng(7), 64).tokens
    c = task.examples(np.random.default_rng(8), 64).tokens
    assert (a == b).all()
    assert (a != c).any()


@pytest.mark.parametrize(("name", "settings"), SETTINGS, ids=IDS)
def test_heldout_is_fixed_and_distinct(name, settings):
    task = build(name, settings)
    held = task.heldout.tokens
    assert len(held) == task.n_heldout
    assert len(np.unique(held, axis=0)) == len(held)
    fresh = build(name, settings)  # a new instance recomputes the set from its seed
    assert (fresh.heldout.tokens == held).all()


@pytest.mark.parametrize(("name", "settings"), [s for s in SETTINGS if not TASKS.get(s[0]).recall])
def test_training_never_sees_heldout_examples(name, settings):
    task = build(name, settings)
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
    used = {TASKS.get(n).home_tag for n in TASKS}
    before = TASKS.names()

    class SameTag(Task):
        """A probe that reuses the copy task's tag slot."""

        family, version, home_tag, threshold, chance = "same_tag_probe", 1, TASKS.get("copy").home_tag, 0.5, 0.5
        summary = "A probe."

        def sample(self, rng, n):
            raise AssertionError("never drawn")

    class SameName(SameTag):
        family, home_tag = "copy", min(set(range(vocab.N_TAGS)) - used)

    with pytest.raises(ValueError, match=r"reuses tag slot .* of task copy"):
        task(SameTag)
    with pytest.raises(ValueError, match="task 'copy' is registered twice"):
        task(SameName)
    assert TASKS.names() == before


def test_unknown_task_suggests_the_closest():
    with pytest.raises(UserError, match="Did you mean 'induction'"):
        TASKS.get("inducton")


@pytest.mark.parametrize("name", ALL)
def test_parameters_change_the_heldout_set_and_identity(name):
    """Another setting is another task: other held-out questions, another identity; the defaults keep theirs."""
    default, other = TASKS.get(name), build(name, OTHER[name])
    assert default.identity == default.version and build(name, {}).identity == default.version
    assert other.identity != default.identity and str(other.version) in str(other.identity)
    assert other.stream_key != default.stream_key
    questions = {row[1:].tobytes() for row in default.heldout.tokens}
    assert sum(row[1:].tobytes() in questions for row in other.heldout.tokens) < len(other.heldout.tokens) / 2


def test_defaults_spelled_out_are_the_defaults():
    """A family given its default values explicitly is the same task, with the same tokens."""
    explicit = make("sparse_parity", {"n_bits": 12, "k": 2})
    assert explicit.is_default and explicit.secret == (2, 9)
    assert (explicit.heldout.tokens == TASKS.get("sparse_parity").heldout.tokens).all()


def test_a_setting_in_another_tag_slot_keeps_its_questions():
    """The tag slot a ladder gives a setting changes its tag token only, not what it asks."""
    home, moved = make("mod_add", {"modulus": 23}), make("mod_add", {"modulus": 23}, name="m23", tag=12)
    assert (moved.heldout.tokens[:, 0] == vocab.tag(12)).all()
    assert (moved.heldout.tokens[:, 1:] == home.heldout.tokens[:, 1:]).all()

"""Per-task progress measures on models built by hand, where the right value is known, and where it must fail."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from harness.ladders.families import FAMILIES
from harness.neurons.measures.parity import secret_share
from harness.neurons.measures.probes import PROBE_EXAMPLES, Run, TaskProbe
from harness.neurons.measures.sources import SOURCES, source_attention
from harness.neurons.measures.tasks import TASK_MEASURES, task_measures
from harness.tasks import TASKS, vocab
from harness.tasks.registry import make
from model_zoo.gpt import GPTConfig
from model_zoo.hooks import HookPoint
from model_zoo.mixer import MixerConfig


class Attn(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.hook_pattern = HookPoint()


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = Attn()
        self.hook_resid_post = HookPoint()


class HandBuilt(nn.Module):
    """One layer of attention heads whose patterns ``heads`` (tokens (B, T) -> (B, H, T, T)) sets by hand, and
    logits that ``predict`` (tokens -> next tokens (B, T)) sets: a one-hot on the predicted token."""

    def __init__(self, heads=None, predict=None) -> None:  # noqa: ANN001 - functions of the tokens
        super().__init__()
        self.blocks = nn.ModuleList([Block()])
        self.heads, self.predict = heads, predict

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if self.heads is not None:
            self.blocks[0].attn.hook_pattern(self.heads(tokens))
        guess = self.predict(tokens) if self.predict is not None else torch.zeros_like(tokens)
        return nn.functional.one_hot(guess, vocab.D_VOCAB).float()  # (B, T, d_vocab)


def attend(tokens: torch.Tensor, where) -> torch.Tensor:  # noqa: ANN001 - where(tokens, q) -> (B, T) weights
    """(B, 2, T, T): head 0 attends from each query q with the weights ``where`` gives (position 0 where it gives
    none), head 1 evenly over the causal prefix."""
    b, t = tokens.shape
    pattern = torch.zeros(b, 2, t, t)
    for q in range(t):
        w = where(tokens, q)[:, : q + 1].float()  # (B, q + 1)
        w[w.sum(dim=1) == 0, 0] = 1.0
        pattern[:, 0, q, : q + 1] = w / w.sum(dim=1, keepdim=True)
        pattern[:, 1, q, : q + 1] = 1.0 / (q + 1)
    return pattern


def at(offset) -> callable:  # noqa: ANN001 - offset(q) -> key positions
    """Weights on the key positions ``offset(q)`` gives (an int or a list)."""

    def where(tokens: torch.Tensor, q: int) -> torch.Tensor:
        w = torch.zeros(tokens.shape)
        keys = [k for k in (offset(q) if isinstance(offset(q), list) else [offset(q)]) if 0 <= k < tokens.shape[1]]
        w[:, keys] = 1.0
        return w

    return where


def smallest(tokens: torch.Tensor, q: int) -> torch.Tensor:
    """Sort's head: from q = 9 + i, the question positions holding the i-th smallest of its 8 symbols."""
    w = torch.zeros(tokens.shape)
    if 9 <= q < 17:
        wanted = tokens[:, 1:9].sort(dim=1).values[:, q - 9 : q - 8]  # (B, 1)
        w[:, 1:9] = (tokens[:, 1:9] == wanted).float()
    return w


def after_cue(tokens: torch.Tensor, q: int) -> torch.Tensor:
    """Induction's head: from q = 13 + i, the position i + 1 after the cue's (position 13) earlier occurrence."""
    w = torch.zeros(tokens.shape)
    if 13 <= q < 17:
        start = (tokens[:, 1:13] == tokens[:, 13:14]).float().argmax(dim=1) + 1  # (B,) the earlier occurrence
        w[torch.arange(len(w)), start + 1 + q - 13] = 1.0
    return w


def scores(family: str, where, settings=None) -> dict[int, float]:  # noqa: ANN001
    """Per head, the source attention of the hand-built heads on the family's probe."""
    task = make(family, settings or {})
    probe = TaskProbe.of(task)
    model = HandBuilt(lambda x: attend(x, where))
    table = source_attention(probe, Run.of(model, probe), SOURCES.get(family)(task, probe.tokens))
    return dict(zip(table["head"], table["value"]))


def uniform(first_query: int, sources: list[int]) -> float:
    """The score of a head attending evenly over the prefix: mean over answers of sources / (query + 1)."""
    return sum(n / (first_query + i + 1) for i, n in enumerate(sources)) / sum(1 for n in sources if n)


# Head 0 of each: the positions the task's rule reads, written from the layout in its docstring. Copy, reverse,
# sort: length 8, SEP at 9, answer i predicted at q = 9 + i. Addition: 2 digits, answer i at q = 5 + i. Multiply:
# 3 digits, q = 5 + i. Mqar: 4 pairs, 2 queries, q = 11 + j. Induction: context 12, q = 13 + i.
RIGHT = {
    "copy": at(lambda q: q - 8),
    "reverse": at(lambda q: 17 - q),
    "sort": smallest,
    "addition": at(lambda q: [q - 4, q - 2]),
    "multiply": at(lambda q: q - 4),
    "induction": after_cue,
}
UNIFORM = {  # (first query position, sources per answer token)
    "copy": (9, [1] * 8),
    "reverse": (9, [1] * 8),
    "addition": (5, [2, 2, 0]),
    "multiply": (5, [1, 1, 1, 0]),
    "induction": (13, [1] * 4),
    "sparse_parity": (13, [2]),
}


@pytest.mark.parametrize("family", sorted(RIGHT))
def test_a_head_on_the_sources_scores_one_and_an_even_head_its_share(family):
    got = scores(family, RIGHT[family])
    assert got[0] == pytest.approx(1.0)
    if family in UNIFORM:
        assert got[1] == pytest.approx(uniform(*UNIFORM[family]))
    assert got[1] < 0.35


def test_mqar_a_head_on_the_value_after_the_matching_key_scores_one():
    def value_of_query(tokens: torch.Tensor, q: int) -> torch.Tensor:
        w = torch.zeros(tokens.shape)
        if 11 <= q <= 12:  # the positions predicting answers 0 and 1 read queries at 9 and 10
            keys = tokens[:, 1:9:2] == tokens[:, q - 2 : q - 1]  # (B, 4)
            w[:, 2:10:2] = keys.float()
        return w

    got = scores("mqar", value_of_query)
    assert got[0] == pytest.approx(1.0) and got[1] == pytest.approx((1 / 12 + 1 / 13) / 2)
    # The key instead of its value: attention by content alone, one position early, scores nothing.
    assert scores("mqar", lambda x, q: value_of_query(x, q).roll(-1, dims=1))[0] == 0.0


def test_sparse_parity_a_head_on_the_secret_bits_scores_one():
    secret = TASKS.get("sparse_parity").secret  # positions 2 and 9: tokens 3 and 10
    assert scores("sparse_parity", at(lambda q: [1 + s for s in secret] if q == 13 else []))[0] == pytest.approx(1.0)
    assert scores("sparse_parity", at(lambda q: [1, 2, 4] if q == 13 else []))[0] == 0.0


@pytest.mark.parametrize(
    ("family", "wrong"),
    [("copy", at(lambda q: 17 - q)), ("reverse", at(lambda q: q - 8)), ("addition", at(lambda q: [q - 3, q - 1])),
     ("multiply", at(lambda q: q - 1)), ("induction", at(lambda q: q - 1))],
)  # fmt: skip
def test_a_head_on_the_wrong_positions_scores_low(family, wrong):
    """Copy read backwards, reverse read forwards, addition one digit off, the previous token: under 0.2."""
    assert scores(family, wrong)[0] < 0.2


def test_sort_sources_are_every_position_holding_the_symbol_and_its_score_splits_over_them():
    task = TASKS.get("sort")
    tokens = torch.tensor([[vocab.tag(task.tag), *vocab.sym([3, 7, 3, 0, 1, 1, 1, 1]), vocab.SEP,
                            *vocab.sym([0, 1, 1, 1, 1, 3, 3, 7])]])  # fmt: skip
    src = SOURCES.get("sort")(task, tokens)  # (1, 8, 17)
    assert torch.nonzero(src[0, 5]).squeeze(1).tolist() == [1, 3]  # the two 3s
    assert torch.nonzero(src[0, 0]).squeeze(1).tolist() == [4]


def test_the_source_maps_match_the_docstring_examples():
    """The examples of the generators' docstrings, position by position (the tag at 0)."""
    add = torch.tensor(
        [[0] + [vocab.SYM0 + d for d in (5, 7, 9, 8)] + [vocab.SEP] + [vocab.SYM0 + d for d in (4, 6, 1)]]
    )
    src = SOURCES.get("addition")(TASKS.get("addition"), add)
    assert [torch.nonzero(s).squeeze(1).tolist() for s in src[0]] == [[1, 3], [2, 4], []]  # 5+9 -> 4, 7+8 -> 6
    mqar = torch.tensor([[0] + vocab.sym([3, 20, 9, 31, 5, 16, 12, 16, 9, 3]).tolist() + [vocab.SEP]
                         + vocab.sym([31, 20]).tolist()])  # fmt: skip
    src = SOURCES.get("mqar")(TASKS.get("mqar"), mqar)
    assert [torch.nonzero(s).squeeze(1).tolist() for s in src[0]] == [[4], [2]]  # 9 -> 31 at 4, 3 -> 20 at 2


@pytest.mark.parametrize("family", ["copy", "reverse", "sort", "mqar", "induction"])
def test_every_source_holds_the_answer_symbol_on_the_whole_probe(family):
    task = TASKS.get(family)
    probe = TaskProbe.of(task)
    src = SOURCES.get(family)(task, probe.tokens)  # (n, A, T)
    answer = probe.tokens[:, -src.shape[1] :]  # (n, A)
    held = probe.tokens[:, None, :-1].expand_as(src)
    assert src.any(dim=2).all() and (held[src] == answer[:, :, None].expand_as(src)[src]).all()


def test_solved_share_is_one_for_a_model_that_answers_and_counts_only_whole_answers():
    probe = TaskProbe.of(TASKS.get("copy"))
    assert probe.tokens.shape[0] == PROBE_EXAMPLES and torch.equal(
        probe.tokens, torch.from_numpy(TASKS.get("copy").heldout.tokens[:PROBE_EXAMPLES])
    )
    shifted = lambda x: torch.roll(x, 8, dims=1)  # noqa: E731 - predicts the token 8 positions back
    solved = task_measures(HandBuilt(predict=shifted), probe).set_index("measure")["value"]
    assert solved["solved_share"] == 1.0

    def but_last(x: torch.Tensor) -> torch.Tensor:
        guess = shifted(x)
        guess[:, 16] = vocab.PAD  # the last answer token wrong: every token but one right, no row solved
        return guess

    assert task_measures(HandBuilt(predict=but_last), probe).set_index("measure")["value"]["solved_share"] == 0.0
    low = probe.tokens[:, 1] < vocab.SYM0 + 8  # rows whose first symbol is below 8

    def half(x: torch.Tensor) -> torch.Tensor:
        guess = shifted(x)
        guess[x[:, 1] >= vocab.SYM0 + 8] = vocab.PAD
        return guess

    value = task_measures(HandBuilt(predict=half), probe).set_index("measure")["value"]["solved_share"]
    assert value == pytest.approx(float(low.double().mean())) and 0 < value < 1


class Reader(nn.Module):
    """Blocks whose outputs at every position are the bits times ``weights[i]`` (one feature per bit)."""

    def __init__(self, weights: list[torch.Tensor]) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([Block() for _ in weights])
        self.weights = weights

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        bits = (tokens[:, 1 : 1 + len(self.weights[0])] - vocab.SYM0).float()  # (B, n_bits)
        for block, w in zip(self.blocks, self.weights):
            block.hook_resid_post((bits * w)[:, None].expand(-1, tokens.shape[1], -1))  # (B, T, 12)
        return torch.zeros(*tokens.shape, vocab.D_VOCAB)


def test_secret_share_is_one_for_the_secret_bits_alone_and_k_over_n_for_every_bit():
    task = TASKS.get("sparse_parity")
    probe = TaskProbe.of(task)
    secret, others = torch.zeros(12), torch.ones(12)
    secret[list(task.secret)] = 1.0
    others[list(task.secret)] = 0.0
    share = secret_share(Reader([torch.ones(12), secret, others]), probe).set_index("layer")["value"]
    assert share.tolist() == pytest.approx([2 / 12, 1.0, 0.0])
    weighted = torch.arange(1.0, 13.0)  # response to bit j is j + 1
    expected = sum(1 + s for s in task.secret) / sum(range(1, 13))
    assert secret_share(Reader([weighted]), probe)["value"].item() == pytest.approx(expected)
    assert math.isnan(secret_share(Reader([torch.zeros(12)]), probe)["value"].item())  # reads no bit at all


def test_secret_share_finds_the_secret_positions_of_another_setting():
    task = make("sparse_parity", {"n_bits": 14, "k": 3})
    assert task.secret != TASKS.get("sparse_parity").secret
    probe = TaskProbe.of(task)
    w = torch.ones(14)
    w[list(task.secret)] = 4.0
    assert secret_share(Reader([w]), probe)["value"].item() == pytest.approx(3 * 4 / (3 * 4 + 11))


@pytest.mark.parametrize("family", ["gpt", "mixer"])
def test_every_task_measure_of_both_families_on_every_task(family):
    config = (GPTConfig if family == "gpt" else MixerConfig)(
        d_model=16, n_layers=2, n_heads=2, n_ctx=32, d_vocab=vocab.D_VOCAB
    )
    model = FAMILIES.get(family).build(config).eval()
    found = {}
    for name in TASKS:
        table = task_measures(model, TaskProbe.of(TASKS.get(name)))
        assert (table["task"] == name).all() and table["value"].notna().all()
        found[name] = set(table["measure"])
    assert all("solved_share" in f for f in found.values())
    assert "secret_share" in found["sparse_parity"] and "fourier_share" in found["mod_add"]
    with_sources = {name for name, f in found.items() if "source_attention" in f}
    assert with_sources == (set(SOURCES) if family == "gpt" else set())  # no attention patterns, none
    assert set(TASK_MEASURES) == {"solved_share", "source_attention", "secret_share", "fourier_share"}

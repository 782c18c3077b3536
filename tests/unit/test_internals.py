"""Progress measures on models and embeddings built by hand, where the right answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from harness.ladders.families import FAMILIES
from harness.ladders.ladder import load_ladder
from harness.neurons.internals import measure_names, measures, probes_of
from harness.neurons.internals_table import MEASURES
from harness.neurons.measures.heads import attention_scores, probe
from harness.neurons.measures.probes import TaskProbe
from harness.neurons.measures.weights import fourier_share, weight_norms
from harness.tasks import TASKS, vocab
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


class HandBuilt(nn.Module):
    """One layer whose two heads attend by construction: head 0 to the previous position, head 1 as an
    induction head (from the repeat of a token to the position after its first occurrence)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([Block()])

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        b, t = tokens.shape
        pattern = torch.zeros(b, 2, t, t)  # (B, n_heads, T_query, T_key)
        pattern[:, :, 0, 0] = 1.0
        for q in range(1, t):
            pattern[:, 0, q, q - 1] = 1.0
            same = (tokens[:, :q] == tokens[:, q : q + 1]).float()  # (B, q) earlier positions with this token
            target = torch.where(same.any(dim=1), same.argmax(dim=1) + 1, torch.zeros(b, dtype=torch.long))
            pattern[torch.arange(b), 1, q, target] = 1.0
        self.blocks[0].attn.hook_pattern(pattern)
        return pattern


def test_a_hand_built_induction_head_scores_one_and_a_previous_token_head_scores_one():
    scores = attention_scores(HandBuilt(), probe(32)).set_index(["measure", "head"])["value"]
    assert scores[("prev_token", 0)] == pytest.approx(1.0)
    assert scores[("induction", 1)] == pytest.approx(1.0)
    # The induction head looks at the previous token only where the next token repeats; the probe never does.
    assert scores[("induction", 0)] == pytest.approx(0.0) and scores[("prev_token", 1)] < 0.6


def test_the_probe_is_a_seeded_sequence_of_distinct_symbols_twice():
    tokens = probe(32)
    assert tokens.shape == (64, 32) and torch.equal(tokens[:, :16], tokens[:, 16:])
    assert all(len(set(row[:16].tolist())) == 16 for row in tokens)
    assert torch.equal(tokens, probe(32)) and not torch.equal(tokens, probe(32, seed=1))
    assert int(tokens.min()) >= vocab.SYM0


def test_fourier_share_of_one_clean_frequency_is_one_and_of_noise_is_small():
    p, d = 31, 16
    residues = torch.arange(p, dtype=torch.float64)
    embedding = torch.zeros(vocab.D_VOCAB, d, dtype=torch.float64)
    embedding[vocab.SYM0 : vocab.SYM0 + p, 0] = torch.cos(2 * math.pi * 3 * residues / p)
    embedding[vocab.SYM0 : vocab.SYM0 + p, 1] = torch.sin(2 * math.pi * 7 * residues / p)
    assert fourier_share(embedding, p, top=2) == pytest.approx(1.0)
    assert fourier_share(embedding, p, top=1) == pytest.approx(0.5)
    noise = torch.randn(vocab.D_VOCAB, 64, generator=torch.Generator().manual_seed(0))
    assert 5 / 15 - 0.15 < fourier_share(noise, p, top=5) < 5 / 15 + 0.15  # about top / (p // 2)


def test_weight_norms_are_per_block_with_embeddings_and_unembedding_apart():
    model = FAMILIES.get("gpt").build(GPTConfig(d_model=16, n_layers=2, n_heads=2, n_ctx=20, d_vocab=vocab.D_VOCAB))
    with torch.no_grad():
        for param in model.parameters():
            param.fill_(1.0)
    norms = weight_norms(model).set_index("layer")["value"]
    assert list(norms.index) == [-1, 0, 1, 2]
    assert norms[-1] == pytest.approx(math.sqrt(vocab.D_VOCAB * 16 + 20 * 16))  # token and position embeddings
    assert norms[2] == pytest.approx(math.sqrt(16 * vocab.D_VOCAB))  # the unembedding
    assert norms[0] == pytest.approx(norms[1])


def test_measures_of_both_families():
    gpt = FAMILIES.get("gpt").build(GPTConfig(d_model=16, n_layers=2, n_heads=2, n_ctx=20, d_vocab=vocab.D_VOCAB))
    table = measures(gpt, 20, [TaskProbe.of(TASKS.get("mod_add"))])
    counts = table["measure"].value_counts()
    assert counts["prev_token"] == counts["induction"] == 4 and counts["fourier_share"] == 1
    assert table.loc[table["measure"] == "fourier_share", "task"].tolist() == ["mod_add"]
    assert set(table.loc[table["task"] == "", "measure"]) == {"weight_norm", "prev_token", "induction"}
    mixer = FAMILIES.get("mixer").build(MixerConfig(d_model=16, n_layers=2, n_heads=2, n_ctx=20, d_vocab=vocab.D_VOCAB))
    mixed = measures(mixer, 20, [])
    assert set(mixed["measure"]) == {"weight_norm"}  # no attention pattern, no task asked
    assert np.isfinite(mixed["value"]).all()


def test_measures_of_every_task_of_a_ladder_and_their_names():
    """Every task of the smoke ladder gets its measures, named in the task column, each row once."""
    ladder = load_ladder("smoke")
    rung = ladder.rungs[1]
    model = FAMILIES.get("gpt").build(rung.config).eval()
    table = measures(model, rung.config.n_ctx, probes_of(ladder))
    assert not table.duplicated(["measure", "task", "layer", "head"]).any()
    per_task = table[table["task"] != ""].groupby("task")["measure"].agg(set).to_dict()
    assert per_task == {"copy": {"solved_share", "source_attention"}, "mod_add": {"solved_share", "fourier_share"}}
    assert (table.loc[table["measure"] == "source_attention"].groupby("layer").size() == rung.config.n_heads).all()
    assert measure_names(ladder) == set(table["measure"])


@pytest.mark.parametrize("name", ["cpu", "mixer"])
def test_every_measure_written_is_described_for_the_board(name):
    """The figure reads each measure's label and reduction from internals_table.MEASURES."""
    assert measure_names(load_ladder(name)) <= set(MEASURES)

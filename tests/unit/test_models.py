"""Every model family: exact parameter counts, shapes and causality."""

from __future__ import annotations

import pytest
import torch
from pydantic import ValidationError

from harness.ladders.families import FAMILIES
from harness.ladders.ladder import builtin_ladders, load_ladder
from harness.tasks import vocab
from model_zoo.gpt import GPTConfig

SHAPES = [
    dict(d_model=8, n_layers=1, n_heads=2, d_mlp=16),
    dict(d_model=24, n_layers=2, n_heads=4),
    dict(d_model=32, n_layers=3, n_heads=2, d_mlp=50, act_fn="relu"),
]


def build(family: str, **fields):
    fam = FAMILIES.get(family)
    cfg = fam.config(n_ctx=24, d_vocab=vocab.D_VOCAB, **fields)
    return cfg, fam.build(cfg)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(f"{k}{v}" for k, v in s.items()))
def test_parameter_count_is_exact(family, shape):
    cfg, model = build(family, **shape)
    assert cfg.n_params() == sum(p.numel() for p in model.parameters())


def test_gpt_has_the_shape_of_gpt2_and_the_mixer_keeps_its_unembedding_bias():
    cfg, gpt = build("gpt", d_model=8, n_layers=1, n_heads=2)
    assert gpt.unembed.bias is None and "unembed.bias" not in gpt.state_dict()
    act = gpt.blocks[0].mlp._modules["1"]
    assert isinstance(act, torch.nn.GELU) and act.approximate == "none"  # exact GELU
    assert gpt.ln_final.eps == 1e-5
    assert gpt.unembed.weight.data_ptr() != gpt.embed.weight.data_ptr()  # untied head
    assert cfg.n_params() == sum(p.numel() for p in gpt.parameters())
    _, mixer = build("mixer", d_model=8, n_layers=1, n_heads=2)
    assert mixer.unembed.bias is not None
    # Without the bias a rung has d_vocab fewer parameters: the smallest cpu rung had 1,722.
    assert load_ladder("cpu").rungs[0].params == 1722 - vocab.D_VOCAB
    # The ladders' hashes and checkpoints carry the version, so results of the old shape are told apart.
    assert FAMILIES.get("gpt").version == 2 and FAMILIES.get("mixer").version == 1


def test_gpt_explicit_head_width_counts():
    cfg = GPTConfig(d_model=30, n_layers=2, n_heads=4, d_head=5, n_ctx=16, d_vocab=vocab.D_VOCAB)
    model = FAMILIES.get("gpt").build(cfg)
    assert cfg.n_params() == sum(p.numel() for p in model.parameters())
    assert model(torch.zeros(2, 10, dtype=torch.long)).shape == (2, 10, vocab.D_VOCAB)


@pytest.mark.parametrize("name", builtin_ladders())
def test_every_rung_of_every_ladder_counts_exactly(name):
    for rung in load_ladder(name).rungs:
        if rung.params > 5_000_000:
            continue  # the largest GPU rungs are covered by the formula tests above
        model = FAMILIES.get(load_ladder(name).spec.family).build(rung.config)
        assert rung.params == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_forward_shape_and_causality(family):
    torch.manual_seed(0)
    _, model = build(family, d_model=16, n_layers=2, n_heads=2)
    model.eval()
    x = torch.randint(0, vocab.D_VOCAB, (3, 12))
    logits = model(x)
    assert logits.shape == (3, 12, vocab.D_VOCAB)
    y = x.clone()
    y[:, 8:] = (y[:, 8:] + 1) % vocab.D_VOCAB  # change only the future
    torch.testing.assert_close(model(y)[:, :8], logits[:, :8])
    assert not torch.allclose(model(y)[:, 8:], logits[:, 8:])


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("n_layers", [1, 3])
def test_logits_asked_at_some_positions_equal_the_full_ones_there(family, n_layers):
    torch.manual_seed(0)
    _, model = build(family, d_model=16, n_layers=n_layers, n_heads=2)
    x = torch.randint(0, vocab.D_VOCAB, (3, 12))
    at = torch.rand(3, 12) < 0.3  # (3, 12)
    picked = model(x, at=at)
    assert picked.shape == (int(at.sum()), vocab.D_VOCAB)
    torch.testing.assert_close(picked, model(x)[at], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_too_long_input_is_refused(family):
    _, model = build(family, d_model=8, n_layers=1, n_heads=2)
    with pytest.raises(ValueError, match="n_ctx"):
        model(torch.zeros(1, 25, dtype=torch.long))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_heads_must_divide_width(family):
    with pytest.raises(ValidationError, match="does not divide"):
        FAMILIES.get(family).config(d_model=10, n_layers=1, n_heads=3, n_ctx=8, d_vocab=50)


def test_same_seed_same_initialisation():
    torch.manual_seed(3)
    _, a = build("gpt", d_model=8, n_layers=1, n_heads=2)
    torch.manual_seed(3)
    _, b = build("gpt", d_model=8, n_layers=1, n_heads=2)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)

"""Hook points of every model family: names, documented shapes, zero cost, fused attention unless hooked."""

from __future__ import annotations

import fnmatch

import pytest
import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import load_file

from harness.errors import UserError
from harness.ladders.families import FAMILIES
from harness.neurons.recording import capturing, record, record_to_file, select_hooks
from harness.tasks import vocab
from model_zoo.hooks import hook_points

B, T, D, L, H, MLP = 3, 11, 24, 2, 4, 40

# The documented hook points of each family and their shapes (model_zoo/decoder.py, gpt.py, mixer.py).
SHARED = {
    "hook_embed": (B, T, D),
    "hook_pos_embed": (B, T, D),
    "blocks.*.hook_resid_pre": (B, T, D),
    "blocks.*.ln1.hook_normalized": (B, T, D),
    "blocks.*.hook_resid_mid": (B, T, D),
    "blocks.*.ln2.hook_normalized": (B, T, D),
    "blocks.*.mlp.hook_pre": (B, T, MLP),
    "blocks.*.mlp.hook_post": (B, T, MLP),
    "blocks.*.hook_mlp_out": (B, T, D),
    "blocks.*.hook_resid_post": (B, T, D),
    "ln_final.hook_normalized": (B, T, D),
}
DOCUMENTED = {
    "gpt": {
        **SHARED,
        **{f"blocks.*.attn.hook_{x}": (B, T, H, D // H) for x in ("q", "k", "v", "z")},
        "blocks.*.attn.hook_attn_scores": (B, H, T, T),
        "blocks.*.attn.hook_pattern": (B, H, T, T),
        "blocks.*.hook_attn_out": (B, T, D),
    },
    "mixer": {**SHARED, "blocks.*.mix.hook_z": (B, T, H, D // H), "blocks.*.hook_mix_out": (B, T, D)},
}


def build(family: str):
    torch.manual_seed(0)
    fam = FAMILIES.get(family)
    return fam.build(fam.config(d_model=D, n_layers=L, n_heads=H, d_mlp=MLP, n_ctx=20, d_vocab=vocab.D_VOCAB)).eval()


def tokens() -> torch.Tensor:
    return torch.randint(0, vocab.D_VOCAB, (B, T), generator=torch.Generator().manual_seed(1))


def test_every_family_documents_its_hooks():
    assert set(DOCUMENTED) == set(FAMILIES)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_hook_fires_once_with_the_documented_shape(family):
    model = build(family)
    names = list(hook_points(model))
    expected = {p.replace("*", str(i)) for p in DOCUMENTED[family] for i in range(L)}
    assert set(names) == expected
    fired: list[str] = []
    for name, point in hook_points(model).items():
        point.register_forward_hook(lambda _m, _i, out, name=name: fired.append(name))
    with capturing(model, names) as seen:
        model(tokens())
    assert fired == names, "each hook fires once, in the order hook_points() lists them"
    for name, value in seen.items():
        shape = next(s for p, s in DOCUMENTED[family].items() if fnmatch.fnmatchcase(name, p))
        assert tuple(value.shape) == shape, name


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_last_resid_post_reproduces_the_logits(family):
    model = build(family)
    x = tokens()
    with torch.no_grad(), capturing(model, [f"blocks.{L - 1}.hook_resid_post"]) as rec:
        logits = model(x)
    assert torch.equal(model.readout(rec[f"blocks.{L - 1}.hook_resid_post"]), logits)
    torch.testing.assert_close(
        model.readout(rec[f"blocks.{L - 1}.hook_resid_post"]), model(x)
    )  # against the fused forward


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_recorded_values_do_not_depend_on_the_hooks_asked_for(family):
    model = build(family)
    everything = record(model, "copy", n=4, seed=1)
    some = record(model, "copy", n=4, seed=1, hooks="blocks.1.hook_resid_post")
    assert torch.equal(everything["blocks.1.hook_resid_post"], some["blocks.1.hook_resid_post"])
    assert torch.equal(everything["correct"], some["correct"])


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_hook_can_patch_an_activation(family):
    model = build(family)
    x = tokens()
    clean = model(x)
    handle = hook_points(model)["blocks.0.hook_mlp_out"].register_forward_hook(
        lambda _m, _i, out: torch.zeros_like(out)
    )
    patched = model(x)
    handle.remove()
    assert not torch.allclose(patched, clean)
    assert torch.equal(model(x), clean)


def test_attention_is_fused_unless_its_pattern_is_hooked(monkeypatch):
    model = build("gpt")
    points = hook_points(model)
    calls = []
    fused = F.scaled_dot_product_attention
    monkeypatch.setattr(F, "scaled_dot_product_attention", lambda *a, **k: calls.append(1) or fused(*a, **k))
    x = tokens()
    with torch.no_grad():
        plain = model(x)
        assert len(calls) == L
        handles = [
            points[name].register_forward_hook(lambda *_: None)
            for name in ("blocks.0.attn.hook_z", "blocks.1.hook_resid_post")
        ]
        model(x)
        assert len(calls) == 2 * L, "hooks other than the pattern keep the fused kernel"
        handles.append(points["blocks.1.attn.hook_pattern"].register_forward_hook(lambda *_: None))
        model(x)
        assert len(calls) == 3 * L - 1, "only the layer whose pattern is hooked forms it explicitly"
        for handle in handles:
            handle.remove()
        with capturing(model, ["blocks.1.attn.hook_pattern"]) as seen:
            explicit = model(x)
        assert len(calls) == 3 * L - 1, "while recording, every layer forms its pattern explicitly"
        model(x)
        assert len(calls) == 4 * L - 1, "and afterwards the fused kernel is back"
    torch.testing.assert_close(explicit, plain, rtol=1e-5, atol=1e-5)
    pattern = seen["blocks.1.attn.hook_pattern"]
    torch.testing.assert_close(pattern.sum(-1), torch.ones(B, H, T))
    assert (pattern.triu(1) == 0).all(), "no attention to the future"


def test_unknown_hook_pattern_lists_the_hook_names():
    model = build("gpt")
    with pytest.raises(UserError) as err:
        select_hooks(model, "blocks.*.attn.hook_patern")
    message = str(err.value)
    assert (
        "'blocks.*.attn.hook_patern'" in message
        and "blocks.1.attn.hook_pattern" in message
        and "ln_final.hook_normalized" in message
    )
    assert select_hooks(model, "blocks.1.attn.hook_q, hook_embed,") == ["hook_embed", "blocks.1.attn.hook_q"]
    with pytest.raises(UserError, match="No hook pattern given"):
        select_hooks(model, " , ")
    with pytest.raises(UserError, match="No hook points"):
        with capturing(model, ["hook_embed", "blocks.9.hook_resid_pre"]):
            pass
    assert not any(p.hooked for p in hook_points(model).values()), "a refused name leaves no hook attached"


def test_record_returns_examples_hooks_and_correctness():
    model = build("gpt")
    rec = record(model, "copy", n=5, seed=3, hooks="blocks.*.hook_resid_post")
    assert set(rec) == {
        "input",
        "target",
        "answer_mask",
        "correct",
        "blocks.0.hook_resid_post",
        "blocks.1.hook_resid_post",
    }
    assert torch.equal(rec["input"][:, 1:], rec["target"][:, :-1]), "targets are the inputs shifted by one"
    assert rec["answer_mask"].any(dim=1).all() and rec["correct"].shape == (5,)
    assert torch.equal(record(model, "copy", n=5, seed=3, hooks="hook_embed")["input"], rec["input"]), (
        "same seed, same examples"
    )
    assert not torch.equal(record(model, "copy", n=5, seed=4, hooks="hook_embed")["input"], rec["input"])
    assert not hook_points(model)["hook_embed"].hooked, "recording leaves no hook attached"


def test_record_refuses_examples_longer_than_the_context():
    fam = FAMILIES.get("gpt")
    model = fam.build(fam.config(d_model=8, n_layers=1, n_heads=2, n_ctx=12, d_vocab=vocab.D_VOCAB))
    with pytest.raises(UserError, match="17 tokens long, but the model reads at most n_ctx=12"):
        record(model, "copy", n=2, seed=0)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_streamed_file_holds_what_record_returns(family, tmp_path):
    model = build(family)
    path = tmp_path / "r.safetensors"
    record_to_file(model, "copy", 6, 2, "blocks.1.*, hook_pos_embed", path, {"note": "x"})
    stored, expected = load_file(path), record(model, "copy", n=6, seed=2, hooks="blocks.1.*, hook_pos_embed")
    assert stored.keys() == expected.keys()
    assert all(torch.equal(stored[k], expected[k]) for k in expected)
    with safe_open(path, "pt") as f:
        assert f.metadata() == {"note": "x"}


def test_a_bfloat16_model_records_to_file(tmp_path):
    model = build("gpt").to(torch.bfloat16)
    path = tmp_path / "bf16.safetensors"
    record_to_file(model, "copy", 3, 0, "blocks.0.mlp.hook_post", path, {})
    stored = load_file(path)
    assert stored["blocks.0.mlp.hook_post"].dtype == torch.bfloat16
    assert torch.equal(
        stored["blocks.0.mlp.hook_post"],
        record(model, "copy", n=3, seed=0, hooks="blocks.0.mlp.hook_post")["blocks.0.mlp.hook_post"],
    )

"""gpt models in Hugging Face's format, in TransformerLens and in nnsight: the same logits and activations as ours.

Every committed rung shape of the gpt family converts: the rungs of the cpu, induction and
smoke ladders at full size; the gpu ladder's at full size on the meta device (names, shapes
and parameter counts, no memory) and, for the numbers, narrowed to 4-wide heads with every
other dimension kept. Weights are random and far from their initial values (LayerNorm
weights not 1, biases not 0), so a transposed or misplaced weight cannot hide. Needs the
``interp`` extra; without it the tests that use it skip, saying so.
"""

from __future__ import annotations

import pytest
import torch

from harness.errors import UserError
from harness.ladders.families import FAMILIES
from harness.ladders.ladder import builtin_ladders, load_ladder
from harness.neurons import hf as hf_format
from harness.neurons.recording import capturing
from model_zoo.gpt import GPT, GPTConfig
from model_zoo.hooks import hook_points
from tests.unit.interp_models import needs_interp, scrambled, tokens

FULL_SIZE_LIMIT = 1_000_000  # parameters; larger rungs are checked at full size on the meta device only
# Logits agree within this fraction of the largest logit in float32. Our model's own two attention paths (the fused
# kernel and the explicit pattern, model_zoo/gpt.py) differ by up to 6e-6 of it on the cpu ladder's checkpoints, so a
# bound much tighter than float32's rounding would test the kernels, not the conversion; float64 tests that.
FLOAT32_LOGITS = 1e-5
LOGITS_ATOL = 1e-5


def gpt_rungs() -> list[tuple[str, GPTConfig]]:
    """(ladder/rung, config) of every rung of every committed gpt ladder."""
    ladders = [load_ladder(name) for name in builtin_ladders()]
    return [(f"{lad.name}/{r.name}", r.config) for lad in ladders if lad.spec.family == "gpt" for r in lad.rungs]


RUNGS = gpt_rungs()
SMALL = [(name, cfg) for name, cfg in RUNGS if cfg.n_params() <= FULL_SIZE_LIMIT]
LARGE = [(name, cfg) for name, cfg in RUNGS if cfg.n_params() > FULL_SIZE_LIMIT]


def narrowed(cfg: GPTConfig) -> GPTConfig:
    """The same rung with 4-wide heads: every other dimension (layers, heads, context, vocabulary) kept."""
    return cfg.model_copy(update={"d_model": 4 * cfg.n_heads})


CONVERTED = SMALL + [(f"{name} narrowed", narrowed(cfg)) for name, cfg in LARGE]


def ours_everywhere(model: GPT, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    with torch.no_grad(), capturing(model, list(hook_points(model))) as seen:
        logits = model(x)  # (B, T, d_vocab)
    return logits, dict(seen)


def assert_same_activation(name: str, ours: torch.Tensor, theirs: torch.Tensor) -> None:
    """Equal within rounding (float32: 2e-5, float64: 1e-10); masked attention scores (-inf here, the dtype's most
    negative number there) only where both mask."""
    assert theirs.dtype == ours.dtype, name
    theirs = theirs.expand_as(ours)  # GPT-2's position embedding is one row, ours the same row for every example
    masked = torch.isinf(ours)
    if masked.any():
        assert torch.equal(theirs <= torch.finfo(theirs.dtype).min, masked), name
    atol = 2e-5 if ours.dtype == torch.float32 else 1e-10
    torch.testing.assert_close(theirs[~masked], ours[~masked], atol=atol, rtol=0, msg=name)


# -- Hugging Face ----------------------------------------------------------------------------------------


@needs_interp
@pytest.mark.parametrize("name,cfg", CONVERTED, ids=[name for name, _ in CONVERTED])
def test_hf_and_transformer_lens_logits_equal_ours(name, cfg):
    """Exact in float64; in float32 within 1e-5 of the largest logit, the rounding of one model run two ways."""
    from harness.neurons.lens import to_transformer_lens

    x = tokens(cfg)
    for dtype, tolerance in ((torch.float32, FLOAT32_LOGITS), (torch.float64, 1e-10)):
        model = scrambled(cfg, dtype=dtype)
        with torch.no_grad():
            ours = model(x)  # (B, T, d_vocab)
            hf_logits = hf_format.to_hf(model)(x).logits
            lens_logits = to_transformer_lens(model)(x)
        scale = ours.abs().max().item()
        assert scale > 1.0, "logits too small for the comparison to mean anything"
        assert hf_logits.dtype == lens_logits.dtype == dtype
        assert (hf_logits - ours).abs().max() <= tolerance * scale, f"Hugging Face, {dtype}"
        assert (lens_logits - ours).abs().max() <= tolerance * scale, f"TransformerLens, {dtype}"


@needs_interp
@pytest.mark.parametrize("name,cfg", LARGE, ids=[name for name, _ in LARGE])
def test_large_rungs_convert_at_full_size(name, cfg):
    """On the meta device: every weight has a place of the right shape, and the counts agree (no memory used)."""
    from transformers import GPT2LMHeadModel

    with torch.device("meta"):
        ours, theirs = GPT(cfg), GPT2LMHeadModel(hf_format.hf_config(cfg))
    ours_shapes = {k: v.shape for k, v in ours.state_dict().items()}
    theirs_shapes = {k: v.shape for k, v in theirs.state_dict().items()}
    names = hf_format.weight_names(cfg.n_layers)
    assert {o for o, _, _ in names} == set(ours_shapes)
    assert {t for _, t, _ in names} == set(theirs_shapes)
    for o, t, transposed in names:
        assert theirs_shapes[t] == (ours_shapes[o][::-1] if transposed else ours_shapes[o]), (o, t)
    assert sum(p.numel() for p in theirs.parameters()) == cfg.n_params()


@needs_interp
def test_the_config_says_what_the_rung_is():
    cfg = load_ladder("cpu").rung("c3").config
    config = hf_format.hf_config(cfg)
    assert (config.vocab_size, config.n_positions, config.n_embd, config.n_layer, config.n_head, config.n_inner) == (
        cfg.d_vocab,
        cfg.n_ctx,
        cfg.d_model,
        cfg.n_layers,
        cfg.n_heads,
        4 * cfg.d_model,
    )
    assert config.activation_function == "gelu" and not config.tie_word_embeddings
    assert config.layer_norm_epsilon == GPT(cfg).ln_final.eps
    relu = hf_format.to_hf(scrambled(cfg.model_copy(update={"act_fn": "relu"})))
    assert isinstance(relu.transformer.h[0].mlp.act, torch.nn.ReLU)


@needs_interp
def test_relu_rungs_and_other_dtypes_convert_too():
    cfg = load_ladder("smoke").rung("s1").config.model_copy(update={"act_fn": "relu"})
    model = scrambled(cfg)
    x = tokens(cfg)
    with torch.no_grad():
        torch.testing.assert_close(hf_format.to_hf(model)(x).logits, model(x), atol=LOGITS_ATOL, rtol=0)
        double = scrambled(cfg, dtype=torch.float64)
        converted = hf_format.to_hf(double)
        assert converted.lm_head.weight.dtype == torch.float64
        torch.testing.assert_close(converted(x).logits, double(x), atol=1e-12, rtol=0)


@needs_interp
def test_the_conversion_is_a_copy():
    model = scrambled(load_ladder("smoke").rung("s0").config)
    converted = hf_format.to_hf(model)
    with torch.no_grad():
        converted.lm_head.weight.zero_()
    assert model.unembed.weight.abs().sum() > 0


# -- hook points -------------------------------------------------------------------------------------------


@needs_interp
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("ladder_rung", ["cpu/c0", "cpu/c3", "induction/i2", "gpu/g3 narrowed"])
def test_every_hook_point_holds_the_same_values_in_transformer_lens(ladder_rung, dtype):
    from harness.neurons.lens import lens_name, to_transformer_lens

    ladder, rung = ladder_rung.split()[0].split("/")
    cfg = load_ladder(ladder).rung(rung).config
    cfg = narrowed(cfg) if "narrowed" in ladder_rung else cfg
    model = scrambled(cfg, seed=2, dtype=dtype)
    x = tokens(cfg)
    _, ours = ours_everywhere(model, x)
    with torch.no_grad():
        _, cache = to_transformer_lens(model).run_with_cache(x)
    for name, value in ours.items():
        assert_same_activation(name, value, cache[lens_name(name)])
    # The names that differ differ for a reason: the bridge's hook_normalized is before LayerNorm's weight and bias.
    assert not torch.allclose(cache["blocks.0.ln1.hook_normalized"], ours["blocks.0.ln1.hook_normalized"], atol=1e-3)


def test_lens_names():
    from harness.neurons.lens import lens_name

    assert lens_name("blocks.11.ln2.hook_normalized") == "blocks.11.ln2.hook_out"
    assert lens_name("ln_final.hook_normalized") == "ln_final.hook_out"
    assert lens_name("blocks.3.attn.hook_pattern") == "blocks.3.attn.hook_pattern"
    assert lens_name("blocks.0.mlp.hook_post") == "blocks.0.mlp.hook_post"


@needs_interp
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("ladder_rung", ["cpu/c0", "cpu/c5", "smoke/s1"])
def test_every_hook_point_has_its_place_in_the_hf_model(ladder_rung, dtype):
    """HF_ACTIVATIONS: each hook point is a module's input or output there; the pattern comes with output_attentions."""
    ladder, rung = ladder_rung.split("/")
    cfg = load_ladder(ladder).rung(rung).config
    model = scrambled(cfg, seed=3, dtype=dtype)
    x = tokens(cfg)
    _, ours = ours_everywhere(model, x)
    converted = hf_format.to_hf(model)
    converted.set_attn_implementation("eager")  # the fused kernel returns no pattern
    modules, seen, handles = dict(converted.named_modules()), {}, []
    for i in range(cfg.n_layers):
        for hook, (module, where) in hf_format.HF_ACTIVATIONS.items():
            hook, module = hook.format(i=i), module.format(i=i)

            def keep(mod, inputs, output, hook=hook, where=where):
                value = inputs[0] if where == "input" else output
                seen[hook] = value[0] if isinstance(value, tuple) else value

            handles.append(modules[module].register_forward_hook(keep))
    with torch.no_grad():
        out = converted(x, output_attentions=True)
    for handle in handles:
        handle.remove()
    for i, pattern in enumerate(out.attentions):
        seen[f"blocks.{i}.attn.hook_pattern"] = pattern
    documented = {n for n in ours if not any(k in n for k in ("hook_q", "hook_k", "hook_v", "hook_z", "scores"))}
    assert documented <= set(seen)
    for name in documented:
        assert_same_activation(name, ours[name], seen[name])


# -- nnsight -----------------------------------------------------------------------------------------------


@needs_interp
def test_nnsight_reads_and_patches_our_model_and_the_exported_one_by_module_name():
    from nnsight import NNsight

    cfg = load_ladder("cpu").rung("c2").config
    model = scrambled(cfg, seed=4)
    x = tokens(cfg)
    logits, ours = ours_everywhere(model, x)
    ablate = model.blocks[0].hook_mlp_out.register_forward_hook(lambda mod, inputs, out: torch.zeros_like(out))
    with torch.no_grad():
        ablated = model(x)  # (B, T, d_vocab): block 0's MLP output zeroed, the plain PyTorch way
    ablate.remove()
    assert not torch.allclose(ablated, logits, atol=1e-3)

    traced = NNsight(model)
    with torch.no_grad(), traced.trace(x):
        post = traced.blocks[0].mlp.hook_post.output.save()  # (B, T, d_mlp)
    with torch.no_grad(), traced.trace(x):
        traced.blocks[0].hook_mlp_out.output = torch.zeros_like(traced.blocks[0].hook_mlp_out.output)
        patched = traced.output.save()
    torch.testing.assert_close(post, ours["blocks.0.mlp.hook_post"], atol=1e-6, rtol=0)
    torch.testing.assert_close(patched, ablated, atol=1e-6, rtol=0)

    exported = NNsight(hf_format.to_hf(model))
    with torch.no_grad(), exported.trace(x):
        hf_post = exported.transformer.h[0].mlp.act.output.save()
    with torch.no_grad(), exported.trace(x):
        exported.transformer.h[0].mlp.output = torch.zeros_like(exported.transformer.h[0].mlp.output)
        hf_patched = exported.output.logits.save()
    torch.testing.assert_close(hf_post, post, atol=1e-5, rtol=0)
    torch.testing.assert_close(hf_patched, ablated, atol=LOGITS_ATOL, rtol=0)


# -- refusals (no extra needed: they are decided before anything is imported) ------------------------------


@pytest.mark.parametrize("convert", ["to_hf", "to_transformer_lens"])
def test_the_mixer_family_is_refused_with_a_reason(convert):
    import harness

    mixer = FAMILIES.get("mixer").build(load_ladder("mixer").rung("m1").config)
    with pytest.raises(UserError, match="'mixer' family, which has no equivalent in Hugging Face's or Transfor"):
        getattr(harness, convert)(mixer)
    with pytest.raises(UserError, match="not a model of emergence-ladder's zoo"):
        getattr(harness, convert)(torch.nn.Linear(2, 2))


def test_a_head_width_gpt2_cannot_hold_is_refused():
    cfg = GPTConfig(d_model=8, n_layers=1, n_heads=2, d_head=3, n_ctx=4, d_vocab=50)
    with pytest.raises(UserError, match="n_heads=2 heads of d_head=3, whose total 6 is not d_model=8"):
        hf_format.to_hf(GPT(cfg))


def test_a_missing_extra_names_what_to_install():
    with pytest.raises(UserError, match=r"needs the package 'no-such-package'.*pip install 'emergence-ladder\[interp"):
        hf_format.require("no_such_module_for_this_test", "no-such-package")

"""The ``gpt`` family in Hugging Face's format: ``GPT2LMHeadModel``, its config, and a tokenizer for our vocabulary.

A ``gpt`` rung has exactly GPT-2's shape (pre-norm blocks, LayerNorm eps 1e-5,
exact GELU, learned positions, an untied head without bias), so converting it
renames its weights and nothing more: GPT-2's ``Conv1D`` layers store their
weight as (in, out), the transpose of ``nn.Linear``'s (out, in); the fused
q, k, v projection splits into heads in the same order in both. Logits and
activations agree to float rounding. The attention-free ``mixer`` family has
no counterpart in GPT-2, and converting it is refused with a ``UserError``.

The conversion needs the optional ``interp`` extra (transformers), imported
only when a function here runs; without it the error says what to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import torch
from torch import nn

from harness.errors import UserError
from harness.ladders.families import FAMILIES
from harness.tasks import vocab
from model_zoo.gpt import GPT, GPTConfig

INSTALL = "pip install 'emergence-ladder[interp]'"
# nn.LayerNorm's default, which every LayerNorm of model_zoo.decoder keeps.
LAYER_NORM_EPS = 1e-5

# One name per token id, in the layout of harness.tasks.vocab: PAD, SEP, the 16 task tags, then the
# 32 data symbols as base-32 digits, so digits and bits read as themselves ("7" is symbol 7).
SYMBOLS = "0123456789abcdefghijklmnopqrstuv"
TOKENS = ["<pad>", "<sep>", *(f"<tag{i}>" for i in range(vocab.N_TAGS)), *SYMBOLS]

# (our name, GPT-2's name, transposed) for the weights of block i (prefixes blocks.{i}. and transformer.h.{i}.).
BLOCK_WEIGHTS = [
    ("ln1.weight", "ln_1.weight", False),
    ("ln1.bias", "ln_1.bias", False),
    ("attn.qkv.weight", "attn.c_attn.weight", True),
    ("attn.qkv.bias", "attn.c_attn.bias", False),
    ("attn.out.weight", "attn.c_proj.weight", True),
    ("attn.out.bias", "attn.c_proj.bias", False),
    ("ln2.weight", "ln_2.weight", False),
    ("ln2.bias", "ln_2.bias", False),
    ("mlp.0.weight", "mlp.c_fc.weight", True),
    ("mlp.0.bias", "mlp.c_fc.bias", False),
    ("mlp.2.weight", "mlp.c_proj.weight", True),
    ("mlp.2.bias", "mlp.c_proj.bias", False),
]
MODEL_WEIGHTS = [
    ("embed.weight", "transformer.wte.weight", False),
    ("pos_embed.weight", "transformer.wpe.weight", False),
    ("ln_final.weight", "transformer.ln_f.weight", False),
    ("ln_final.bias", "transformer.ln_f.bias", False),
    ("unembed.weight", "lm_head.weight", False),
]

# Where each of our hook points is in GPT2LMHeadModel: (module, "input" or "output"), for PyTorch hooks or nnsight.
# The attention pattern is not a module's output there: GPT-2 returns it with output_attentions=True (eager attention).
HF_ACTIVATIONS = {
    "hook_embed": ("transformer.wte", "output"),
    "hook_pos_embed": ("transformer.wpe", "output"),  # (1, T, d_model): ours is the same row for every example
    "blocks.{i}.hook_resid_pre": ("transformer.h.{i}", "input"),
    "blocks.{i}.ln1.hook_normalized": ("transformer.h.{i}.ln_1", "output"),
    "blocks.{i}.hook_attn_out": ("transformer.h.{i}.attn", "output"),  # the first element of its output tuple
    "blocks.{i}.hook_resid_mid": ("transformer.h.{i}.ln_2", "input"),
    "blocks.{i}.ln2.hook_normalized": ("transformer.h.{i}.ln_2", "output"),
    "blocks.{i}.mlp.hook_pre": ("transformer.h.{i}.mlp.c_fc", "output"),
    "blocks.{i}.mlp.hook_post": ("transformer.h.{i}.mlp.act", "output"),
    "blocks.{i}.hook_mlp_out": ("transformer.h.{i}.mlp", "output"),
    "blocks.{i}.hook_resid_post": ("transformer.h.{i}", "output"),
    "ln_final.hook_normalized": ("transformer.ln_f", "output"),
}


def require(module: str, package: str | None = None) -> ModuleType:
    """``import module``, or a ``UserError`` saying that the ``interp`` extra installs its ``package``."""
    package = package or module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != module.split(".")[0]:
            raise  # the package is there but one of its own imports is broken: keep the traceback
        raise UserError(
            f"Converting models for Hugging Face, TransformerLens or nnsight needs the package '{package}', which is "
            f'not installed. Install the optional extra with "{INSTALL}" (after the CPU build of torch, as the '
            "README says, so that pip pulls no CUDA packages)."
        ) from None


def no_equivalent(family: str, subject: str) -> UserError:
    """The refusal of a family other than gpt; ``subject`` names what was asked for ("This model", "Ladder 'mixer'")."""
    return UserError(
        f"{subject} is of the '{family}' family, which has no equivalent in Hugging Face's or TransformerLens's "
        "formats: it mixes tokens with learned causal matrices instead of attention, and GPT-2 has no place for them. "
        "Only 'gpt' models convert. Study it with its own hook points (harness.record, ladder record) or with "
        "nnsight.NNsight(model), which traces any torch module."
    )


def gpt_config(model: nn.Module) -> GPTConfig:
    """The config of a ``gpt`` model that GPT-2's format can hold; a ``UserError`` naming the problem otherwise."""
    if not isinstance(model, GPT):
        family = next((name for name in FAMILIES if isinstance(model, FAMILIES.get(name).model)), None)
        if family is None:
            raise UserError(
                f"A {type(model).__name__} is not a model of emergence-ladder's zoo; only the 'gpt' family converts "
                "to Hugging Face's and TransformerLens's formats. Pass a model from harness.load_model."
            )
        raise no_equivalent(family, "This model")
    cfg = model.cfg
    if cfg.n_heads * cfg.head_width != cfg.d_model:
        raise UserError(
            f"This gpt model has n_heads={cfg.n_heads} heads of d_head={cfg.head_width}, whose total "
            f"{cfg.n_heads * cfg.head_width} is not d_model={cfg.d_model}; GPT-2's attention requires them equal. "
            "Only rungs whose d_head is unset (d_model // n_heads) convert."
        )
    return cfg


def hf_config(cfg: GPTConfig) -> Any:
    """The ``transformers.GPT2Config`` of a ``gpt`` config (every other field at GPT-2's defaults)."""
    transformers = require("transformers")
    return transformers.GPT2Config(
        vocab_size=cfg.d_vocab,
        n_positions=cfg.n_ctx,
        n_embd=cfg.d_model,
        n_layer=cfg.n_layers,
        n_head=cfg.n_heads,
        n_inner=cfg.mlp_width,
        # "gelu" is the exact (erf) GELU of nn.GELU() and "relu" is nn.ReLU; GPT-2's own "gelu_new" is the tanh one.
        activation_function=cfg.act_fn,
        layer_norm_epsilon=LAYER_NORM_EPS,
        resid_pdrop=0.0,  # our models have no dropout
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        tie_word_embeddings=False,
        # PAD (what follows the end of a shorter task's sequence) doubles as end of sequence; there is no BOS.
        bos_token_id=None,
        eos_token_id=vocab.PAD,
        pad_token_id=vocab.PAD,
    )


def weight_names(n_layers: int) -> list[tuple[str, str, bool]]:
    """(our name, GPT-2's name, transposed) for every weight of a model with ``n_layers`` blocks."""
    blocks = [
        (f"blocks.{i}.{ours}", f"transformer.h.{i}.{theirs}", transposed)
        for i in range(n_layers)
        for ours, theirs, transposed in BLOCK_WEIGHTS
    ]
    return MODEL_WEIGHTS + blocks


def hf_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's weights under GPT-2's names and layouts (copies: the result shares no memory with the model)."""
    ours = model.state_dict()
    names = weight_names(gpt_config(model).n_layers)
    unmapped = set(ours) - {name for name, _, _ in names}
    if unmapped:  # a weight added to model_zoo/gpt.py without its place in GPT-2 here
        raise RuntimeError(f"gpt weights with no GPT-2 counterpart in harness/neurons/hf.py: {sorted(unmapped)}")
    return {theirs: (ours[name].T if t else ours[name]).contiguous().clone() for name, theirs, t in names}


def to_hf(model: nn.Module) -> Any:
    """The ``transformers.GPT2LMHeadModel`` computing what ``model`` computes, on its device and dtype, in eval mode.

    A copy: changing one does not change the other. ``model`` is a ``gpt`` model
    (``harness.load_model``); any other family raises a ``UserError``.
    """
    cfg = gpt_config(model)
    transformers = require("transformers")
    weight = next(model.parameters())
    # In the model's dtype before loading: loading float64 weights into float32 parameters would round them.
    hf = transformers.GPT2LMHeadModel(hf_config(cfg)).to(dtype=weight.dtype)
    hf.load_state_dict(hf_state_dict(model), strict=True)
    return hf.to(device=weight.device).eval()


def tokenizer() -> Any:
    """A ``transformers`` tokenizer of the shared vocabulary: one space-separated name per token (``TOKENS``).

    ``tokenizer("<tag2> 3 e 0 <sep>").input_ids`` gives token ids and ``decode`` names
    them. Which task a tag slot stands for depends on the ladder (``Ladder.task(name).tag``;
    ``ladder export`` writes them down). An unknown name is an error, never a guess.
    """
    tokenizers, transformers = require("tokenizers"), require("transformers")
    if len(TOKENS) != vocab.D_VOCAB:  # the vocabulary's layout changed without its names here
        raise RuntimeError(f"{len(TOKENS)} token names for a vocabulary of {vocab.D_VOCAB}")
    words = tokenizers.Tokenizer(tokenizers.models.WordLevel({t: i for i, t in enumerate(TOKENS)}, unk_token=None))
    words.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=words, pad_token=TOKENS[vocab.PAD], eos_token=TOKENS[vocab.PAD]
    )

"""The ``gpt`` family in TransformerLens: a ``TransformerBridge`` around the model's Hugging Face conversion.

TransformerLens 4 removed ``HookedTransformer``; its models come through
``TransformerBridge``, and ``TransformerBridge.boot_transformers(name,
hf_model=..., tokenizer=...)`` is its public way to wrap a model already in
memory. Given both, it reads nothing from the Hub. The bridge's logits are
GPT-2's (no weight folding or centring: ``enable_compatibility_mode()`` would
fold LayerNorm into the weights and change what the hook points hold).

Our hook points are named after TransformerLens's, and hold the same values,
except those in ``LENS_NAMES``; ``lens_name`` maps any of ours to its name there.
"""

from __future__ import annotations

import re
from typing import Any

from torch import nn

from harness.neurons.hf import require, to_hf, tokenizer

# Ours -> TransformerLens's, where the names differ ({i} is the block). Our LayerNorms' hook_normalized is their
# output, after weight and bias; the bridge's hook_normalized is (x - mean) / scale, before them, and its hook_out
# is the output.
LENS_NAMES = {
    "blocks.{i}.ln1.hook_normalized": "blocks.{i}.ln1.hook_out",
    "blocks.{i}.ln2.hook_normalized": "blocks.{i}.ln2.hook_out",
    "ln_final.hook_normalized": "ln_final.hook_out",
}
# Same name, other representation: blocks.{i}.attn.hook_attn_scores holds -inf at masked (future) positions in our
# models and the dtype's most negative finite number in the bridge; the other entries, and hook_pattern, agree.
MODEL_NAME = "emergence-ladder-gpt"  # what the bridge records as cfg.model_name; never looked up


def lens_name(hook: str) -> str:
    """The TransformerLens name of one of our hook points (``blocks.1.ln1.hook_normalized`` -> ``...ln1.hook_out``)."""
    template = re.sub(r"^blocks\.\d+\.", "blocks.{i}.", hook)
    if template not in LENS_NAMES:
        return hook
    block = re.match(r"^blocks\.(\d+)\.", hook)
    return LENS_NAMES[template].format(i=block.group(1) if block else "")


def to_transformer_lens(model: nn.Module) -> Any:
    """A TransformerLens ``TransformerBridge`` of a ``gpt`` model (a converted copy), on the model's device and dtype.

    ``bridge.run_with_cache(tokens)`` gives the logits and every hook point; pass
    token ids ((B, T) int64) as to our model. String inputs are tokenized with
    ``harness.neurons.hf.tokenizer()`` and get no BOS prepended (our models have none).
    Any other family raises a ``UserError``.
    """
    hf = to_hf(model)  # the bridge replaces this copy's submodules in place, never those of `model`
    bridge_module = require("transformer_lens.model_bridge", "transformer-lens")
    weight = next(model.parameters())
    bridge = bridge_module.TransformerBridge.boot_transformers(
        MODEL_NAME, hf_model=hf, tokenizer=tokenizer(), device=weight.device, dtype=weight.dtype
    )
    bridge.cfg.default_prepend_bos = False
    return bridge

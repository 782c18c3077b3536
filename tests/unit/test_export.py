"""``ladder export`` and loading by folder name: the exported folder loads back offline and computes what we do.

The results folder is made by the store's own code (a checkpoint saved and committed as
``ladder run`` does, of random weights), so nothing is trained here.
"""

from __future__ import annotations

import dataclasses
import json

import torch
from click.testing import CliRunner

import harness
from harness.cli import main
from harness.ladders.ladder import load_ladder
from harness.neurons.exporting import PROVENANCE, provenance
from harness.neurons.loading import find_checkpoint
from harness.training.store import ARCHIVED, CHECKPOINT, WEIGHTS, ResultsStore, pair_key
from tests.unit.conftest import STEP
from tests.unit.interp_models import needs_interp


def export(*args: str):
    return CliRunner().invoke(main, ["export", "--seed", "0", *args])


def test_load_model_takes_the_results_folder_as_a_string_or_a_path(stored):
    by_path = harness.load_model("smoke", "s1", 0, out=stored)
    by_string = harness.load_model("smoke", "s1", 0, out=str(stored))
    for name, value in by_path.state_dict().items():
        assert torch.equal(value, by_string.state_dict()[name])


def test_provenance_names_the_committed_file_the_weights_came_from(stored):
    ckpt = find_checkpoint("smoke", "s1", 0, STEP, stored)
    assert provenance(ckpt)["source"] == CHECKPOINT
    for source in (ARCHIVED, WEIGHTS):  # as load_model finds them in a clone without checkpoints
        assert provenance(dataclasses.replace(ckpt, source=source))["source"] == source


@needs_interp
def test_an_exported_folder_loads_back_offline_and_computes_what_we_do(stored, tmp_path):
    from transformer_lens.model_bridge import TransformerBridge
    from transformers import AutoTokenizer, GPT2LMHeadModel

    folder = tmp_path / "s1"
    result = export("--ladder", "smoke", "--rung", "s1", "-o", str(folder), "--out", str(stored))
    assert result.exit_code == 0, result.output
    assert f"Exported rung s1 seed 0 step {STEP} of ladder 'smoke'" in result.output
    assert {"config.json", "model.safetensors", "tokenizer.json", PROVENANCE} <= {p.name for p in folder.iterdir()}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "the staging folder was left behind"

    ours = harness.load_model("smoke", "s1", 0, out=stored)
    x = torch.randint(0, ours.cfg.d_vocab, (4, ours.cfg.n_ctx), generator=torch.Generator().manual_seed(0))
    theirs = GPT2LMHeadModel.from_pretrained(folder, local_files_only=True).eval()
    bridge = TransformerBridge.boot_transformers(str(folder), device="cpu")
    with torch.no_grad():
        logits = ours(x)  # (4, n_ctx, d_vocab)
        torch.testing.assert_close(theirs(x).logits, logits, atol=1e-5 * logits.abs().max().item(), rtol=0)
        torch.testing.assert_close(bridge(x), logits, atol=1e-5 * logits.abs().max().item(), rtol=0)

    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    assert tokenizer("<tag2> 3 e 0 <sep> 0 3 e").input_ids == [4, 21, 32, 18, 1, 18, 21, 32]
    assert tokenizer.decode([0, 1, 49]) == "<pad> <sep> v"

    about = json.loads((folder / PROVENANCE).read_text())
    entry = ResultsStore.of(load_ladder("smoke"), stored).manifest()["runs"][pair_key("s1", 0)]
    assert about["source"] == "checkpoint" and about["source_sha256"] == entry["checkpoints"][0]["sha256"]
    assert (about["ladder"], about["rung"], about["seed"], about["step"]) == ("smoke", "s1", 0, STEP)
    assert about["params"] == sum(p.numel() for p in theirs.parameters()) == ours.cfg.n_params()
    tags = {t.name: t.tag for t in load_ladder("smoke").tasks}
    assert about["tags"] == {name: f"<tag{slot}>" for name, slot in tags.items()}


@needs_interp
def test_replace_only_replaces_an_earlier_export(stored, tmp_path):
    folder = tmp_path / "model"
    common = ("--ladder", "smoke", "--rung", "s1", "-o", str(folder), "--out", str(stored))
    assert export(*common).exit_code == 0
    again = export(*common)
    assert again.exit_code == 2 and "already exists and is not overwritten" in again.output
    (folder / "config.json").write_text("{}")
    assert export(*common, "--replace").exit_code == 0
    assert json.loads((folder / "config.json").read_text())["n_layer"] == 2

    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep me")
    refused = export("--ladder", "smoke", "--rung", "s1", "-o", str(foreign), "--out", str(stored), "--replace")
    assert refused.exit_code == 2 and "holds files that 'ladder export' did not write" in refused.output
    assert (foreign / "mine.txt").read_text() == "keep me"


def test_a_mixer_rung_is_refused_and_nothing_is_written(stored, tmp_path):
    folder = tmp_path / "m0"
    result = export("--ladder", "mixer", "--rung", "m0", "-o", str(folder), "--out", str(stored))
    assert result.exit_code == 2
    assert "'mixer' family, which has no equivalent in Hugging Face's or TransformerLens's" in " ".join(
        result.output.split()
    )
    assert list(tmp_path.iterdir()) == []

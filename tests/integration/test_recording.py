"""Trained models back from the store: load_model's checks, ladder record, --restore, and the worked example."""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

import harness
from harness.errors import UserError
from harness.files import sha256_file
from harness.ladders.ladder import load_ladder
from harness.neurons import internals_table
from harness.neurons.recording import record
from harness.tasks import vocab
from harness.training import integrity
from harness.training.store import ResultsStore
from tests.integration.common import ROOT, cli, cli_fails, cli_line

LADDER = load_ladder("smoke")


def ladder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A results root holding a fresh smoke ladder run (do not modify; copy it with ``store``)."""
    out = tmp_path_factory.mktemp("trained")
    proc = ladder("run", "--ladder", "smoke", "--out", str(out), "--wandb", "disabled")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture
def store(trained, tmp_path) -> Path:
    """A copy of the trained results root that a test may damage."""
    shutil.copytree(trained, tmp_path / "results")
    return tmp_path / "results"


def final_checkpoint(out: Path, rung: str) -> Path:
    return next((out / "smoke" / "checkpoints" / rung / "seed0").glob(f"step{LADDER.spec.training.steps:07d}.pt"))


def test_load_model_gives_the_trained_model_in_eval_mode(trained):
    model = harness.load_model("smoke", "s1", 0, out=trained)
    assert not model.training
    blob = torch.load(final_checkpoint(trained, "s1"), weights_only=True)
    for name, value in model.state_dict().items():
        assert torch.equal(value, blob["state_dict"][name])
    first = harness.load_model("smoke", "s1", 0, step=0, out=trained)
    assert not torch.equal(first.unembed.weight, model.unembed.weight)
    with pytest.raises(UserError, match="no checkpoint at step 7; its checkpoints are at steps 0, "):
        harness.load_model("smoke", "s1", 0, step=7, out=trained)
    with pytest.raises(
        UserError, match="has not been trained with seed 3 .* 'ladder run --ladder smoke --seeds 3 --rungs s1 --out "
    ):
        harness.load_model("smoke", "s1", 3, out=trained)
    with pytest.raises(UserError, match="Did you mean 's1'"):
        harness.load_model("smoke", "s11", 0, out=trained)


def test_a_tampered_checkpoint_is_refused(store):
    path = final_checkpoint(store, "s0")
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(
        UserError,
        match="does not match the sha256 .* not loaded. Delete it and recreate it with "
        "'ladder run --ladder smoke --seeds 0 --rungs s0 --out .* --restore'",
    ):
        harness.load_model("smoke", "s0", 0, out=store)
    message = cli_fails(
        "record",
        "--ladder",
        "smoke",
        "--rung",
        "s0",
        "--seed",
        "0",
        "--task",
        "copy",
        "--out",
        str(store),
        "-o",
        str(store / "x.safetensors"),
    )
    assert "does not match the sha256" in message and not (store / "x.safetensors").exists()


def test_a_checkpoint_of_the_gpt_family_before_gpt2_shape_gets_a_clear_error(store):
    # What the gpt family wrote before it dropped its unembedding bias: no family_version, one more tensor.
    path = final_checkpoint(store, "s0")
    blob = torch.load(path, weights_only=True)
    del blob["family_version"]
    blob["state_dict"]["unembed.bias"] = torch.zeros(vocab.D_VOCAB)
    torch.save(blob, path)
    manifest_path = store / "smoke" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for ckpt in manifest["runs"]["s0/seed0"]["checkpoints"]:
        if ckpt["path"].endswith(path.name):
            ckpt["sha256"] = sha256_file(path)  # recorded as it was trained then, so only the version differs
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(
        UserError, match="trained by version 1 of the gpt family.* version 2: the unembedding lost its bias"
    ):
        harness.load_model("smoke", "s0", 0, out=store)


def test_missing_checkpoint_names_the_command_that_restores_it_byte_identically(store):
    path = final_checkpoint(store, "s1")
    path.unlink()
    with pytest.raises(UserError) as err:
        harness.load_model("smoke", "s1", 0, out=store)
    command = str(err.value).split("Recreate it with '")[1].split("'")[0]
    assert command == f"ladder run --ladder smoke --seeds 0 --rungs s1 --out {store} --restore"
    assert "train a copy of your own with 'ladder run --ladder smoke --seeds 0 --rungs s1 --out DIR'" in str(err.value)
    curves, manifest = (
        (store / "smoke" / "curves.parquet").read_bytes(),
        (store / "smoke" / "manifest.json").read_bytes(),
    )
    proc = ladder(*command.split()[1:], "--wandb", "disabled")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Restoring checkpoints by retraining" in proc.stdout and "Training 1 pair" in proc.stdout
    assert (store / "smoke" / "curves.parquet").read_bytes() == curves and (
        store / "smoke" / "manifest.json"
    ).read_bytes() == manifest
    harness.load_model("smoke", "s1", 0, out=store)  # the restored file passes the sha256 check
    again = ladder("run", "--ladder", "smoke", "--out", str(store), "--restore", "--wandb", "disabled")
    assert again.returncode == 0 and "rung s1 seed 0: checkpoints intact or not trained yet, skipped" in " ".join(
        again.stdout.split()
    )


def test_restore_keeps_nothing_that_differs_from_the_recorded_checkpoints(store):
    manifest_path = store / "smoke" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["runs"]["s0/seed0"]["checkpoints"][0]["sha256"] = "0" * 64  # as if trained elsewhere
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    before = {p: sha256_file(p) for p in (store / "smoke").rglob("*") if p.is_file()}
    proc = ladder("run", "--ladder", "smoke", "--out", str(store), "--rungs", "s0", "--restore", "--wandb", "disabled")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "retrained checkpoints differ from the recorded ones (steps [0])" in " ".join(proc.stdout.split())
    after = {p: sha256_file(p) for p in (store / "smoke").rglob("*") if p.is_file() and p.name != ".lock"}
    assert after == {p: h for p, h in before.items() if p.name != ".lock"}, (
        "nothing stored changed and nothing was left behind"
    )
    assert "--force and --restore do not go together" in cli_fails(
        "run", "--ladder", "smoke", "--out", str(store), "--force", "--restore"
    )
    assert "--restore and --retime do not go together" in cli_fails(
        "run", "--ladder", "smoke", "--out", str(store), "--restore", "--retime"
    )
    assert "Did you mean 's1'" in cli_fails(
        "run", "--ladder", "smoke", "--out", str(store), "--rungs", "s11", "--restore"
    )
    for bad in ("s1,s1", ","):
        assert "must list distinct rung names" in cli_fails(
            "run", "--ladder", "smoke", "--out", str(store), "--rungs", bad
        )


def test_retime_records_a_new_wall_time_only_for_byte_identical_checkpoints(store):
    folder = store / "smoke"
    manifest_path = folder / "manifest.json"
    files = {p: sha256_file(p) for p in folder.rglob("*") if p.is_file() and p != manifest_path and p.name != ".lock"}
    before = json.loads(manifest_path.read_text())["runs"]
    proc = ladder("run", "--ladder", "smoke", "--out", str(store), "--rungs", "s0", "--retime", "--wandb", "disabled")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Re-measuring wall times by retraining" in proc.stdout and "Training 1 pair" in proc.stdout
    runs = json.loads(manifest_path.read_text())["runs"]
    retimed = runs["s0/seed0"]
    assert retimed["earlier_wall_times_s"] == [before["s0/seed0"]["wall_time_s"]] and "retimed_at" in retimed
    assert {k: v for k, v in retimed.items() if k not in ("wall_time_s", "earlier_wall_times_s", "retimed_at")} == {
        k: v for k, v in before["s0/seed0"].items() if k != "wall_time_s"
    }
    assert runs["s1/seed0"] == before["s1/seed0"]
    after = {p: sha256_file(p) for p in folder.rglob("*") if p.is_file() and p != manifest_path and p.name != ".lock"}
    assert after == files, "curves and checkpoints unchanged, the retrained files gone"

    manifest = json.loads(manifest_path.read_text())
    manifest["runs"]["s1/seed0"]["checkpoints"][-1]["sha256"] = "0" * 64  # as if trained elsewhere
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    stored = manifest_path.read_bytes()
    proc = ladder("run", "--ladder", "smoke", "--out", str(store), "--rungs", "s1", "--retime", "--wandb", "disabled")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "its recorded wall time stands" in " ".join(proc.stdout.split())
    assert manifest_path.read_bytes() == stored and not (folder / "checkpoints" / "s1" / "seed0.partial").exists()


def test_ladder_record_writes_every_hook_with_its_metadata(trained, tmp_path):
    out = tmp_path / "rec" / "s1.safetensors"
    args = [
        "record",
        "--ladder",
        "smoke",
        "--rung",
        "s1",
        "--seed",
        "0",
        "--task",
        "mod_add",
        "--n",
        "40",
        "--out",
        str(trained),
        "-o",
        str(out),
    ]
    text = cli(*args)
    assert "Recorded 33 hook points on 40 'mod_add' examples" in text
    model = harness.load_model("smoke", "s1", 0, out=trained)
    expected = record(model, "mod_add", n=40, seed=0)
    stored = load_file(out)
    assert stored.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(stored[key], value), key
    with safe_open(out, "pt") as f:
        meta = f.metadata()
    assert meta["ladder_hash"] == LADDER.hash and meta["task_version"] == str(LADDER.task_versions["mod_add"])
    assert meta["step"] == str(LADDER.spec.training.steps) and meta["rung"] == "s1" and meta["hooks"] == "*"
    assert meta["source"] == "checkpoint" and meta["source_sha256"] == sha256_file(final_checkpoint(trained, "s1"))
    assert "already exists and is not overwritten" in cli_fails(*args)
    assert not list(out.parent.glob(".*.tmp"))


def test_ladder_record_writes_a_block_before_computing_the_next(trained, tmp_path, monkeypatch):
    """Streaming: when block 1 starts, exactly the header, the examples, the embeddings and block 0 are on disk."""
    from harness.neurons import recording
    from harness.neurons.loading import load_checkpoint

    sizes: list[int] = []

    def load(ckpt):
        model = load_checkpoint(ckpt)
        model.blocks[1].register_forward_pre_hook(
            lambda *_: sizes.append(sum(p.stat().st_size for p in tmp_path.glob(".*.tmp")))
        )
        return model

    monkeypatch.setattr("harness.neurons.loading.load_checkpoint", load)
    out = tmp_path / "b.safetensors"
    recording.record_file("smoke", "s1", 0, "final", "copy", 64, 0, None, out, trained)
    data = out.read_bytes()
    header_len = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + header_len])
    before_block1 = max(
        v["data_offsets"][1]
        for k, v in header.items()
        if k != "__metadata__" and not k.startswith(("blocks.1.", "ln_final", "correct"))
    )
    assert (
        sizes[-1] == 8 + header_len + before_block1
    )  # the last call is the streamed pass (the first probes shapes on one example)


def test_record_refuses_hooks_and_tasks_it_cannot_record(trained, tmp_path):
    base = [
        "record",
        "--ladder",
        "smoke",
        "--rung",
        "s0",
        "--seed",
        "0",
        "--out",
        str(trained),
        "-o",
        str(tmp_path / "x.safetensors"),
    ]
    message = cli_fails(*base, "--task", "copy", "--hooks", "blocks.*.attn.hook_patern")
    assert "matches no hook point" in message and "blocks.0.attn.hook_pattern" in message
    assert "Did you mean 'copy'" in cli_fails(*base, "--task", "copyy")
    assert "neither a number nor 'final'" in cli_fails(*base, "--task", "copy", "--step", "last")
    assert not (tmp_path / "x.safetensors").exists()


def test_the_readme_worked_example_runs_on_the_smoke_ladder(trained):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "induction_heads.py"),
            "--ladder",
            "smoke",
            "--out",
            str(trained),
            "--n",
            "64",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith("rung") and [line.split()[0] for line in lines[1:]] == ["s0", "s1"]
    scores = [
        float(s) for line in lines[1:] for s in line.split("  ")[-1].replace("|", " ").split() if not s.startswith("L")
    ]
    assert len(scores) == 2 + 2 * 4 and all(0 <= s <= 1 for s in scores)


def test_induction_score_measures_attention_to_the_token_after_the_previous_occurrence():
    example = runpy.run_path(str(ROOT / "examples" / "induction_heads.py"))
    tokens = torch.tensor([[7, 1, 2, 3, 1, 2, 2]])  # 1 and 2 repeat: positions 4, 5 and 6 have an induction target
    assert example["induction_targets"](tokens).tolist() == [
        [-1, -1, -1, -1, 2, 3, 3]
    ]  # 6: 2's latest earlier occurrence (at 4+1=5) is too close, so 2 at 2
    T = tokens.shape[1]
    uniform = torch.ones(T, T).tril() / torch.arange(1, T + 1)[:, None]
    perfect = uniform.clone()
    for query, key in ((4, 2), (5, 3), (6, 3)):
        perfect[query] = torch.nn.functional.one_hot(torch.tensor(key), T).float()
    pattern = torch.stack([perfect, uniform])[None]  # (1, 2 heads, T, T)
    scores = example["induction_scores"](pattern, tokens)
    assert scores[0] == 1 and scores[1] == pytest.approx((1 / 5 + 1 / 6 + 1 / 7) / 3)


@pytest.mark.slow
def test_induction_heads_form_in_the_second_layer_of_a_two_layer_rung(tmp_path):
    """The README's worked example, for real: about 75 s of training on 2 cores."""
    proc = ladder(
        "run",
        "--ladder",
        "induction",
        "--seeds",
        "0",
        "--rungs",
        "i0,i2",
        "--out",
        str(tmp_path),
        "--wandb",
        "disabled",
    )
    assert proc.returncode == 0, proc.stderr
    example = runpy.run_path(str(ROOT / "examples" / "induction_heads.py"))
    scores = {}
    for rung in ("i0", "i2"):
        rec = record(
            harness.load_model("induction", rung, 0, out=tmp_path),
            "induction",
            n=256,
            seed=0,
            hooks="blocks.*.attn.hook_pattern",
        )
        scores[rung] = [
            example["induction_scores"](rec[f"blocks.{i}.attn.hook_pattern"], rec["input"])
            for i in range(2 if rung == "i2" else 1)
        ]
        assert rec["correct"].float().mean() == (0 if rung == "i0" else pytest.approx(1, abs=0.05))
    assert scores["i0"][0].max() < 0.2 and scores["i2"][0].max() < 0.2
    assert scores["i2"][1].max() > 0.9


def test_internals_of_the_smoke_ladder_and_restoring_what_is_missing(store):
    """`ladder internals` measures every stored checkpoint (the documented columns), draws its figure, brings
    back a deleted checkpoint first when its pair needs measuring (the table is the same either way), and measures
    only the pairs of a seed trained later."""
    from harness.neurons.internals import COLUMNS

    out = cli("internals", "--ladder", "smoke", "--out", str(store))
    assert "Restoring" not in out
    table = pd.read_parquet(store / "smoke" / "internals.parquet")
    assert list(table.columns) == COLUMNS
    manifest = json.loads((store / "smoke" / "manifest.json").read_text())
    n_checkpoints = sum(len(run["checkpoints"]) for run in manifest["runs"].values())
    assert table.groupby(["rung", "seed", "step"]).ngroups == n_checkpoints
    assert set(table["measure"]) == {
        "weight_norm", "prev_token", "induction", "fourier_share", "solved_share", "source_attention"
    }  # fmt: skip
    heads = table[table["measure"] == "induction"].groupby(["rung", "seed", "step"]).size()
    assert set(heads) == {2, 2 * 4}  # s0: one layer of 2 heads; s1: two layers of 4
    assert (table.loc[table["measure"] == "fourier_share", "task"] == "mod_add").all()
    sources = table[table["measure"] == "source_attention"]
    assert (sources["task"] == "copy").all() and set(sources.groupby(["rung", "seed", "step"]).size()) == {2, 2 * 4}
    solved = table[table["measure"] == "solved_share"]
    assert set(solved.groupby(["rung", "seed", "step"])["task"].agg(frozenset)) == {frozenset({"copy", "mod_add"})}
    per_task = table[table["task"] != ""]
    assert per_task["value"].between(0, 1).all() and (table.loc[table["task"] == "", "measure"] != "solved_share").all()
    assert (store / "smoke" / "internals.png").stat().st_size > 10_000
    # A table written before the per-task measures is kept, and the command says what it lacks.
    internals_table.write(ResultsStore.of(LADDER, store), table[table["task"] == ""].reset_index(drop=True))
    older = cli_line("internals", "--ladder", "smoke", "--out", str(store))
    assert "predates the measures fourier_share, solved_share, source_attention" in older
    internals_table.write(ResultsStore.of(LADDER, store), table)
    final_checkpoint(store, "s1").unlink()
    assert "measured already" in cli("internals", "--ladder", "smoke", "--out", str(store))  # nothing to restore
    (store / "smoke" / "internals.parquet").unlink()
    again = cli("internals", "--ladder", "smoke", "--out", str(store))
    assert "Restoring the checkpoints of 1 pair(s)" in again and "Restored in" in again
    pd.testing.assert_frame_equal(pd.read_parquet(store / "smoke" / "internals.parquet"), table)
    # Another seed trained later: only its checkpoints are measured, the stored rows kept as they were.
    cli("run", "--ladder", "smoke", "--seeds", "1", "--out", str(store), "--wandb", "disabled")
    more = cli_line("internals", "--ladder", "smoke", "--out", str(store))
    assert "(2 pairs were measured before)" in more and "Restoring" not in more
    grown = pd.read_parquet(store / "smoke" / "internals.parquet")
    assert set(grown["seed"]) == {0, 1}
    pd.testing.assert_frame_equal(grown[grown["seed"] == 0].reset_index(drop=True), table)


def test_reference_weights_stand_in_for_absent_final_checkpoints(store, tmp_path):
    """`ladder weights` commits the final weights as safetensors; with the checkpoints gone (a fresh clone)
    load_model and ladder record use them, checked against the manifest's sha256; verify sees damage."""
    before = {n: t.clone() for n, t in harness.load_model("smoke", "s1", 0, out=store).state_dict().items()}
    assert "2 of 2 pairs written" in cli_line("weights", "--ladder", "smoke", "--out", str(store))
    assert "0 of 2 pairs written" in cli_line("weights", "--ladder", "smoke", "--out", str(store))
    manifest = json.loads((store / "smoke" / "manifest.json").read_text())
    recorded = manifest["runs"]["s1/seed0"]["weights"]
    path = store / "smoke" / recorded["path"]
    assert path.suffix == ".safetensors" and sha256_file(path) == recorded["sha256"]
    shutil.rmtree(store / "smoke" / "checkpoints")
    after = harness.load_model("smoke", "s1", 0, out=store).state_dict()
    assert all(torch.equal(before[n], after[n]) for n in before)
    cli("record", "--ladder", "smoke", "--rung", "s1", "--seed", "0", "--task", "copy", "-o", str(tmp_path / "a.st"),
        "--out", str(store))  # fmt: skip
    assert (tmp_path / "a.st").stat().st_size > 0
    with pytest.raises(UserError, match="no checkpoint at step 7|is not on disk"):
        harness.load_model("smoke", "s1", 0, step=0, out=store)  # only the final step has committed weights
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"Reference weights .* does not match the sha256 .*git checkout"):
        harness.load_model("smoke", "s1", 0, out=store)
    found, _ = integrity.problems(ResultsStore.of(LADDER, store))  # what ladder verify reports
    assert any(str(path) in str(p) and "sha256" in str(p) for p in found)


def test_reference_weights_fail_cleanly_and_write_nothing_on_failure(store):
    """Both the checkpoint and the weights gone: one paragraph naming both fixes. A missing source checkpoint:
    ladder weights writes no file at all. A weights file nobody records: verify reports it. --force drops the
    retrained pair's old weights."""
    cli("weights", "--ladder", "smoke", "--out", str(store))
    manifest = json.loads((store / "smoke" / "manifest.json").read_text())
    s1 = store / "smoke" / manifest["runs"]["s1/seed0"]["weights"]["path"]
    final_checkpoint(store, "s1").unlink()
    s1.unlink()
    message = cli_fails("record", "--ladder", "smoke", "--rung", "s1", "--seed", "0", "--task", "copy", "-o",
                        str(store / "x.st"), "--out", str(store))  # fmt: skip
    assert "Neither the final checkpoint" in message and "git checkout --" in message and "--restore" in message
    before = sorted(p.name for p in (store / "smoke" / "weights").rglob("*"))
    assert "is not on disk, so its reference weights cannot be written; nothing was written" in cli_fails(
        "weights", "--ladder", "smoke", "--out", str(store)
    )
    assert sorted(p.name for p in (store / "smoke" / "weights").rglob("*")) == before
    stray = store / "smoke" / "weights" / "s9" / "seed0.safetensors"
    stray.parent.mkdir()
    stray.write_bytes(b"x")
    found, _ = integrity.problems(ResultsStore.of(LADDER, store))
    assert any(str(stray) in str(p) and "no finished pair records" in str(p) for p in found)
    s0 = store / "smoke" / manifest["runs"]["s0/seed0"]["weights"]["path"]
    assert s0.is_file()
    proc = ladder("run", "--ladder", "smoke", "--rungs", "s0", "--force", "--out", str(store), "--wandb", "disabled")
    assert proc.returncode == 0, proc.stderr
    assert not s0.exists()  # what the pair trained to before --force is no reference any more


def test_the_worked_example_runs_on_the_committed_weights_of_a_fresh_clone(tmp_path):
    """As in a fresh clone (curves, manifest and reference weights, no checkpoints): the induction worked
    example prints the documented scores from the committed models, with no training."""
    shutil.copytree(ROOT / "results" / "induction", tmp_path / "induction", ignore=shutil.ignore_patterns(
        "checkpoints", "batches", "wandb", ".lock"))  # fmt: skip
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "induction_heads.py"), "--ladder", "induction", "--seed", "0",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.strip().splitlines()[1:]}
    assert "L1: 0.98 0.95" in rows["i2"] and rows["i2"].split()[2] == "1.000"  # as docs/neurons.md shows
    assert "L0: 0.12 0.11" in rows["i0"]

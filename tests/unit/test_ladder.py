"""Ladder files: the built-in ladders' shapes, the content hash, and every kind of bad file."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.ladders.ladder import LADDER_DIR, builtin_ladders, load_ladder
from harness.tasks import TASKS

GOOD = textwrap.dedent(
    """\
    name: tiny
    family: gpt
    tasks: {copy: 1.0, mod_add: 2.0}
    training: {steps: 10, batch_size: 8, lr: 0.001}
    seeds: [0]
    model: {n_ctx: 24}
    rungs:
      - {name: a, d_model: 8, n_layers: 1, n_heads: 2}
      - {name: b, d_model: 16, n_layers: 1, n_heads: 2}
    """
)


def write(tmp_path: Path, text: str, name: str = "ladder.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_builtin_ladders_exist():
    assert {"smoke", "cpu", "gpu"} <= set(builtin_ladders())


def test_smoke_ladder_is_small():
    lad = load_ladder("smoke")
    assert len(lad.rungs) == 2 and len(lad.spec.tasks) == 2


def test_cpu_ladder_spans_the_product_requirements():
    lad = load_ladder("cpu")
    assert len(lad.rungs) >= 6
    assert math.log10(lad.rungs[-1].params / lad.rungs[0].params) >= 2.5
    assert set(lad.spec.tasks) == set(TASKS.names())


def test_gpu_ladder_reaches_about_1e8():
    lad = load_ladder("gpu")
    assert len(lad.rungs) >= 8
    assert 5e7 <= lad.rungs[-1].params <= 2e8
    assert lad.spec.training.accelerator == "gpu"


def test_loading_by_path_equals_loading_by_name():
    assert load_ladder(LADDER_DIR / "smoke.yaml").hash == load_ladder("smoke").hash


def test_hash_ignores_comments_but_not_content(tmp_path):
    base = load_ladder(write(tmp_path, GOOD)).hash
    assert load_ladder(write(tmp_path, "# a comment\n" + GOOD, "b.yaml")).hash == base
    assert load_ladder(write(tmp_path, GOOD.replace("steps: 10", "steps: 11"), "c.yaml")).hash != base
    assert len(base) == 64


def test_answers_only_is_hashed_when_on_and_absent_from_the_hash_when_off(tmp_path):
    """Ladders written before the switch existed keep their hashes; turning it on trains other bits."""
    base = load_ladder(write(tmp_path, GOOD)).hash
    off = GOOD.replace("lr: 0.001}", "lr: 0.001, answers_only: false}")
    on = GOOD.replace("lr: 0.001}", "lr: 0.001, answers_only: true}")
    assert load_ladder(write(tmp_path, off, "off.yaml")).hash == base
    assert load_ladder(write(tmp_path, on, "on.yaml")).hash != base


def test_rungs_resolve_with_shared_model_fields(tmp_path):
    lad = load_ladder(write(tmp_path, GOOD))
    assert [r.name for r in lad.rungs] == ["a", "b"]
    assert all(r.config.n_ctx == 24 for r in lad.rungs)
    assert lad.rungs[0].params < lad.rungs[1].params


def test_a_rung_can_override_the_learning_rate(tmp_path):
    lad = load_ladder(write(tmp_path, GOOD.replace("n_heads: 2}\n", "n_heads: 2, lr: 0.0005}\n", 1)))
    assert [r.lr for r in lad.rungs] == [0.0005, 0.001]
    assert [lad.training(r).lr for r in lad.rungs] == [0.0005, 0.001]
    assert lad.training(lad.rungs[0]).steps == lad.spec.training.steps
    assert lad.hash != load_ladder(write(tmp_path, GOOD, "b.yaml")).hash


BAD = {
    "unknown top-level key": (GOOD + "epochs: 3\n", ["epochs: unknown key", "Allowed keys here"]),
    "misspelt training key": (
        GOOD.replace("lr: 0.001", "lr: 0.001, stepz: 3"),
        ["training.stepz: unknown key", "Did you mean 'steps'"],
    ),
    "wrong type": (GOOD.replace("steps: 10", "steps: ten"), ["training.steps", "valid integer", "'ten'"]),
    "heads do not divide": (
        GOOD.replace("d_model: 16, n_layers: 1, n_heads: 2", "d_model: 16, n_layers: 1, n_heads: 3"),
        ["rungs[1] (b)", "n_heads=3 does not divide d_model=16"],
    ),
    "unknown rung key": (GOOD.replace("n_heads: 2}", "n_heads: 2, widht: 3}", 1), ["rungs[0] (a).widht: unknown key"]),
    "context too short": (
        GOOD.replace("n_ctx: 24", "n_ctx: 10"),
        ["n_ctx: 10 is too short for task 'copy'", "set n_ctx >= 17"],
    ),
    "unknown task": (GOOD.replace("copy: 1.0", "cpoy: 1.0"), ["tasks.cpoy: unknown task", "Did you mean 'copy'"]),
    "unknown family": (
        GOOD.replace("family: gpt", "family: gtp"),
        ["family: unknown model family 'gtp'", "Did you mean 'gpt'"],
    ),
    "rungs not growing": (GOOD.replace("d_model: 16", "d_model: 4"), ["rungs must grow in size"]),
    "missing key": (GOOD.replace("seeds: [0]\n", ""), ["seeds: required key is missing"]),
    "warmup too long": (
        GOOD.replace("lr: 0.001", "lr: 0.001, warmup_steps: 10"),
        ["warmup_steps=10 must be smaller than steps=10"],
    ),
    "bad yaml": (GOOD + "  - {name: c\n", ["not valid YAML at line"]),
    "not a mapping": ("- 1\n- 2\n", ["must hold a mapping"]),
    "d_vocab set": (GOOD.replace("n_ctx: 24", "n_ctx: 24, d_vocab: 99"), ["d_vocab: set by the harness"]),
    "negative rung lr": (GOOD.replace("n_heads: 2}", "n_heads: 2, lr: -1}", 1), ["rungs[0].lr", "greater than 0"]),
    "path in name": (GOOD.replace("name: tiny", "name: ../evil"), ["name: String should match pattern"]),
    "parameter out of range": (
        GOOD.replace("mod_add: 2.0", "mod_add: {modulus: 40, weight: 2.0}"),
        ["tasks.mod_add.modulus", "less than or equal to 32", "(got 40)"],
    ),
    "unknown parameter": (
        GOOD.replace("mod_add: 2.0", "mod_add: {modulos: 23, weight: 2.0}"),
        ["tasks.mod_add.modulos: unknown key", "Did you mean 'modulus'"],
    ),
    "parameters that contradict": (
        GOOD.replace("mod_add: 2.0", "p: {family: sparse_parity, n_bits: 11, k: 12, weight: 2.0}"),
        ["tasks.p", "k=12 exceeds n_bits=11"],
    ),
    "unknown task family": (
        GOOD.replace("mod_add: 2.0", "p: {family: parity, weight: 2.0}"),
        ["tasks.p: unknown task family 'parity'", "Did you mean"],
    ),
    "too few distinct questions": (
        GOOD.replace("mod_add: 2.0", "short: {family: copy, length: 3, alphabet: 6, weight: 2.0}"),
        ["tasks.short: only 216 distinct questions", "choose harder parameters"],
    ),
    "question and answer longer than n_ctx": (
        GOOD.replace("mod_add: 2.0", "long: {family: copy, length: 14, weight: 2.0}"),
        ["too short for task 'long'", "set n_ctx >= 29"],
    ),
    "weight missing": (GOOD.replace("mod_add: 2.0", "mod_add: {modulus: 23}"), ["tasks.mod_add", "weight"]),
    "bad task name": (GOOD.replace("mod_add: 2.0", "Mod-Add: {family: mod_add, weight: 2.0}"), ["task names"]),
    "more tasks than tag slots": (
        GOOD.replace(
            "tasks: {copy: 1.0, mod_add: 2.0}",
            "tasks: {" + ", ".join(f"m{i}: {{family: mod_add, modulus: {16 + i}, weight: 1}}" for i in range(17)) + "}",
        ),
        ["17 tasks, but the vocabulary has 16 task-tag slots"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_ladder_files_get_one_clear_message(tmp_path, case):
    text, needles = BAD[case]
    path = write(tmp_path, text)
    with pytest.raises(UserError) as err:
        load_ladder(path)
    message = str(err.value)
    assert str(path) in message
    for needle in needles:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_several_problems_are_reported_together(tmp_path):
    text = GOOD.replace("steps: 10", "steps: ten").replace("seeds: [0]", "seeds: [0]\nepochs: 1")
    with pytest.raises(UserError, match=r"2 problems"):
        load_ladder(write(tmp_path, text))


def test_non_utf8_file(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(UserError, match="not UTF-8"):
        load_ladder(path)


def test_unknown_builtin_name_suggests():
    with pytest.raises(UserError, match="Did you mean 'smoke'"):
        load_ladder("smok")


def test_missing_path():
    with pytest.raises(UserError, match="does not exist"):
        load_ladder("nowhere/ladder.yaml")


FAMILIES = GOOD.replace(
    "tasks: {copy: 1.0, mod_add: 2.0}",
    "tasks:\n  copy: 1.0\n  mod_add: 2.0\n  m23: {family: mod_add, modulus: 23, weight: 0.5}\n"
    "  parity_k3: {family: sparse_parity, k: 3, n_bits: 14, weight: 0.75}",
)


def test_a_family_at_several_settings(tmp_path):
    """One ladder holds mod_add twice; every setting gets its own tag slot, the first of a family its home slot."""
    lad = load_ladder(write(tmp_path, FAMILIES))
    tasks = {t.name: t for t in lad.tasks}
    assert [t.name for t in lad.tasks] == ["copy", "mod_add", "m23", "parity_k3"]
    assert tasks["copy"].tag == TASKS.get("copy").tag and tasks["mod_add"].tag == TASKS.get("mod_add").tag
    assert tasks["parity_k3"].tag == TASKS.get("sparse_parity").home_tag  # the first sparse_parity: its home slot
    assert len({t.tag for t in lad.tasks}) == 4
    assert tasks["m23"].modulus == 23 and tasks["parity_k3"].k == 3 and len(tasks["parity_k3"].secret) == 3
    assert lad.task_versions["mod_add"] == 2 and lad.task_versions["m23"] == "2:modulus=23"
    assert lad.spec.weights == {"copy": 1.0, "mod_add": 2.0, "m23": 0.5, "parity_k3": 0.75}
    with pytest.raises(UserError, match="Did you mean 'm23'"):
        lad.task("m32")


def test_parameters_are_part_of_the_hash(tmp_path):
    """Another setting changes the hash; the defaults, however written, do not."""
    base = load_ladder(write(tmp_path, GOOD)).hash
    spelled = GOOD.replace("mod_add: 2.0", "mod_add: {family: mod_add, modulus: 31, weight: 2.0}")
    assert load_ladder(write(tmp_path, spelled, "b.yaml")).hash == base
    other = GOOD.replace("mod_add: 2.0", "mod_add: {modulus: 29, weight: 2.0}")
    assert load_ladder(write(tmp_path, other, "c.yaml")).hash != base


# Every forecast in the ledger was made against one of these: more seeds, renamed words and moved code must leave them.
PINNED = {
    "cpu": "edc5b457f57c", "induction": "13f75977dd60", "mixer": "532abf179c85", "smoke": "c4669deccf18",
    "gpu": "0a4b690d951c", "cpu-r1": "44314e8ec1dc", "cpu-r2": "89687b190a82", "cpu-r3": "e50c3d35f6aa",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_committed_ladders_keep_their_hashes(name):
    """Task families, tuning_seeds (once calibration_seeds) and extra seeds trained with --seeds came after these
    results: the ladders and rounds trained and forecast before them hash as they did."""
    assert load_ladder(name).hash.startswith(PINNED[name])


def test_the_old_word_for_tuning_seeds_still_reads(tmp_path):
    """Ladder files written before the rename say calibration_seeds and calibrated; both read as the new fields."""
    old = load_ladder(write(tmp_path, GOOD + "calibration_seeds: [0]\ncalibrated: false\n"))
    assert old.spec.tuning_seeds == [0] and old.spec.tuned is False
    assert old.hash == load_ladder(write(tmp_path, GOOD, "new.yaml")).hash

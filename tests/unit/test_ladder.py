"""Ladder files: the built-in ladders' shapes, the content hash, and every kind of bad file."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.tasks import TASKS
from harness.training.ladder import LADDER_DIR, builtin_ladders, load_ladder

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

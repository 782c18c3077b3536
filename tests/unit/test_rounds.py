"""Drawing rounds (a pure function of template and seed) and judging blindness (against the start of training)."""

from __future__ import annotations

import pytest
import yaml

from harness.forecasts.blindness import judge
from harness.ladders.ladder import load_ladder, parse_ladder
from harness.rounds.draw import draw_settings, round_ladder, round_text
from harness.tasks import TASKS

CPU = load_ladder("cpu")


def test_a_round_is_a_pure_function_of_template_and_seed():
    assert round_text(CPU, 5, "r", "cmd") == round_text(CPU, 5, "r", "cmd")
    assert draw_settings(CPU, 5) != draw_settings(CPU, 6)


@pytest.mark.parametrize("seed", range(8))
def test_every_task_moves_inside_its_round_space(seed):
    """Each task keeps name, family and weight, and takes a valid setting that is not the template's."""
    drawn = draw_settings(CPU, seed)
    assert list(drawn) == [t.name for t in CPU.tasks]
    for task in CPU.tasks:
        space = type(task).round_space
        assert drawn[task.name] not in [t.settings for t in CPU.tasks if t.family == task.family]
        assert all(drawn[task.name][k] in choices for k, choices in space.items())


def test_two_settings_of_one_family_stay_two_tasks_in_every_round(tmp_path):
    """A template may hold a family at several settings: the round draws each a setting of its own, none of the
    template's, so no two of its tasks become one question (facts has four settings to draw from)."""
    path = tmp_path / "twice.yaml"
    path.write_text(
        "name: twice\nfamily: gpt\ntasks: {facts: 1.0, facts_b: {family: facts, n_facts: 256, weight: 1.0}}\n"
        "training: {steps: 10, batch_size: 8, lr: 0.001}\nseeds: [0]\nmodel: {n_ctx: 24}\n"
        "rungs: [{name: a, d_model: 8, n_layers: 1, n_heads: 2}]\n"
    )
    template = load_ladder(path)
    for seed in range(30):
        drawn = draw_settings(template, seed)
        assert drawn["facts"] != drawn["facts_b"], seed
        assert not {drawn["facts"]["n_facts"], drawn["facts_b"]["n_facts"]} & {512, 256}, seed


def test_a_round_file_is_a_valid_ladder_with_the_templates_rungs(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(round_text(CPU, 3, "cpu-r3x", "ladder round new --seed 3"))
    lad = parse_ladder(path)
    assert lad.spec.round.template == "cpu" and lad.spec.round.template_hash == CPU.hash and lad.spec.round.seed == 3
    assert [r.params for r in lad.rungs] == [r.params for r in CPU.rungs]
    assert lad.spec.training == CPU.spec.training and lad.spec.seeds == list(range(8)) and lad.spec.tuning_seeds == []
    assert lad.spec.weights == CPU.spec.weights
    assert all(not t.is_default for t in lad.tasks) and lad.hash != CPU.hash
    # Every task keeps its family's home tag slot, so the model sees the template's tag tokens.
    assert [t.tag for t in lad.tasks] == [TASKS.get(t.family).home_tag for t in lad.tasks]
    assert yaml.safe_load(path.read_text())["name"] == "cpu-r3x"


def test_the_round_depends_on_the_template_content():
    mapping = round_ladder(CPU, 3, "x")
    assert mapping["round"]["template_hash"] == CPU.hash


SUBMITTED = "2026-11-27T10:00:00+00:00"


@pytest.mark.parametrize(
    ("existed", "started", "recorded", "blind", "words"),
    [
        (False, None, False, True, "no training of this ladder version has started"),
        (False, "2026-11-27T10:00:01+00:00", True, True, "submitted before training started (2026-11-27T10:00:01"),
        (False, "2026-11-27T10:00:00+00:00", True, False, "submitted after training started"),
        (False, "2026-11-27T09:00:00+00:00", False, False, "no later than, from the finished pairs"),
        (True, None, False, False, "results of this ladder version existed"),
        (True, "2026-11-28T00:00:00+00:00", True, False, "existed where it was submitted"),
    ],
)
def test_blindness_is_judged_against_the_start_of_training(existed, started, recorded, blind, words):
    verdict, rule = judge(SUBMITTED, existed, started, recorded)
    assert verdict is blind and words in rule and rule.startswith("blind" if blind else "post-hoc")

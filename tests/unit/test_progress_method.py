"""The ``progress`` method and what it reads: features of the internals table, the choice of a measure, the
forecast it makes from a measure whose behaviour is built by hand, and the paired backtest difference.

Questions are built from the committed cpu curves with hand-made internals tables, so what the method should
answer is known.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.forecasts.revealed import LISTING, Revealed
from harness.ladders.ladder import load_ladder
from harness.methods import builtin, progress
from harness.methods.backtest import paired
from harness.methods.evidence import ELSEWHERE, features
from harness.methods.question import Question, ask
from harness.neurons.internals_table import COLUMNS
from harness.truth.ground_truth import measure

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"
CPU = load_ladder("cpu")
LEVEL = 0.5  # the share at which the hand-built capability appears


def rows(*entries: tuple) -> pd.DataFrame:
    """Internals-table rows from (rung, seed, step, measure, task, layer, head, value)."""
    table = pd.DataFrame(entries, columns=["rung", "seed", "step", "measure", "task", "layer", "head", "value"])
    params = {r.name: r.params for r in CPU.rungs}
    return table.assign(ladder="cpu", params=table["rung"].map(params))[COLUMNS]


def test_features_are_each_measures_last_level_and_last_rise_per_task():
    table = rows(
        # source attention of copy: the best head counts, at the last step and the one before
        ("c0", 0, 0, "source_attention", "copy", 0, 0, 0.1), ("c0", 0, 0, "source_attention", "copy", 0, 1, 0.2),
        ("c0", 0, 10, "source_attention", "copy", 0, 0, 0.6), ("c0", 0, 10, "source_attention", "copy", 0, 1, 0.3),
        ("c0", 0, 99, "source_attention", "copy", 0, 0, 0.5), ("c0", 0, 99, "source_attention", "copy", 0, 1, 0.9),
        # the parity share is the first layer's, whatever the second says
        ("c0", 0, 10, "secret_share", "sparse_parity", 0, -1, 0.2),
        ("c0", 0, 10, "secret_share", "sparse_parity", 1, -1, 0.9),
        ("c0", 0, 99, "secret_share", "sparse_parity", 0, -1, 0.7),
        ("c0", 0, 99, "secret_share", "sparse_parity", 1, -1, 0.1),
        # untagged induction heads belong to induction and mqar; weight norms to no task
        ("c0", 0, 99, "induction", "", 1, 0, 0.4), ("c0", 0, 99, "induction", "", 1, 1, 0.8),
        ("c0", 0, 99, "weight_norm", "", 0, -1, 3.0),
    )  # fmt: skip
    found = features(table).set_index(["task", "feature"])["value"]
    assert found[("copy", "source_attention level")] == pytest.approx(0.9)
    assert found[("copy", "source_attention rise")] == pytest.approx(0.9 - 0.6)
    assert found[("sparse_parity", "secret_share level")] == pytest.approx(0.7)
    assert found[("sparse_parity", "secret_share rise")] == pytest.approx(0.5)
    assert found[("induction", "induction level")] == found[("mqar", "induction level")] == pytest.approx(0.8)
    assert ("induction", "induction rise") not in found.index  # measured at one step: a level, no rise
    assert not found.index.get_level_values("feature").str.startswith("weight_norm").any()


def evidence(values: np.ndarray, reached: np.ndarray, feature: str = "solved_share level") -> pd.DataFrame:
    return pd.DataFrame({"task": "facts", "feature": feature, "value": values, "reached": reached})


def test_a_measure_that_separates_is_chosen_and_noise_or_too_little_evidence_is_not():
    rng = np.random.default_rng(0)
    v = rng.uniform(-3, 3, 200)
    good = evidence(v, v > 0.5)
    noise = evidence(rng.uniform(-3, 3, 200), v > 0.5, "source_attention level")
    feature, auc, n, (alpha, beta) = progress._choose(pd.concat([good, noise]))
    assert (feature, auc, n) == ("solved_share level", 1.0, 200)
    assert beta > 0 and -alpha / beta == pytest.approx(0.5, abs=0.3)  # the level where it appears
    assert progress._choose(noise) is None  # AUC about 0.5
    assert progress._choose(evidence(v[:30], v[:30] > 2.9)) is None  # fewer than MIN_EACH pairs with it


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def question_with(share_at: dict[str, float], elsewhere: pd.DataFrame, tmp_path: Path) -> Question:
    """The cpu question from c3 whose internals say: facts' solved share is ``share_at[rung]`` on every seed."""
    base = ask(CPU, RESULTS, "c3")
    table = rows(*[(r, s, 4500, "solved_share", "facts", -1, -1, v) for r, v in share_at.items() for s in (0, 1)])
    shown = Revealed(CPU, "c3", tmp_path, table, pd.DataFrame(columns=LISTING))
    return Question(CPU, "internals", "c3", base.curves, internals=shown, elsewhere=elsewhere)


SHARES = np.linspace(0.02, 0.98, 60)  # facts' solved share on 60 pairs of another ladder
X = {r.name: math.log10(r.params) for r in CPU.rungs}  # log10 size of each rung


def separating() -> pd.DataFrame:
    """Another ladder's evidence: facts is had exactly where its solved share is above LEVEL."""
    return pd.DataFrame(
        {"ladder": "other", "task": "facts", "rung": "c0", "params": 1, "seed": range(len(SHARES)),
         "feature": "solved_share level", "value": SHARES, "reached": SHARES > LEVEL}
    )[ELSEWHERE]  # fmt: skip


def test_progress_follows_a_measure_that_separates_and_leaves_the_rest_to_the_two_step(tmp_path):
    elsewhere, x, shares = separating(), X, SHARES
    # Here its logit grows on a line in log10 size that reaches LEVEL at c5's size.
    slope = 2.0
    share = {r: 1 / (1 + math.exp(-slope * (x[r] - x["c5"]))) for r in ["c0", "c1", "c2", "c3"]}
    question = question_with(share, elsewhere, tmp_path)
    made = progress.progress(question)
    limits = question.thresholds
    two_step = builtin.two_step(CPU, question.curves, "c3", limits["loss"], limits["accuracy"])
    p = made.tasks["facts"].p_emerged
    assert p["c4"] < 0.2 and p["c5"] == pytest.approx(0.5, abs=0.1) and p["c6"] > 0.8 and p["c7"] > p["c6"]
    assert made.tasks["facts"].emergence_quantiles[0.5] == pytest.approx(x["c5"], abs=0.05)
    assert made.tasks["facts"].loss_emergence_quantiles == two_step.tasks["facts"].loss_emergence_quantiles
    assert {t: f for t, f in made.tasks.items() if t != "facts"} == {
        t: f for t, f in two_step.tasks.items() if t != "facts"
    }  # no measure of theirs in this question: the two-step's answers
    assert made.track == "internals" and "facts: solved_share level (AUC 1.00" in made.description
    # The same measure, but saying nothing about who gets facts: the two-step's answer.
    noise = elsewhere.assign(reached=np.random.default_rng(1).permutation(elsewhere["reached"].to_numpy()))
    assert progress.progress(question_with(share, noise, tmp_path)).tasks["facts"] == two_step.tasks["facts"]
    # A measure that falls as the capability appears is read the other way: the same forecast, mirrored.
    falling = progress.progress(
        question_with({r: 1 - v for r, v in share.items()}, elsewhere.assign(value=1 - shares), tmp_path)
    )
    assert falling.tasks["facts"].p_emerged == pytest.approx(p, abs=0.02)
    # A line that moves away from the capability's level as size grows says nothing of the larger rungs.
    away = progress.progress(question_with({r: 1 - v for r, v in share.items()}, elsewhere, tmp_path))
    assert away.tasks["facts"] == two_step.tasks["facts"] and "facts:" not in away.description


def test_the_size_of_emergence_is_where_the_line_reaches_the_level_between_revealed_rungs(tmp_path):
    elsewhere, x = separating(), X
    middle = (x["c1"] + x["c2"]) / 2  # already reached inside the revealed rungs
    share = {r: 1 / (1 + math.exp(-3.0 * (x[r] - middle))) for r in ["c0", "c1", "c2", "c3"]}
    made = progress.progress(question_with(share, elsewhere, tmp_path)).tasks["facts"]
    assert made.emergence_quantiles[0.5] == pytest.approx(x["c2"], abs=1e-3)  # the first revealed rung past it
    assert min(made.p_emerged.values()) > 0.9


def test_a_question_holds_only_other_ladders_internals(tmp_path):
    own = pd.DataFrame([["cpu", "facts", "c0", 1, 0, "solved_share level", 0.1, False]], columns=ELSEWHERE)
    with pytest.raises(ValueError, match="holds its own internals among the others'"):
        question_with({"c0": 0.1}, own, tmp_path)
    with pytest.raises(ValueError, match="an extrapolation-track question about ladder 'cpu' holds other ladders'"):
        Question(CPU, "extrapolation", "c3", ask(CPU, RESULTS, "c3").curves, elsewhere=own.assign(ladder="x"))


def test_a_paired_difference_is_zero_against_itself_and_negative_for_the_oracle():
    truth = measure(CPU, RESULTS, write=False).table
    question = ask(CPU, RESULTS, "c3")
    limits = question.thresholds
    two_step = builtin.two_step(CPU, question.curves, "c3", limits["loss"], limits["accuracy"])
    same = paired(two_step, two_step, CPU, truth, n_boot=50, seed=0).set_index("score")
    assert (same[["difference", "low", "high"]].abs() < 1e-12).all().all()
    assert {"brier", "brier_true", "pinball"} <= set(same.index)
    oracle = builtin.oracle(CPU, truth).model_copy(update={"track": "extrapolation", "revealed_up_to": "c3"})
    better = paired(oracle, two_step, CPU, truth, n_boot=50, seed=0).set_index("score")
    assert better.loc["brier", "difference"] < 0 and better.loc["brier", "high"] < 0

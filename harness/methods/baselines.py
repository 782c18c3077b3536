"""``ladder baselines``: the built-in methods run on a ladder and submitted, with the oracle beside them.

The baselines are the built-in forecasters (``harness.methods.builtin``) as they take part in every
leaderboard: regenerated on the tracks they answer, submitted again only when their answers changed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.forecasts.ledger import Entry, add
from harness.forecasts.schema import dump
from harness.forecasts.track import default_revealed, revealed_rung
from harness.ladders.ladder import Ladder
from harness.methods import builtin
from harness.methods.question import asking_if_shown
from harness.methods.registry import builtin_methods
from harness.methods.running import answer, record_answer, unchanged
from harness.truth.ground_truth import GroundTruth, measure


def write_baselines(
    ladder: Ladder,
    predictions: Path,
    out: Path,
    up_to: str | None = None,
    truth: GroundTruth | None = None,
    say: Callable[[str], None] = print,
) -> list[tuple[Entry, bool]]:
    """Regenerate and submit the built-in methods on the tracks they answer, and the oracle.

    The methods of the extrapolation and internals tracks see the rungs up to ``up_to``, by default the lower
    half of the ladder (``track.default_revealed``). ``template-prior`` is left out: it is made blind, once, when
    a round is drawn (``ladder round new``), and made again after the results exist it would say nothing new.
    Where no model file of the revealed rungs is on disk, the internals track is left out and ``say`` says why.
    """
    up_to = revealed_rung(ladder, up_to or default_revealed(ladder))
    truth = truth or measure(ladder, out)
    made = []
    for method in builtin_methods():
        if method.needs_template:
            continue
        for track in method.tracks:
            with asking_if_shown(ladder, out, track, None if track == "blind" else up_to) as (question, why):
                if question is None:
                    say(f"{method.name}: not made, the internals track cannot be shown here: {why}")
                    continue
                made.append((answer(method, question), method))
    results = [record_answer(forecast, ladder, method, predictions, out) for forecast, method in made]
    oracle = builtin.oracle(ladder, truth.table)  # no method: it reads the truth
    return [
        *results,
        unchanged(oracle, ladder, predictions) or add(oracle, ladder, dump(oracle), "yaml", predictions, out, "oracle"),
    ]

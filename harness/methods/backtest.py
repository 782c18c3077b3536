"""Backtests: a forecasting method run on every resolved ladder and scored there, without submitting anything.

A backtest asks a method the questions of each resolved ladder (every pair of its seeds finished) that it
answers: the blind track, and the extrapolation and internals tracks from one revealed rung, by default the
top of the ladder's lower half (``track.default_revealed``, the rung ``ladder baselines`` uses, so a built-in
method's backtest scores the same questions as its forecast in the ledger, with the same numbers). Each
forecast is scored alone by the scorer that ranks submissions (``harness.scoring.rules``, the same
bootstrap resamples), so its paired difference to the uninformed forecaster is the leaderboard's.

It reads and never writes: nothing goes to the ledger, the results folder or the predictions folder (the
internals track's revealed folders are temporary). A ladder whose revealed rungs have no model files on disk
(neither checkpoints nor reference weights) is skipped on the internals track, with the reason.
The answers are from after the results existed, so a backtest says how a method would have done, never
that it forecast anything blind.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import UserError
from harness.forecasts.schema import Forecast
from harness.forecasts.track import default_revealed
from harness.ladders.ladder import Ladder, builtin_ladders, load_ladder, round_ladders
from harness.methods.question import asking
from harness.methods.registry import Method
from harness.methods.running import answer
from harness.scoring import rules
from harness.scoring.scoreboard import answer_tables, reference
from harness.scoring.table import N_BOOT
from harness.training.store import ResultsStore
from harness.truth.ground_truth import measure

COLUMNS = ["ladder", "track", "revealed_up_to", "score", "value", "ci_low", "ci_high", "coverage", "n_questions"]
PAIRED = ["vs_uninformed", "vs_uninformed_low", "vs_uninformed_high"]


@dataclass(frozen=True)
class Backtest:
    """A method's scores on every question of the resolved ladders it answers, and what it did not answer."""

    method: Method
    scores: pd.DataFrame  # COLUMNS + PAIRED, one row per (ladder, track, score); PAIRED on brier and pinball* rows
    skipped: list[str]  # "ladder (track): why", for the questions the method does not answer


def resolved_ladders(out: Path) -> list[str]:
    """Every built-in ladder and round whose seeds are all finished under ``out``."""
    return [n for n in builtin_ladders() + round_ladders() if ResultsStore.of(load_ladder(n), out).resolved()]


def backtest(
    method: Method,
    out: Path,
    ladders: list[str] | None = None,
    up_to: str | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> Backtest:
    """Run ``method`` on ``ladders`` (default: every resolved one) and score each forecast; write nothing."""
    chosen = [load_ladder(name) for name in ladders] if ladders else [load_ladder(n) for n in resolved_ladders(out)]
    if not chosen:
        raise UserError(f"No resolved ladder under '{out}': a backtest needs every seed of a ladder trained.")
    _check_choice(chosen, out, up_to)
    frames, skipped = [], []
    for ladder in chosen:
        truth = measure(ladder, out, write=False).table
        for track in method.tracks:
            floor = None if track == "blind" else up_to or default_revealed(ladder)
            forecast, why = _forecast(method, ladder, out, track, floor)
            if forecast is None:
                skipped.append(f"{ladder.name} ({track}): {why}")
                continue
            table = score_alone(forecast, ladder, truth, n_boot, seed)
            frames.append(table.assign(ladder=ladder.name, track=track, revealed_up_to=floor))
    if not frames:
        raise UserError(
            f"Method '{method.name}' answers none of the questions of {', '.join(ladder.name for ladder in chosen)}: "
            f"{'; '.join(skipped)}."
        )
    scores = pd.concat(frames, ignore_index=True)[COLUMNS + PAIRED]
    return Backtest(method, scores, skipped)


def _forecast(
    method: Method, ladder: Ladder, out: Path, track: str, floor: str | None
) -> tuple[Forecast | None, str | None]:
    """The method's forecast of ``ladder`` on ``track``, or None and why it was not asked: it does not answer
    that question, or (internals track) the revealed rungs' model files are not on disk."""
    with ExitStack() as stack:
        try:
            question = stack.enter_context(asking(ladder, out, track, floor))
        except UserError as exc:
            if track != "internals":
                raise
            return None, f"its revealed rungs cannot be shown: {exc}"
        why = method.cannot_answer(question)
        return (answer(method, question), None) if why is None else (None, why)


def score_alone(forecast: Forecast, ladder: Ladder, truth: pd.DataFrame, n_boot: int, seed: int) -> pd.DataFrame:
    """The scorer's rows (``rules.score``) of one forecast of ``ladder`` against its emergence table ``truth``,
    with the resamples ``ladder score`` draws for the same ``n_boot`` and ``seed``."""
    out = rules.outcomes(truth, ladder.spec.training.steps)
    return rules.score(out, answer_tables({forecast.forecaster: forecast}), reference(ladder), n_boot=n_boot, seed=seed)


def _check_choice(ladders: list[Ladder], out: Path, up_to: str | None) -> None:
    """Every ladder named must be resolved, and ``up_to`` a rung below the top of each."""
    unresolved = [ladder.name for ladder in ladders if not ResultsStore.of(ladder, out).resolved()]
    if unresolved:
        raise UserError(
            f"Ladder(s) {', '.join(unresolved)} are not resolved under '{out}' (not every seed is trained); a "
            "backtest scores resolved ladders only. Train them with 'ladder run', or leave them out of --ladder."
        )
    lacking = [ladder.name for ladder in ladders if up_to not in [r.name for r in ladder.rungs[:-1]]]
    if up_to is not None and lacking:
        raise UserError(
            f"--up-to '{up_to}' is not a rung below the top of ladder(s) {', '.join(lacking)}. Name the ladders "
            "that have it with --ladder, or leave --up-to out to reveal each ladder's lower half."
        )

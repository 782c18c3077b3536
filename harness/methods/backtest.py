"""Backtests: a forecasting method run on every resolved ladder and scored there, without submitting anything.

A backtest asks a method the questions of each resolved ladder (every pair of its seeds finished) that it
answers: the blind track, and the extrapolation and internals tracks from one revealed rung, by default the
top of the ladder's lower half (``track.default_revealed``, the rung ``ladder baselines`` uses, so a built-in
method's backtest scores the same questions as its forecast in the ledger, with the same numbers). Each
forecast is scored alone by the scorer that ranks submissions (``harness.scoring.rules``, the same
bootstrap resamples), so its paired difference to the uninformed forecaster is the leaderboard's. Set against
other methods (``ladder backtest --against``), each difference is paired the same way: both forecasts scored on
the same questions in the same resamples of tasks and seeds.

It reads and never writes: nothing goes to the ledger, the results folder or the predictions folder (the
internals track's revealed folders are temporary). A ladder whose revealed rungs have no model files on disk
(no checkpoint, archived checkpoint or reference weights) is skipped on the internals track, with the reason.
The answers are from after the results existed, so a backtest says how a method would have done, never
that it forecast anything blind.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import UserError
from harness.forecasts.schema import Forecast
from harness.forecasts.track import default_revealed
from harness.ladders.ladder import Ladder, load_ladder
from harness.methods.evidence import resolved_ladders
from harness.methods.question import asking_if_shown
from harness.methods.registry import Method
from harness.methods.running import answer
from harness.scoring import rules
from harness.scoring.scoreboard import answer_tables, reference
from harness.scoring.table import N_BOOT
from harness.training.store import ResultsStore
from harness.truth.ground_truth import measure

COLUMNS = ["ladder", "track", "revealed_up_to", "score", "value", "ci_low", "ci_high", "coverage", "n_questions"]
PAIRED = ["vs_uninformed", "vs_uninformed_low", "vs_uninformed_high"]
VERSUS = ["ladder", "track", "revealed_up_to", "against", "against_track", "score", "difference", "low", "high"]


@dataclass(frozen=True)
class Backtest:
    """A method's scores on every question of the resolved ladders it answers, and what it did not answer."""

    method: Method
    scores: pd.DataFrame  # COLUMNS + PAIRED, one row per (ladder, track, score); PAIRED on brier and pinball* rows
    skipped: list[str]  # "ladder (track): why", for the questions the method does not answer
    versus: pd.DataFrame | None = None  # VERSUS: the method minus each method it is set against, paired


def backtest(
    method: Method,
    out: Path,
    ladders: list[str] | None = None,
    up_to: str | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
    against: list[Method] | None = None,
) -> Backtest:
    """Run ``method`` on ``ladders`` (default: every resolved one) and score each forecast; write nothing.

    ``against``: methods to set it against on the same questions (``paired``): each is asked the same ladder
    from the same revealed rung, on the method's track if it answers that one, else on the track of its own
    that reveals as much (blind for blind; extrapolation or internals otherwise).
    """
    chosen = [load_ladder(name) for name in ladders] if ladders else [load_ladder(n) for n in resolved_ladders(out)]
    if not chosen:
        raise UserError(f"No resolved ladder under '{out}': a backtest needs every seed of a ladder trained.")
    _check_choice(chosen, out, up_to)
    frames, skipped, versus = [], [], []
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
            for other in against or []:
                theirs, said = _answer_of(other, ladder, out, track, floor)  # said: the track it answered, or why not
                if theirs is None:
                    skipped.append(f"{ladder.name} ({track}) against {other.name}: {said}")
                    continue
                where = {"ladder": ladder.name, "track": track, "revealed_up_to": floor, "against": other.name}
                versus.append(paired(forecast, theirs, ladder, truth, n_boot, seed).assign(**where, against_track=said))
    if not frames:
        raise UserError(
            f"Method '{method.name}' answers none of the questions of {', '.join(ladder.name for ladder in chosen)}: "
            f"{'; '.join(skipped)}."
        )
    scores = pd.concat(frames, ignore_index=True)[COLUMNS + PAIRED]
    compared = pd.concat(versus, ignore_index=True)[VERSUS] if versus else None
    return Backtest(method, scores, skipped, compared)


def _answer_of(other: Method, ladder: Ladder, out: Path, track: str, floor: str | None) -> tuple[Forecast | None, str]:
    """``other``'s forecast to set against one of ``track`` from ``floor``, and the track it answered on; or None
    and why not. It is asked on the same track, or on one of its own that reveals the same rungs (extrapolation
    and internals both reveal the rungs up to the floor)."""
    revealing = [t for t in ("extrapolation", "internals") if t in other.tracks and track != "blind"]
    asked = track if track in other.tracks else revealing[0] if revealing else None
    if asked is None:
        return None, "answers no track that reveals as much"
    theirs, why = _forecast(other, ladder, out, asked, floor)
    return (theirs, asked) if theirs is not None else (None, why)


def paired(
    forecast: Forecast, other: Forecast, ladder: Ladder, truth: pd.DataFrame, n_boot: int, seed: int
) -> pd.DataFrame:
    """``forecast`` minus ``other`` on every lower-is-better question score, on the same questions, with the 95%
    interval of the difference over the scorer's resamples (its ``vs_leader``, with ``other`` the only one
    ranked): one row per score (score, difference, low, high). Negative: ``forecast`` is better."""
    answers = answer_tables({"forecast": forecast, "other": other})
    submissions = answers.submissions.assign(group="together", ranked=[False, True])
    outcomes = rules.outcomes(truth, ladder.spec.training.steps)
    table = rules.score(outcomes, dataclasses.replace(answers, submissions=submissions), reference(ladder),
                        n_boot=n_boot, seed=seed)  # fmt: skip
    rows = table[(table["submission"] == "forecast") & table["vs_leader"].notna()]
    return rows.rename(columns={"vs_leader": "difference", "vs_leader_low": "low", "vs_leader_high": "high"})[
        ["score", "difference", "low", "high"]
    ].reset_index(drop=True)


def _forecast(
    method: Method, ladder: Ladder, out: Path, track: str, floor: str | None
) -> tuple[Forecast | None, str | None]:
    """The method's forecast of ``ladder`` on ``track``, or None and why it was not asked: it does not answer
    that question, or (internals track) the revealed rungs' model files are not on disk."""
    with asking_if_shown(ladder, out, track, floor) as (question, why):
        if question is None:
            return None, f"its revealed rungs cannot be shown: {why}"
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

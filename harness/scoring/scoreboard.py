"""Scoring every submission of a ladder: ledger + stored files + measured truth -> ``scores.parquet``.

The glue between the ledger, the prediction files and the pure scorer in
``harness.scoring.rules``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from harness.errors import UserError
from harness.files import write_table
from harness.forecasts import blindness
from harness.forecasts.ledger import Entry, read_ledger, stored
from harness.forecasts.schema import Forecast, size_quantiles, step_quantiles
from harness.forecasts.track import group
from harness.ladders.ladder import Ladder, builtin_ladders, load_ladder, round_ladders
from harness.scoring import rules
from harness.scoring.table import N_BOOT, SUBMISSION_COLUMNS
from harness.training.store import ResultsStore
from harness.truth.ground_truth import GroundTruth, measure

SCORES_FILE = "scores.parquet"


@dataclass(frozen=True)
class Scoreboard:
    """Every scored submission of one ladder version, with what it was scored against."""

    ladder: Ladder
    truth: GroundTruth
    outcomes: rules.Outcomes
    entries: list[Entry]  # the scored submissions, one per sha256, in ledger order
    forecasts: dict[str, Forecast]  # sha256 -> the stored forecast
    scores: pd.DataFrame  # the long table written to ``path``
    path: Path
    notes: list[str]  # what the user should know (submissions left out)
    predictions: Path  # the predictions folder and results folder it was scored from
    out: Path


def score_ladder(
    ladder: Ladder, predictions: Path, out: Path, n_boot: int = N_BOOT, seed: int = 0, truth: GroundTruth | None = None
) -> Scoreboard:
    """Score every submission for this ladder version; keep ``OUT/<ladder>/scores.parquet`` up to date."""
    entries = [e for e in read_ledger(predictions) if e.ladder == ladder.name]  # a broken ledger is refused first
    truth = truth or measure(ladder, out)
    current = list({e.sha256: e for e in entries if e.ladder_hash == ladder.hash}.values())  # one per stored file
    older = sum(e.ladder_hash != ladder.hash for e in entries)
    notes = (
        [f"{older} submission(s) were written for an older version of ladder '{ladder.name}' and are not scored."]
        if older
        else []
    )
    if not current:
        raise UserError(
            f"No submissions for ladder '{ladder.name}' (hash {ladder.hash[:12]}) in "
            f"'{predictions / 'ledger.jsonl'}'. Submit one with 'ladder submit FILE', or run 'ladder baselines "
            f"--ladder {ladder.name}'."
        )
    forecasts = {e.sha256: stored(predictions, e) for e in current}
    out_table = rules.outcomes(truth.table, ladder.spec.training.steps)
    answers = answer_tables(forecasts)
    oracles = {e.sha256 for e in current if e.kind == "oracle"}  # reads the truth: never a contender
    answers.submissions["ranked"] = ~answers.submissions["submission"].isin(oracles)
    scores = rules.score(out_table, answers, reference(ladder), n_boot=n_boot, seed=seed)
    # Blindness is judged now, against the start of training recorded with the results being scored.
    started, recorded = ResultsStore.of(ladder, out).training_started()
    judged = [blindness.judge(e.submitted_at, e.results_existed, started, recorded) for e in current]
    rows = [{**asdict(e), "blind": blind, "blind_rule": rule} for e, (blind, rule) in zip(current, judged)]
    meta = pd.DataFrame(rows)[SUBMISSION_COLUMNS]
    scores = scores.rename(columns={"submission": "sha256"}).merge(meta, on="sha256")
    scores.insert(0, "ladder", ladder.name)
    path = out / ladder.name / SCORES_FILE
    write_table(path, scores)
    return Scoreboard(ladder, truth, out_table, current, forecasts, scores, path, notes, predictions, out)


def answer_tables(forecasts: dict[str, Forecast]) -> rules.Answers:
    """Forecasts (by submission id) as the scorer's tables, one per kind of answer."""
    subs, probs, quants, accs, losses, steps = [], [], [], [], [], []
    for sid, f in forecasts.items():
        subs.append((sid, f.revealed_up_to, group(f.track, f.revealed_up_to)))
        for task, answers in f.tasks.items():
            probs += [(sid, task, rung, p) for rung, p in answers.p_emerged.items()]
            quants += [(sid, task, level, q) for level, q in answers.emergence_quantiles.items()]
            accs += [(sid, task, rung, a) for rung, a in answers.accuracy.items()]
            losses += [(sid, task, level, q) for level, q in answers.loss_emergence_quantiles.items()]
            steps += [
                (sid, task, rung, level, q)
                for rung, quantiles in answers.emergence_step_quantiles.items()
                for level, q in quantiles.items()
            ]
    return rules.Answers(
        pd.DataFrame(subs, columns=["submission", "floor", "group"]),
        pd.DataFrame(probs, columns=["submission", "task", "rung", "p"]),
        pd.DataFrame(quants, columns=["submission", "task", "level", "q"]),
        pd.DataFrame(accs, columns=["submission", "task", "rung", "accuracy"]),
        pd.DataFrame(losses, columns=["submission", "task", "level", "q"]),
        pd.DataFrame(steps, columns=["submission", "task", "rung", "level", "q"]),
    )


def reference(ladder: Ladder) -> rules.Reference:
    """The uninformed forecaster's quantiles of size and of steps on ``ladder``, as the scorer's tables."""

    def table(quantiles: dict[float, float]) -> pd.DataFrame:
        return pd.DataFrame({"level": list(quantiles), "q": list(quantiles.values())})

    return rules.Reference(table(size_quantiles(ladder)), table(step_quantiles(ladder)))


def pooled_task_scores(predictions: Path, out: Path) -> tuple[pd.DataFrame, list[str]]:
    """Per-task scores of every resolved ladder and round: the latest blind-track forecast of each forecaster.

    Returns (ladder, task, forecaster, score, value, blind) rows, and the ladders pooled. A ladder counts
    once every pair of its seeds is finished under ``out``; the oracle, which reads the truth, is left out.
    """
    entries = read_ledger(predictions)
    frames, pooled = [], []
    for name in builtin_ladders() + round_ladders():
        ladder = load_ladder(name)
        store = ResultsStore.of(ladder, out)
        if not store.resolved():
            continue
        latest = {
            e.forecaster: e
            for e in sorted(entries, key=lambda e: e.submitted_at)
            if e.ladder_hash == ladder.hash and e.track == "blind" and e.kind != "oracle"
        }
        if not latest:
            continue
        started, recorded = store.training_started()
        forecasts = {e.sha256: stored(predictions, e) for e in latest.values()}
        table = rules.task_scores(
            rules.outcomes(measure(ladder, out).table, ladder.spec.training.steps),
            answer_tables(forecasts),
            reference(ladder),
        )
        table["forecaster"] = table["submission"].map({e.sha256: e.forecaster for e in latest.values()})
        table["blind"] = table["submission"].map(
            {
                e.sha256: blindness.judge(e.submitted_at, e.results_existed, started, recorded)[0]
                for e in latest.values()
            }
        )
        frames.append(table.assign(ladder=name))
        pooled.append(name)
    if not frames:
        raise UserError(
            f"No resolved ladder under '{out}' has blind-track submissions in '{predictions / 'ledger.jsonl'}'."
        )
    columns = ["ladder", "task", "forecaster", "score", "value", "blind"]
    return pd.concat(frames, ignore_index=True)[columns], pooled

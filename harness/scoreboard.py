"""Scoring every submission of a ladder: ledger + stored files + measured truth -> ``scores.parquet``.

The glue between the ledger, the prediction files and the pure scorer in
``harness.scoring``; it also regenerates the built-in baselines and writes the
revealed curves of the extrapolation track.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import yaml

from harness import baselines, scoring
from harness.documents import read_mapping
from harness.errors import UserError, did_you_mean
from harness.forecast import KEYS_HINT, LEVELS, Forecast, to_data, uninformed
from harness.ground_truth import GroundTruth, measure, thresholds
from harness.ladder import Ladder
from harness.ledger import Entry, read_ledger, record
from harness.store import ResultsStore, atomic_write, sha256_file

N_BOOT = 2000
META = ["sha256", "forecaster", "kind", "track", "revealed_up_to", "blind", "submitted_at"]


def revealed_rung(ladder: Ladder, up_to: str) -> str:
    """Check that ``up_to`` is a rung below the top of ``ladder``."""
    names = [r.name for r in ladder.rungs]
    if up_to not in names[:-1]:
        raise UserError(f"--up-to '{up_to}' is not a rung below the top of ladder '{ladder.name}'.{did_you_mean(up_to, names)} Choose one of: {', '.join(names[:-1])}.")
    return up_to


def reveal(ladder: Ladder, results_root: Path, up_to: str) -> Path:
    """Write the measured curves of the rungs up to ``up_to`` (nothing above it) for forecasters to study."""
    names = [r.name for r in ladder.rungs]
    keep = names[: names.index(revealed_rung(ladder, up_to)) + 1]
    curves = _curves(ladder, results_root)
    shown = curves[curves["rung"].isin(keep)]
    path = results_root / ladder.name / f"revealed_up_to_{up_to}.parquet"
    buffer = io.BytesIO()
    shown.to_parquet(buffer, index=False)
    atomic_write(path, buffer.getvalue())
    return path


def write_baselines(ladder: Ladder, predictions_root: Path, results_root: Path, up_to: str | None = None) -> list[tuple[Entry, bool]]:
    """Regenerate and submit the three built-in forecasters (the oracle and extrapolator need results).

    The extrapolator sees the rungs up to ``up_to``, by default the lower half of the ladder.
    """
    up_to = up_to or ladder.rungs[len(ladder.rungs) // 2 - 1].name
    truth = measure(ladder, results_root / ladder.name)
    limits = thresholds(list(ladder.spec.tasks))
    made = [
        (uninformed(ladder, "uninformed", description="Probability 0.5 everywhere; quantiles spread evenly in log size over the ladder."), "baseline"),
        (baselines.extrapolator(ladder, _curves(ladder, results_root), revealed_rung(ladder, up_to), limits["loss"], limits["accuracy"]), "baseline"),
        (baselines.oracle(ladder, truth.table), "oracle"),
    ]
    return [
        record(forecast, ladder, yaml.safe_dump(to_data(forecast), sort_keys=False).encode(), "yaml", predictions_root, results_root, kind)
        for forecast, kind in made
    ]


@dataclass(frozen=True)
class Scoreboard:
    """Every scored submission of one ladder version, with what it was scored against."""

    ladder: Ladder
    truth: GroundTruth
    outcomes: scoring.Outcomes
    entries: list[Entry]  # the scored submissions, one per sha256, in ledger order
    forecasts: dict[str, Forecast]  # sha256 -> the stored forecast
    scores: pd.DataFrame  # the long table written to ``path``
    path: Path
    notes: list[str]  # what the user should know (submissions left out)


def score_ladder(ladder: Ladder, predictions_root: Path, results_root: Path, n_boot: int = N_BOOT, seed: int = 0) -> Scoreboard:
    """Score every submission for this ladder version and write ``results/<ladder>/scores.parquet``."""
    truth = measure(ladder, results_root / ladder.name)
    entries = [e for e in read_ledger(predictions_root) if e.ladder == ladder.name]
    current = list({e.sha256: e for e in entries if e.ladder_hash == ladder.hash}.values())  # one per stored file
    older = sum(e.ladder_hash != ladder.hash for e in entries)
    notes = [f"{older} submission(s) were written for an older version of ladder '{ladder.name}' and are not scored."] if older else []
    if not current:
        raise UserError(f"No submissions for ladder '{ladder.name}' (hash {ladder.hash[:12]}) in '{predictions_root / 'ledger.jsonl'}'. Submit one with 'ladder submit FILE', or run 'ladder baselines --ladder {ladder.name}'.")
    forecasts = {e.sha256: _stored(predictions_root, e) for e in current}
    tables = answer_tables(forecasts, [r.name for r in ladder.rungs])
    out = scoring.outcomes(truth.table)
    scores = scoring.score(out, *tables, uninformed_quantiles=uninformed_quantiles(ladder), n_boot=n_boot, seed=seed)
    meta = pd.DataFrame([asdict(e) for e in current])[META]
    scores = scores.rename(columns={"submission": "sha256"}).merge(meta, on="sha256")
    scores.insert(0, "ladder", ladder.name)
    path = results_root / ladder.name / "scores.parquet"
    buffer = io.BytesIO()
    scores.to_parquet(buffer, index=False)
    atomic_write(path, buffer.getvalue())
    return Scoreboard(ladder, truth, out, current, forecasts, scores, path, notes)


def answer_tables(forecasts: dict[str, Forecast], rungs: list[str]) -> tuple[pd.DataFrame, ...]:
    """Flatten forecasts (by submission id) into the scorer's tables: submissions, probabilities, quantiles, accuracies."""
    subs, probs, quants, accs = [], [], [], []
    for sid, f in forecasts.items():
        subs.append((sid, f.revealed_up_to or rungs[0]))
        for task, answers in f.tasks.items():
            probs += [(sid, task, rung, p) for rung, p in answers.p_emerged.items()]
            quants += [(sid, task, level, q) for level, q in answers.emergence_quantiles.items()]
            accs += [(sid, task, rung, a) for rung, a in answers.accuracy.items()]
    return (
        pd.DataFrame(subs, columns=["submission", "floor"]),
        pd.DataFrame(probs, columns=["submission", "task", "rung", "p"]),
        pd.DataFrame(quants, columns=["submission", "task", "level", "q"]),
        pd.DataFrame(accs, columns=["submission", "task", "rung", "accuracy"]),
    )


def uninformed_quantiles(ladder: Ladder) -> pd.DataFrame:
    quantiles = next(iter(uninformed(ladder, "uninformed").tasks.values())).emergence_quantiles
    return pd.DataFrame({"level": list(LEVELS), "q": [quantiles[level] for level in LEVELS]})


def _stored(root: Path, entry: Entry) -> Forecast:
    """A stored copy, read back; it was valid when submitted, so a failure here means it was tampered with."""
    path = root / entry.file
    if not path.is_file() or sha256_file(path) != entry.sha256:
        raise UserError(f"Stored prediction '{path}' is missing or no longer matches its ledger hash {entry.sha256[:12]}; stored forecasts are immutable. Restore it from version control.")
    return Forecast.model_validate(read_mapping(path, "Stored prediction file", KEYS_HINT))


def _curves(ladder: Ladder, results_root: Path) -> pd.DataFrame:
    curves = ResultsStore(results_root / ladder.name, ladder).curves()
    if curves.empty:
        raise UserError(f"No measured curves for ladder '{ladder.name}' under '{results_root / ladder.name}'. Run 'ladder run --ladder {ladder.cli_name}' first.")
    return curves


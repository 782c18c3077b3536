"""The tracks that reveal rungs: which rungs a forecaster has seen, and the file of their curves.

A forecast on the extrapolation or the internals track has seen the measured curves of the
rungs up to its ``revealed_up_to`` rung (its *floor*) and is scored only on the rungs above it
(``harness.scoring.rules.scored_rungs``). The internals track also shows those rungs' weights
over training and their internals table (``harness.forecasts.revealed``). Forecasts are compared
only within their ``group``: the same track from the same revealed rung.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.errors import UserError, did_you_mean
from harness.files import write_table
from harness.forecasts.schema import Track
from harness.ladders.ladder import Ladder
from harness.training.store import ResultsStore


def group(track: Track | str, up_to: str | None) -> str:
    """The group a forecast is ranked and compared in (the same questions, answered knowing the same), in words:
    "blind", or "<track> from <revealed rung>"."""
    return "blind" if track == "blind" else f"{track} from {up_to}"


def in_words(track: Track | str, up_to: str | None) -> str:
    """The track of a question or forecast for a message: "blind track", "internals track from c3"."""
    return "blind track" if track == "blind" else f"{track} track from {up_to}"


def split_rungs(ladder: Ladder, up_to: str | None) -> tuple[list[str], list[str]]:
    """(revealed, hidden) rung names, lowest first: none revealed on the blind track (``up_to`` None), else ``up_to``
    and the rungs below it; the hidden ones are those a forecast is scored on."""
    names = [r.name for r in ladder.rungs]
    cut = 0 if up_to is None else names.index(up_to) + 1
    return names[:cut], names[cut:]


def revealed_rung(ladder: Ladder, up_to: str) -> str:
    """Check that ``up_to`` is a rung below the top of ``ladder``."""
    names = [r.name for r in ladder.rungs]
    if up_to not in names[:-1]:
        raise UserError(
            f"--up-to '{up_to}' is not a rung below the top of ladder '{ladder.name}'.{did_you_mean(up_to, names)} "
            f"Choose one of: {', '.join(names[:-1])}."
        )
    return up_to


def measured_curves(ladder: Ladder, out: Path) -> pd.DataFrame:
    """Every stored curve of ``ladder`` under the results folder ``out``; a ``UserError`` if there are none."""
    curves = ResultsStore.of(ladder, out).curves()
    if curves.empty:
        raise UserError(
            f"No measured curves for ladder '{ladder.name}' under '{out / ladder.name}'. Run 'ladder run --ladder "
            f"{ladder.cli_name}' first."
        )
    return curves


def default_revealed(ladder: Ladder) -> str:
    """The rung a forecaster sees up to when none is named: the top of the ladder's lower half (c3 of 8 rungs).

    ``ladder baselines`` and ``ladder backtest`` share it, so a backtest scores the same questions as the
    extrapolation-track baselines in the ledger.
    """
    return ladder.rungs[len(ladder.rungs) // 2 - 1].name


def revealed_curves(ladder: Ladder, out: Path, up_to: str) -> pd.DataFrame:
    """The measured curves of the rungs up to ``up_to`` and of no rung above it: what the extrapolation track shows
    (the internals track shows them too)."""
    names = [r.name for r in ladder.rungs]
    keep = names[: names.index(revealed_rung(ladder, up_to)) + 1]
    curves = measured_curves(ladder, out)
    return curves[curves["rung"].isin(keep)].reset_index(drop=True)


def reveal(ladder: Ladder, out: Path, up_to: str) -> Path:
    """Write the measured curves of the rungs up to ``up_to`` (nothing above it) for forecasters to study."""
    path = out / ladder.name / f"revealed_up_to_{up_to}.parquet"
    write_table(path, revealed_curves(ladder, out, up_to))
    return path

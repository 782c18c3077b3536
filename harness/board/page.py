"""The leaderboard as one self-contained HTML page: the table, the emergence map, curves and forecasts.

Everything the page shows is inside the file (figures inlined as PNG data
URIs, the sorting script inline), so it opens offline and can be mailed
around. The page is rendered with Jinja2 with autoescaping on: every string
that comes from a prediction file (forecaster, description) or anywhere else
is escaped, so a forecaster named ``<script>`` shows as text.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from harness.board import figures
from harness.board.fmt import (
    BIMODAL_MARK,
    Row,
    bimodal,
    board_columns,
    interval,
    leaderboard_texts,
    number,
    probability_help,
    sci,
    verdicts,
)
from harness.files import atomic_write
from harness.neurons import internals_table
from harness.scoring import table
from harness.scoring.rules import scored_rungs
from harness.scoring.scoreboard import Scoreboard, answer_tables
from harness.training.store import ResultsStore
from harness.truth.emergence import task_order
from harness.truth.ground_truth import thresholds


@dataclass(frozen=True)
class Column:
    label: str
    help: str
    css: str = ""


@dataclass(frozen=True)
class Cell:
    text: str
    sort: str  # what the sorting script compares: a number, text, or "" for missing
    ci: str = ""
    css: str = ""
    tags: list[dict[str, str]] = field(default_factory=list)


def render(board: Scoreboard, standings: pd.DataFrame, across: pd.DataFrame | None = None, home: str = "") -> str:
    """The page's HTML for ``standings`` (rows of ``harness.scoring.ranking.rank_ladder``) of ``board``, with the
    standings across ladders (rows of ``harness.scoring.standings.standings``) when ``across`` is given, and a
    link back to the site's index (``ladder site``) when ``home`` is its relative address."""
    env = Environment(
        loader=PackageLoader("harness.board", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    table, ladder = board.truth.table, board.ladder
    order = task_order(table)
    limits = thresholds(ladder.tasks)
    curves = [
        {
            "task": task,
            "png": _b64(figures.learning_curves(board.truth.curves, task, {m: limits[m][task] for m in limits})),
        }
        for task in order
    ]
    return env.get_template("leaderboard.html.j2").render(
        ladder=ladder.name,
        ladder_hash=ladder.hash,
        n_rungs=len(ladder.rungs),
        bottom=sci(ladder.rungs[0].params),
        top=sci(ladder.rungs[-1].params),
        n_tasks=len(ladder.spec.tasks),
        n_seeds=table["seed"].nunique(),
        made_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M"),
        columns=[Column(c.label, c.help, "text" if c.text else "") for c in board_columns()],
        verdicts=verdicts(standings),
        across=[] if across is None else _across(across),
        rows=[{"kind": row.kind, "cells": _cells(row)} for row in standings.itertuples()],
        map_png=_b64(figures.emergence_map(table, board.truth.probabilities)),
        probability=_probability_map(board.truth.probabilities, order),
        bimodal_mark=BIMODAL_MARK,
        curves=curves,
        internals_png=_internals(board),
        cards=[_card(board, row, order) for row in standings.itertuples()],
        home=home,
    )


def _internals(board: Scoreboard) -> str:
    """The internals figure (``ladder internals``) as base64 PNG; "" when the ladder has no internals table, or
    one that is not of the checkpoints the manifest lists now (a pair retrained since: run it again)."""
    table = internals_table.read_current(ResultsStore.of(board.ladder, board.out))
    if table is None:
        return ""
    return _b64(figures.internals_figure(table, board.truth.curves, board.truth.table))


def write_report(
    board: Scoreboard, standings: pd.DataFrame, path: Path, across: pd.DataFrame | None = None, home: str = ""
) -> Path:
    atomic_write(path, render(board, standings, across, home).encode("utf-8"))
    return path


def _across(table: pd.DataFrame) -> list[dict[str, str]]:
    """Rows of the standings across ladders as text."""
    return [
        {
            "rank": str(r.rank), "forecaster": r.forecaster, "ladders": str(r.ladders), "questions": str(r.questions),
            "raw": number(r.raw, ".3f"), "effect": number(r.effect, "+.3f"), "ci": interval(r.low, r.high, "+.3f"),
        }
        for r in table.itertuples()
    ]  # fmt: skip


def _probability_map(probabilities: pd.DataFrame, order: list[str]) -> dict:
    """The accuracy rows of the probability table as the page's grid: rungs, and per task its cells as text."""
    acc = probabilities[probabilities["metric"] == "accuracy"]
    rungs = acc.drop_duplicates("rung").sort_values("params")
    cells = {(r.task, r.rung): r for r in acc.itertuples()}
    rows = []
    for task in order:
        row = []
        for rung in rungs["rung"]:
            c = cells[(task, rung)]
            row.append({
                "text": f"{c.fraction:.2f}", "title": probability_help(c), "bimodal": bimodal(c.bimodal),
                "shade": f"{0.05 + 0.45 * c.fraction:.2f}",
            })  # fmt: skip
        rows.append({"task": task, "cells": row})
    return {"rungs": [{"rung": r, "params": sci(p)} for r, p in zip(rungs["rung"], rungs["params"])], "rows": rows}


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def _tags(row: Row) -> list[dict[str, str]]:
    tags = [
        {"css": "blind", "text": "blind", "title": row.blind_rule}
        if row.blind
        else {"css": "posthoc", "text": "post-hoc", "title": row.blind_rule}
    ]
    if row.kind != "forecaster":
        tags.append({"css": "", "text": "oracle, not ranked" if row.kind == "oracle" else "baseline"})
    return tags


def _key(value: float) -> str:
    """What the sorting script compares for a number: its repr, or "" (sorts last) when missing."""
    return "" if pd.isna(value) else repr(float(value))


def _cells(row: Row) -> list[Cell]:
    """The row's cells in the order of ``fmt.board_columns``: every score of the score table and the columns around."""
    t = leaderboard_texts(row)
    special = {
        "rank": Cell(t["rank"], "" if pd.isna(row.rank) else str(row.rank)),
        "forecaster": Cell(f"{t['forecaster']} v{t['version']}", row.forecaster, css="text who", tags=_tags(row)),
        "group": Cell(t["group"], row.group, css="text"),
        "blind": Cell(t["blind"], t["blind"], css="text"),
        "coverage": Cell(t["coverage"], _key(getattr(row, f"coverage_{table.question_scores()[0]}"))),
        "submitted": Cell(t["submitted"], row.submitted_at, css="text"),
    }
    return [
        special.get(c.key) or Cell(t[c.key], _key(getattr(row, c.key)), ci=t[c.key + "_ci"] if c.interval else "")
        for c in board_columns()
    ]


def _card(board: Scoreboard, row: Row, order: list[str]) -> dict:
    """One forecast's figure (predicted against measured emergence, reliability) and its header."""
    forecast = board.forecasts[row.sha256]
    rungs = board.outcomes.rungs
    answers = answer_tables({row.sha256: forecast})
    probs, quantiles = answers.probabilities, answers.quantiles
    scored = scored_rungs(rungs["rung"].tolist(), forecast.revealed_up_to)
    questions = probs[probs["rung"].isin(scored)].merge(board.outcomes.binary, on=["task", "rung"])
    # Shaded on the figure: the rungs a forecast on the extrapolation track saw (none on the blind track).
    revealed = rungs.loc[rungs["rung"] == forecast.revealed_up_to, "log_params"]
    floor = float(revealed.iloc[0]) if len(revealed) else -np.inf
    title = f"{row.forecaster} v{row.version}, {row.group}"
    png = figures.forecast_card(title, order, quantiles, board.outcomes.sizes, rungs, floor, questions)
    return {"title": title, "tags": _tags(row), "description": forecast.description, "png": _b64(png)}

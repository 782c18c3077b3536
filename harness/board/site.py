"""The static site of ``ladder site DIR``: the standings, every ladder and round, and how to forecast them.

    DIR/index.html           the standings across ladders for every question score, the ladders open for
                             forecasts and the resolved ones, each linking its page
    DIR/forecast.html        how to forecast: from a fork to a pull request (docs/contributing.md, short)
    DIR/<ladder>/index.html  the ladder's leaderboard page (``harness.board.page``) where it has results, an
                             empty board beside its truth where nobody forecast it; its questions where it has none

Every page is self-contained like the leaderboard page (figures inlined, no network at view time) and links
only within DIR, by relative addresses, so the folder can be served as it is (GitHub Pages) or opened from disk.
Scores come from the scoring stage as the commands get them (``score_ladder``, ``rank_ladder``,
``pooled_task_scores``, ``standings``), which rewrite their tables only when the contents changed; nothing else is
written outside DIR. Jinja autoescapes every string, so a forecaster's name or description shows as text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from harness.board.fmt import interval, number, sci
from harness.board.page import write_report
from harness.errors import UserError
from harness.files import atomic_write
from harness.ladders.ladder import Ladder, load_ladder
from harness.scoring import rules, table
from harness.scoring.ranking import columns, rank_ladder
from harness.scoring.scoreboard import SCORES_FILE, Scoreboard, pooled_task_scores, score_ladder
from harness.scoring.standings import REFERENCE, standings
from harness.truth.ground_truth import measure

FORECAST_PAGE = "forecast.html"
Row = Any  # one row of the catalog, as DataFrame.itertuples() gives it


@dataclass(frozen=True)
class SiteInputs:
    """What the site is made from. ``catalog`` is ``harness.rounds.catalog.catalog``'s table (one row per ladder
    and round, with its state), passed in by the caller: the board does not import the rounds stage."""

    catalog: pd.DataFrame
    predictions: Path
    out: Path
    n_boot: int = 1000  # resamples of questions behind the standings' intervals, as ``ladder standings``
    seed: int = 0


@dataclass(frozen=True)
class Standings:
    """The standings across ladders of every question score, fitted on the pooled per-task scores."""

    tables: dict[str, pd.DataFrame]  # score name -> rows of ``harness.scoring.standings.standings``
    scores: pd.DataFrame  # the pooled per-task scores they were fitted on
    ladders: list[str]  # the ladders pooled


def write_site(folder: Path, inputs: SiteInputs) -> list[Path]:
    """Write the site into ``folder``; the pages written, the index first."""
    _check_folder(folder, inputs)
    across = pooled_standings(inputs)
    brier = across.tables.get(table.question_scores()[0]) if across else None
    made_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    pages = [folder / "index.html", folder / FORECAST_PAGE]
    for row in inputs.catalog.itertuples():
        pages.append(ladder_page(row, inputs, folder / row.ladder / "index.html", brier, made_at))
    rows = [_ladder_row(r) for r in inputs.catalog.itertuples()]
    waiting = [r for r in rows if r["status"] != "resolved"]  # open, or training and not yet resolved
    open_now = [r for r in waiting if r["status"] == "open"]
    # The example of the how-to page: an open round, else any open ladder, else cpu (forecast post-hoc).
    example = min(((r["kind"] != "round", r["ladder"]) for r in open_now), default=(False, "cpu"))[1]
    _write(pages[0], "site_index.html.j2", made_at=made_at, n_ladders=len(rows), open=waiting,
           resolved=[r for r in rows if r["status"] == "resolved"],
           standings=[] if across is None else _standings_sections(across),
           pooled=[] if across is None else across.ladders)  # fmt: skip
    _write(pages[1], "site_forecast.html.j2", made_at=made_at, open=open_now, example=example,
           steps=contribution_steps(example), rebase=_commented(REBASE_STEPS))  # fmt: skip
    for page in pages:  # atomic writes make private files; a web server serving the folder must read them
        page.chmod(0o644)
    return pages


def _write(path: Path, template: str, **context: object) -> Path:
    """Render one of the site's templates (autoescaped) into ``path``."""
    env = Environment(
        loader=PackageLoader("harness.board", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    atomic_write(path, env.get_template(template).render(**context).encode("utf-8"))
    return path


def _check_folder(folder: Path, inputs: SiteInputs) -> None:
    """The site goes only under ``folder``: never into the results or predictions folder, never over a file."""
    where = folder.resolve()
    for name, kept in (("results", inputs.out), ("predictions", inputs.predictions)):
        if where == kept.resolve() or kept.resolve() in where.parents:
            raise UserError(
                f"'{folder}' is inside the {name} folder '{kept}'; write the site to a folder of its own, "
                "e.g. ladder site /tmp/site."
            )
    if folder.exists() and not folder.is_dir():
        raise UserError(f"'{folder}' is a file; give ladder site a folder (it is made if missing).")


def pooled_standings(inputs: SiteInputs) -> Standings | None:
    """Standings over every resolved ladder for each question score; None when no ladder has blind forecasts."""
    try:
        scores, ladders = pooled_task_scores(inputs.predictions, inputs.out)
    except UserError:  # no resolved ladder with blind-track submissions: the index says so
        return None
    tables = {}
    for name in table.question_scores():
        these = scores[(scores["score"] == name) & scores["value"].notna()]  # a score a ladder does not ask
        if not these.empty:
            tables[name] = standings(these, inputs.n_boot, inputs.seed)
    return Standings(tables, scores, ladders)


def _standings_sections(across: Standings) -> list[dict]:
    """Each question score's standings as the index shows them: its label and text, rows as text, and who
    cannot be told apart from the uninformed forecaster."""
    sections = []
    for name, ranked in across.tables.items():
        score = table.get(name)
        these = across.scores[(across.scores["score"] == name) & across.scores["value"].notna()]
        blind = these.groupby("forecaster")["blind"].mean()
        rows = [
            {
                "rank": str(r.rank), "forecaster": r.forecaster, "ladders": str(r.ladders),
                "questions": str(r.questions), "blind": f"{blind[r.forecaster]:.0%}", "raw": number(r.raw, ".3f"),
                "effect": number(r.effect, "+.3f"), "ci": interval(r.low, r.high, "+.3f"),
            }
            for r in ranked.itertuples()
        ]  # fmt: skip
        apart = [
            f"{r.forecaster} over its {r.questions} questions"
            for r in ranked.itertuples()
            if r.forecaster != REFERENCE and r.low <= 0 <= r.high
        ]
        sections.append(
            {"name": name, "label": score.label, "text": score.text, "direction": score.direction, "rows": rows,
             "apart": apart}
        )  # fmt: skip
    return sections


def _ladder_row(r: Row) -> dict:
    """A catalog row as the index lists it, with the address of the ladder's page and how to forecast it."""
    return {
        "ladder": r.ladder, "href": f"{r.ladder}/index.html", "kind": r.kind,
        "origin": f"{r.template} seed {int(r.seed)}" if r.kind == "round" else "-", "hash": r.hash,
        "tasks": r.tasks, "questions": r.questions, "trained": f"{r.pairs_done}/{r.pairs}", "status": r.status,
        "submissions": r.submissions, "blind": r.blind, "commands": forecast_commands(r.ladder),
    }  # fmt: skip


def forecast_commands(ladder: str) -> list[str]:
    """The commands that take a forecaster from nothing to a submitted forecast of ``ladder``, commented."""
    return _commented(_forecast_steps(ladder))


def _forecast_steps(ladder: str) -> list[tuple[str, str]]:
    return [
        (f"ladder template --ladder {ladder} --forecaster you -o ../you.yaml", "every task and rung, neutral values"),
        ("$EDITOR ../you.yaml", "write down your forecast"),
        ("ladder validate ../you.yaml", "every problem at once; exit 2 on any"),
        ("ladder submit ../you.yaml", "the stored copy and a ledger line, with the time"),
    ]


def contribution_steps(ladder: str) -> list[str]:
    """From a fork to a pull request with a forecast of ``ladder`` (docs/contributing.md), commented."""
    return _commented([
        ("git clone YOUR-FORK-URL emergence-ladder && cd emergence-ladder", ""),
        ("pip install torch==2.13.0 && pip install -e .", "the CPU build of PyTorch first"),
        ("ladder round list", "which ladders are open: nothing trained yet"),
        *_forecast_steps(ladder),
        (f"git checkout -b you-{ladder}", ""),
        (f"git add predictions/ledger.jsonl predictions/{ladder}/", "the stored copy and the ledger line only"),
        (f'git commit -m "my forecast for {ladder}"', ""),
        ("ladder check-change --base origin/main", "what CI will run"),
        (f"git push origin you-{ladder}", "then open a pull request against main"),
    ])  # fmt: skip


REBASE_STEPS = [
    ("git fetch origin", ""),
    ("git merge origin/main", "stops on a conflict in predictions/ledger.jsonl"),
    ("ladder ledger rebase --onto origin/main", "origin/main's ledger, then your lines re-chained"),
    ("git add predictions/ledger.jsonl", ""),
    ("git commit --no-edit", ""),
    ("ladder check-change --base origin/main", "passes"),
    ("git push", ""),
]


def _commented(steps: list[tuple[str, str]]) -> list[str]:
    """Shell lines with their comments aligned in one column, as in the guides."""
    width = max(len(command) for command, _ in steps) + 2
    return [f"{command:<{width}}# {comment}" if comment else command for command, comment in steps]


def ladder_page(row: Row, inputs: SiteInputs, path: Path, across: pd.DataFrame | None, made_at: str) -> Path:
    """Write one ladder's page: its leaderboard where results are measured (an empty board where nobody
    forecast its current version), its questions where nothing of it is trained here."""
    ladder = load_ladder(row.ladder)
    if row.pairs_done == 0:
        return _write(path, "site_ladder.html.j2", made_at=made_at, **_questions(ladder, row))
    if row.submissions:
        board = score_ladder(ladder, inputs.predictions, inputs.out)
        ranked = rank_ladder(board.scores)
    else:
        board, ranked = _unforecast(ladder, inputs), pd.DataFrame(columns=columns())
    return write_report(board, ranked, path, across, home="../index.html")


def _unforecast(ladder: Ladder, inputs: SiteInputs) -> Scoreboard:
    """The board of a measured ladder that no current submission forecast: its truth, no entries, no scores."""
    truth = measure(ladder, inputs.out)
    outcomes = rules.outcomes(truth.table, ladder.spec.training.steps)
    path = inputs.out / ladder.name / SCORES_FILE  # not written: there is nothing to score
    return Scoreboard(ladder, truth, outcomes, [], {}, pd.DataFrame(), path, [], inputs.predictions, inputs.out)


def _questions(ladder: Ladder, row: Row) -> dict:
    """What a ladder asks, for its page before it has results: rungs, tasks and the kinds of question."""
    origin = ladder.spec.round
    rungs = [
        {"name": r.name, "params": f"{r.params:,}", "d_model": r.config.d_model, "n_layers": r.config.n_layers,
         "n_heads": r.config.n_heads, "lr": f"{r.lr:g}"}
        for r in ladder.rungs
    ]  # fmt: skip
    tasks = [
        {"name": t.name, "family": t.family, "setting": ", ".join(f"{k}={v}" for k, v in t.settings.items()) or "-",
         "asks": t.description, "chance": f"{t.chance:.3g}", "threshold": f"{t.threshold:g}",
         "weight": f"{ladder.spec.weights[t.name]:g}"}
        for t in ladder.tasks
    ]  # fmt: skip
    return {
        "ladder": ladder.name, "kind": row.kind, "origin": f"{origin.template} seed {origin.seed}" if origin else "",
        "hash": ladder.hash, "family": ladder.spec.family, "description": ladder.spec.description,
        "bottom": sci(ladder.rungs[0].params), "top": sci(ladder.rungs[-1].params), "rungs": rungs, "tasks": tasks,
        "n_seeds": len(ladder.spec.seeds), "steps": f"{ladder.spec.training.steps:,}", "status": row.status,
        "trained": f"{row.pairs_done}/{row.pairs}", "submissions": row.submissions, "blind": row.blind,
        "n_rung_questions": len(ladder.tasks) * len(ladder.rungs), "commands": forecast_commands(ladder.name),
    }  # fmt: skip

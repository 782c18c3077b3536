"""Terminal tables (rich) of emergence, its probabilities, the acceptance checks and the leaderboard."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd
from rich.table import Table

from harness.board.fmt import (
    BIMODAL_MARK,
    BIMODAL_TEXT,
    BoardColumn,
    Row,
    bimodal,
    board_columns,
    interval,
    leaderboard_texts,
    number,
    sci,
    share,
    size_summary,
)
from harness.scoring.table import by_importance, get, question_scores
from harness.truth.acceptance import Check, Verdict
from harness.truth.emergence import rung_sizes, summarize, task_order

if TYPE_CHECKING:  # for the annotation only: running a backtest is not the terminal's business
    from harness.methods.backtest import Backtest

VERDICTS = {Verdict.PASS: "[green]pass[/]", Verdict.FAIL: "[red]FAIL[/]", Verdict.NA: "[dim]n/a[/]"}


def emergence_grid(table: pd.DataFrame, probabilities: pd.DataFrame, metric: str) -> Table:
    """Tasks by rungs: per rung the seeds with the capability (k/n) over its 95% Jeffreys interval, a mark where
    the seeds split all-or-nothing; then the emergence size pooled over seeds.

    probabilities: the table of ``harness.truth.probability.probability_table``.
    """
    one = table[table["metric"] == metric]
    rungs = rung_sizes(one)
    bottom, top = int(rungs["params"].iloc[0]), int(rungs["params"].iloc[-1])
    cells = probabilities[probabilities["metric"] == metric].set_index(["task", "rung"])
    summary = summarize(one).set_index("task")
    thresholds = one.drop_duplicates("task").set_index("task")["threshold"]
    title = {
        "accuracy": "exact-match accuracy at or above the task's threshold",
        "loss": "answer loss (nats per token) at or below -ln(threshold) / answer length",
    }[metric]
    caption = "Per cell: seeds with the capability, and below it the 95% Jeffreys interval of the probability"
    if metric == "accuracy":
        caption += f"; {BIMODAL_MARK} {BIMODAL_TEXT}"
    out = Table(
        title=f"Seeds with the capability, {metric}: {title}", title_justify="left", caption=caption + ".",
        caption_justify="left",
    )  # fmt: skip
    out.add_column("task")
    out.add_column("threshold", justify="right")
    for rung, params in zip(rungs["rung"], rungs["params"]):
        out.add_column(f"{rung}\n{sci(params)}", justify="center")
    out.add_column("emerges at, pooled over seeds [95% over seeds]")
    for task in task_order(table, metric):
        texts = []
        for rung in rungs["rung"]:
            c = cells.loc[(task, rung)]
            colour = "green" if c["n_have"] == c["n_seeds"] else ("yellow" if c["n_have"] else "dim")
            mark = BIMODAL_MARK if bimodal(c["bimodal"]) else ""
            texts.append(
                f"[{colour}]{c['n_have']}/{c['n_seeds']}{mark}[/]\n[dim]{share(c['low'])}-{share(c['high'])}[/]"
            )
        s = summary.loc[task]
        size = size_summary(s["log_low"], s["log_params"], s["log_high"], bottom, top)
        flags = (("n_regressed", "regressed"), ("n_budget_limited", "still rising"))
        notes = [f"{s[k]:.0f} {word}" for k, word in flags if s[k]]
        if notes:
            size += f"  ({', '.join(notes)})"
        out.add_row(task, f"{thresholds[task]:.3g}", *texts, size)
    return out


def checks_table(checks: list[Check], title: str) -> Table:
    """A set of acceptance checks under ``title``: each one's verdict, the seeds it judged and what it found."""
    out = Table("check", "result", "seeds", "detail", title=title, title_justify="left")
    for c in checks:
        out.add_row(c.name, VERDICTS[c.verdict], c.seeds, c.detail)
    return out


def lottery_line(lottery: pd.DataFrame) -> str:
    """The seed lottery (``harness.truth.acceptance.seed_lottery``) in one line: reported, judged by nothing."""
    parts = [
        f"{r.task} {r.spread:.2f}" + (f" ({r.n_censored} censored)" if r.n_censored else "")
        for r in lottery.sort_values(["spread", "task"], ascending=[False, True]).itertuples()
    ]
    return (
        "The seed lottery (reported, not judged): range of each interior task's per-seed robust points, in rung "
        "intervals (a censored seed counts half an interval beyond the ladder's end): " + (", ".join(parts) or "none")
    )


FIXED_NOTES = (
    "* built-in baseline; † oracle, reads the truth, never ranked. Ranked within each group of forecasts that "
    "answered the same questions. Intervals: 95% bootstrap over tasks and training seeds."
)


def leaderboard_table(board: pd.DataFrame, title: str, width: int | None = None) -> Table:
    """The ranked submissions of ``harness.scoring.ranking.rank_ladder``, one row each, groups separated.

    The columns come from ``fmt.board_columns`` (the score table and the columns around it). With ``width``,
    only those that fit it are shown, in order of importance, and a forecaster's name is never cut; None
    shows every column (``ladder leaderboard --wide``).
    """
    texts = [(row, leaderboard_texts(row)) for row in board.itertuples()]

    def cell(row: Row, t: dict[str, str], col: BoardColumn) -> str:
        if col.key == "forecaster":
            return t["forecaster"] + {"baseline": "*", "oracle": "†"}.get(row.kind, "") + f" v{t['version']}"
        if col.key == "group":
            return t["group"].replace("extrapolation", "extrap.")
        return f"{t[col.key]} {t[col.key + '_ci']}" if col.interval else t[col.key]

    def header(col: BoardColumn) -> str:
        return f"{col.label} [95% CI]" if col.interval else col.label

    columns = fitting(board_columns(), lambda c: max([len(header(c)), *(len(cell(r, t, c)) for r, t in texts)]), width)
    caption = " ".join(f"{c.label}: {c.help}." for c in columns if c.importance > 0 and c.key not in ("blind",))
    out = Table(title=title, title_justify="left", caption=f"{FIXED_NOTES} {caption}", caption_justify="left")
    for col in columns:
        wide = col.key == "forecaster"
        out.add_column(header(col), justify="left" if col.text else "right", no_wrap=wide)
    group = None
    for row, t in texts:
        if group is not None and row.group != group:
            out.add_section()
        group = row.group
        out.add_row(*(cell(row, t, col) for col in columns))
    return out


def fitting(columns: list[BoardColumn], width_of: Callable[[BoardColumn], int], width: int | None) -> list[BoardColumn]:
    """The columns that fit ``width`` terminal cells, in order of importance (all of them when ``width`` is
    None); those of importance 0 always. A column takes its widest text, two cells of padding and a border."""
    if width is None:
        return list(columns)
    shown, used = [], 1
    for col in columns:
        need = width_of(col) + 3
        if col.importance > 0 and used + need > width:
            break
        shown.append(col)
        used += need
    return shown


def backtest_table(result: Backtest, width: int | None = None) -> Table:
    """One row per (ladder, track) of a backtest, ladders in sections: the score table's scores in order of
    importance (with their intervals where the leaderboard shows them) and each question score's paired
    difference to the uninformed forecaster, as many as fit ``width`` (all when None)."""
    present = set(result.scores["score"])
    groups = [
        (ladder, track, rows.set_index("score"))
        for (ladder, track), rows in result.scores.groupby(["ladder", "track"], sort=False)
    ]
    scored = [BoardColumn(s.name, s.label, s.help, s.importance, s.interval) for s in by_importance()]
    paired = [
        BoardColumn(f"vs:{s}", f"{get(s).label} vs uninformed", "", get(s).importance + 0.5, True)
        for s in question_scores()
    ]
    where = [BoardColumn("ladder", "ladder", "", 0, text=True), BoardColumn("track", "track", "", 0, text=True)]
    columns = where + sorted(
        [c for c in scored + paired if c.key.removeprefix("vs:") in present], key=lambda c: c.importance
    )

    def cell(ladder: str, track: str, r: pd.DataFrame, col: BoardColumn) -> str:
        if col.key == "ladder":
            return ladder
        if col.key == "track":
            floor = r.revealed_up_to.iloc[0]
            return {"blind": "blind", "extrapolation": f"from {floor}"}.get(track, f"{track} from {floor}")
        name = col.key.removeprefix("vs:")
        if name not in r.index:
            return "-"
        if col.key.startswith("vs:"):
            low, high = r.vs_uninformed_low[name], r.vs_uninformed_high[name]
            return f"{number(r.vs_uninformed[name], '+.3f')} {interval(low, high, '+.3f')}"
        fmt = get(name).fmt
        ci = f" {interval(r.ci_low[name], r.ci_high[name], fmt)}" if col.interval else ""
        return number(r.value[name], fmt) + ci

    shown = fitting(columns, lambda c: max([len(c.label), *(len(cell(*g, c)) for g in groups)]), width)
    caption = (
        "Track: blind, or extrapolation from the rung named (its curves and those below it seen), or internals "
        "from it (their checkpoints and internals table too). "
        + " ".join(f"{c.label}: {c.help}." for c in shown if c.help)
        + " vs uninformed: paired difference to the uninformed forecaster on the same questions, negative is better. "
        "Intervals: 95% bootstrap over tasks and training seeds. Scored, never submitted."
    )
    out = Table(*(c.label for c in shown), title=f"Backtest of method '{result.method.name}'", title_justify="left",
                caption=caption, caption_justify="left")  # fmt: skip
    last = None
    for ladder, track, r in groups:
        if last is not None and ladder != last:
            out.add_section()
        last = ladder
        out.add_row(*(cell(ladder, track, r, c) for c in shown))
    return out


def standings_table(table: pd.DataFrame, scores: pd.DataFrame, score: str, ladders: list[str]) -> Table:
    """The standings across ladders (rows of ``harness.scoring.standings.standings``) for one question score;
    ``scores`` are the pooled per-task scores it was fitted on (for the share of blind forecasts)."""
    from harness.scoring.standings import REFERENCE

    blind = scores.groupby("forecaster")["blind"].mean()
    out = Table(
        "rank", "forecaster", "ladders", "questions", "blind", f"raw {score}",
        f"{score} vs {REFERENCE}, adjusted [95% CI]",
        title=f"Standings over {len(ladders)} resolved ladders: {', '.join(ladders)}", title_justify="left",
        caption=(
            f"Per question (a task of a ladder), {score} ~ question + forecaster, least squares; the forecaster "
            f"effect is relative to {REFERENCE} on the same questions, negative is better; intervals: bootstrap "
            "over questions. Each forecaster's latest blind-track forecast per ladder; the oracle is left out."
        ),
        caption_justify="left",
    )  # fmt: skip
    for r in table.itertuples():
        out.add_row(
            str(r.rank), r.forecaster, str(r.ladders), str(r.questions), f"{blind[r.forecaster]:.0%}",
            number(r.raw, ".3f"), f"{number(r.effect, '+.3f')} {interval(r.low, r.high, '+.3f')}",
        )  # fmt: skip
    return out


def versus_table(result: Backtest) -> Table:
    """A backtest's paired differences to the methods it was set against: one row per (ladder, track, method),
    one column per question score, each "difference [95% interval]" (negative: the backtested method is better)."""
    versus = result.versus
    scores = [s for s in question_scores() if s in set(versus["score"])]
    table = Table(
        title=f"Method '{result.method.name}' minus each method set against it, on the same questions",
        caption="Paired differences over the same resamples of tasks and training seeds; negative: "
        f"'{result.method.name}' is better; an interval that holds 0 is no difference this backtest can tell.",
    )
    for name in ["ladder", "track", "against", *(get(s).label for s in scores)]:
        table.add_column(name, no_wrap=name in ("ladder", "against"))
    for (ladder, track, floor, other), rows in versus.groupby(
        ["ladder", "track", "revealed_up_to", "against"], sort=False, dropna=False
    ):
        by = rows.set_index("score")
        cells = [
            f"{number(by.difference[s], '+.3f')} {interval(by.low[s], by.high[s], '+.3f')}" if s in by.index else "-"
            for s in scores
        ]
        where = "blind" if pd.isna(floor) else f"{track} from {floor}"
        table.add_row(ladder, where, f"{other} ({by.against_track.iloc[0]})", *cells)
    return table

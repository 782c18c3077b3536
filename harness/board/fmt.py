"""Number formats shared by the command line, the terminal tables, the figures and the page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from harness.scoring import table

Row = Any  # one row of rank_ladder's table, as DataFrame.itertuples() gives it (a namedtuple of its columns)


def sci(n: float) -> str:
    """Compact scientific notation for parameter counts: 1722 -> '1.7e3'."""
    mantissa, exponent = f"{n:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def log_size(x: float, bottom: int, top: int) -> str:
    """A log10 size that may be censored: -inf is at or below ``bottom``, +inf above ``top``."""
    if math.isnan(x):
        return "?"
    if x == -math.inf:
        return f"≤{sci(bottom)}"
    if x == math.inf:
        return f">{sci(top)}"
    return sci(10**x)


def size_summary(low: float, point: float, high: float, bottom: int, top: int) -> str:
    """'point [low – high]' of log10 sizes, or just the point when the interval is a single value."""
    if low == high:
        return log_size(point, bottom, top)
    return f"{log_size(point, bottom, top)} [{log_size(low, bottom, top)} – {log_size(high, bottom, top)}]"


def number(value: float | None, spec: str) -> str:
    """A score as shown: NaN or missing as a dash."""
    return "-" if missing(value) else format(value, spec)


def missing(value: object) -> bool:
    """None, NaN or pandas' NA."""
    try:
        return value is None or math.isnan(value)  # type: ignore[arg-type]
    except TypeError:  # pandas' NA
        return True


def interval(low: float, high: float, spec: str) -> str:
    return f"[{number(low, spec)}, {number(high, spec)}]"


def leaderboard_texts(row: Row) -> dict[str, str]:
    """Every value of one leaderboard row as text, the same in the terminal and on the page.

    Each score of the score table gives its value (key: its name) and, where it is shown with one, its
    interval (key: name + "_ci"), in the table's format.
    """
    questions = table.question_scores()
    texts = {
        "rank": "-" if missing(row.rank) else str(row.rank),
        "forecaster": row.forecaster,
        "version": str(row.version),
        "group": row.group,
        "blind": "blind" if row.blind else "post-hoc",
        "coverage": " / ".join(number(getattr(row, f"coverage_{q}"), ".0%") for q in questions[:2]),
        "submitted": row.submitted_at.replace("T", " ")[:16],
        "p_first": number(row.p_first, ".0%"),
        "vs_uninformed": number(row.vs_uninformed, "+.3f"),
        "vs_uninformed_ci": interval(row.vs_uninformed_low, row.vs_uninformed_high, "+.3f"),
    }
    for s in table.scores():
        texts[s.name] = number(getattr(row, s.name), s.fmt)
        if s.interval:
            texts[f"{s.name}_ci"] = interval(getattr(row, f"{s.name}_low"), getattr(row, f"{s.name}_high"), s.fmt)
    return texts


@dataclass(frozen=True)
class BoardColumn:
    """A column of the leaderboard as the terminal and the page show it: a score of the score table, or one of
    the columns around the scores (who, which questions, the paired comparisons, when)."""

    key: str  # a score's name, or the key of ``leaderboard_texts`` it shows
    label: str
    help: str
    importance: float  # 0: always shown; then the terminal shows columns in this order while they fit
    interval: bool = False  # the text is followed by the interval (key + "_ci")
    text: bool = False  # sorted as text on the page


# The columns around the scores, each with its place among the scores' importance.
AROUND = (
    BoardColumn("rank", "rank", "Rank within the group of forecasts that answered the same questions", 0),
    BoardColumn("forecaster", "forecaster", "Forecaster name and the version of its submission (1 = first)", 0,
                text=True),
    BoardColumn("group", "track", "blind, or extrapolation or internals from the revealed rung", 0, text=True),
    BoardColumn("blind", "blind", "Submitted before training started (blind) or after (post-hoc)", 2.5, text=True),
    BoardColumn(
        "vs_uninformed", "Brier vs uninformed",
        "Paired difference in Brier to the uninformed forecaster on the same questions; negative is better; 95% "
        "bootstrap interval over tasks and training seeds", 5.5, interval=True,
    ),
    BoardColumn("p_first", "P(1st)", "Share of bootstrap resamples in which its Brier is the best of its group", 8.5),
    BoardColumn("coverage", "coverage", "Share of the rung questions / the tasks' emergence sizes answered", 12),
    BoardColumn("submitted", "submitted (UTC)", "When the file entered the ledger", 13, text=True),
)  # fmt: skip


def board_columns() -> list[BoardColumn]:
    """Every leaderboard column, in order of importance: the columns around the scores and every score of the
    score table (label, help text, whether its interval is shown)."""
    scored = [BoardColumn(s.name, s.label, s.help, s.importance, s.interval) for s in table.scores()]
    return sorted([*AROUND, *scored], key=lambda c: c.importance)


def verdicts(board: pd.DataFrame) -> list[str]:
    """In words, per group of ranked forecasts: who cannot be told apart from the leader, and from uninformed.

    Two forecasters cannot be told apart when the 95% interval of their paired Brier difference holds 0.
    Another version of the leader's own forecaster is no rival and is not listed against it.
    """
    lines = []
    for group, rows in board[board["rank"].notna()].groupby("group", sort=False):
        leader = rows.loc[rows["brier"].idxmin()]  # the leader of the paired comparisons: the best Brier
        ties = [
            f"{r.forecaster} v{r.version} ({number(r.vs_leader, '+.3f')} "
            f"{interval(r.vs_leader_low, r.vs_leader_high, '+.3f')})"
            for r in rows.itertuples()
            if r.forecaster != leader.forecaster
            and not missing(r.vs_leader_low)
            and r.vs_leader_low <= 0 <= r.vs_leader_high
        ]
        if ties:
            lines.append(
                f"{group}: cannot be told apart from the leader {leader.forecaster} v{leader.version} "
                f"(paired Brier difference, 95% interval over tasks and seeds): {', '.join(ties)}."
            )
        for r in rows[rows["forecaster"] != "uninformed"].itertuples():
            if missing(r.vs_uninformed_low):
                continue
            if r.vs_uninformed_low <= 0 <= r.vs_uninformed_high:
                verdict = "cannot be told apart from uninformed"
            else:
                verdict = "beats uninformed" if r.vs_uninformed_high < 0 else "is worse than uninformed"
            lines.append(
                f"{group}: {r.forecaster} v{r.version} {verdict} (Brier {number(r.vs_uninformed, '+.3f')} "
                f"{interval(r.vs_uninformed_low, r.vs_uninformed_high, '+.3f')})."
            )
    return lines


BIMODAL_MARK = "*"  # a (task, rung) whose seeds split all-or-nothing, in the terminal grid and on the page
BIMODAL_TEXT = (
    "bimodal: the seeds split all-or-nothing, some below the midpoint between chance and the threshold, the "
    "rest at or above the threshold, none between"
)


def share(p: float) -> str:
    """A probability in at most three characters: 0, 1, or two decimals without the leading zero (.55)."""
    if missing(p):
        return "-"
    text = f"{p:.2f}"
    return {"0.00": "0", "1.00": "1"}.get(text, text.removeprefix("0"))


def probability_help(row) -> str:  # noqa: ANN001 - a row of harness.truth.probability.probability_table
    """One (task, rung) of the probability table in words: k/n seeds, the interval, whether bimodal."""
    text = f"{row.n_have}/{row.n_seeds} seeds have it; 95% Jeffreys interval {row.low:.2f} to {row.high:.2f}"
    return text + (f"; {BIMODAL_TEXT}" if bimodal(row.bimodal) else "")


def bimodal(flag: object) -> bool:
    """The probability table's bimodal flag as a plain bool: missing (the loss rows) is False."""
    return not missing(flag) and bool(flag)

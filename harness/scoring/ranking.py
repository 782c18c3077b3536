"""The leaderboard: one row per submission, ranked, from the long scores table.

Pure pandas over ``scores.parquet`` (``harness.scoring.scoreboard.score_ladder``); no torch.
Forecasts are ranked only against others that answered the same questions
knowing the same: blind forecasts together, and extrapolation forecasts and
internals forecasts each together per revealed rung (they are scored on the
rungs above it only; ``harness.forecasts.track.group``). The oracle reads the
answers off the truth, so it is never ranked; it is shown only on request.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from harness.forecasts.track import group
from harness.scoring import table
from harness.scoring.table import COMPARISONS, SUBMISSION_COLUMNS

Track = Literal["blind", "extrapolation", "internals", "all"]
IDENTITY = ["rank", "forecaster", "version", "kind", "track", "revealed_up_to", "blind", "blind_rule", "sha256",
            "submitted_at"]  # fmt: skip


def columns() -> list[str]:
    """The columns of ``rank_ladder``'s rows, from the score table: every score, the intervals shown, the coverage
    of every kind of question, the group and the paired comparisons (the first question score's)."""
    scored = []
    for s in table.scores():
        scored += [s.name, *((f"{s.name}_low", f"{s.name}_high") if s.interval else ())]
    return [*IDENTITY, *scored, *(f"coverage_{q}" for q in table.question_scores()), "group", *COMPARISONS]


def rank_ladder(
    scores: pd.DataFrame, track: Track = "all", sort: str = "brier_index", show_oracle: bool = False
) -> pd.DataFrame:
    """One row per submission with its scores and rank within its group (see ``columns``).

    scores: the long table of ``scores.parquet`` (one row per submission and score).
    ``version`` counts a forecaster's submissions to this ladder in time order
    (1 = first). ``group`` names the set of questions the row was ranked on.
    Rows come out grouped (blind first), best first within a group; the oracle,
    if shown, comes last in its group with no rank.
    """
    if sort not in table.ranked():
        raise ValueError(f"unknown score {sort!r}; one of {', '.join(table.ranked())}")
    higher = table.higher_is_better(sort)
    wide = scores.pivot_table(
        index="sha256", columns="score", values=["value", "ci_low", "ci_high", "coverage"], aggfunc="first"
    )
    board = scores.drop_duplicates("sha256")[SUBMISSION_COLUMNS].set_index("sha256")
    missing = pd.Series(float("nan"), index=wide.index)  # a score a ladder does not ask (no step questions, say)
    for s in table.scores():
        board[s.name] = wide.get(("value", s.name), missing)
        if s.interval:
            board[f"{s.name}_low"], board[f"{s.name}_high"] = (
                wide.get(("ci_low", s.name), missing),
                wide.get(("ci_high", s.name), missing),
            )
    for name in table.question_scores():
        board[f"coverage_{name}"] = wide.get(("coverage", name), missing)
    lead = scores[scores["score"] == table.question_scores()[0]].set_index("sha256")
    for name in COMPARISONS:  # the paired comparisons shown are the first question score's (Brier's)
        board[name] = lead[name] if name in lead else float("nan")
    board = board.reset_index().sort_values("submitted_at", kind="stable")
    board["version"] = board.groupby("forecaster").cumcount() + 1
    board["group"] = [group(t, up_to) for t, up_to in zip(board["track"], board["revealed_up_to"].fillna("?"))]
    if track != "all":
        board = board[board["track"] == track]
    if not show_oracle:
        board = board[board["kind"] != "oracle"]
    board = board.assign(_oracle=board["kind"] == "oracle", _blind_first=board["track"] != "blind")
    board = board.sort_values(
        ["_blind_first", "group", "_oracle", sort, "submitted_at"],
        ascending=[True, True, True, not higher, True],
        na_position="last",
    )
    ranked = ~board["_oracle"]
    board["rank"] = pd.array([pd.NA] * len(board), dtype="Int64")
    board.loc[ranked, "rank"] = (
        board[ranked].groupby("group")[sort].rank(method="min", ascending=not higher).astype("Int64")
    )
    return board[columns()].reset_index(drop=True)

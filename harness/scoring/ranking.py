"""The leaderboard: one row per submission, ranked, from the long scores table.

Pure pandas over ``scores.parquet`` (``harness.scoring.scoreboard.score_ladder``); no torch.
Forecasts are ranked only against others that answered the same questions:
blind forecasts together, and extrapolation forecasts together per revealed
rung (they are scored on the rungs above it only). The oracle reads the
answers off the truth, so it is never ranked; it is shown only on request.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from harness.scoring.table import COMPARISONS, HIGHER_IS_BETTER, QUESTION_SCORES, SUBMISSION_COLUMNS

Track = Literal["blind", "extrapolation", "all"]
# Scores a leaderboard can sort by, and whether higher is better.
SORTABLE = HIGHER_IS_BETTER
COLUMNS = [
    "rank", "forecaster", "version", "kind", "track", "revealed_up_to", "blind", "blind_rule", "sha256", "submitted_at",
    "brier_index", "brier_index_low", "brier_index_high", "brier", "brier_skill",
    "pinball", "pinball_low", "pinball_high", "pinball_skill",
    "pinball_loss", "pinball_loss_low", "pinball_loss_high", "pinball_loss_skill",
    "pinball_step", "pinball_step_low", "pinball_step_high", "pinball_step_skill", "accuracy_mse",
    "coverage_brier", "coverage_pinball", "coverage_pinball_loss", "coverage_pinball_step", "group", *COMPARISONS,
]  # fmt: skip
WITH_INTERVAL = ("brier_index", *QUESTION_SCORES[1:])  # the Brier rows' interval is shown as the index's


def rank_ladder(
    scores: pd.DataFrame, track: Track = "all", sort: str = "brier_index", show_oracle: bool = False
) -> pd.DataFrame:
    """One row per submission with its scores and rank within its group (see COLUMNS).

    scores: the long table of ``scores.parquet`` (one row per submission and score).
    ``version`` counts a forecaster's submissions to this ladder in time order
    (1 = first). ``group`` names the set of questions the row was ranked on.
    Rows come out grouped (blind first), best first within a group; the oracle,
    if shown, comes last in its group with no rank.
    """
    if sort not in SORTABLE:
        raise ValueError(f"unknown score {sort!r}; one of {', '.join(SORTABLE)}")
    wide = scores.pivot_table(
        index="sha256", columns="score", values=["value", "ci_low", "ci_high", "coverage"], aggfunc="first"
    )
    board = scores.drop_duplicates("sha256")[SUBMISSION_COLUMNS].set_index("sha256")
    missing = pd.Series(float("nan"), index=wide.index)  # a score a ladder does not ask (no step questions, say)
    for name in SORTABLE:
        board[name] = wide.get(("value", name), missing)
    for name in WITH_INTERVAL:
        board[f"{name}_low"], board[f"{name}_high"] = (
            wide.get(("ci_low", name), missing),
            wide.get(("ci_high", name), missing),
        )
    for name in QUESTION_SCORES:
        board[f"coverage_{name}"] = wide.get(("coverage", name), missing)
    brier = scores[scores["score"] == "brier"].set_index("sha256")
    for name in COMPARISONS:  # the paired comparisons shown are the Brier rows'
        board[name] = brier[name] if name in brier else float("nan")
    board = board.reset_index().sort_values("submitted_at", kind="stable")
    board["version"] = board.groupby("forecaster").cumcount() + 1
    board["group"] = board["track"].where(
        board["track"] == "blind", "extrapolation from " + board["revealed_up_to"].fillna("?")
    )
    if track != "all":
        board = board[board["track"] == track]
    if not show_oracle:
        board = board[board["kind"] != "oracle"]
    board = board.assign(_oracle=board["kind"] == "oracle", _blind_first=board["track"] != "blind")
    board = board.sort_values(
        ["_blind_first", "group", "_oracle", sort, "submitted_at"],
        ascending=[True, True, True, not SORTABLE[sort], True],
        na_position="last",
    )
    ranked = ~board["_oracle"]
    board["rank"] = pd.array([pd.NA] * len(board), dtype="Int64")
    board.loc[ranked, "rank"] = (
        board[ranked].groupby("group")[sort].rank(method="min", ascending=not SORTABLE[sort]).astype("Int64")
    )
    return board[COLUMNS].reset_index(drop=True)

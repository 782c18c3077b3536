"""Ranking submissions from the long scores table (harness.scoring.ranking), on hand-built scores."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.scoring import table
from harness.scoring.ranking import rank_ladder

# sha, forecaster, kind, track, revealed_up_to, blind, submitted_at, brier_index, pinball
SUBMISSIONS = [
    ("a1", "alice", "forecaster", "blind", None, True, "2026-01-01T00:00:00+00:00", 70.0, 0.30),
    ("b1", "bob", "forecaster", "blind", None, False, "2026-01-02T00:00:00+00:00", 80.0, 0.40),
    ("a2", "alice", "forecaster", "blind", None, False, "2026-01-03T00:00:00+00:00", 75.0, 0.20),
    ("u1", "uninformed", "baseline", "blind", None, False, "2026-01-01T12:00:00+00:00", 50.0, 0.50),
    ("o1", "oracle", "oracle", "blind", None, False, "2026-01-01T12:00:00+00:00", 100.0, 0.00),
    ("e1", "extrapolator", "baseline", "extrapolation", "c3", False, "2026-01-01T12:00:00+00:00", 60.0, 0.35),
    ("c1", "carol", "forecaster", "extrapolation", "c3", False, "2026-01-04T00:00:00+00:00", 65.0, 0.45),
    ("d1", "dave", "forecaster", "extrapolation", "c1", False, "2026-01-05T00:00:00+00:00", 90.0, 0.10),
    ("i1", "ivy", "forecaster", "internals", "c3", False, "2026-01-06T00:00:00+00:00", 62.0, 0.40),
]


def scores() -> pd.DataFrame:
    rows = []
    for sha, who, kind, track, up_to, blind, at, index, pin in SUBMISSIONS:
        meta = {
            "sha256": sha,
            "forecaster": who,
            "kind": kind,
            "track": track,
            "revealed_up_to": up_to,
            "blind": blind,
            "blind_rule": "blind: no training of this ladder version has started" if blind else "post-hoc: test",
            "submitted_at": at,
        }
        values = {
            "brier_index": index, "brier": (1 - index / 100) ** 2, "brier_skill": index / 100 - 0.5,
            "pinball": pin, "pinball_skill": 1 - pin / 0.5, "accuracy_mse": 0.1 * pin,
        }  # fmt: skip
        for name, value in values.items():
            rows.append(
                {
                    **meta,
                    "score": name,
                    "value": value,
                    "ci_low": value - 1,
                    "ci_high": value + 1,
                    "coverage": 1.0,
                    "n_questions": 10,
                }
            )
    return pd.DataFrame(rows)


def test_ranks_within_groups_blind_first_best_first():
    board = rank_ladder(scores())
    assert board["group"].tolist()[:4] == ["blind"] * 4
    blind = board[board["group"] == "blind"]
    assert blind["sha256"].tolist() == ["b1", "a2", "a1", "u1"]
    assert blind["rank"].tolist() == [1, 2, 3, 4]
    # Extrapolation forecasts from different revealed rungs answered different questions: ranked apart. An
    # internals forecast from c3 answered the same questions as those from c3, knowing more: ranked apart too.
    assert board.set_index("sha256").loc[["d1", "c1", "e1", "i1"], "rank"].tolist() == [1, 1, 2, 1]
    groups = {"blind", "extrapolation from c1", "extrapolation from c3", "internals from c3"}
    assert set(board["group"]) == groups and board["group"].tolist()[-1] == "internals from c3"


def test_versions_count_a_forecasters_submissions_in_time_order():
    board = rank_ladder(scores()).set_index("sha256")
    assert board.loc["a1", "version"] == 1 and board.loc["a2", "version"] == 2 and board.loc["b1", "version"] == 1


def test_oracle_only_on_request_and_never_ranked():
    assert "oracle" not in set(rank_ladder(scores())["kind"])
    board = rank_ladder(scores(), show_oracle=True)
    blind = board[board["group"] == "blind"]
    assert blind["sha256"].iloc[-1] == "o1" and pd.isna(blind["rank"].iloc[-1])
    assert blind["rank"].dropna().tolist() == [1, 2, 3, 4]  # the oracle's perfect score takes no rank from anyone


@pytest.mark.parametrize("sort", ["brier_index", "brier", "brier_skill", "pinball", "pinball_skill", "accuracy_mse"])
def test_sorting_follows_each_scores_direction(sort):
    blind = rank_ladder(scores(), track="blind", sort=sort)
    values = blind[sort].tolist()
    assert values == sorted(values, reverse=table.higher_is_better(sort))


def test_lower_pinball_ranks_first():
    blind = rank_ladder(scores(), track="blind", sort="pinball")
    assert blind["sha256"].tolist() == ["a2", "a1", "b1", "u1"]


def test_track_filter():
    assert set(rank_ladder(scores(), track="blind")["track"]) == {"blind"}
    assert set(rank_ladder(scores(), track="extrapolation")["track"]) == {"extrapolation"}
    assert rank_ladder(scores(), track="internals")["sha256"].tolist() == ["i1"]
    with pytest.raises(ValueError, match="unknown score"):
        rank_ladder(scores(), sort="accuracy")


def test_a_score_added_to_the_table_shows_on_every_board(monkeypatch):
    """Adding a score is its rule, its row in the score table and its tests: the ranking, the terminal (wide and
    narrow), the page's columns and cells, and the command line's choices and help all pick the row up."""
    from rich.console import Console

    from harness.board import page
    from harness.board.terminal import leaderboard_table
    from harness.cli.app import ScoreChoice, score_help

    new = table.Score("surprise", False, ".2f", "Surprise!", "bits of surprise at the outcomes", importance=1.5,
                      interval=True)  # fmt: skip
    monkeypatch.setattr(table, "SCORE_TABLE", (*table.SCORE_TABLE, new))
    rows = scores()
    extra = rows[rows["score"] == "pinball"].assign(score="surprise", value=lambda d: d["value"] * 10)
    extra = extra.assign(ci_low=extra["value"] - 1, ci_high=extra["value"] + 1)
    board = rank_ladder(pd.concat([rows, extra], ignore_index=True), sort="surprise")
    assert board.loc[board["rank"] == 1, "forecaster"].tolist() == ["alice", "dave", "extrapolator", "ivy"]  # per group
    assert {"surprise", "surprise_low", "surprise_high"} <= set(board.columns)

    def shown(width: int | None) -> str:
        console = Console(width=width or 1000, record=True)
        console.print(leaderboard_table(board, "t", width))
        return console.export_text()

    assert "Surprise! [95% CI]" in shown(None) and "2.00 [1.00, 3.00]" in shown(None)  # alice v2: pinball 0.2
    assert "Surprise!" in shown(120)  # importance 1.5: among the first columns that fit
    headers = [c.label for c in page.board_columns()]
    assert "Surprise!" in headers
    cells = page._cells(next(board.itertuples()))
    assert len(cells) == len(headers) and any(c.text == "2.00" and c.ci == "[1.00, 3.00]" for c in cells)
    assert "surprise" in ScoreChoice().choices and "Surprise!" in score_help()
    assert ScoreChoice().convert("surprise", None, None) == "surprise"


def test_the_terminal_shows_what_fits_and_never_cuts_a_name():
    """At 110 columns the most important scores fit and every forecaster's name is whole; --wide shows all."""
    from rich.console import Console

    from harness.board.terminal import leaderboard_table

    board = rank_ladder(scores().replace({"forecaster": {"alice": "literature-prior-extended"}}))
    console = Console(width=110, record=True)
    console.print(leaderboard_table(board, "t", 110))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 110
    assert "literature-prior-extended v1" in text and "literature-prior-extended v2" in text
    assert "Brier index [95% CI]" in text and "accuracy MSE" not in text
    wide = Console(width=1000, record=True)
    wide.print(leaderboard_table(board, "t", None))
    text = wide.export_text()
    assert [c.label for c in page_columns() if c.label not in text] == []


def page_columns():
    from harness.board.fmt import board_columns

    return board_columns()


def test_verdicts_say_who_cannot_be_told_apart():
    """Intervals holding 0 read as 'cannot be told apart'; one wholly below 0 as 'beats uninformed'."""
    from harness.board.fmt import verdicts

    rows = pd.DataFrame({
        "rank": [1, 2, 3, pd.NA], "group": ["blind"] * 4, "forecaster": ["ann", "bo", "uninformed", "oracle"],
        "version": [1, 1, 1, 1], "brier": [0.10, 0.12, 0.25, 0.0],
        "vs_leader": [0.0, 0.02, 0.15, -0.1], "vs_leader_low": [0.0, -0.01, 0.05, -0.2],
        "vs_leader_high": [0.0, 0.05, 0.25, -0.05],
        "vs_uninformed": [-0.15, -0.13, 0.0, -0.25], "vs_uninformed_low": [-0.2, -0.3, 0.0, -0.3],
        "vs_uninformed_high": [-0.1, 0.01, 0.0, -0.2],
    })  # fmt: skip
    lines = verdicts(rows)
    assert lines[0].startswith("blind: cannot be told apart from the leader ann v1") and "bo v1 (+0.020" in lines[0]
    assert "uninformed v1" not in lines[0]  # its interval excludes 0: told apart from the leader
    assert "blind: ann v1 beats uninformed (Brier -0.150 [-0.200, -0.100])." in lines
    assert "blind: bo v1 cannot be told apart from uninformed (Brier -0.130 [-0.300, +0.010])." in lines
    assert not any("oracle" in line for line in lines)  # unranked rows are not judged


def test_another_version_of_the_leader_is_no_rival():
    """The leader's own earlier submission ties it on every resample; it is not listed as a rival."""
    from harness.board.fmt import verdicts

    rows = pd.DataFrame({
        "rank": [1, 1, 3], "group": ["blind"] * 3, "forecaster": ["ann", "ann", "bo"], "version": [1, 2, 1],
        "brier": [0.10, 0.10, 0.12], "vs_leader": [0.0, 0.0, 0.02], "vs_leader_low": [0.0, 0.0, -0.01],
        "vs_leader_high": [0.0, 0.0, 0.05], "vs_uninformed": [-0.15, -0.15, -0.13],
        "vs_uninformed_low": [-0.2, -0.2, -0.3], "vs_uninformed_high": [-0.1, -0.1, 0.01],
    })  # fmt: skip
    leader_line = next(line for line in verdicts(rows) if "the leader" in line)
    assert "bo v1" in leader_line and "ann v2" not in leader_line

"""The score table: one row per score a submission gets, and everything the boards say of it.

Each row names a score, its better direction, how it is formatted and labelled, a one-line text, its
place in the order of importance, and whether a leaderboard can be ranked by it, whether it is shown with
its 95% interval, and whether it is the base score of a kind of question (which then gets coverage and
paired comparisons). The ranking, the terminal table, the page, the command line's choices and help texts
read this table and nothing else, so a new score is its rule (``harness.scoring.rules``), its row here and
its tests. It imports nothing heavy, so the command line starts fast.

Functions, not constants, give the derived lists: they read ``SCORE_TABLE`` when called, so a score added
to the table (in a test, say) shows on every board.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Score:
    """One score as every board describes it."""

    name: str  # as in scores.parquet
    higher_is_better: bool
    fmt: str  # format spec of its value, e.g. ".1f"
    label: str  # column label on the boards
    text: str  # one line: what it measures
    importance: int  # 1 first: the terminal shows the scores in this order while they fit its width
    ranked: bool = True  # a leaderboard can be ranked (and sorted) by it
    interval: bool = False  # shown with its 95% bootstrap interval
    question: bool = False  # the base score of a kind of question: skill score, coverage, paired comparisons

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"

    @property
    def help(self) -> str:
        """The text with its direction and, where shown, its interval: the page's header tooltip."""
        extra = "; 95% bootstrap interval over tasks and training seeds" if self.interval else ""
        return f"{self.text}; {self.direction}{extra}"


# In the order scores.parquet lists them (its rows are sorted by this order, so appending keeps old files).
SCORE_TABLE: tuple[Score, ...] = (
    Score(
        "brier", False, ".4f", "Brier",
        "mean squared error of the rung probabilities against the fraction of seeds with the capability",
        importance=9, question=True,
    ),
    Score(
        "brier_index", True, ".1f", "Brier index",
        "100 (1 - sqrt(Brier)) of the rung questions: 100 is perfect, 0.5 everywhere about 50",
        importance=1, interval=True,
    ),
    Score("brier_skill", True, "+.2f", "Brier skill", "1 - Brier / uninformed Brier", importance=3),
    Score(
        "pinball", False, ".3f", "pinball",
        "quantile loss of the emergence size, in decades of parameters", importance=2, interval=True, question=True,
    ),
    Score("pinball_skill", True, "+.2f", "pinball skill", "1 - pinball / uninformed pinball", importance=4),
    Score(
        "pinball_loss", False, ".3f", "loss pinball",
        "quantile loss of the size at which the answer loss (the smooth metric) reaches its threshold, in decades",
        importance=6, interval=True, question=True,
    ),
    Score(
        "pinball_loss_skill", True, "+.2f", "loss pinball skill", "1 - loss pinball / uninformed loss pinball",
        importance=10,
    ),
    Score(
        "pinball_step", False, ".3f", "step pinball",
        "quantile loss of the training step (log10) at which each rung first reaches the accuracy threshold",
        importance=7, interval=True, question=True,
    ),
    Score(
        "pinball_step_skill", True, "+.2f", "step pinball skill", "1 - step pinball / uninformed step pinball",
        importance=11,
    ),
    Score(
        "accuracy_mse", False, ".4f", "accuracy MSE",
        "squared error of the expected final accuracy over the answered rungs", importance=8,
    ),
    Score(
        "brier_true", False, ".4f", "Brier vs p",
        "the Brier of the rung probabilities less each fraction's seed noise p(1-p)/(n-1): an unbiased estimate "
        "of the squared error against the true probability (one question can be negative)",
        importance=2.2, interval=True, question=True,
    ),
    Score(
        "brier_true_skill", True, "+.2f", "Brier vs p skill", "1 - Brier vs p / uninformed Brier vs p",
        importance=11.5,
    ),
)  # fmt: skip

N_BOOT = 2000  # bootstrap resamples behind every interval, unless a caller asks for more
# What scores.parquet says of each submission besides its scores: the ledger's words, and whether it was blind
# with the rule that decided it (``harness.forecasts.blindness``).
SUBMISSION_COLUMNS = ["sha256", "forecaster", "kind", "track", "revealed_up_to", "blind", "blind_rule", "submitted_at"]
# The paired comparisons on the rows of every question score (``harness.scoring.rules._compare``): differences to
# the uninformed forecaster and to the group's leader with their 95% intervals, and the share ranked first.
COMPARISONS = [
    "vs_uninformed", "vs_uninformed_low", "vs_uninformed_high", "vs_leader", "vs_leader_low", "vs_leader_high",
    "p_first",
]  # fmt: skip


def scores() -> tuple[Score, ...]:
    """Every score, in the order scores.parquet lists them."""
    return SCORE_TABLE


def names() -> list[str]:
    return [s.name for s in SCORE_TABLE]


def get(name: str) -> Score:
    """The row of score ``name``; KeyError if there is none."""
    for s in SCORE_TABLE:
        if s.name == name:
            return s
    raise KeyError(name)


def by_importance() -> list[Score]:
    """Every score, most important first."""
    return sorted(SCORE_TABLE, key=lambda s: s.importance)


def ranked() -> list[str]:
    """The scores a leaderboard can be ranked by, in table order."""
    return [s.name for s in SCORE_TABLE if s.ranked]


def question_scores() -> list[str]:
    """The base score of each kind of question, lower is better: each has a skill score, coverage and comparisons."""
    return [s.name for s in SCORE_TABLE if s.question]


def higher_is_better(name: str) -> bool:
    return get(name).higher_is_better

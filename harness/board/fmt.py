"""Number formats shared by the command line, the terminal tables, the figures and the page."""

from __future__ import annotations

import math


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


def leaderboard_texts(row) -> dict[str, str]:  # noqa: ANN001 - a row of harness.scoring.ranking.rank_ladder
    """Every value of one leaderboard row as text, the same in the terminal and on the page."""
    return {
        "rank": "-" if missing(row.rank) else str(row.rank),
        "forecaster": row.forecaster,
        "version": str(row.version),
        "group": row.group,
        "blind": "blind" if row.blind else "post-hoc",
        "brier_index": number(row.brier_index, ".1f"),
        "brier_index_ci": interval(row.brier_index_low, row.brier_index_high, ".1f"),
        "brier_skill": number(row.brier_skill, "+.2f"),
        "pinball": number(row.pinball, ".3f"),
        "pinball_ci": interval(row.pinball_low, row.pinball_high, ".3f"),
        "pinball_skill": number(row.pinball_skill, "+.2f"),
        "pinball_loss": number(row.pinball_loss, ".3f"),
        "pinball_loss_ci": interval(row.pinball_loss_low, row.pinball_loss_high, ".3f"),
        "pinball_step": number(row.pinball_step, ".3f"),
        "pinball_step_ci": interval(row.pinball_step_low, row.pinball_step_high, ".3f"),
        "accuracy_mse": number(row.accuracy_mse, ".4f"),
        "coverage": f"{number(row.coverage_brier, '.0%')} / {number(row.coverage_pinball, '.0%')}",
        "submitted": row.submitted_at.replace("T", " ")[:16],
        "p_first": number(row.p_first, ".0%"),
        "vs_uninformed": number(row.vs_uninformed, "+.3f"),
        "vs_uninformed_ci": interval(row.vs_uninformed_low, row.vs_uninformed_high, "+.3f"),
    }


def verdicts(board) -> list[str]:  # noqa: ANN001 - harness.scoring.ranking.rank_ladder
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

"""Terminal tables (rich) of emergence, its probabilities, the acceptance checks and the leaderboard."""

from __future__ import annotations

import pandas as pd
from rich.table import Table

from harness.board.fmt import BIMODAL_MARK, BIMODAL_TEXT, bimodal, leaderboard_texts, sci, share, size_summary
from harness.truth.acceptance import Check, Verdict
from harness.truth.emergence import rung_sizes, summarize, task_order

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


def leaderboard_table(board: pd.DataFrame, title: str) -> Table:
    """The ranked submissions of ``harness.scoring.ranking.rank_ladder``, one row each, groups separated."""
    caption = (
        "* built-in baseline; † oracle, reads the truth, never ranked. "
        "Ranked within each group of forecasts that answered the same questions. Brier index: 100 is perfect, 0.5 "
        "everywhere about 50. Pinball: quantile loss of the emergence size in decades, lower is better. Loss / step: "
        "the same for the size at which the answer loss reaches its threshold, and for the training step (log10) at "
        "which each rung reaches the accuracy threshold. Skill: 1 - score / uninformed score, for Brier (B) and "
        "pinball (P). "
        "P(1st): share of bootstrap resamples in which its Brier is the group's best (ties count for each). "
        "Coverage: share of rung questions / emergence sizes answered. Intervals: 95% bootstrap over tasks and "
        "training seeds."
    )
    out = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for name, justify in (
        ("rank", "right"), ("forecaster", "left"), ("v", "right"), ("track", "left"), ("blind", "left"),
        ("Brier index [95% CI]", "right"), ("pinball [95% CI]", "right"), ("skill B / P", "right"),
        ("loss / step", "right"),
        ("P(1st)", "right"), ("coverage", "right"), ("submitted", "left"),
    ):  # fmt: skip
        out.add_column(name, justify=justify)
    group = None
    for row in board.itertuples():
        if group is not None and row.group != group:
            out.add_section()
        group = row.group
        t = leaderboard_texts(row)
        who = t["forecaster"] + {"baseline": "*", "oracle": "†"}.get(row.kind, "")
        track = t["group"].replace("extrapolation", "extrap.")
        out.add_row(
            t["rank"], who, t["version"], track, t["blind"], f"{t['brier_index']} {t['brier_index_ci']}",
            f"{t['pinball']} {t['pinball_ci']}", f"{t['brier_skill']} / {t['pinball_skill']}",
            f"{t['pinball_loss']} / {t['pinball_step']}", t["p_first"],
            t["coverage"], t["submitted"][:10],
        )  # fmt: skip
    return out

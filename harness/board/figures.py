"""Figures of measured results and of forecasts against them, rendered to PNG bytes.

matplotlib without pyplot, so no display is needed and nothing is global.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from harness.board.fmt import sci
from harness.files import atomic_write
from harness.neurons.internals_table import MEASURES
from harness.truth.emergence import pooled_points, rung_sizes, seed_points, task_order
from harness.truth.ground_truth import GroundTruth

MAP_FILE = "emergence_map.png"
INTERNALS_FILE = "internals.png"
METRIC_TITLES = {
    "accuracy": "exact-match accuracy reaches the task's threshold",
    "loss": "answer loss reaches the matching threshold",
}


def emergence_map(table: pd.DataFrame, probabilities: pd.DataFrame) -> bytes:
    """Tasks by rungs, coloured by the fraction of seeds that have the capability, one panel per metric.

    probabilities: the table of ``harness.truth.probability.probability_table``.
    Each cell shows k/n seeds. A diamond marks each task's emergence point pooled
    over seeds (the robust estimate) and a bar its 95% bootstrap interval over
    seeds, cut at the ladder's ends; above them, a tick per seed at that seed's
    own robust point (the seed lottery; a triangle at the ladder's end for a
    censored seed). An orange outline marks a (task, rung) whose seeds split
    all-or-nothing (bimodal, accuracy only).
    """
    metrics = [m for m in ("accuracy", "loss") if (table["metric"] == m).any()]
    order = task_order(table)
    rungs = rung_sizes(table)
    n_seeds = table["seed"].nunique()
    fig = Figure(figsize=(5.2 * len(metrics) + 1.2, 0.55 * len(order) + 2.2), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics):
        cells = probabilities[probabilities["metric"] == metric]
        grid = cells.pivot(index="task", columns="rung", values="fraction").reindex(order)[rungs["rung"]]
        have = cells.pivot(index="task", columns="rung", values="n_have").reindex(order)[rungs["rung"]]
        measured = cells.pivot(index="task", columns="rung", values="n_seeds").reindex(order)[rungs["rung"]]
        sns.heatmap(
            grid, ax=ax, vmin=0, vmax=1, cmap="YlGnBu", annot=have.astype(str) + "/" + measured.astype(str), fmt="",
            linewidths=0.5, linecolor="white", cbar=ax is axes[-1],
            cbar_kws={"label": "fraction of seeds with the capability"}, annot_kws={"fontsize": 8},
        )  # fmt: skip
        _mark_points(ax, table[table["metric"] == metric], order, len(rungs))
        split = cells[cells["bimodal"].fillna(False).astype(bool)]
        for task, rung in zip(split["task"], split["rung"]):
            x, y = rungs["rung"].tolist().index(rung), order.index(task)
            ax.add_patch(Rectangle((x + 0.04, y + 0.04), 0.92, 0.92, fill=False, edgecolor="darkorange", lw=1.6))
        ax.set_xticklabels([f"{r}\n{sci(p)}" for r, p in zip(rungs["rung"], rungs["params"])], rotation=0, fontsize=8)
        ax.set_xlabel("rung and parameters (log-spaced)")
        ax.set_ylabel("task" if ax is axes[0] else "")
        ax.set_title(f"{metric}: {METRIC_TITLES[metric]}", fontsize=9)
    ladder = table["ladder"].iloc[0]
    fig.suptitle(
        f"Emergence map of ladder '{ladder}' over {n_seeds} seed{'s' if n_seeds > 1 else ''} (diamond: emergence "
        "point pooled over seeds, bar: 95% bootstrap interval over seeds;\nticks: each seed's own point; orange "
        "outline: seeds split all-or-nothing)",
        fontsize=10,
    )
    return _png(fig, dpi=120)


def _mark_points(ax, table: pd.DataFrame, order: list[str], n_rungs: int) -> None:  # noqa: ANN001 - an Axes
    """On each task's row of a heatmap (cell i centred at i + 0.5): the pooled point and its interval near the
    bottom, each seed's own robust point as a tick near the top (censored seeds as triangles at the ends)."""
    pooled = pooled_points(table).set_index("task")
    seeds = seed_points(table)
    last = n_rungs - 1
    for row, task in enumerate(order):
        p = pooled.loc[task]
        if p["censoring"] == "none":
            lo, hi = (float(np.clip(p[k], 0, last)) + 0.5 for k in ("low", "high"))
            y = row + 0.8  # just below the cell's annotation
            ax.plot([lo, hi], [y, y], color="crimson", lw=2, solid_capstyle="round")
            ax.plot([p["position"] + 0.5], [y], marker="D", color="crimson", ms=5)
        own = seeds[seeds["task"] == task]
        inside = own.loc[own["robust_censoring"] == "none", "robust_position"] + 0.5
        for colour, width in (("white", 3.0), ("black", 1.2)):  # a white halo keeps the ticks seen on dark cells
            ax.plot(inside, np.full(len(inside), row + 0.2), ls="", marker="|", color=colour, ms=7, mew=width)
        for side, x, marker in (("left", 0.1, "<"), ("right", n_rungs - 0.1, ">")):
            if (own["robust_censoring"] == side).any():
                ax.plot([x], [row + 0.2], marker=marker, color="black", mec="white", ms=5)


def write_emergence_map(truth: GroundTruth) -> Path:
    """Keep ``emergence_map.png`` beside the emergence table: drawn when the table changed or the map is missing.

    A figure's bytes differ between machines (fonts, library versions), so an
    up-to-date map is left as it is rather than redrawn by every view.
    """
    path = truth.table_path.with_name(MAP_FILE)
    if truth.changed or not path.exists():
        atomic_write(path, emergence_map(truth.table, truth.probabilities))
    return path


def _png(fig: Figure, dpi: int = 100) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def learning_curves(curves: pd.DataFrame, task: str, thresholds: dict[str, float]) -> bytes:
    """Accuracy and answer loss of one task against training step: one line per rung, seeds shaded.

    curves: the tidy ``curves.parquet`` rows (any tasks). thresholds: metric ->
    this task's threshold, drawn as a dashed line. The line is the mean over
    seeds and the band spans the lowest to the highest seed. Step 0 is left out
    of the log-scaled step axis.
    """
    one = curves[(curves["task"] == task) & (curves["step"] > 0)]
    rungs = rung_sizes(one)
    labels = {r: f"{r} ({sci(p)})" for r, p in zip(rungs["rung"], rungs["params"])}
    one = one.assign(rung=one["rung"].map(labels))
    palette = sns.color_palette("viridis", len(rungs))
    n_seeds = one["seed"].nunique()
    fig = Figure(figsize=(10, 3.4), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, metric, label in zip(
        axes, ("accuracy", "loss"), ("exact-match accuracy", "answer loss (nats per token, log)")
    ):
        data = one[one["metric"] == metric]
        sns.lineplot(
            data=data, x="step", y="value", hue="rung", hue_order=list(labels.values()), palette=palette, ax=ax,
            estimator="mean", errorbar=("pi", 100), legend=ax is axes[-1], linewidth=1.4,
        )  # fmt: skip
        ax.axhline(thresholds[metric], color="crimson", ls="--", lw=1, label="threshold")
        ax.set_xscale("log")
        if metric == "loss":
            ax.set_yscale("log")
        ax.set_xlabel("training step (log)")
        ax.set_ylabel(label)
        ax.set_title(f"{task}: {metric} (threshold {thresholds[metric]:.3g}, dashed)", fontsize=10)
    axes[-1].legend(
        title="rung (parameters)", fontsize=7, title_fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5)
    )
    fig.suptitle(
        f"Learning curves of '{task}': mean over {n_seeds} seed{'s' * (n_seeds > 1)}, band from lowest to highest seed",
        fontsize=10,
    )
    return _png(fig)


def forecast_card(
    title: str,
    tasks: list[str],
    quantiles: pd.DataFrame,
    measured: pd.DataFrame,
    rungs: pd.DataFrame,
    floor: float,
    questions: pd.DataFrame,
) -> bytes:
    """One forecast against the truth: predicted and measured emergence size per task, and its reliability.

    quantiles: task, level, q (log10 parameters). measured: task, seed,
    log_size (-inf/+inf when censored below/above the ladder). rungs: rung,
    log_params, ascending. floor: log10 size up to which the forecaster saw the
    curves and nothing is scored (shaded; -inf on the blind track). questions:
    p, outcome of every scored (task, rung) question the forecast answered.
    """
    fig = Figure(figsize=(11, 0.42 * len(tasks) + 2.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[1.7, 1])
    _emergence_sizes(left, tasks, quantiles, measured, rungs, floor)
    _reliability(right, questions)
    fig.suptitle(title, fontsize=10)
    return _png(fig)


def _emergence_sizes(
    ax: Axes, tasks: list[str], quantiles: pd.DataFrame, measured: pd.DataFrame, rungs: pd.DataFrame, floor: float
) -> None:
    """Per task (rows): the forecast's quantile range and median, and the measured point pooled over seeds."""
    bottom, top = float(rungs["log_params"].iloc[0]), float(rungs["log_params"].iloc[-1])
    lo_edge, hi_edge = bottom - 0.35, top + 1.0  # room above the ladder for "not within this ladder"
    ax.axvspan(10**lo_edge, 10**bottom, color="0.92", lw=0)
    ax.axvspan(10**top, 10**hi_edge, color="0.92", lw=0)
    if floor > bottom:
        ax.axvspan(10**bottom, 10**floor, color="#fdf1d6", lw=0)
        ax.text(
            10 ** ((bottom + floor) / 2), -0.45, "revealed, not scored", ha="center", va="top", fontsize=7, color="0.35"
        )
    for x in rungs["log_params"]:
        ax.axvline(10**x, color="0.8", lw=0.6, zorder=0)
    for row, task in enumerate(tasks):
        mine = quantiles[quantiles["task"] == task].sort_values("level")
        if len(mine):
            q = np.clip(mine["q"].to_numpy(), lo_edge, hi_edge)
            lv = mine["level"].to_numpy()
            ax.plot(10 ** q[[0, -1]], [row, row], color="tab:blue", lw=2, alpha=0.45, solid_capstyle="butt")
            inner = (lv >= 0.25) & (lv <= 0.75)
            if inner.sum() >= 2:
                ax.plot(10 ** q[inner][[0, -1]], [row, row], color="tab:blue", lw=5, alpha=0.7, solid_capstyle="butt")
            ax.plot(10 ** q[np.argmin(np.abs(lv - 0.5))], row, marker="o", color="tab:blue", ms=6, mfc="white", mew=2)
        else:
            ax.text(10**bottom, row, " no forecast", va="center", fontsize=7, color="0.4")
        point = measured.loc[measured["task"] == task, "log_size"].to_numpy()
        inside = point[np.isfinite(point)]
        ax.plot(10**inside, np.full(len(inside), row), "kx", ms=6, mew=1.5)
        if (point == np.inf).any():
            ax.plot(10 ** (top + 0.3), row, marker=">", color="k", ms=7)
        if (point == -np.inf).any():
            ax.plot(10 ** (bottom - 0.2), row, marker="<", color="k", ms=7)
    ax.set_xscale("log")
    ax.set_xlim(10**lo_edge, 10**hi_edge)
    ax.set_yticks(range(len(tasks)), tasks, fontsize=8)
    ax.set_ylim(len(tasks) - 0.5, -0.5)
    ax.set_xlabel("emergence size (parameters, log); grey: below and above the ladder")
    ax.set_title(
        "emergence size: forecast (blue: outer and 25-75% quantiles, o median)\nmeasured (x pooled over seeds; ▶ not "
        "reached in the ladder, ◀ there from the start)",
        fontsize=8,
    )


def _reliability(ax: Axes, questions: pd.DataFrame) -> None:
    """Reliability diagram of the rung questions: mean outcome against mean forecast, in ten bins of p."""
    ax.plot([0, 1], [0, 1], color="0.6", ls="--", lw=1)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("forecast probability that the rung has it")
    ax.set_ylabel("fraction of seeds where it did")
    if questions.empty:
        ax.text(0.5, 0.5, "no rung probabilities given", ha="center", va="center", fontsize=9, color="0.4")
        ax.set_title("reliability of the rung questions", fontsize=9)
        return
    bins = np.minimum((questions["p"].to_numpy() * 10).astype(int), 9)
    grouped = questions.groupby(bins).agg(p=("p", "mean"), outcome=("outcome", "mean"), n=("p", "size"))
    ax.plot(grouped["p"], grouped["outcome"], color="tab:orange", lw=1, zorder=1)
    ax.scatter(
        grouped["p"],
        grouped["outcome"],
        s=20 + 180 * grouped["n"] / grouped["n"].max(),
        color="tab:orange",
        edgecolor="k",
        zorder=2,
    )
    ax.set_title(f"reliability of the rung questions\n({len(questions)} answered; dot size: how many)", fontsize=9)


def internals_figure(internals: pd.DataFrame, curves: pd.DataFrame, table: pd.DataFrame) -> bytes:
    """The progress measures beside the curves, in two parts.

    Top, one panel per task at the rung where it emerges (the first that at least half the seeds end with
    the capability; the top rung if none): its accuracy and, scaled to their range over that rung's checkpoints
    (0 its lowest, 1 its highest), the model's measures and the task's own (its solved share aside, which is
    its accuracy on the probe). Dashed: the median over seeds of the rung's emergence step.
    Below, two panels per measure: its value at each pair's final checkpoint over rung size (one line per
    task), and over training (one line per rung, averaged over the measure's tasks). Every value is a mean over
    seeds of one number per checkpoint, made as ``internals_table.MEASURES`` says (the best head of every
    layer, the weight norms summed over blocks, sparse parity's first block). internals: ``internals.parquet``
    rows; curves: ``curves.parquet`` rows; table: the emergence table. Measures a table lacks (one written
    before they existed) are left out.
    """
    acc = table[table["metric"] == "accuracy"]
    order = task_order(table)
    present = set(internals["measure"])
    names = [m for m in MEASURES if m in present] + sorted(present - set(MEASURES))
    cols = 4
    top_rows, bottom_rows = math.ceil(len(order) / cols), math.ceil(len(names) * 2 / cols)
    fig = Figure(figsize=(3.2 * cols, 2.5 * (top_rows + bottom_rows) + 1.4), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[top_rows + 0.4, bottom_rows + 0.3])
    _internals_at_emergence(top, internals, curves, acc, order, [m for m in names if m != "solved_share"], cols)
    axes = bottom.subplots(bottom_rows, cols, squeeze=False).ravel()
    sizes = rung_sizes(acc)["rung"].tolist()
    task_colors = dict(zip(order, sns.color_palette("tab10", len(order))))
    rung_colors = dict(zip(sizes, sns.color_palette("viridis", len(sizes))))
    for i, name in enumerate(names):
        _internals_of_measure(axes[2 * i], axes[2 * i + 1], internals, name, task_colors, rung_colors)
    for ax in axes[2 * len(names) :]:
        ax.set_visible(False)
    handles = [Line2D([], [], color=c, marker=".", label=t) for t, c in task_colors.items()]
    handles += [Line2D([], [], color="black", marker=".", label="whole model")]
    handles += [Line2D([], [], color=c, lw=1.5, label=r) for r, c in rung_colors.items()]
    bottom.legend(handles=handles, fontsize=7, loc="outside lower center", ncols=min(len(handles), 11))
    bottom.suptitle(
        "Each measure at the final checkpoint over size (one line per task) and over training (one line per rung, "
        "mean over the measure's tasks); means over seeds",
        fontsize=9,
    )
    return _png(fig)


def _internals_reduced(rows: pd.DataFrame, name: str) -> pd.Series:
    """One value per checkpoint (rung, params, seed, step) of one measure's rows of one task, as MEASURES says."""
    how = MEASURES[name].reduce if name in MEASURES else "max"
    keys = ["rung", "params", "seed", "step"]
    if how == "first":
        rows, how = rows[rows["layer"] == rows.groupby(keys)["layer"].transform("min")], "max"
    return rows.groupby(keys)["value"].agg(how)


def _internals_label(name: str) -> str:
    return MEASURES[name].label if name in MEASURES else name


def _internals_at_emergence(fig, internals, curves, acc, order, names, cols) -> None:  # noqa: ANN001
    """The top part of ``internals_figure``: each task at the rung where it emerges."""
    rungs = rung_sizes(acc)["rung"].tolist()
    have = acc.groupby(["task", "rung"])["reached"].mean()
    axes = fig.subplots(math.ceil(len(order) / cols), cols, squeeze=False).ravel()
    palette = dict(zip(["accuracy", *names], sns.color_palette("tab10", len(names) + 1)))
    for ax, task in zip(axes, order):
        rung = next((r for r in rungs if have.get((task, r), 0) >= 0.5), rungs[-1])
        here = internals[(internals["rung"] == rung) & (internals["step"] > 0) & internals["task"].isin(["", task])]
        for name in names:
            rows = here[here["measure"] == name]
            if rows.empty:
                continue
            mean = _internals_reduced(rows, name).groupby("step").mean()
            span = mean.max() - mean.min()
            ax.plot(mean.index, (mean - mean.min()) / span if span > 0 else mean * 0, marker=".", lw=1.2,
                    color=palette[name], label=name)  # fmt: skip
        accuracy = curves[(curves["task"] == task) & (curves["rung"] == rung) & (curves["metric"] == "accuracy")]
        accuracy = accuracy[accuracy["step"] > 0].groupby("step")["value"].mean()
        ax.plot(accuracy.index, accuracy.to_numpy(), color=palette["accuracy"], lw=2, label="accuracy")
        steps = acc[(acc["task"] == task) & (acc["rung"] == rung)]["emergence_step"].dropna()
        if len(steps):
            ax.axvline(float(steps.median()), color="crimson", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(f"{task} at {rung}", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes[len(order) :]:
        ax.set_visible(False)
    handles = [Line2D([], [], color=color, lw=2 if name == "accuracy" else 1.2, label=_internals_label(name))
               for name, color in palette.items()]  # fmt: skip
    fig.legend(handles=handles, fontsize=7, loc="outside lower center", ncols=len(handles))
    fig.suptitle(
        "At the rung where each task emerges, over training steps (log): accuracy and the measures of the model and "
        "the task, scaled to their range; dashed: median emergence step",
        fontsize=9,
    )


def _internals_of_measure(by_size, by_step, internals, name, task_colors, rung_colors) -> None:  # noqa: ANN001
    """Two panels of one measure: at the final checkpoint over size, and over training per rung."""
    rows = internals[internals["measure"] == name]
    values = pd.concat({t: _internals_reduced(r, name) for t, r in rows.groupby("task")}, names=["task"])
    values = values.reset_index()
    final = values[values["step"] == values.groupby(["task", "rung", "seed"])["step"].transform("max")]
    for task, part in final.groupby("task"):
        line = part.groupby("params")["value"].mean()
        by_size.plot(line.index, line.to_numpy(), marker=".", lw=1.2, color=task_colors.get(task, "black"))
    over = values[values["step"] > 0].groupby(["params", "rung", "step"])["value"].mean()
    for (_, rung), part in over.groupby(level=["params", "rung"]):
        by_step.plot(
            part.index.get_level_values("step"), part.to_numpy(), marker=".", ms=3, lw=1.2, color=rung_colors.get(rung)
        )
    label = _internals_label(name)
    for ax, x in ((by_size, "parameters (log)"), (by_step, "training step (log)")):
        ax.set_xscale("log")
        ax.set_xlabel(x, fontsize=7)
        ax.tick_params(labelsize=7)
        if name in MEASURES and MEASURES[name].share:
            ax.set_ylim(-0.05, 1.05)
    by_size.set_title(f"{label}: at the end", fontsize=9)
    by_step.set_title(f"{label}: over training", fontsize=9)


def write_internals_figure(folder: Path, internals: pd.DataFrame, truth: GroundTruth) -> Path:
    """``internals.png`` beside the internals table: the figure of ``internals_figure``."""
    path = folder / INTERNALS_FILE
    atomic_write(path, internals_figure(internals, truth.curves, truth.table))
    return path

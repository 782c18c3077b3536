"""Figures of measured results, rendered to PNG bytes (matplotlib without pyplot, so no display is needed)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from harness.emergence import fraction_emerged, rung_sizes, seed_points, task_order
from harness.fmt import sci

METRIC_TITLES = {
    "accuracy": "exact-match accuracy reaches the task's threshold",
    "loss": "answer loss reaches the matching threshold",
}


def emergence_map(table: pd.DataFrame) -> bytes:
    """Tasks by rungs, coloured by the fraction of seeds that have the capability, one panel per metric.

    A diamond marks each task's median emergence point and a bar the range over
    seeds (tasks whose every seed emerged inside the ladder).
    """
    metrics = [m for m in ("accuracy", "loss") if (table["metric"] == m).any()]
    order = task_order(table)
    rungs = rung_sizes(table)
    n_seeds = table["seed"].nunique()
    fig = Figure(figsize=(5.2 * len(metrics) + 1.2, 0.55 * len(order) + 2.2), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    for ax, metric in zip(axes, metrics):
        grid = fraction_emerged(table, metric).reindex(order)
        counts = (grid * n_seeds).round().astype(int).astype(str) + f"/{n_seeds}"
        sns.heatmap(
            grid, ax=ax, vmin=0, vmax=1, cmap="YlGnBu", annot=counts, fmt="", linewidths=0.5, linecolor="white",
            cbar=ax is axes[-1], cbar_kws={"label": "fraction of seeds with the capability"},
            annot_kws={"fontsize": 8},
        )  # fmt: skip
        points = seed_points(table[table["metric"] == metric]).set_index("task")
        for row, task in enumerate(order):
            mine = points.loc[[task]]
            if (mine["censoring"] == "none").all():
                pos = mine["emergence_position"].to_numpy() + 0.5  # heatmap cell i is centred at i + 0.5
                y = row + 0.8  # below the cell's annotation
                ax.plot([pos.min(), pos.max()], [y, y], color="crimson", lw=2, solid_capstyle="round")
                ax.plot([np.median(pos)], [y], marker="D", color="crimson", ms=5)
        ax.set_xticklabels([f"{r}\n{sci(p)}" for r, p in zip(rungs["rung"], rungs["params"])], rotation=0, fontsize=8)
        ax.set_xlabel("rung and parameters (log-spaced)")
        ax.set_ylabel("task" if ax is axes[0] else "")
        ax.set_title(f"{metric}: {METRIC_TITLES[metric]}", fontsize=9)
    ladder = table["ladder"].iloc[0]
    fig.suptitle(f"Emergence map of ladder '{ladder}' over {n_seeds} seed{'s' if n_seeds > 1 else ''} (diamond: median emergence point, bar: seed range)", fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120)
    return buf.getvalue()

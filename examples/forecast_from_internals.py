"""Worked example: forecast a capability of the larger networks from recordings of the smaller ones.

The internals track shows the lower rungs of a ladder (the smaller networks) with every checkpoint over
training, and scores a forecast on the rungs above. This script is an experiment a neuroscientist would
recognise:

1. **Record.** For every revealed network (rung, training seed) at the end of training, present ``--n``
   trials of the task and read out, per trial, the log probability the network gives the whole correct
   answer: a graded signal, like the response of a correct-choice neuron, where accuracy is the animal's
   binary choice. Its median over trials is the network's *readout*. Where a network's checkpoints over
   training are at hand, its readout over training is shown too.
2. **Extrapolate across brain sizes.** The readout's mean over seeds per rung is a line in log10
   parameters; the line's prediction interval (which widens with the distance extrapolated) gives its
   spread at each larger rung.
3. **Forecast.** The task counts as learned when the whole answer is right on a share of trials at least
   its threshold, so a network "has it" roughly when its readout exceeds log(threshold). A larger rung's
   probability of having it is the chance its readout lands above that line.
4. **Score.** Only after the forecast is made, the measured truth of the hidden rungs is read, and the
   forecast is scored beside the two-step (the best curve-fitting baseline), paired on the same questions.

    python examples/forecast_from_internals.py --task multiply --up-to c3
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats

from harness.errors import UserError
from harness.forecasts.schema import Forecast, TaskForecast
from harness.ladders.ladder import load_ladder
from harness.methods import builtin
from harness.methods.backtest import paired, score_alone
from harness.methods.question import Question, asking
from harness.neurons.recording import examples
from harness.training.metrics import per_example
from harness.truth.ground_truth import measure


def readout(model: torch.nn.Module, trials: dict[str, torch.Tensor]) -> float:
    """The median over trials of log P(the whole correct answer): the network's graded readout of the task."""
    with torch.no_grad():
        logits = model(trials["input"])  # (n, T, d_vocab)
    loss, _ = per_example(logits, trials["target"], trials["answer_mask"])  # (n,) summed -log p of answer tokens
    return float(torch.median(-loss))


def record(question: Question, task: str, n: int, seeds: list[int] | None) -> pd.DataFrame:
    """One row per revealed (rung, seed, step) at hand: rung, params, seed, step, readout."""
    shown = question.internals
    trials = examples(question.ladder.task(task), n, seed=0)  # the same trials for every network
    rows = []
    for (rung, seed), steps in shown.checkpoints.groupby(["rung", "seed"], sort=False)["step"]:
        if seeds is not None and seed not in seeds:
            continue
        for step in sorted(steps):
            value = readout(shown.load_model(rung, int(seed), int(step)), trials)
            rows.append((rung, question.ladder.rung(rung).params, int(seed), int(step), value))
    return pd.DataFrame(rows, columns=["rung", "params", "seed", "step", "readout"])


def forecast_probabilities(
    per_rung: pd.Series, log_params: dict[str, float], hidden: list[str], threshold: float
) -> dict[str, float]:
    """P(readout above log(threshold)) at each hidden rung, from a line through the revealed rungs' readouts.

    per_rung: mean readout per revealed rung (index: rung names, at least 3).
    """
    x = np.array([log_params[r] for r in per_rung.index])
    y = per_rung.to_numpy()
    fit = stats.linregress(x, y)
    s = math.sqrt(max(float(np.sum((y - fit.intercept - fit.slope * x) ** 2)) / (len(x) - 2), 1e-4))
    sxx = float(np.sum((x - x.mean()) ** 2))
    probabilities = {}
    for rung in hidden:
        at = log_params[rung]
        centre = fit.intercept + fit.slope * at
        spread = s * math.sqrt(1 + 1 / len(x) + (at - x.mean()) ** 2 / sxx)  # the prediction interval
        probabilities[rung] = round(float(stats.norm.sf(math.log(threshold), loc=centre, scale=spread)), 4)
    return probabilities


def run(ladder_name: str, task: str, up_to: str, n: int, seeds: list[int] | None, out: Path) -> dict:
    """Record, forecast, then score; returns the recordings, the forecast and the scores."""
    ladder = load_ladder(ladder_name)
    if task not in ladder.spec.tasks:
        raise UserError(f"Task '{task}' is not a task of ladder '{ladder.name}': {', '.join(ladder.spec.tasks)}.")
    with asking(ladder, out, "internals", up_to) as question:
        recordings = record(question, task, n, seeds)
        final = recordings[recordings["step"] == recordings.groupby(["rung", "seed"])["step"].transform("max")]
        per_rung = final.groupby("rung", sort=False)["readout"].mean().reindex(question.revealed)
        log_params = {r.name: math.log10(r.params) for r in ladder.rungs}
        threshold = question.thresholds["accuracy"][task]
        p = forecast_probabilities(per_rung, log_params, question.hidden, threshold)
        limits = question.thresholds
        two_step = builtin.two_step(ladder, question.curves, up_to, limits["loss"], limits["accuracy"])
    forecast = Forecast(
        forecaster="readout-example", ladder=ladder.name, ladder_hash=ladder.hash, track="internals",
        revealed_up_to=up_to, tasks={task: TaskForecast(p_emerged=p)},
        description=f"Median log P(answer) of {task} per revealed network, extended as a line in log size.",
    )  # fmt: skip
    # Only now is the truth of the hidden rungs read.
    truth = measure(ladder, out, write=False).table
    baseline = two_step.model_copy(update={"tasks": {task: TaskForecast(p_emerged=two_step.tasks[task].p_emerged)}})
    scores = score_alone(forecast, ladder, truth, n_boot=200, seed=0).set_index("score")
    versus = paired(forecast, baseline, ladder, truth, n_boot=200, seed=0).set_index("score")
    measured = truth[(truth["metric"] == "accuracy") & (truth["task"] == task)].groupby("rung")["reached"].mean()
    return {"recordings": recordings, "forecast": forecast, "baseline": baseline, "scores": scores,
            "versus": versus, "measured": measured}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ladder", default="cpu")
    parser.add_argument("--task", default="multiply")
    parser.add_argument("--up-to", default="c3", help="the highest revealed rung")
    parser.add_argument("--n", type=int, default=256, help="trials presented to each network")
    parser.add_argument("--seeds", default=None, help="comma-separated training seeds to record (default: all)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="results root")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    try:
        found = run(args.ladder, args.task, args.up_to, args.n, seeds, args.out)
    except UserError as exc:
        raise SystemExit(f"Error: {exc}") from None
    rec = found["recordings"]
    print(f"Recorded {len(rec)} checkpoints of {rec.groupby(['rung', 'seed']).ngroups} networks.")
    over = rec[rec["seed"] == rec.groupby("seed")["step"].nunique().idxmax()]
    top = over[over["rung"] == over["rung"].iloc[-1]]
    steps = ", ".join(f"step {s}: {v:.2f}" for s, v in zip(top["step"], top["readout"]))
    print(f"Readout over training, rung {top['rung'].iloc[0]} seed {top['seed'].iloc[0]}: {steps}")
    final = rec[rec["step"] == rec.groupby(["rung", "seed"])["step"].transform("max")]
    means = final.groupby("rung", sort=False)["readout"].mean()
    print(
        "Mean readout at the end of training, per revealed rung: " + ", ".join(f"{r} {v:.2f}" for r, v in means.items())
    )
    p = found["forecast"].tasks[args.task].p_emerged
    base = found["baseline"].tasks[args.task].p_emerged
    print(f"{'rung':<6}{'forecast':>10}{'two-step':>10}{'measured':>10}")
    for rung in p:
        print(f"{rung:<6}{p[rung]:>10.3f}{base[rung]:>10.3f}{found['measured'][rung]:>10.3f}")
    s, v = found["scores"], found["versus"]
    versus = f"{v.difference['brier']:+.3f} [{v.low['brier']:+.3f}, {v.high['brier']:+.3f}]"
    print(f"Brier {s.value['brier']:.3f}, Brier vs p {s.value['brier_true']:.3f}; minus the two-step's on the same "
          f"questions: {versus} (negative: better).")  # fmt: skip


if __name__ == "__main__":
    main()

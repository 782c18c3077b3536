"""Rounds on disk: drawing a new one into ``rounds/`` with its blind baselines, and where every ladder stands.

``new_round`` validates everything before it writes: a name that exists, a
template that is not a ladder or is itself a round, leave nothing behind. Every
registered forecasting method that answers the blind track (the built-ins
uninformed, and template-prior when the template has results, and each method
an installed package registers, ``harness.methods.registry``) forecasts the
drawn round first; a method that fails stops the round with nothing written.
Then the round's file is created (never replaced: of two draws of one name at
once, exactly one writes it) and its forecasts are submitted to the ledger, as
one step under the ledger's lock, before anything of the round is trained.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import UserError
from harness.files import create_new
from harness.forecasts import blindness, ledger
from harness.forecasts.ledger import Entry, read_ledger
from harness.forecasts.schema import Forecast
from harness.ladders.ladder import (
    NAME_PATTERN,
    Ladder,
    builtin_ladders,
    load_ladder,
    parse_ladder,
    round_ladders,
    round_path,
)  # fmt: skip
from harness.methods.question import ask
from harness.methods.registry import Method, registered
from harness.methods.running import answer, record_answer
from harness.rounds.draw import round_text
from harness.training.store import ResultsStore


@dataclass(frozen=True)
class NewRound:
    ladder: Ladder
    path: Path
    submitted: list[Entry]  # the forecasts of every registered method that answers it, submitted blind
    skipped: list[str]  # "method, which ...": each blind-track method that cannot answer it, and why


def next_seed(template: Ladder) -> int:
    """The smallest seed from 1 whose default round name is free."""
    taken = set(builtin_ladders()) | set(round_ladders())
    return next(s for s in range(1, 10**6) if f"{template.name}-r{s}" not in taken)


def new_round(template_name: str, seed: int | None, name: str | None, predictions: Path, out: Path) -> NewRound:
    """Draw round ``name`` (default ``TEMPLATE-rSEED``) from ``template_name`` with ``seed``; write and submit."""
    template = load_ladder(template_name)
    if template.spec.round is not None:
        raise UserError(
            f"Ladder '{template.name}' is itself a round; draw from its template instead: --template "
            f"{template.spec.round.template}."
        )
    seed = next_seed(template) if seed is None else seed
    command = f"ladder round new --template {template.cli_name} --seed {seed}" + (f" --name {name}" if name else "")
    name = name or f"{template.name}-r{seed}"
    if not re.match(NAME_PATTERN, name):
        raise UserError(f"--name '{name}' is not a valid ladder name: use lower-case letters, digits, '-' and '_'.")
    path = round_path(name)
    if name in builtin_ladders() or path.exists():
        raise _exists(name, path)
    text = round_text(template, seed, name, command)
    with tempfile.TemporaryDirectory() as scratch:  # validated and forecast before anything is written where it stays
        probe = Path(scratch) / f"{name}.yaml"
        probe.write_text(text, encoding="utf-8")
        made, skipped = blind_forecasts(parse_ladder(probe), template, out)
    # One step under the ledger's lock: the file is created only if no other draw made it meanwhile (two at once
    # both pass the check above), and its forecasts are submitted before any other submission can land; the loser
    # of a race writes neither the file nor a ledger line.
    with ledger.lock(predictions):
        read_ledger(predictions)  # a damaged ledger is refused before the round exists
        if not create_new(path, text.encode("utf-8")):
            raise _exists(name, path)
        ladder = load_ladder(name)
        submitted = [record_answer(forecast, ladder, method, predictions, out)[0] for forecast, method in made]
    return NewRound(ladder, path, submitted, skipped)


def _exists(name: str, path: Path) -> UserError:
    return UserError(
        f"A ladder named '{name}' exists ({path if path.exists() else 'a built-in ladder'}); rounds are never "
        "overwritten. Choose another --seed or --name."
    )


def resolving_cost(ladder: Ladder, template: Ladder, out: Path) -> str:
    """What training a round costs, in words: its pairs, and the time at the template's measured pace here."""
    pairs = len(ladder.rungs) * len(ladder.spec.seeds)
    what = f"{pairs} (rung, seed) pairs ({len(ladder.rungs)} rungs x {len(ladder.spec.seeds)} seeds)"
    store = ResultsStore.of(template, out)
    runs = store.manifest()["runs"] if store.exists() else {}
    if not runs:
        return f"{what}; the template has no results here to time them by"
    per_seed: dict[int, float] = {}
    for entry in runs.values():
        per_seed[entry["seed"]] = per_seed.get(entry["seed"], 0.0) + entry["wall_time_s"]
    minutes = sum(per_seed.values()) / len(per_seed) / 60 * len(ladder.spec.seeds)
    return (
        f"{what}, about {minutes:.0f} min of one core at the template's measured pace ({minutes / 2 / 60:.1f} h "
        "with --workers 2 on two cores; other settings of the tasks can take longer)"
    )


def blind_forecasts(ladder: Ladder, template: Ladder, out: Path) -> tuple[list[tuple[Forecast, Method]], list[str]]:
    """The forecast of every registered method that answers the blind track of ``ladder``, and why any of those
    cannot answer it (template-prior, when the template has no results here). A failing method is a ``UserError``."""
    made, skipped = [], []
    question = ask(ladder, out, template=template)  # each method gets its own copy of it (answers.answer)
    for method in registered():
        if "blind" not in method.tracks:  # extrapolation, internals: they need results of the round, not there yet
            continue
        why = method.cannot_answer(question)
        if why is None:
            made.append((answer(method, question), method))
        else:
            skipped.append(f"{method.name}, which {why}")
    return made, skipped


def catalog(predictions: Path, out: Path) -> pd.DataFrame:
    """Every ladder and round: its questions, how far it is trained, its submissions and how many were blind.

    Reads the ledger once; a broken ledger is refused with the same message as ``score`` and ``leaderboard``.
    """
    entries = read_ledger(predictions)
    rows = []
    for name in builtin_ladders() + round_ladders():
        ladder = load_ladder(name)
        store = ResultsStore.of(ladder, out)
        started, recorded = store.training_started()
        mine = [e for e in entries if e.ladder_hash == ladder.hash]
        blind = sum(blindness.judge(e.submitted_at, e.results_existed, started, recorded)[0] for e in mine)
        done = len(store.finished()) if store.exists() else 0
        pairs = len(ladder.rungs) * len(ladder.spec.seeds)
        status = "resolved" if store.resolved() else "training" if done or started else "open"
        origin = ladder.spec.round
        rows.append({
            "ladder": name, "kind": "round" if origin else "ladder",
            "template": origin.template if origin else "", "seed": origin.seed if origin else None,
            "hash": ladder.hash[:12], "tasks": len(ladder.tasks), "questions": len(ladder.tasks) * len(ladder.rungs),
            "pairs_done": done, "pairs": pairs, "status": status, "submissions": len(mine), "blind": blind,
        })  # fmt: skip
    return pd.DataFrame(rows)

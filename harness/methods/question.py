"""What a forecasting method is told: the ladder, the track, and what its track reveals.

A method (``harness.methods.registry``) is a function of one ``Question``, and the question is all the
harness hands it, so what a question holds is the rule of the track:

- always, the ladder's definition: its name and hash, its tasks at their settings with their thresholds,
  its rungs with their exact parameter counts and the training budget (``harness.ladders.ladder.Ladder``);
- on the extrapolation track, the measured curves of the rungs up to ``up_to`` and of no rung above it;
  on the blind track, no measured curve of the ladder at all;
- on the internals track, the same curves and ``internals`` (``harness.forecasts.revealed.Revealed``): every
  checkpoint over training of each revealed (rung, seed) pair, loadable and recordable, and the rows of the
  internals table of those rungs, all in a revealed folder that holds nothing of a rung above ``up_to``; and
  ``elsewhere``, the progress-measure features and outcomes of every other resolved ladder with a measured
  internals table (``harness.methods.evidence``: leave one ladder out, never its own);
- for a round, the ladder it was drawn from and that template's measured emergence table, when results of
  the template version it was drawn from exist: those answers are public, the round's are not.

A question cannot hold a curve, an internals row or a model file of a rung above its revealed one: it
refuses to be built with one, so no method can be handed an unrevealed rung by mistake.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from harness.errors import UserError
from harness.forecasts import revealed as revealed_folder
from harness.forecasts.revealed import Revealed
from harness.forecasts.schema import TRACKS, Track
from harness.forecasts.track import revealed_curves, split_rungs
from harness.ladders.ladder import Ladder, load_ladder
from harness.methods import evidence
from harness.training.store import ResultsStore, empty_curves
from harness.truth.ground_truth import measure, thresholds


@dataclass(frozen=True)
class Question:
    """One forecasting question as a method receives it."""

    ladder: Ladder  # the definition: ladder.tasks (family, settings, thresholds), ladder.rungs (name, params)
    track: Track
    up_to: str | None  # the highest revealed rung (extrapolation and internals tracks); None on the blind track
    curves: pd.DataFrame  # curves.parquet rows (rung, params, seed, task, step, metric, value, ...) of revealed rungs
    template: Ladder | None = None  # a round's template, when its measured results are at hand
    template_truth: pd.DataFrame | None = None  # the template's emergence table (harness.truth.emergence)
    internals: Revealed | None = None  # the internals track: checkpoints, internals table, recording of revealed rungs
    elsewhere: pd.DataFrame | None = None  # internals track: other ladders' features, outcomes (methods.evidence)

    def __post_init__(self) -> None:
        if self.track not in TRACKS or (self.track == "blind") != (self.up_to is None):
            raise ValueError(f"a {self.track}-track question has up_to={self.up_to!r}")
        if (self.track == "internals") != (self.internals is not None):
            raise ValueError(
                f"a {self.track}-track question {'lacks' if self.internals is None else 'holds'} internals"
            )
        shown = self.internals
        if shown is not None and (shown.up_to != self.up_to or shown.ladder.hash != self.ladder.hash):
            raise ValueError(
                f"a question about ladder '{self.ladder.name}' revealed up to {self.up_to} holds the internals of "
                f"ladder '{shown.ladder.name}' revealed up to {shown.up_to}"
            )
        if self.elsewhere is not None and self.internals is None:
            raise ValueError(f"an {self.track}-track question about ladder '{self.ladder.name}' holds other ladders' "
                             "internals")  # fmt: skip
        if self.elsewhere is not None and self.ladder.name in set(self.elsewhere["ladder"]):
            raise ValueError(f"a question about ladder '{self.ladder.name}' holds its own internals among the others'")
        shown = set(self.curves["rung"]) - set(self.revealed)
        if shown:
            raise ValueError(
                f"a question about ladder '{self.ladder.name}' revealed up to {self.up_to} holds curves of the hidden "
                f"rungs {sorted(shown)}"
            )

    @property
    def revealed(self) -> list[str]:
        """The rungs whose curves the method sees, lowest first (none on the blind track)."""
        return split_rungs(self.ladder, self.up_to)[0]

    @property
    def hidden(self) -> list[str]:
        """The rungs the forecast is scored on: every rung on the blind track, those above ``up_to`` otherwise."""
        return split_rungs(self.ladder, self.up_to)[1]

    @property
    def thresholds(self) -> dict[str, dict[str, float]]:
        """metric ("accuracy", "loss") -> task -> the threshold at which the task counts as learned."""
        return thresholds(self.ladder.tasks)

    def copied(self) -> Question:
        """The same question with its own copies of the tables, so a method that changes them changes nothing else."""
        truth = None if self.template_truth is None else self.template_truth.copy()
        internals = None if self.internals is None else self.internals.copied()
        elsewhere = None if self.elsewhere is None else self.elsewhere.copy()
        return dataclasses.replace(
            self, curves=self.curves.copy(), template_truth=truth, internals=internals, elsewhere=elsewhere
        )


def ask(
    ladder: Ladder,
    out: Path,
    up_to: str | None = None,
    template: Ladder | None = None,
    internals: Revealed | None = None,
) -> Question:
    """The question of ``ladder`` on the blind track (``up_to`` None), on the extrapolation track from ``up_to``,
    or, given the revealed folder ``internals`` (``harness.forecasts.revealed``), on the internals track.

    Curves come from the results folder ``out`` (a ``UserError`` if a track that reveals has none to show).
    ``template`` is a round's template when the caller holds it (``ladder round new``); else the round's
    ``round.template`` is loaded by name. ``asking`` writes the revealed folder itself.
    """
    curves = empty_curves() if up_to is None else revealed_curves(ladder, out, up_to)
    template = _template(ladder, out, template)
    truth = None if template is None else measure(template, out, write=False).table
    track: Track = "blind" if up_to is None else "extrapolation" if internals is None else "internals"
    elsewhere = None if internals is None else evidence.elsewhere(ladder, out)
    return Question(ladder, track, up_to, curves, template, truth, internals, elsewhere)


@contextmanager
def asking(
    ladder: Ladder, out: Path, track: Track, up_to: str | None = None, template: Ladder | None = None
) -> Iterator[Question]:
    """The question of ``ladder`` on ``track`` (from ``up_to``, except on the blind track), for the block.

    On the internals track the revealed folder is written, from the results folder ``out``, into a temporary
    folder that is removed when the block ends; each question gets its own.
    """
    if (track == "blind") != (up_to is None):
        raise UserError(
            f"The {track} track {'reveals no rung' if track == 'blind' else 'needs a revealed rung (--up-to RUNG)'}; "
            f"got up_to={up_to!r}."
        )
    if track != "internals":
        yield ask(ladder, out, up_to, template)
        return
    with tempfile.TemporaryDirectory(prefix="ladder-revealed-") as folder:
        revealed = revealed_folder.write(ladder, out, up_to, Path(folder) / "revealed")
        yield ask(ladder, out, up_to, template, revealed)


@contextmanager
def asking_if_shown(
    ladder: Ladder, out: Path, track: Track, up_to: str | None = None
) -> Iterator[tuple[Question | None, str | None]]:
    """``asking``, for callers that ask many questions: an internals-track question whose revealed rungs have no
    model file on disk (``revealed.NotShown``) yields (None, why) instead of raising; every other question
    yields (question, None), and every other error (a damaged file) is raised."""
    with ExitStack() as stack:
        try:
            question, why = stack.enter_context(asking(ladder, out, track, up_to)), None
        except revealed_folder.NotShown as exc:
            question, why = None, str(exc)
        yield question, why


def _template(ladder: Ladder, out: Path, given: Ladder | None) -> Ladder | None:
    """A round's template, if results of the very version the round was drawn from are under ``out``."""
    origin = ladder.spec.round
    if origin is None:
        return None
    if given is None:
        try:
            given = load_ladder(origin.template)
        except UserError:  # drawn from a file that is not here: the round is still a question, without a prior
            return None
    if given.hash != origin.template_hash or not ResultsStore.of(given, out).exists():
        return None
    return given

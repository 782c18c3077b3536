"""Whether a submission was blind: made before the training of its ladder version started.

Forecasting, like pre-registration, is worth something only when it comes
before the outcome. Having no results on the submitting machine is not enough
(another machine may be training the same version), so a submission is judged
against the start of training recorded in the manifest of the results it is
scored on, and only when it was also made before any result existed where it
was submitted. Pure: strings in, a verdict and the rule that gave it out.
"""

from __future__ import annotations

import datetime as dt


def judge(submitted_at: str, results_existed: bool, started: str | None, recorded: bool) -> tuple[bool, str]:
    """(blind, the rule in words) for a submission made at ``submitted_at`` (ISO 8601, UTC).

    ``started`` is when training of the ladder version started (None: it has not), ``recorded`` whether the
    manifest recorded it or it was derived from the finished pairs (results from before starts were recorded).
    """
    if results_existed:
        return False, "post-hoc: results of this ladder version existed where it was submitted"
    if started is None:
        return True, "blind: no training of this ladder version has started"
    how = "recorded" if recorded else "no later than, from the finished pairs"
    if dt.datetime.fromisoformat(submitted_at) < dt.datetime.fromisoformat(started):
        return True, f"blind: submitted before training started ({started}, {how})"
    return False, f"post-hoc: submitted after training started ({started}, {how})"

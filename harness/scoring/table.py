"""The scores' names, their better direction, and the scorer's defaults, in one place.

Read by the scorer, the ranking, the terminal and page, and the command line's
``--sort`` choices; it imports nothing, so the command line starts fast.
"""

from __future__ import annotations

# Every score a submission gets, in the order scores.parquet lists them; True where higher is better.
HIGHER_IS_BETTER = {
    "brier": False,
    "brier_index": True,
    "brier_skill": True,
    "pinball": False,
    "pinball_skill": True,
    "pinball_loss": False,
    "pinball_loss_skill": True,
    "pinball_step": False,
    "pinball_step_skill": True,
    "accuracy_mse": False,
}
SCORES = tuple(HIGHER_IS_BETTER)
# The lower-is-better score of each kind of question (Brier of the rung questions, pinball of the emergence sizes,
# of the smooth metric's and of the steps): each has an interval, a skill score, coverage and paired comparisons.
QUESTION_SCORES = ("brier", "pinball", "pinball_loss", "pinball_step")
N_BOOT = 2000  # bootstrap resamples behind every interval, unless a caller asks for more
# What scores.parquet says of each submission besides its scores: the ledger's words, and whether it was blind
# with the rule that decided it (``harness.forecasts.blindness``).
SUBMISSION_COLUMNS = ["sha256", "forecaster", "kind", "track", "revealed_up_to", "blind", "blind_rule", "submitted_at"]
# The paired comparisons on the rows of brier and of each pinball score (``harness.scoring.rules._compare``):
# differences to the uninformed forecaster and to the group's leader with their 95% intervals, and the share ranked
# first.
COMPARISONS = [
    "vs_uninformed", "vs_uninformed_low", "vs_uninformed_high", "vs_leader", "vs_leader_low", "vs_leader_high",
    "p_first",
]  # fmt: skip

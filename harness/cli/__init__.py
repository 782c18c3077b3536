"""The ``ladder`` command line: one module per stage, each adding its commands to ``main``.

training: tasks, ladders, run. truth: emergence. forecasts: template, validate,
submit, score, reveal, baselines. methods: methods, forecast, backtest. rounds:
round new, round list. board: leaderboard, standings, demo, site. neurons: record, export.
internals: internals. weights: weights. verify: verify (results and predictions),
ledger verify, ledger migrate. change: check-change, ledger rebase (forecasts by pull request).
Each command imports what it needs when it runs, so ``ladder --help`` starts fast.
"""

from harness.cli import (  # noqa: F401 - each registers its commands
    board,
    change,
    forecasts,
    internals,
    methods,
    neurons,
    rounds,
    training,
    truth,
    verify,
    weights,
)
from harness.cli.app import main

__all__ = ["main"]

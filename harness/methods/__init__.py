"""Forecasters as code: the question a method is told, the registry of methods, the built-in methods, running one
and checking its answer, the baselines, backtests."""

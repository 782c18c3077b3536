"""Forecasting rounds: ladders drawn from a template whose answers nobody has measured yet."""

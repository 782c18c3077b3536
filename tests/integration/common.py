"""Helpers shared by the integration tests: the repository root and the CLI run in-process."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> str:
    """Run ``ladder ARGS`` in this process; its output, after asserting it exited 0."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def cli_line(*args: str) -> str:
    """``cli(ARGS)`` on one line: whitespace normalised, so that a check does not depend on where the
    output wraps (160 columns; a long tmp path moves the breaks)."""
    return " ".join(cli(*args).split())


def cli_fails(*args: str) -> str:
    """Run ``ladder ARGS`` expecting a user error (exit 2); its output on one line."""
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 2, result.output
    return " ".join(result.output.split())

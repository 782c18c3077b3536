"""The docs keep their promises: every `ladder ...` example parses, every guide is linked, the README stays short.

Each line of a ```bash block in README.md or docs/*.md that starts with `ladder`
(or `$ ladder`) is parsed by the real command line: the command and every
option must exist and every value must pass its checks. Synopsis lines with
[optional] parts live in ```text blocks and are not parsed.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\s*$")


def bash_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, command) of each `ladder` command in the file's ```bash blocks, continuations joined."""
    found, language, pending = [], None, None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fence = FENCE.match(line.strip())
        if fence:
            language = None if language is not None else fence.group(1)
            continue
        if language != "bash":
            continue
        text = line.strip().removeprefix("$ ")
        if pending is not None:
            pending = (pending[0], pending[1] + " " + text.rstrip("\\"))
        elif text.startswith("ladder "):
            pending = (number, text.rstrip("\\"))
        if pending is not None and not text.endswith("\\"):
            found.append(pending)
            pending = None
    return found


EXAMPLES = [(path, number, command) for path in DOCS for number, command in bash_lines(path)]


def test_the_docs_show_examples_of_every_command():
    shown = {shlex.split(command, comments=True)[1] for _, _, command in EXAMPLES}
    assert shown == set(main.commands), f"commands without an example: {sorted(set(main.commands) - shown)}"


@pytest.mark.parametrize("path,number,command", EXAMPLES, ids=[f"{p.name}:{n}" for p, n, _ in EXAMPLES])
def test_documented_command_parses(path, number, command):
    args = shlex.split(command, comments=True)[1:]
    sub = main.get_command(click.Context(main), args[0])
    assert sub is not None, f"{path.name}:{number}: no command '{args[0]}'"
    try:
        sub.make_context(args[0], args[1:])
    except click.ClickException as exc:
        pytest.fail(f"{path.name}:{number}: `{command}` does not parse: {exc.format_message()}")


def test_every_guide_is_linked_from_the_readme_and_every_link_resolves():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for guide in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{guide.name}" in readme, f"README does not link {guide.name}"
    for path in DOCS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", path.read_text(encoding="utf-8")):
            assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_the_readme_is_an_index():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 230

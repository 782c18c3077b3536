"""The docs keep their promises: every `ladder ...` example parses, every guide is linked, the README stays short.

Each line of a ```bash block in README.md or docs/*.md that starts with `ladder`
(or `$ ladder`) is parsed by the real command line: the command and every
option must exist and every value must pass its checks. Synopsis lines with
[optional] parts live in ```text blocks and are not parsed. Every relative link
must name a file that exists and, with ``#anchor``, a heading of that file (or
of its own file for a bare ``#anchor``), by GitHub's slug of the heading.
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


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, only letters, digits, spaces, '-' and '_' kept, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors of a markdown file's headings (outside code blocks); a repeated slug gets -1, -2, ..."""
    found, seen, fenced = set(), {}, False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"#{1,6} (.*)", line)):
            base = slug(heading.group(1))
            found.add(f"{base}-{seen[base]}" if base in seen else base)
            seen[base] = seen.get(base, 0) + 1
    return found


def broken_links(path: Path) -> list[str]:
    """Each relative link of a markdown file whose file is missing or whose #anchor is no heading of that file."""
    broken = []
    for link in re.findall(r"\]\(([^()\s]+)\)", path.read_text(encoding="utf-8")):
        if ":" in link:  # a URL (https:, mailto:), not checked here
            continue
        target, _, anchor = link.partition("#")
        file = path.parent / target if target else path
        if not file.exists():
            broken.append(f"{path.name} links to missing {target}")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file.read_text(encoding="utf-8")):
            broken.append(f"{path.name} links to #{anchor}, which is no heading of {file.name}")
    return broken


def test_slug_follows_github():
    text = "\n".join(["# `ladder demo`", "## Tracks: blind, extrapolation, reveal", "## Notes"])
    text += "\n```bash\n# Notes\n```\n## Notes\n## Notes\n"  # a comment in a code block is no heading
    assert slug("Scaling out: workers, Ray clusters, GPUs, wandb") == "scaling-out-workers-ray-clusters-gpus-wandb"
    assert slug("How the `cpu` ladder was tuned") == "how-the-cpu-ladder-was-tuned"
    assert slug("A fifth step: the narrow rungs' learning rate") == "a-fifth-step-the-narrow-rungs-learning-rate"
    assert slug("Keep snake_case - and 1.0 (dots)") == "keep-snake_case---and-10-dots"
    assert anchors(text) == {"ladder-demo", "tracks-blind-extrapolation-reveal", "notes", "notes-1", "notes-2"}


def test_a_broken_link_is_caught(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n## Its part\n", encoding="utf-8")
    (tmp_path / "page.md").write_text(
        "# Page\n[ok](other.md#its-part) [ok](#page) [web](https://example.com/#x) "
        "[bad](other.md#no-part) [bad](#nowhere) [gone](missing.md)\n",
        encoding="utf-8",
    )
    assert broken_links(tmp_path / "page.md") == [
        "page.md links to #no-part, which is no heading of other.md",
        "page.md links to #nowhere, which is no heading of page.md",
        "page.md links to missing missing.md",
    ]


def test_every_guide_is_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for guide in sorted((ROOT / "docs").glob("*.md")):
        assert f"docs/{guide.name}" in readme, f"README does not link {guide.name}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_link_resolves_to_a_file_and_heading(path):
    assert broken_links(path) == []


def test_the_readme_is_an_index():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 230

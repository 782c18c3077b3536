"""The layout keeps its direction: each stage imports only from itself and the stages before it.

Stages, in the order the data flows (a module of a stage may import its own stage
and any lower rank; siblings of one rank do not import each other):

    0  harness/*.py          errors, registry, files, documents: shared by all
    1  harness/tasks/        the synthetic tasks and their vocabulary
    2  harness/ladders/      the ladder file, its resolved rungs and tasks, its hash; the model families
    3  harness/training/     data, the Lightning loop, the results store, executors
    4  harness/truth/        emergence read off the curves, its probabilities, acceptance checks
    4  harness/neurons/      checkpoints loaded for study, recording activations
    5  harness/forecasts/    prediction files, the ledger, the tracks and their revealed rungs, blindness
    6  harness/scoring/      scoring rules, the score table, scores.parquet, rankings per ladder and across ladders
    7  harness/methods/      forecasters as code: question, registry, built-in methods, baselines, backtests
    8  harness/board/        terminal tables, figures, the page
    8  harness/rounds/       drawing a round, the state of every ladder
    9  harness/cli/          the ``ladder`` command line

``model_zoo`` is plain torch and imports nothing from the harness.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RANK = {
    "": 0, "tasks": 1, "ladders": 2, "training": 3, "truth": 4, "neurons": 4, "forecasts": 5, "scoring": 6,
    "methods": 7, "board": 8, "rounds": 8, "cli": 9,
}  # fmt: skip
TOP_LEVEL_ALLOWED = {"__init__", "__main__"}  # the package's entry points may reach any stage


def stage(module: str) -> str:
    """The stage of a dotted harness module name: 'harness.truth.emergence' -> 'truth', 'harness.files' -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in RANK) else ""


def imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in a file (or in ``source``, read as that file); relative ones resolved."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text() if source is None else source, str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], *([base] if base else [])]
                )
            found += [(node.lineno, f"{base}.{alias.name}" if base == "harness" else base) for alias in node.names]
    return found


def upward(path: Path, source: str | None = None) -> list[str]:
    """The imports of a harness file that break the direction, as 'file:line imports module'."""
    own = stage(".".join(path.relative_to(ROOT).with_suffix("").parts))
    if own == "" and path.stem in TOP_LEVEL_ALLOWED:
        return []
    bad = []
    for line, module in imports(path, source):
        if module != "harness" and module.startswith("harness."):
            theirs = stage(module)
            if RANK[theirs] > RANK[own] or (RANK[theirs] == RANK[own] and theirs != own):
                bad.append(
                    f"{path.relative_to(ROOT)}:{line} imports {module} ({theirs or 'top'} is not below {own or 'top'})"
                )
    return bad


HARNESS_FILES = sorted((ROOT / "harness").rglob("*.py"))


@pytest.mark.parametrize("path", HARNESS_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_flow_one_way(path):
    assert upward(path) == []


def test_every_harness_folder_is_a_known_stage():
    folders = {
        p.name for p in (ROOT / "harness").iterdir() if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py"))
    }
    assert folders == set(RANK) - {""}


def test_model_zoo_imports_nothing_from_the_harness():
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "model_zoo").rglob("*.py"))
        for line, module in imports(path)
        if module == "harness" or module.startswith("harness.")
    ]
    assert offenders == []


def test_an_upward_import_is_caught():
    """The check itself can fail: truth importing from board or the CLI, neurons from its sibling truth."""
    probe = ROOT / "harness" / "truth" / "probe.py"
    assert upward(
        probe, "from harness.board.figures import emergence_map\nimport harness.cli\nfrom ..board import page\n"
    ) == [
        "harness/truth/probe.py:1 imports harness.board.figures (board is not below truth)",
        "harness/truth/probe.py:2 imports harness.cli (cli is not below truth)",
        "harness/truth/probe.py:3 imports harness.board (board is not below truth)",
    ]
    assert upward(ROOT / "harness" / "neurons" / "probe.py", "from harness.truth import emergence\n") == [
        "harness/neurons/probe.py:1 imports harness.truth (truth is not below neurons)"
    ]
    assert upward(probe, "from harness.training.store import ResultsStore\nfrom . import emergence\n") == []


@pytest.mark.parametrize(
    "module",
    [
        "harness.scoring.rules",
        "harness.scoring.ranking",
        "harness.truth.emergence",
        "harness.truth.acceptance",
        "harness.truth.probability",
        "harness.truth.reproducibility",
    ],
)
def test_pure_rules_import_no_torch(module):
    """Scoring, ranking and emergence are pure pandas: importing them must not load torch."""
    import subprocess
    import sys

    code = f"import sys, {module}; assert not [m for m in sys.modules if m.startswith('torch')]"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).returncode == 0


def test_a_forecasters_commands_import_no_torch(tmp_path):
    """template, validate and submit, in a fresh interpreter, load neither torch nor Lightning: a forecaster
    validating a file does not wait for them."""
    import subprocess
    import sys

    file, predictions = tmp_path / "probe.yaml", tmp_path / "predictions"
    code = f"""
import sys
from harness.cli import main
heavy = lambda: sorted({{m.split(".")[0] for m in sys.modules if m.startswith(("torch", "lightning"))}})
for args in (["template", "--ladder", "cpu", "--forecaster", "probe", "-o", {str(file)!r}], ["validate", {str(file)!r}],
             ["submit", {str(file)!r}, "--predictions", {str(predictions)!r}, "--out", {str(ROOT / "results")!r}]):
    main(args, standalone_mode=False)
    assert heavy() == [], (args[0], heavy())
print("light")
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("light") and (predictions / "ledger.jsonl").is_file()

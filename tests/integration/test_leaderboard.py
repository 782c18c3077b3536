"""The leaderboard on the committed cpu results: terminal table, the web page in a real browser, the demo."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from harness.board.fmt import board_columns
from harness.board.page import write_report
from harness.ladders.ladder import load_ladder
from harness.scoring.ranking import rank_ladder
from harness.scoring.scoreboard import score_ladder
from tests.integration.common import ROOT, cli, cli_fails, cli_line

SCRIPT_NAME = "<script>alert(1)</script>"
HOSTILE = 'Hostile text: <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> & "quotes"'
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """Committed cpu results, the baselines and one forecast with a hostile description, scored; the page written."""
    root = tmp_path_factory.mktemp("site")
    results, preds = root / "results", root / "predictions"
    (results / "cpu").mkdir(parents=True)
    for name in ("curves.parquet", "manifest.json"):
        shutil.copy(ROOT / "results" / "cpu" / name, results / "cpu" / name)
    mine = root / "alice.yaml"
    cli("template", "--ladder", "cpu", "--forecaster", "alice", "-o", str(mine))
    data = yaml.safe_load(mine.read_text())
    data["description"] = HOSTILE
    data["tasks"]["copy"]["p_emerged"] = {"c0": 0.1, "c1": 0.6, "c2": 0.9}
    mine.write_text(yaml.safe_dump(data, sort_keys=False))
    cli("submit", str(mine), "--predictions", str(preds), "--out", str(results))
    cli("baselines", "--ladder", "cpu", "--predictions", str(preds), "--out", str(results))
    # The schema refuses a forecaster named like a script; the page must escape one anyway, so the
    # browser test renders the page with one row renamed past validation.
    board = score_ladder(load_ladder("cpu"), preds, results, n_boot=1000)
    rows = rank_ladder(board.scores, show_oracle=True)
    rows.loc[rows["forecaster"] == "uninformed", "forecaster"] = SCRIPT_NAME
    page = write_report(board, rows, root / "hostile.html")
    return {"root": root, "results": results, "preds": preds, "page": page, "rows": rows, "alice": mine}


def args(site: dict, *extra: str) -> list[str]:
    return ["--ladder", "cpu", "--predictions", str(site["preds"]), "--out", str(site["results"]), *extra]


def test_terminal_table_ranks_and_marks_the_baselines(site):
    out = cli("leaderboard", *args(site))
    assert "alice" in out and "uninformed*" in out and "extrap. from c3" in out
    assert "oracle†" not in out
    assert "oracle†" in cli("leaderboard", *args(site, "--show-oracle"))
    blind = cli("leaderboard", *args(site, "--track", "blind", "--sort", "pinball"))
    assert "extrapolator" not in blind and "ranked by pinball" in blind


def test_html_flag_writes_the_default_page(site):
    out = cli("leaderboard", *args(site, "--html"))
    page = site["results"] / "cpu" / "leaderboard.html"
    assert str(page) in out.replace("\n", "") and page.stat().st_size > 100_000


def test_page_is_self_contained_and_escapes_user_text(site):
    html = site["page"].read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page must not load anything from the network"
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == len(re.findall(r"<img ", html)) > 10
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "window.__pwned = 1</script>" not in html and "onerror=&#34;" in html
    assert html.count("<script>") == 1  # the page's own sorting script, nothing else


def test_page_shows_the_probability_map(site):
    """Per (task, rung) the fraction of seeds with the capability; k/n and the Jeffreys interval on hover."""
    html = site["page"].read_text()
    assert 'id="probability"' in html and 'href="#probability"' in html
    table = html[html.index('<table class="probability">') :]
    table = table[: table.index("</table>")]
    cells = re.findall(r'<td(?: class="bimodal")? title="([^"]*)" style="[^"]*">([^<]*)</td>', table)
    n_seeds = pd.read_parquet(ROOT / "results" / "cpu" / "curves.parquet")["seed"].nunique()  # every seed measured
    assert len(cells) == len(load_ladder("cpu").tasks) * len(load_ladder("cpu").rungs)
    title, text = cells[0]
    k = int(title.split("/")[0])
    assert title.startswith(f"{k}/{n_seeds} seeds have it; 95% Jeffreys interval ")
    assert text.rstrip("*") == f"{k / n_seeds:.2f}"
    # Where the seeds split all-or-nothing, the cell is marked and its title says why.
    marked = [(t, x) for t, x in cells if x.endswith("*")]
    assert all("bimodal: the seeds split all-or-nothing" in t for t, _ in marked)
    assert table.count('class="bimodal"') == len(marked)


def test_script_names_are_refused_at_submission(site, tmp_path):
    data = yaml.safe_load(site["alice"].read_text())
    data["forecaster"] = SCRIPT_NAME
    path = tmp_path / "evil.yaml"
    path.write_text(yaml.safe_dump(data))
    assert "forecaster: String should match pattern" in cli_fails("validate", str(path))


def test_clear_messages_without_submissions_or_results(site, tmp_path):
    empty = cli_fails(
        "leaderboard", "--ladder", "cpu", "--predictions", str(tmp_path / "none"), "--out", str(site["results"])
    )
    assert "No submissions for ladder 'cpu'" in empty and "ladder baselines" in empty
    nothing = cli_fails(
        "leaderboard", "--ladder", "cpu", "--predictions", str(site["preds"]), "--out", str(tmp_path / "noresults")
    )
    assert "No finished results of ladder 'cpu'" in nothing and "ladder run --ladder cpu" in nothing


def test_demo_uses_the_measured_cpu_results(work):
    out = cli_line("demo", "--predictions", str(work / "predictions"), "--out", str(work / "results"))
    assert "Using the measured results of ladder 'cpu'" in out
    assert "extrapolator*" in out and (work / "results" / "cpu" / "leaderboard.html").is_file()
    again = cli("demo", "--predictions", str(work / "predictions"), "--out", str(work / "results"))
    assert again.count("already in the ledger") == 4  # uninformed, extrapolator, two-step, oracle


@pytest.mark.parametrize("last_digit", [False, True], ids=["this machine", "another maths library"])
def test_demo_on_the_committed_files_changes_none_of_them(tmp_path, monkeypatch, last_digit):
    """`make demo` on a fresh clone leaves `git status` clean, also where log10 differs in the last digit."""
    for folder in ("results", "predictions"):
        shutil.copytree(
            ROOT / folder,
            tmp_path / folder,
            ignore=shutil.ignore_patterns("checkpoints", "wandb", ".*", "leaderboard.html"),
        )
    before = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    if last_digit:
        real = np.log10
        monkeypatch.setattr(np, "log10", lambda x, *a, **k: real(x, *a, **k) * (1 + 4e-16))
    out = cli("demo", "--predictions", str(tmp_path / "predictions"), "--out", str(tmp_path / "results"))
    assert out.count("already in the ledger") == 5  # uninformed, extrapolator, two-step, progress, oracle
    after = {
        p.relative_to(tmp_path): p.read_bytes()
        for p in tmp_path.rglob("*")
        if p.is_file() and p.name != "leaderboard.html"
    }
    assert sorted(after) == sorted(before), "no file added or removed"
    assert [name for name in before if after[name] != before[name]] == [], "no committed file rewritten"


def test_demo_trains_the_smoke_ladder_without_results(tmp_path):
    out = " ".join(
        cli("demo", "--predictions", str(tmp_path / "predictions"), "--out", str(tmp_path / "results")).split()
    )
    assert "training the small 'smoke' ladder" in out
    assert (tmp_path / "results" / "smoke" / "leaderboard.html").is_file()


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: install Debian's 'chromium' package (.ci/run does) to run the browser test",
)
def test_page_in_headless_chromium(site):
    from playwright.sync_api import sync_playwright

    flags = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    problems, dialogs = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=flags)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(site["page"].as_uri(), wait_until="load")
            rows = page.locator("#board tbody tr")
            assert rows.count() == len(site["rows"]) == len(set(site["rows"]["sha256"]))
            images = page.locator("img")
            assert images.count() > 10
            for i in range(images.count()):
                img = images.nth(i)
                box = img.bounding_box()
                assert box and box["width"] > 0 and box["height"] > 0, img.get_attribute("alt")
                assert img.evaluate("i => i.complete && i.naturalWidth > 0"), img.get_attribute("alt")

            def column(n: int) -> list[str]:
                return page.locator(f"#board tbody tr td:nth-child({n})").evaluate_all(
                    "cells => cells.map(c => c.dataset.sort)"
                )

            header = page.locator("#board th", has_text="forecaster")
            header.click()
            names = column(2)
            assert names == sorted(names) and len(set(names)) > 2
            header.click()
            assert column(2) == sorted(names, reverse=True)
            keys = [c.key for c in board_columns()]  # the page's columns, from the score table
            page.locator("#board th").filter(has_text=re.compile(r"^pinball$")).click()
            values = [float(v) for v in column(keys.index("pinball") + 1)]
            assert values == sorted(values) and len(set(values)) > 1
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert SCRIPT_NAME in page.locator("#board").inner_text()
            assert HOSTILE.split(" & ")[0] in page.locator("main").inner_text()
        finally:
            browser.close()
    assert not problems, problems
    assert not dialogs, dialogs

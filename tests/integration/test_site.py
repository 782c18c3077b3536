"""``ladder site``: every page there, every link inside the site, names inert, committed files untouched.

The site is built from copies of the committed cpu and induction results (the other ladders and rounds are then
open: question pages) and a predictions folder with the baselines and one forecast whose ledger line names its
forecaster with markup, re-chained the way a hand-made ledger would be (``ladder submit`` refuses such a name,
so it can only come from a ledger written by hand). The browser test crawls the site in headless Chromium.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click
import pytest
import yaml

from harness.cli import main
from harness.forecasts.ledger import GENESIS, LEDGER, chain, scan
from harness.ladders.ladder import builtin_ladders, round_ladders
from tests.integration.common import ROOT, cli, cli_fails

NAME = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
DESCRIPTION = 'Hostile text: <script>window.__pwned = 3</script><img src=x onerror="window.__pwned = 4"> & "quotes"'
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LADDERS = builtin_ladders() + round_ladders()


def copy_results(results: Path, *ladders: str) -> None:
    """The committed curves and manifest of ``ladders`` (nothing else: the truth is measured again)."""
    for name in ladders:
        (results / name).mkdir(parents=True)
        for file in ("curves.parquet", "manifest.json"):
            shutil.copy(ROOT / "results" / name / file, results / name / file)


def rename_in_ledger(predictions: Path, old: str, new: str) -> None:
    """Give ``old``'s ledger lines the forecaster name ``new`` and re-chain the ledger (stored copies untouched)."""
    records = [
        dataclasses.replace(r, forecaster=new) if getattr(r, "forecaster", None) == old else r
        for r in scan(predictions).records
    ]
    (predictions / LEDGER).write_bytes(b"".join(chain(records, GENESIS)))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("site")
    results, preds = root / "results", root / "predictions"
    copy_results(results, "cpu", "induction")
    mine = root / "alice.yaml"
    cli("template", "--ladder", "cpu", "--forecaster", "alice", "-o", str(mine))
    data = yaml.safe_load(mine.read_text())
    data["description"] = DESCRIPTION
    data["tasks"]["copy"]["p_emerged"] = {"c0": 0.1, "c1": 0.6, "c2": 0.9}
    mine.write_text(yaml.safe_dump(data, sort_keys=False))
    cli("submit", str(mine), "--predictions", str(preds), "--out", str(results))
    cli("baselines", "--ladder", "cpu", "--predictions", str(preds), "--out", str(results))
    rename_in_ledger(preds, "alice", NAME)
    folder = root / "public"
    out = cli("site", str(folder), "--predictions", str(preds), "--out", str(results))
    pages = sorted(folder.rglob("*.html"))
    return {"root": root, "results": results, "preds": preds, "dir": folder, "out": out, "pages": pages}


class Links(HTMLParser):
    """Every address a page names (href and src), every id it defines, and the text of its code blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[str] = []
        self.ids: set[str] = set()
        self.code: list[str] = []
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("href", "src") and value is not None:
                self.addresses.append(value)
            elif key == "id" and value:
                self.ids.add(value)
        self._in_pre = self._in_pre or tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        self._in_pre = self._in_pre and tag != "pre"

    def handle_data(self, data: str) -> None:
        if self._in_pre:
            self.code.append(data)


def parsed(page: Path) -> Links:
    links = Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def test_every_ladder_has_its_page(site):
    folder = site["dir"]
    assert sorted(p.relative_to(folder).as_posix() for p in site["pages"]) == sorted(
        ["index.html", "forecast.html", *(f"{name}/index.html" for name in LADDERS)]
    )
    assert f"Wrote {len(LADDERS) + 2} pages" in site["out"]
    cpu = (folder / "cpu" / "index.html").read_text()
    assert cpu.count('<tr class="baseline">') == 3 and '<tr class="forecaster">' in cpu  # the leaderboard
    induction = (folder / "induction" / "index.html").read_text()
    assert "No forecasts of this ladder version are scored yet" in induction and 'id="map"' in induction
    for name in ("gpu", "smoke", "cpu-r1"):  # nothing measured here: the questions only
        page = (folder / name / "index.html").read_text()
        assert "holds its questions only" in page and f"ladder template --ladder {name} " in page
    index = (folder / "index.html").read_text()
    opened, resolved = index.split('id="resolved"')
    assert all(f'href="{n}/index.html"' in opened for n in LADDERS if n not in ("cpu", "induction"))
    assert 'href="cpu/index.html"' in resolved and 'href="induction/index.html"' in resolved
    assert all(f'id="standings-{s}"' in index for s in ("brier", "pinball", "brier_true"))
    assert all(p.stat().st_mode & 0o777 == 0o644 for p in site["pages"])


def test_links_stay_inside_the_site(site):
    """Every href and src is a relative address of a file in the site (or an inlined image), every #anchor is an
    id of its page, and every page can be reached from the index."""
    folder, reached, todo = site["dir"], set(), [(site["dir"] / "index.html").resolve()]
    while todo:
        page = todo.pop()
        if page in reached:
            continue
        reached.add(page)
        for address in parsed(page).addresses:
            if address.startswith("data:image/png;base64,"):
                continue
            parts = urlsplit(address)
            assert not (parts.scheme or parts.netloc or address.startswith("/")), f"{page.name}: {address}"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            assert target.is_file() and folder.resolve() in target.parents, f"{page}: {address} is not in the site"
            if parts.fragment:
                assert parts.fragment in parsed(target).ids, f"{page}: {address} names no id of {target.name}"
            if target.suffix == ".html":
                todo.append(target)
    assert sorted(reached) == sorted(p.resolve() for p in site["pages"]), "every page reached from the index"


@pytest.mark.parametrize("page", ["index.html", "forecast.html", "cpu-r1/index.html", "gpu/index.html"])
def test_commands_on_the_site_parse(site, page):
    """Every `ladder ...` line the site shows is parsed by the real command line, as the docs' examples are."""
    lines = [line for block in parsed(site["dir"] / page).code for line in block.splitlines()]
    commands = [line for line in lines if line.startswith("ladder ")]
    assert commands
    for command in commands:
        args = shlex.split(command, comments=True)[1:]
        sub = main.get_command(click.Context(main), args[0])
        assert sub is not None, command
        nested = sub.get_command(click.Context(sub), args[1]) if isinstance(sub, click.Group) else None
        (nested or sub).make_context(args[0], args[2 if nested else 1 :])


def test_markup_in_names_is_escaped(site):
    index = (site["dir"] / "index.html").read_text()
    cpu = (site["dir"] / "cpu" / "index.html").read_text()
    escaped = "&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;"
    assert escaped in index and escaped in cpu
    for page in site["pages"]:
        html = page.read_text()
        assert "window.__pwned=1</script>" not in html and "window.__pwned = 3</script>" not in html
        assert "<img src=x" not in html
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), f"{page} loads something from the network"


def test_the_site_goes_only_under_its_folder(site):
    said = cli_fails("site", str(site["results"] / "public"), "--predictions", str(site["preds"]),
                     "--out", str(site["results"]))  # fmt: skip
    assert "is inside the results folder" in said
    assert not (site["results"] / "public").exists()


def test_site_rewrites_no_committed_file(tmp_path):
    """On committed results that are up to date, ``ladder site`` writes the site and nothing else: no file outside
    it is added, removed or rewritten (not even with the same bytes)."""
    (tmp_path / "results").mkdir()
    skip = shutil.ignore_patterns("checkpoints", "wandb", "batches", ".*", "leaderboard.html")
    for name in ("cpu-r1", "induction"):  # a resolved round with blind forecasts, a ladder nobody forecast
        shutil.copytree(ROOT / "results" / name, tmp_path / "results" / name, ignore=skip)
    shutil.copytree(ROOT / "predictions", tmp_path / "predictions", ignore=shutil.ignore_patterns(".*"))

    def files() -> dict[Path, tuple[bytes, int]]:
        return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.rglob("*") if p.is_file()}

    before = files()
    cli("site", str(tmp_path / "site"), "--predictions", str(tmp_path / "predictions"), "--out",
        str(tmp_path / "results"))  # fmt: skip
    after = {p: v for p, v in files().items() if tmp_path / "site" not in p.parents}
    assert sorted(after) == sorted(before), "no file added or removed outside the site"
    assert [p for p in before if after[p] != before[p]] == [], "no committed file rewritten"
    assert (tmp_path / "site" / "cpu-r1" / "index.html").is_file()


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: install Debian's 'chromium' package (.ci/run does) to run the browser test",
)
def test_site_in_headless_chromium(site):
    """Crawl from the index: every link opens a file of the site, every page renders without console errors or
    requests outside the site, every image loads, and no markup from a name runs."""
    from playwright.sync_api import sync_playwright

    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"]  # fmt: skip
    root = site["dir"].resolve().as_uri() + "/"
    problems, dialogs, outside, seen = [], [], [], set()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=flags)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(f"{page.url}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("request", lambda r: None if r.url.startswith((root, "data:")) else outside.append(r.url))
            todo = [root + "index.html"]
            while todo:
                url = todo.pop()
                if url in seen:
                    continue
                seen.add(url)
                page.goto(url, wait_until="load")
                images = page.locator("img")
                for i in range(images.count()):
                    assert images.nth(i).evaluate("i => i.complete && i.naturalWidth > 0"), (url, i)
                assert page.evaluate("typeof window.__pwned") == "undefined", url
                for href in page.locator("a[href]").evaluate_all("links => links.map(a => a.href)"):
                    assert href.startswith(root), f"{url} links outside the site: {href}"
                    target, _, anchor = href.partition("#")
                    path = Path(unquote(urlsplit(target).path))
                    assert path.is_file(), f"{url} links to a missing {href}"
                    if anchor:
                        assert anchor in parsed(path).ids, f"{url} links to {href}, which names no id there"
                    if path.suffix == ".html":
                        todo.append(target)
                if url == root + "index.html":
                    assert NAME in page.locator("#standings-brier + table").inner_text()
                if url == root + "cpu/index.html":
                    assert NAME in page.locator("#board").inner_text()
                    assert DESCRIPTION.split(" & ")[0] in page.locator("main").inner_text()
        finally:
            browser.close()
    assert sorted(seen) == sorted(p.resolve().as_uri() for p in site["pages"]), "every page reached from the index"
    assert not problems, problems
    assert not dialogs, dialogs
    assert not outside, outside

"""The license and the citation say what pyproject.toml says: MIT, and the package's version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
REQUIRED = {"cff-version", "message", "title", "authors"}  # what the Citation File Format 1.2.0 requires


def citation() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def test_the_citation_parses_and_has_the_required_fields():
    cff = citation()
    assert isinstance(cff, dict) and REQUIRED <= set(cff), f"missing: {sorted(REQUIRED - set(cff))}"
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] == "software" and cff["title"].startswith(PROJECT["name"])
    assert cff["authors"] and all(a.get("name") or a.get("family-names") for a in cff["authors"])
    assert len(cff["abstract"].split()) > 30


def test_the_citation_names_the_packages_version_and_license():
    cff = citation()
    assert str(cff["version"]) == PROJECT["version"]
    assert cff["license"] == PROJECT["license"]["text"] == "MIT"


def test_the_citation_holds_no_placeholder():
    """Fields that cannot be filled truthfully (repository-code, doi, url) are left out, never faked."""
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert not re.search(r"example\.(com|org)|TODO|XXX|your[-_ ]|<[a-z-]+>|zenodo\.0+\b", text, re.I)
    cff = citation()
    for key in ("url", "repository-code"):
        assert key not in cff or re.match(r"https://[a-z0-9.-]+\.[a-z]+/\S+$", cff[key]), key
    assert "doi" not in cff or re.match(r"10\.\d{4,}/\S+$", str(cff["doi"]))


def test_the_license_is_mit_for_the_authors():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the emergence-ladder authors" in text

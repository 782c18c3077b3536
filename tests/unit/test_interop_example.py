"""The worked example of docs/interop.md (examples/mod_add_fourier.py): its measure, and a run on a stored rung."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import torch

from harness.ladders.ladder import load_ladder
from harness.tasks import vocab
from tests.unit.interp_models import needs_interp

EXAMPLE = runpy.run_path(str(Path(__file__).resolve().parents[2] / "examples" / "mod_add_fourier.py"))
P = 31


def grid() -> tuple[torch.Tensor, torch.Tensor]:
    a, b = torch.meshgrid(torch.arange(P), torch.arange(P), indexing="ij")
    return a.flatten(), b.flatten()  # (P*P,) each, row a * P + b


def test_the_questions_are_every_pair_in_grid_order():
    tokens, answers = EXAMPLE["questions"](3, P)
    a, b = grid()
    assert tokens.shape == (P * P, 4)
    assert (tokens[:, 0] == vocab.tag(3)).all() and (tokens[:, 3] == vocab.SEP).all()
    assert torch.equal(tokens[:, 1], vocab.SYM0 + a) and torch.equal(tokens[:, 2], vocab.SYM0 + b)
    assert torch.equal(answers, vocab.SYM0 + (a + b) % P)


def test_the_sum_share_is_one_for_functions_of_the_sum_and_zero_for_functions_of_one_input():
    a, b = grid()
    table = torch.randn(P, 5, generator=torch.Generator().manual_seed(0))  # 5 units, each an arbitrary function
    spectrum, share = EXAMPLE["spectrum"], EXAMPLE["sum_share"]
    assert share(spectrum(table[(a + b) % P], P)) == pytest.approx(1.0)
    assert share(spectrum(table[a] + table[b], P)) == pytest.approx(0.0, abs=1e-12)
    noise = torch.randn(P * P, 200, generator=torch.Generator().manual_seed(1))
    assert share(spectrum(noise, P)) == pytest.approx(1 / (P + 1), rel=0.1)
    wave = torch.cos(2 * torch.pi * 3 * ((a + b) % P) / P)[:, None]  # (P*P, 1): frequency 3 of the sum
    assert EXAMPLE["top_sum_frequencies"](spectrum(wave, P), 1) == [(3, pytest.approx(1.0))]


@needs_interp
def test_the_example_runs_on_a_stored_rung(stored, capsys):
    EXAMPLE["report"](load_ladder("smoke"), ["s1"], 0, stored)
    header, line = capsys.readouterr().out.splitlines()
    assert "share that is a function of (a+b) mod 31" in header
    assert line.startswith("s1") and "L0 " in line and "L1 " in line and "top: k=" in line

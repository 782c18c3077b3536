"""What `ladder run` shows while it trains: the workers' reports, the estimate of the time left, the progress lines."""

from __future__ import annotations

import json
import random
import re
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from harness.errors import UserError
from harness.ladders.ladder import load_ladder
from harness.training import progress
from harness.training.progress import Progress, Reporter
from harness.training.runner import run_ladder
from harness.training.store import ResultsStore
from harness.training.train import Job
from harness.training.watch import Watch, clock, step_seconds, time_left

SMOKE = load_ladder("smoke")


@pytest.mark.parametrize(
    "running,waiting,slots,left",
    [
        ([], [], 2, 0.0),
        ([5.0, 1.0], [], 2, 5.0),
        ([5.0, 1.0], [4.0, 4.0, 2.0], 2, 9.0),  # 4 starts at 1 (ends 5), 4 at 5 (9), 2 at 5 (7)
        ([2.0], [3.0, 3.0, 3.0], 3, 5.0),  # two idle workers start at once; the third job waits for 2 to end
        ([], [1.0, 2.0, 3.0], 1, 6.0),
    ],
)
def test_time_left_is_the_end_of_the_schedule(running, waiting, slots, left):
    assert time_left(running, waiting, slots) == left


def test_an_unmeasured_rung_takes_the_pace_of_the_nearest_wider_then_narrower_one():
    rungs = ["c0", "c1", "c2", "c3"]
    assert step_seconds(rungs, {"c1": 0.5, "c3": 2.0}, "c1") == 0.5
    assert step_seconds(rungs, {"c1": 0.5, "c3": 2.0}, "c0") == 0.5  # c1 is wider and nearer than c3
    assert step_seconds(rungs, {"c1": 0.5, "c3": 2.0}, "c2") == 2.0
    assert step_seconds(rungs, {"c0": 0.1}, "c3") == 0.1  # no wider rung measured: the nearest narrower
    assert step_seconds(rungs, {}, "c2") is None


def test_clock():
    seconds = (0, 59.6, 61, 3599, 3600, 7325)
    assert [clock(s) for s in seconds] == ["0:00", "1:00", "1:01", "59:59", "1:00:00", "2:02:05"]


@pytest.mark.parametrize("value,every", [(None, 180.0), ("60", 60.0), ("0.5", 0.5), ("0", 0.0)])
def test_the_line_interval_comes_from_the_environment(monkeypatch, value, every):
    if value is None:
        monkeypatch.delenv(progress.EVERY_ENV, raising=False)
    else:
        monkeypatch.setenv(progress.EVERY_ENV, value)
    assert progress.every_s() == every


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_bad_line_interval_names_the_variable_and_the_fix(monkeypatch, value):
    monkeypatch.setenv(progress.EVERY_ENV, value)
    with pytest.raises(UserError, match=rf"LADDER_PROGRESS_EVERY='{value}' is not a number of seconds.*0 for none"):
        progress.every_s()


def test_a_bad_line_interval_stops_a_run_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv(progress.EVERY_ENV, "soon")
    with pytest.raises(UserError, match="LADDER_PROGRESS_EVERY='soon'"):
        run_ladder(SMOKE, [0], tmp_path)
    assert not list(tmp_path.iterdir())  # not even the start of training, which decides what is blind


def rng_states() -> tuple:
    return torch.random.get_rng_state(), np.random.get_state()[1].copy(), random.getstate()


def test_the_reporter_writes_steps_and_draws_no_random_number(tmp_path, monkeypatch):
    monkeypatch.setenv(progress.EVERY_ENV, "0.02")  # lines every 0.02 s: a report at least every 0.01 s
    before = rng_states()
    reporter = Reporter(tmp_path, steps=150)
    assert reporter.every == 0.01
    reporter.begin()
    assert progress.read(tmp_path) == Progress(0, 150, pytest.approx(0, abs=1), None)
    trainer = SimpleNamespace(is_global_zero=True, global_step=0)
    reporter.on_train_start(trainer, None)
    reporter.last -= 1  # as if a second had passed
    trainer.global_step = 40
    reporter.on_train_batch_end(trainer, None, None, None, 0)
    report = progress.read(tmp_path)
    assert report.step == 40 and report.steps == 150 and report.step_s >= 0 and report.elapsed_s >= 0
    trainer.global_step = 41  # within the interval: nothing written
    reporter.on_train_batch_end(trainer, None, None, None, 0)
    assert progress.read(tmp_path).step == 40
    after = rng_states()
    assert torch.equal(before[0], after[0]) and np.array_equal(before[1], after[1]) and before[2] == after[2]
    progress.clear(tmp_path)
    assert progress.read(tmp_path) is None
    progress.clear(tmp_path)  # clearing twice is fine


def test_a_torn_or_missing_report_reads_as_none(tmp_path):
    assert progress.read(tmp_path) is None
    (tmp_path / progress.FILE).write_text('{"step": 3, "ste')
    assert progress.read(tmp_path) is None


def job(rung: str, folder: Path) -> Job:
    r = SMOKE.rung(rung)
    return Job(SMOKE, r, 0, folder, SMOKE.training(r), 1, "disabled")


def leave(partial: Path, report: Progress) -> None:
    """A worker's report, as it writes it."""
    partial.mkdir(parents=True, exist_ok=True)
    (partial / progress.FILE).write_text(json.dumps(asdict(report)))


def test_lines_show_each_running_pair_and_the_whole_run(tmp_path, monkeypatch):
    """One worker: s1 runs (50 of 150 steps at 0.1 s a step: 10 s left); s0 waits, at s1's pace (the nearest wider
    rung measured) 15 s: 25 s left in all."""
    monkeypatch.setenv(progress.EVERY_ENV, "180")
    store = ResultsStore.of(SMOKE, tmp_path)
    jobs = [job("s1", store.folder), job("s0", store.folder)]
    said: list[str] = []
    watch = Watch(store, jobs, 1, said.append)
    leave(store.pair_partial_dir("s0", 0), Progress(9, 150, 1.0, 0.1))
    with watch:  # a report that a killed run left behind is not a pair running now
        assert progress.read(store.pair_partial_dir("s0", 0)) is None
        watch._lines()
        assert said == ["  smoke: 0/2 pairs done, 0:00 in, time left not yet known"]
        said.clear()
        leave(store.pair_partial_dir("s1", 0), Progress(50, 150, 6.2, 0.1))
        watch._lines()
        assert said[0] == "  smoke rung s1 (29,312 parameters) seed 0: step 50/150 after 0:06, about 0:10 left"
        assert re.fullmatch(r"  smoke: 0/2 pairs done, 0:0\d in, about 0:25 left", said[1])
        said.clear()
        watch.finished(jobs[0], 15.0)  # 0.1 s a step
        progress.clear(store.pair_partial_dir("s1", 0))
        watch._lines()
        assert re.fullmatch(r"  smoke: 1/2 pairs done, 0:0\d in, about 0:15 left", said[0])
        watch.finished(jobs[1], 3.0)
        said.clear()
        watch._lines()
        assert re.fullmatch(r"  smoke: 2/2 pairs done, 0:0\d in, done", said[0])

"""Executors end to end on the smoke ladder: local processes and a local Ray cluster give the curves of
one process; a worker killed mid-job loses nothing; a cluster whose nodes share no disk stores the same bytes;
bad addresses, missing GPUs and device settings."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from harness.ladders.ladder import load_ladder
from harness.training.store import ResultsStore
from tests.integration.common import cli_fails

SEEDS = ("--seeds", "0,1")
NEEDS_RAY = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None,
    reason="the ray executor is an optional extra: pip install -e '.[test,ray]'",
)
EXECUTORS = ["local", pytest.param("ray", marks=NEEDS_RAY)]


def run_cmd(out: Path, *args: str) -> list[str]:
    """``ladder run`` of the smoke ladder's SEEDS into ``out``, wandb off, with ``args``."""
    return [
        sys.executable,
        "-m",
        "harness",
        "run",
        "--ladder",
        "smoke",
        "--out",
        str(out),
        "--wandb",
        "disabled",
        *SEEDS,
        *args,
    ]


def ladder(out: Path, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    cmd = run_cmd(out, *args)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check:
        assert proc.returncode == 0, f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def sequential(tmp_path_factory) -> bytes:
    """The curves of both seeds trained one after another in one process, with one thread (as each worker has)."""
    out = tmp_path_factory.mktemp("sequential")
    ladder(out, "--workers", "1", "--threads", "1")
    return (out / "smoke" / "curves.parquet").read_bytes()


@pytest.mark.parametrize("executor", EXECUTORS)
def test_two_workers_give_the_curves_of_one_process(sequential, tmp_path, executor):
    proc = ladder(tmp_path, "--executor", executor, "--workers", "2")
    assert f"with the {executor} executor (2 at once, 1 torch thread each)" in proc.stdout
    assert (tmp_path / "smoke" / "curves.parquet").read_bytes() == sequential
    manifest = json.loads((tmp_path / "smoke" / "manifest.json").read_text())
    assert {run["executor"] for run in manifest["runs"].values()} == {executor}
    assert {run["devices"]["threads"] for run in manifest["runs"].values()} == {1}


def job_processes(executor: str, driver: int) -> list[int]:
    """Processes running a job: the driver's spawned pool workers, or Ray workers titled after the job they run."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if (executor == "local" and parent == driver and "spawn_main" in cmdline) or (
            executor == "ray" and cmdline.startswith("ray::smoke rung")
        ):
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_killed_worker_loses_nothing_and_the_rerun_completes(sequential, tmp_path, executor):
    cmd = run_cmd(tmp_path, "--executor", executor, "--workers", "2")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    root, deadline = tmp_path / "smoke", time.monotonic() + 240
    # The largest rung goes first; kill one of its workers as soon as it has written a checkpoint.
    while not (any(root.glob("checkpoints/s1/seed*.partial/*.pt")) and (victims := job_processes(executor, proc.pid))):
        assert proc.poll() is None, f"the run ended before the kill point:\n{proc.stdout.read()}"
        assert time.monotonic() < deadline, "no job started"
        time.sleep(0.02)
    os.kill(victims[0], signal.SIGKILL)
    output, _ = proc.communicate(timeout=240)
    store = ResultsStore(root, load_ladder("smoke"))
    finished = store.finished()
    stored = set(zip(store.curves()["rung"], store.curves()["seed"]))
    assert stored == finished, "rows only of pairs the manifest says are finished"
    if executor == "local":
        assert proc.returncode == 1, output
        assert "worker process died" in output and "run the same command again" in output
        assert len(finished) < 4
    else:
        assert proc.returncode in (0, 1), output  # Ray retries a job whose worker died
    rerun = ladder(tmp_path, "--workers", "1", "--threads", "1")
    assert rerun.stdout.count("already finished, skipped") == len(finished)
    assert (root / "curves.parquet").read_bytes() == sequential, "nothing lost or duplicated"
    assert not list(root.glob("checkpoints/*/*.partial"))


def test_workers_exit_when_the_run_is_killed(tmp_path):
    """A killed `ladder run` leaves no worker training on and writing into the store."""
    proc = subprocess.Popen(run_cmd(tmp_path, "--workers", "2"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while len(workers := job_processes("local", proc.pid)) < 2 or not any(
        tmp_path.glob("smoke/checkpoints/*/*.partial")
    ):
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended or never started its workers"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 5
    while (
        alive := [w for w in workers if Path(f"/proc/{w}").exists() and not zombie(w)]
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive == [], "workers outlived their run"


def zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@NEEDS_RAY
def test_an_unreachable_ray_address_fails_fast(tmp_path):
    start = time.perf_counter()
    proc = ladder(tmp_path, "--executor", "ray", "--address", "127.0.0.1:9", check=False, timeout=60)
    # The probe gives up after CONNECT_TIMEOUT_S (10 s); a refused port answers at once. 30 s leaves
    # room for starting Python and importing Ray on a busy machine; a hang would take minutes.
    assert time.perf_counter() - start < 30
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "No Ray cluster answers at '127.0.0.1:9'" in message and "leave out --address" in message
    assert not (tmp_path / "smoke").exists()


def test_a_gpu_on_a_machine_without_one_is_refused_before_anything_starts(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    message = cli_fails(
        "run", "--ladder", "smoke", "--out", str(tmp_path), "--accelerator", "gpu", "--wandb", "disabled"
    )
    assert "asks for 1 GPU" in message and "this machine has 0" in message and "--accelerator cpu" in message
    assert not (tmp_path / "smoke").exists()


def test_two_cpu_devices_split_each_batch_and_match_one_device(sequential, tmp_path):
    """Devices pass through to Lightning: two CPU processes with DDP see the one-device batch between them."""
    proc = ladder(tmp_path, "--devices", "2", "--seeds", "0")
    manifest = json.loads((tmp_path / "smoke" / "manifest.json").read_text())
    devices = manifest["runs"]["s1/seed0"]["devices"]
    assert (
        devices["devices"] == 2 and devices["strategy"] == "DDPStrategy" and devices["accelerator"] == "CPUAccelerator"
    ), proc.stdout
    one = pd.read_parquet(io.BytesIO(sequential))
    two = pd.read_parquet(tmp_path / "smoke" / "curves.parquet")
    merged = one[one.seed == 0].merge(two, on=["rung", "task", "step", "metric"])
    assert len(merged) == len(two)
    assert (merged["value_x"] - merged["value_y"]).abs().max() < 1e-3, "same data, same updates up to float rounding"


# A Ray cluster whose nodes share no disk with the driver. In this file, so that it never runs beside the other
# Ray tests in another test process (the killed-worker test finds Ray workers by their title, machine-wide).
# Differ between runs of the same pair: when and how fast it ran, and which executor ran it.
VOLATILE = {"wall_time_s", "batches_s", "finished_at", "executor"}


def stored(root: Path) -> tuple[bytes, dict, dict[str, str]]:
    """A store's curves bytes, its manifest without the volatile fields, and every checkpoint file's sha256."""
    manifest = json.loads((root / "manifest.json").read_text())
    manifest.pop("training_started_at")
    manifest["runs"] = {k: {f: v for f, v in e.items() if f not in VOLATILE} for k, e in manifest["runs"].items()}
    hashes = {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.glob("checkpoints/**/*"))
        if p.is_file()
    }
    return (root / "curves.parquet").read_bytes(), manifest, hashes


def watch_scratch(folders: list[Path], seen: set[Path], stop: threading.Event) -> None:
    """Record every job folder that appears in the nodes' scratch folders while the run goes on."""
    while not stop.is_set():
        for folder in folders:
            seen.update(folder.glob("ladder-job-*"))
        stop.wait(0.05)


@NEEDS_RAY
def test_a_cluster_without_a_shared_disk_stores_what_the_local_executor_does(tmp_path):
    from ray.cluster_utils import Cluster

    ladder(tmp_path / "local", "--workers", "1", "--threads", "1")
    scratch = [tmp_path / "node1", tmp_path / "node2"]
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    seen: set[Path] = set()
    stop = threading.Event()
    try:
        for folder in scratch:  # each node's workers put their temporary folders in its own scratch folder
            folder.mkdir()
            cluster.add_node(num_cpus=1, env_vars={"LADDER_SCRATCH": str(folder)})
        watcher = threading.Thread(target=watch_scratch, args=(scratch, seen, stop), daemon=True)
        watcher.start()
        proc = ladder(tmp_path / "ray", "--executor", "ray", "--address", cluster.address)
    finally:
        stop.set()
        cluster.shutdown()
    assert "back through Ray's object store" in proc.stdout
    local, ray = stored(tmp_path / "local" / "smoke"), stored(tmp_path / "ray" / "smoke")
    assert ray[0] == local[0], "curves.parquet differs"
    assert ray[1] == local[1], "manifest entries differ beyond times and executor"
    assert ray[2] == local[2] and len(ray[2]) == 4 * 3, "checkpoint files differ"
    manifest = json.loads((tmp_path / "ray" / "smoke" / "manifest.json").read_text())
    assert {run["executor"] for run in manifest["runs"].values()} == {"ray"}
    # Both nodes trained (the head has no CPU for jobs) in their scratch folders, never under --out, and left nothing.
    assert all(any(p.parent == folder for p in seen) for folder in scratch), seen
    assert [list(folder.iterdir()) for folder in scratch] == [[], []]
    assert not (tmp_path / "ray" / "smoke" / "batches").exists()
    assert not list((tmp_path / "ray").glob("smoke/checkpoints/*/*.partial"))

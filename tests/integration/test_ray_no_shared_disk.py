"""A Ray cluster whose nodes share no disk with the driver: workers train in scratch folders of their own node and
send each pair back through Ray's object store; the driver's store is byte for byte the local executor's."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from tests.integration.test_executors import NEEDS_RAY, ladder

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

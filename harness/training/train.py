"""Training one (rung, seed) pair with Lightning, as a job any executor can run in any process.

A job writes its checkpoints, progress report and rows into the pair's ``.partial`` folder under the results
folder when it shares a disk with the driver (local workers, a Ray cluster on one machine or with
``--ray-shared-out``). Otherwise (``Job.ship``) it works in a temporary folder of its own node, removed when the
job ends, and returns the checkpoints' bytes with its rows; the driver writes them (``runner.commit``).
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import shutil
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import lightning as L
import pandas as pd
import torch

from harness.files import atomic_write
from harness.ladders.families import FAMILIES
from harness.ladders.ladder import Ladder, Rung, TrainingSpec
from harness.training import batches, checkpoints, progress
from harness.training.data import Mixture, MixtureData
from harness.training.evaluate import Evaluator
from harness.training.groups import plan
from harness.training.module import LadderModule
from harness.training.schedule import log_steps, snap
from harness.training.store import ResultsStore

if TYPE_CHECKING:
    from lightning.pytorch.loggers import WandbLogger

WandbMode = Literal["offline", "online", "disabled"]
PAIR_ROWS_FILE = "pair_rows.parquet"  # a finished pair's curve rows, only in its .partial folder until read back
SCRATCH_ENV = "LADDER_SCRATCH"  # where a shipping job's temporary folder goes on its node; else the system's temp
PACKAGES = ("torch", "lightning", "numpy", "pandas", "pyarrow", "pydantic", "wandb", "emergence-ladder")


def environment() -> dict:
    """Package versions and hardware, recorded with every finished pair."""
    packages = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    hardware = {
        "node": platform.node(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "system": platform.system(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    return {"packages": packages, "hardware": hardware}


def quiet_lightning() -> None:
    """Keep Lightning's start-up banners and hints about data loader workers out of the output."""
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")  # Lightning 2.6 on torch 2.13, harmless


def make_logger(mode: WandbMode, store: ResultsStore, rung: Rung, seed: int, folder: Path) -> WandbLogger | None:
    """One wandb run per (rung, seed), grouped by ladder, its files under ``folder``; offline runs never touch the
    network."""
    if mode == "disabled":
        return None
    os.environ.setdefault("WANDB_SILENT", "true")
    from lightning.pytorch.loggers import WandbLogger

    ladder = store.ladder
    return WandbLogger(
        project="emergence-ladder",
        group=ladder.name,
        name=f"{ladder.name}-{rung.name}-seed{seed}",
        save_dir=str(folder),
        mode=mode,
        config={
            "ladder": ladder.spec.model_dump(mode="json"),
            "ladder_hash": ladder.hash,
            "rung": rung.name,
            "params": rung.params,
            "seed": seed,
            "task_versions": ladder.task_versions,
        },
    )


def write_rows(partial: Path, rows: list[dict]) -> None:
    """Leave the measured rows in the pair's ``.partial`` folder, where ``train_pair`` reads them back."""
    atomic_write(partial / PAIR_ROWS_FILE, pd.DataFrame(rows).to_parquet(index=False))


@dataclass(frozen=True)
class Job:
    """One (rung, seed) pair with all a worker process needs to train it (picklable)."""

    ladder: Ladder
    rung: Rung
    seed: int
    folder: Path  # the ladder's results folder; unless ``ship``, workers write checkpoints under it
    training: TrainingSpec  # the rung's own, with the run's device settings applied
    threads: int  # torch threads
    wandb: WandbMode
    # True: the worker may share no disk with the driver, so it trains in a local temporary folder and returns the
    # checkpoints' bytes (through Ray's object store) for the driver to write.
    ship: bool = False

    @property
    def gpus(self) -> int:
        return self.training.devices if self.training.accelerator == "gpu" else 0

    @property
    def label(self) -> str:
        return f"{self.ladder.name} rung {self.rung.name} ({self.rung.params:,} parameters) seed {self.seed}"


@dataclass(frozen=True)
class Trained:
    """What a job returns: its curve rows and manifest entry, or the traceback of its error.

    A shipping job (``Job.ship``) also returns its checkpoints, ``files``: file name -> bytes.
    """

    rows: pd.DataFrame | None = None
    entry: dict | None = None
    error: str | None = None
    files: dict[str, bytes] | None = None


def run_job(job: Job) -> Trained:
    """Train one pair in whatever process the executor chose; errors come back as text, not exceptions."""
    torch.set_num_threads(job.threads)
    quiet_lightning()
    try:
        if not job.ship:
            return Trained(*train_pair(job))
        with tempfile.TemporaryDirectory(prefix="ladder-job-", dir=os.environ.get(SCRATCH_ENV) or None) as scratch:
            work = Path(scratch) / "checkpoints"
            rows, entry = train_pair(job, work, cache=Path(scratch))
            return Trained(rows, entry, files=checkpoints.bundle(work, entry["checkpoints"]))
    except Exception:  # noqa: BLE001 - reported per pair; the other pairs go on
        return Trained(error=traceback.format_exc())


def train_pair(job: Job, work: Path | None = None, cache: Path | None = None) -> tuple[pd.DataFrame, dict]:
    """Train one rung with one seed; returns its curve rows and its manifest entry.

    Checkpoints, rows and progress go to ``work``, by default the pair's ``.partial`` folder that
    ``ResultsStore.commit`` moves into place; the seed's batches and wandb's offline files go under ``cache``, by
    default the results folder. The entry lists the checkpoints where they will lie once committed.
    """
    ladder, rung, seed, training = job.ladder, job.rung, job.seed, job.training
    store = ResultsStore(job.folder, ladder)
    spec = ladder.spec
    steps = training.steps
    torch.manual_seed(seed)  # model initialisation; the data has its own seeded stream
    family = FAMILIES.get(spec.family)
    model = family.build(rung.config)
    mixture = Mixture.of(ladder, training.batch_size)
    eval_steps = log_steps(steps, spec.evaluation.n_points)
    # Checkpoints from 1% of training on: the first few steps change little worth keeping.
    ckpt_steps = snap(log_steps(steps, spec.evaluation.n_checkpoints, first=max(1, steps // 100)), eval_steps)
    work = work or store.pair_partial_dir(rung.name, seed)
    cache = cache or store.folder
    final = store.pair_checkpoint_dir(rung.name, seed)
    shutil.rmtree(work, ignore_errors=True)
    reporter = progress.Reporter(work, steps)  # the step, for ladder run to show; changes nothing trained
    reporter.begin()
    # partial() rather than closures: with one process per device, the callback is pickled.
    save, report = (
        functools.partial(checkpoints.save, work, spec.family, family.version, rung.config),
        functools.partial(write_rows, work),
    )
    evaluator = Evaluator(mixture, spec.evaluation.examples_per_task, eval_steps, ckpt_steps, save, report)
    logger = make_logger(job.wandb, store, rung, seed, cache)
    trainer = L.Trainer(
        max_steps=steps,
        **trainer_devices(training),
        gradient_clip_val=training.grad_clip,
        logger=logger if logger is not None else False,
        # ladder run shows every pair's progress (harness.training.watch); a bar per worker would garble it.
        callbacks=[evaluator, reporter],
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )
    start = time.perf_counter()
    data = MixtureData(batches.shared(mixture, seed, steps, cache))
    batches_s = time.perf_counter() - start  # generating the seed's batches, for its first job; else reading them
    groups = plan(mixture.rows_by_length(), rung.params)
    trainer.fit(LadderModule(model, training, groups), datamodule=data)
    wall = time.perf_counter() - start
    if logger is not None:
        import wandb

        wandb.finish()  # the run of this process, if the first device's process was this one
    rows = pd.read_parquet(work / PAIR_ROWS_FILE).assign(
        ladder=ladder.name, rung=rung.name, params=rung.params, seed=seed
    )
    (work / PAIR_ROWS_FILE).unlink()
    progress.clear(work)
    entry = {
        "rung": rung.name,
        "seed": seed,
        "params": rung.params,
        "steps": steps,
        "wall_time_s": round(wall, 3),
        "batches_s": round(batches_s, 3),
        "length_groups": list(groups),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "checkpoints": checkpoints.listing(work, final, store.folder),
        # What the Trainer actually ran with, not what was asked for.
        "devices": {
            "accelerator": type(trainer.accelerator).__name__,
            "devices": trainer.num_devices,
            "strategy": type(trainer.strategy).__name__,
            "precision": trainer.precision,
            "threads": job.threads,
        },
        **environment(),
    }
    return rows, entry


def trainer_devices(training: TrainingSpec) -> dict:
    """Lightning's accelerator, devices, strategy and precision for a training spec.

    More than one device with strategy 'auto' means 'ddp_spawn': Lightning's own
    choice, 'ddp', would run the whole command line again in every device's process.
    """
    strategy = training.strategy
    if strategy == "auto" and training.devices > 1:
        strategy = "ddp_spawn"
    return {
        "accelerator": training.accelerator,
        "devices": training.devices,
        "strategy": strategy,
        "precision": training.precision,
    }

"""Training one (rung, seed) pair with Lightning, and running a whole ladder into the store."""

from __future__ import annotations

import io
import logging
import os
import platform
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Literal

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import TQDMProgressBar
from torch import nn

from harness.data import Mixture, MixtureData
from harness.evaluate import Evaluator
from harness.ladder import Ladder, Rung
from harness.lit import LadderModule
from harness.schedule import log_steps, snap
from harness.store import ResultsStore, atomic_write, sha256_file
from model_zoo import FAMILIES

WandbMode = Literal["offline", "online", "disabled"]
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


def make_logger(mode: WandbMode, store: ResultsStore, rung: Rung, seed: int):  # noqa: ANN201 - WandbLogger or None
    """One wandb run per (rung, seed), grouped by ladder; offline runs never touch the network."""
    if mode == "disabled":
        return None
    os.environ.setdefault("WANDB_SILENT", "true")
    from lightning.pytorch.loggers import WandbLogger

    ladder = store.ladder
    return WandbLogger(
        project="emergence-ladder",
        group=ladder.name,
        name=f"{ladder.name}-{rung.name}-seed{seed}",
        save_dir=str(store.root),
        mode=mode,
        config={"ladder": ladder.spec.model_dump(mode="json"), "ladder_hash": ladder.hash, "rung": rung.name, "params": rung.params, "seed": seed, "task_versions": ladder.task_versions},
    )


def checkpoint_saver(store: ResultsStore, family: str, rung: Rung, seed: int, saved: list[dict]) -> Callable[[int, nn.Module], None]:
    """A function that writes the model's weights at a step and records path and sha256 in ``saved``.

    Files go to the pair's ``.partial`` folder; the recorded path is where ``commit`` moves them.
    """
    final, partial = store.pair_checkpoint_dir(rung.name, seed), store.pair_partial_dir(rung.name, seed)

    def save(step: int, model: nn.Module) -> None:
        name = f"step{step:07d}.pt"
        path = partial / name
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        buf = io.BytesIO()
        torch.save({"family": family, "config": rung.config.model_dump(), "step": step, "state_dict": state}, buf)
        atomic_write(path, buf.getvalue())
        saved.append({"step": step, "path": str((final / name).relative_to(store.root)), "sha256": sha256_file(path)})

    return save


def train_pair(ladder: Ladder, rung: Rung, seed: int, store: ResultsStore, wandb_mode: WandbMode) -> tuple[pd.DataFrame, dict]:
    """Train one rung with one seed; returns its curve rows and its manifest entry.

    Checkpoints are written to a ``.partial`` folder that ``ResultsStore.commit`` moves into place.
    """
    spec = ladder.spec
    steps = spec.training.steps
    torch.manual_seed(seed)  # model initialisation; the data has its own seeded stream
    model = FAMILIES.get(spec.family).build(rung.config)
    mixture = Mixture.build(spec.tasks, spec.training.batch_size)
    eval_steps = log_steps(steps, spec.evaluation.n_points)
    # Checkpoints from 1% of training on: the first few steps change little worth keeping.
    ckpt_steps = snap(log_steps(steps, spec.evaluation.n_checkpoints, first=max(1, steps // 100)), eval_steps)
    shutil.rmtree(store.pair_partial_dir(rung.name, seed), ignore_errors=True)
    saved: list[dict] = []
    save = checkpoint_saver(store, spec.family, rung, seed, saved)
    evaluator = Evaluator(mixture, spec.evaluation.examples_per_task, eval_steps, ckpt_steps, save)
    logger = make_logger(wandb_mode, store, rung, seed)
    trainer = L.Trainer(
        max_steps=steps,
        accelerator=spec.training.accelerator,
        devices=spec.training.devices,
        precision=spec.training.precision,
        gradient_clip_val=spec.training.grad_clip,
        logger=logger if logger is not None else False,
        # A bar in a log file is noise; the pairs are reported anyway.
        callbacks=[evaluator, *([TQDMProgressBar(refresh_rate=max(1, steps // 50))] if sys.stderr.isatty() else [])],
        enable_progress_bar=sys.stderr.isatty(),
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
    )
    start = time.perf_counter()
    trainer.fit(LadderModule(model, ladder.training(rung)), datamodule=MixtureData(mixture, seed, steps))
    wall = time.perf_counter() - start
    if logger is not None:
        logger.experiment.finish()
    rows = pd.DataFrame(evaluator.rows).assign(ladder=ladder.name, rung=rung.name, params=rung.params, seed=seed)
    entry = {
        "rung": rung.name,
        "seed": seed,
        "params": rung.params,
        "steps": steps,
        "wall_time_s": round(wall, 3),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "checkpoints": saved,
        **environment(),
    }
    return rows, entry


def run_ladder(ladder: Ladder, seeds: list[int], out: Path, wandb_mode: WandbMode = "offline", force: bool = False, say: Callable[[str], None] = print) -> ResultsStore:
    """Train every (rung, seed) pair not yet finished in ``out/<ladder>``; ``force`` retrains finished ones."""
    quiet_lightning()
    store = ResultsStore(out / ladder.name, ladder)
    with store.locked():
        dropped = store.recover()
        if dropped:
            say(f"Dropped {dropped} rows of an interrupted pair; it will be trained again.")
        done = store.finished()
        pairs = [(rung, seed) for seed in seeds for rung in ladder.rungs]
        for i, (rung, seed) in enumerate(pairs, 1):
            label = f"[{i}/{len(pairs)}] {ladder.name} rung {rung.name} ({rung.params:,} parameters) seed {seed}"
            if (rung.name, seed) in done and not force:
                say(f"{label}: already finished, skipped (--force retrains it)")
                continue
            say(f"{label}: training")
            rows, entry = train_pair(ladder, rung, seed, store, wandb_mode)
            store.commit(rung.name, seed, rows, entry)
            say(f"{label}: done in {entry['wall_time_s']:.1f} s")
        sys.stdout.flush()
    return store

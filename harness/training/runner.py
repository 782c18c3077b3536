"""``ladder run``: plan the (rung, seed) jobs a ladder still needs, hand them to an executor, commit results.

Only this process writes to the results store, and only whole pairs: workers
train and write checkpoints into a pair's ``.partial`` folder, and the pair is
committed here when its result arrives. A worker killed mid-job therefore
leaves no rows, and the next run trains that pair again. While pairs train, the
workers' progress reports in those folders are shown (``harness.training.watch``).

Workers that may share no disk with this process (a joined Ray cluster without
``--ray-shared-out``) train in temporary folders of their own and return the
checkpoints' bytes with the rows; ``commit`` writes them into the ``.partial``
folder here, checks every sha256, and commits as above, so the store is the one
local workers leave. Their progress reports stay on their nodes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.documents import describe_error
from harness.errors import UserError
from harness.ladders.ladder import Ladder, Rung, TrainingSpec
from harness.training import checkpoints, progress
from harness.training.executors import EXECUTORS, Executor, Lost
from harness.training.restore import checkpoints_intact, restore_checkpoints, retime_pair
from harness.training.store import ResultsStore, pair_key
from harness.training.train import Job, Trained, WandbMode, quiet_lightning, run_job
from harness.training.watch import Watch

DEVICE_FIELDS = ("accelerator", "devices", "strategy", "precision")


class RunOptions(BaseModel):
    """How a run executes. None of it changes the ladder hash; each pair's manifest entry records
    the executor, threads and devices it actually ran with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    executor: str = "local"
    workers: int | None = Field(default=None, gt=0)  # jobs at once; None: the executor's default
    # torch threads per job. One by default: the sums inside a matmul depend on the thread count, so
    # with a fixed count a pair gives the same curves whichever executor, worker count or machine.
    threads: int = Field(default=1, gt=0)
    address: str | None = None  # an existing Ray cluster
    shared_out: bool = False  # every node of that cluster sees --out: workers write there instead of shipping files
    wandb: WandbMode = "offline"
    force: bool = False
    # Retrain finished pairs whose checkpoints are missing or damaged, keeping the new ones only if they
    # are byte-identical to what the manifest recorded; curves and manifest are left as they are.
    restore: bool = False
    # Retrain finished pairs to measure their wall time on this machine as it is now, recording it only where
    # their checkpoints come out byte-identical (the same computation); curves and checkpoints are left as they are.
    retime: bool = False
    rungs: list[str] | None = None  # only these rungs; None: all
    devices: dict[str, str | int] = {}  # accelerator, devices, strategy, precision over the ladder file's

    @model_validator(mode="after")
    def _one_redo(self) -> RunOptions:
        chosen = [f"--{name}" for name in ("force", "restore", "retime") if getattr(self, name)]
        if len(chosen) > 1:
            raise UserError(
                f"{' and '.join(chosen)} do not go together: --force retrains pairs and replaces their rows, --restore "
                "only brings back their checkpoints, --retime only re-measures their wall time. Pick one."
            )
        return self

    @property
    def redo(self) -> bool:
        """Whether finished pairs are retrained without touching their rows (--restore or --retime)."""
        return self.restore or self.retime


class RunIncomplete(UserError):
    """Some pairs failed; the others are stored. Exit status 1: the run, not the input, went wrong."""

    exit_code = 1


def device_settings(ladder: Ladder, overrides: dict[str, str | int]) -> TrainingSpec:
    """The ladder's training spec with command-line device settings applied and validated."""
    unknown = set(overrides) - set(DEVICE_FIELDS)
    if unknown:
        raise UserError(
            f"Unknown device settings {sorted(unknown)}; the ones that pass through to Lightning are "
            f"{', '.join(DEVICE_FIELDS)}."
        )
    try:
        return TrainingSpec.model_validate({**ladder.spec.training.model_dump(), **overrides})
    except ValidationError as exc:
        problems = "; ".join("--" + describe_error(err, TrainingSpec) for err in exc.errors())
        raise UserError(f"Device settings for ladder '{ladder.name}' are invalid: {problems}") from None


def plan(
    ladder: Ladder,
    seeds: list[int],
    store: ResultsStore,
    options: RunOptions,
    training: TrainingSpec,
    workers: int | None,
    ship: bool = False,
) -> list[Job]:
    """Jobs for the selected pairs not yet finished (all with ``force``; with ``restore``, the finished
    ones whose checkpoints are not intact; with ``retime``, every finished one).

    One at a time, they run seed by seed from the smallest rung. In
    parallel, the largest rungs go first (the longest jobs must not start last)
    and the seeds of a rung run side by side.
    """
    rungs = [ladder.rung(name) for name in options.rungs] if options.rungs else ladder.rungs
    runs = store.manifest()["runs"]
    if options.restore:
        pairs = [
            (rung, seed)
            for seed in seeds
            for rung in rungs
            if pair_key(rung.name, seed) in runs and not checkpoints_intact(store, runs[pair_key(rung.name, seed)])
        ]
    elif options.retime:
        pairs = [(rung, seed) for seed in seeds for rung in rungs if pair_key(rung.name, seed) in runs]
    else:
        done = set() if options.force else store.finished()
        pairs = [(rung, seed) for seed in seeds for rung in rungs if (rung.name, seed) not in done]
    if workers != 1:
        order = {r.name: i for i, r in enumerate(ladder.rungs)}
        pairs.sort(key=lambda p: (-order[p[0].name], p[1]))

    def threads(rung: Rung, seed: int) -> int:
        """A restore or retime retrains with the thread count the pair was trained with: its curves depend on it."""
        return (
            runs[pair_key(rung.name, seed)].get("devices", {}).get("threads", options.threads)
            if options.redo
            else options.threads
        )

    wandb = "disabled" if options.redo else options.wandb  # neither is a new run of the pair
    return [
        Job(ladder, rung, seed, store.folder, ladder.training(rung, training), threads(rung, seed), wandb, ship)
        for rung, seed in pairs
    ]


def check_devices(training: TrainingSpec, executor: Executor) -> None:
    """Refuse, before anything starts, GPU pairs that the executor has no GPUs for."""
    if training.accelerator != "gpu":
        return
    need, have = training.devices, executor.gpus()
    if have < need:
        raise UserError(
            f"Each pair asks for {need} GPU{'s' * (need > 1)} (accelerator 'gpu', devices {need}), but "
            f"{executor.where} has {have}. "
            "Run on a machine with GPUs, join a cluster that has them (--executor ray --address HOST:PORT), or train "
            "on the CPU with --accelerator cpu --devices 1 --precision 32-true."
        )
    if not executor.assigns_gpus and executor.workers != 1:
        raise UserError(
            f"The {executor.name} executor runs GPU pairs one at a time on all the devices they ask for; leave out "
            "--workers, or use --executor ray to spread pairs over GPUs."
        )


def run_ladder(
    ladder: Ladder, seeds: list[int], out: Path, options: RunOptions | None = None, say: Callable[[str], None] = print
) -> ResultsStore:
    """Train every (rung, seed) pair not yet finished in ``out/<ladder>``; ``RunIncomplete`` if any failed."""
    quiet_lightning()
    options = options or RunOptions()
    training = device_settings(ladder, options.devices)
    for name in options.rungs or []:
        ladder.rung(name)  # an unknown rung fails before any executor starts
    progress.every_s()  # and so does a LADDER_PROGRESS_EVERY that is not a number of seconds
    store = ResultsStore.of(ladder, out)
    with EXECUTORS.get(options.executor)(options.workers, options.address, options.shared_out) as executor:
        check_devices(training, executor)
        with store.locked():
            return train_missing(ladder, seeds, store, options, training, executor, say)


def train_missing(
    ladder: Ladder,
    seeds: list[int],
    store: ResultsStore,
    options: RunOptions,
    training: TrainingSpec,
    executor: Executor,
    say: Callable[[str], None],
) -> ResultsStore:
    dropped = store.recover()
    if dropped:
        say(f"Dropped {dropped} rows of an interrupted pair; it will be trained again.")
    jobs = plan(ladder, seeds, store, options, training, executor.workers, ship=not executor.shares_out)
    planned = {(job.rung.name, job.seed) for job in jobs}
    selected = [r.name for r in ladder.rungs if not options.rungs or r.name in options.rungs]
    skipped = (
        "checkpoints intact or not trained yet, skipped"
        if options.restore
        else "not trained yet, skipped (--retime re-measures finished pairs only)"
        if options.retime
        else "already finished, skipped (--force retrains it)"
    )
    for rung, seed in ((r, s) for s in seeds for r in selected if (r, s) not in planned):
        say(f"{ladder.name} rung {rung} seed {seed}: {skipped}")
    if not jobs:
        return store
    if options.restore:
        say("Restoring checkpoints by retraining; the stored curves and manifest are not changed.")
    elif options.retime:
        say(
            "Re-measuring wall times by retraining; a pair's new time is recorded (its earlier ones kept) only if its "
            "checkpoints come out byte-identical, and its curves and checkpoints are not changed."
        )
    else:
        store.mark_started()
    say(
        f"Training {len(jobs)} pair{'s' * (len(jobs) > 1)} with the {executor.name} executor "
        f"({executor.workers or 'as many as fit'} at once, {jobs[0].threads} torch "
        f"thread{'s' * (jobs[0].threads > 1)} each)."
    )
    if not executor.shares_out:
        say(
            "Workers send each finished pair's checkpoints back through Ray's object store (pass --ray-shared-out "
            "if every node sees --out); running pairs' steps stay on their nodes and are not shown"
            + ("; offline wandb runs are removed with the workers' scratch." if jobs[0].wandb == "offline" else ".")
        )
    failed = []
    with Watch(store, jobs, executor.workers, say) as watch:
        for i, (job, result) in enumerate(executor.run(run_job, jobs), 1):
            problem = commit(store, job, result, executor.name, options)
            watch.finished(job, None if problem else result.entry["wall_time_s"])
            if problem:
                failed.append(f"{job.rung.name}/seed{job.seed}")
                watch.say(f"[{i}/{len(jobs)}] {job.label}: FAILED: {problem}")
            else:
                watch.say(f"[{i}/{len(jobs)}] {job.label}: done in {result.entry['wall_time_s']:.1f} s")
    if failed:
        raise RunIncomplete(
            f"{len(failed)} of {len(jobs)} pairs failed ({', '.join(failed)}); their errors are printed above. Every "
            "other pair is stored; run the same command again to retry only the failed ones."
        )
    return store


def commit(store: ResultsStore, job: Job, result: Trained | Lost, executor: str, options: RunOptions) -> str | None:
    """Store a finished pair (with ``restore``, only its checkpoints; with ``retime``, only its wall time); return
    why it could not be, or None."""
    if isinstance(result, Lost):
        return result.reason
    if result.error is not None:
        return "\n" + result.error.rstrip()
    partial = store.pair_partial_dir(job.rung.name, job.seed)
    if result.files is not None:  # shipped: write them here, as a local worker would have
        shutil.rmtree(partial, ignore_errors=True)
        problem = checkpoints.unbundle(partial, result.files, result.entry["checkpoints"])
        if problem:
            shutil.rmtree(partial, ignore_errors=True)
            return problem
    for ckpt in result.entry["checkpoints"]:
        path = partial / Path(ckpt["path"]).name
        if not checkpoints.intact(path, ckpt["sha256"]):
            return (
                f"its checkpoint {path} is missing or differs here from what the worker wrote; --ray-shared-out "
                "needs --out on a filesystem every node shares (leave it out to ship checkpoints through Ray)"
            )
    if options.restore:
        return restore_checkpoints(store, job.rung.name, job.seed, result.entry)
    if options.retime:
        return retime_pair(store, job.rung.name, job.seed, result.entry)
    store.commit(job.rung.name, job.seed, result.rows, {**result.entry, "executor": executor})
    return None

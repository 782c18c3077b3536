"""Where jobs run: in this process, in local worker processes, or on a Ray cluster.

An executor takes a function and a list of jobs and yields ``(job, result)`` as
jobs finish, in any order. It knows nothing about training: the caller's
function does the work and returns a picklable result, and the caller commits
results one by one as they arrive, so a crash loses only the jobs in flight. A
job whose worker dies yields ``Lost`` instead of a result; the other jobs still
run.

Jobs say what they need through two attributes, ``threads`` (CPU cores) and
``gpus``; Ray reserves exactly that for each job. ``shares_out`` tells the caller
whether the workers see the driver's ``--out`` (and may write there) or must send
their files back with their results.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from harness.errors import UserError
from harness.registry import Registry


class Needs(Protocol):
    threads: int  # CPU cores the job uses (torch threads)
    gpus: int  # GPUs the job uses
    label: str  # what Ray names the task (and its worker process while it runs)


J = TypeVar("J", bound=Needs)
R = TypeVar("R")
CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Lost:
    """A job that never returned a result: its worker process died, or the cluster gave up on it."""

    reason: str


class Executor(Protocol):
    """Context manager: entering starts or joins the workers, ``run`` yields results as jobs finish."""

    name: str
    workers: int | None  # jobs at once; None: as many as the cluster's resources allow
    where: str  # where the jobs run, for messages
    assigns_gpus: bool  # whether each job gets GPUs of its own (else every job sees all of them)
    shares_out: bool  # whether every worker sees the driver's --out folder (else results carry their files)

    def __enter__(self) -> Executor: ...
    def __exit__(self, *exc: object) -> None: ...
    def gpus(self) -> int: ...
    def run(self, fn: Callable[[J], R], jobs: Sequence[J]) -> Iterator[tuple[J, R | Lost]]: ...


EXECUTORS: Registry[Callable[..., Executor]] = Registry("executor")


@EXECUTORS.register("local")
class Local:
    """One worker: jobs run one after another in this process. More: one spawned process per worker.

    Worker processes are started with ``spawn`` (a forked copy of a process that
    already runs torch threads can deadlock). When a worker dies, the pool is
    broken: every job in flight is reported ``Lost`` and a fresh pool takes the
    jobs not yet started. When the driver dies (``ladder run`` killed), its
    workers exit within a second (``exit_with``): left running, they would go on
    training and writing checkpoints into the store beside the next run.
    """

    name, where, assigns_gpus, shares_out = "local", "this machine", False, True

    def __init__(self, workers: int | None = None, address: str | None = None, shared_out: bool = False) -> None:
        if address is not None or shared_out:
            option = f"--address {address}" if address is not None else "--ray-shared-out"
            raise UserError(
                f"{option} is for the ray executor; the local executor runs on this machine only. Add "
                "--executor ray to run on a Ray cluster."
            )
        self.workers = workers or 1

    def __enter__(self) -> Local:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def gpus(self) -> int:
        import torch

        return torch.cuda.device_count()

    def run(self, fn: Callable[[J], R], jobs: Sequence[J]) -> Iterator[tuple[J, R | Lost]]:
        if self.workers == 1:
            for job in jobs:
                yield job, fn(job)
            return
        queue = deque(jobs)
        while queue:
            yield from self._pool(fn, queue)

    def _pool(self, fn: Callable[[J], R], queue: deque[J]) -> Iterator[tuple[J, R | Lost]]:
        """Run jobs from ``queue`` with at most ``workers`` in flight until it is empty or the pool breaks."""
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=exit_with, initargs=(os.getpid(),)
        ) as pool:
            running: dict[Future, J] = {}
            while queue or running:
                while queue and len(running) < self.workers:
                    try:
                        future = pool.submit(fn, queue[0])
                    except BrokenProcessPool:  # a worker died since the last wait: the job stays queued
                        if not running:
                            return
                        break
                    running[future] = queue.popleft()
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    job = running.pop(future)
                    try:
                        yield job, future.result()
                    except BrokenProcessPool:
                        # The pool does not say whose worker died: every job in flight is lost.
                        for lost in (job, *running.values()):
                            yield (
                                lost,
                                Lost(
                                    "a worker process died (killed, or out of memory) while this job or one beside "
                                    f"it ran; it was not recorded ({len(running) + 1} jobs in flight lost)"
                                ),
                            )
                        return


def exit_with(driver: int, every_s: float = 0.5) -> None:
    """In a worker process: exit at once when ``driver`` is no longer its parent (it died)."""

    def watch() -> None:
        while os.getppid() == driver:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-driver", daemon=True).start()


@EXECUTORS.register("ray")
class Ray:
    """Ray: a local cluster started for this run, or an existing one joined at ``address``.

    Each job reserves ``threads`` CPUs and ``gpus`` GPUs; Ray places it on a node
    that has them. A job whose worker dies is retried by Ray up to
    ``RETRIES`` times before it is reported ``Lost``.

    A local cluster lives on this machine, so its workers write into ``--out`` like local workers. A joined
    cluster may share no disk: its workers send their files back through Ray's object store, unless
    ``shared_out`` says that every node sees ``--out`` at the same path.
    """

    name, where, assigns_gpus = "ray", "the Ray cluster", True
    RETRIES = 2

    def __init__(self, workers: int | None = None, address: str | None = None, shared_out: bool = False) -> None:
        try:
            import ray
        except ImportError:
            raise UserError(
                "The ray executor needs Ray, an optional extra: pip install 'emergence-ladder[ray]' (or pip install "
                "ray), then run again."
            ) from None
        self.ray, self.address = ray, address
        self.shares_out = shared_out or address is None
        # A local cluster runs as many jobs at once as this machine has cores (fewer when each job
        # reserves several threads); a joined cluster is Ray's to fill unless --workers caps it.
        self.workers = workers if workers is not None or address is not None else os.cpu_count() or 1

    def __enter__(self) -> Ray:
        options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
        if self.address is None:
            self.ray.init(include_dashboard=False, **options)
        else:
            probe(self.address)
            try:
                self.ray.init(address=self.address, **options)
            except (ConnectionError, RuntimeError, TimeoutError) as exc:
                raise UserError(
                    f"Could not join the Ray cluster at '{self.address}': {exc}. Check the address (the head node's "
                    "'ray start --head' prints it) or leave out --address to start a local cluster."
                ) from None
        return self

    def __exit__(self, *exc: object) -> None:
        self.ray.shutdown()

    def gpus(self) -> int:
        return int(self.ray.cluster_resources().get("GPU", 0))

    def run(self, fn: Callable[[J], R], jobs: Sequence[J]) -> Iterator[tuple[J, R | Lost]]:
        remote = self.ray.remote(fn)
        queue, running = deque(jobs), {}
        while queue or running:
            while queue and (self.workers is None or len(running) < self.workers):
                job = queue.popleft()
                ref = remote.options(
                    num_cpus=job.threads, num_gpus=job.gpus, max_retries=self.RETRIES, name=job.label
                ).remote(job)
                running[ref] = job
            finished, _ = self.ray.wait(list(running), num_returns=1)
            for ref in finished:
                job = running.pop(ref)
                try:
                    yield job, self.ray.get(ref)
                except self.ray.exceptions.RayError as exc:
                    yield job, Lost(f"Ray lost it after {self.RETRIES} retries: {str(exc).splitlines()[0]}")


def probe(address: str) -> None:
    """Fail within ``CONNECT_TIMEOUT_S`` with a clear message if nothing listens at a Ray address."""
    if address == "auto":
        return
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(
            f"--address '{address}' is not HOST:PORT (or ray://HOST:PORT, or 'auto'); the head node prints its "
            "address when started with 'ray start --head'."
        )
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise UserError(
            f"No Ray cluster answers at '{address}' ({exc.strerror or exc}; gave up after at most "
            f"{CONNECT_TIMEOUT_S:.0f} s). Check the address and that the head node runs 'ray start --head', or leave "
            "out --address to start a local cluster."
        ) from None

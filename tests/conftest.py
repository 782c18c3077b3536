"""Settings of the whole test session."""

from __future__ import annotations

import os


def pytest_configure() -> None:
    """Under pytest-xdist (``make test`` runs two processes), one torch thread per process.

    torch's default is a thread per core, so two processes on a 2-core machine would each run two
    threads and slow each other down several times; training in the tests already uses one thread
    per job (``--threads 1``).
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)

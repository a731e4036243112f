"""What every executor shares: the ``Executor`` protocol and its callbacks, the threads each
job is granted and how they are applied, a GPU's memory shared among worker processes, and a
job's deadline. executors.py runs jobs here or in worker processes, dask_executor.py on a
Dask cluster; runner.make_executor picks one.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Protocol, runtime_checkable

from pipelines.hardware import PRECISION_ENV, THREADS_ENV, cpus_available

from .context import Job, RunContext
from .job import run_job

THREAD_ENV_VARIABLES = (THREADS_ENV, "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                        "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")

OnStart = Callable[[Job], None]
OnRecord = Callable[[dict], None]
OnProgress = Callable[[Job, dict], None]  # a job's mid-run event (a deep model's epoch)
# asked just before a job starts: None, do not start it; else the seconds it may run
Admit = Callable[[Job], float | None]
PROGRESS = "progress"  # tags a progress message from a worker process


def _ignore_progress(job: Job, event: dict) -> None:
    pass


def _admit_all(job: Job) -> float:
    return float("inf")


# A bounded share of one GPU's memory for each of N worker processes (JAX preallocates 75%
# of it by default, so a second worker would fail to start; TensorFlow takes it all unless
# it grows on demand). PyTorch allocates as it goes and needs nothing.
GPU_MEMORY_SHARE_OF_WORKERS = 0.9
GPU_SHARING_VARIABLES = ("XLA_PYTHON_CLIENT_MEM_FRACTION", "TF_FORCE_GPU_ALLOW_GROWTH")


def gpu_sharing_settings(workers: int, gpus: int) -> dict[str, str]:
    """What each of ``workers`` processes needs to share ``gpus`` GPUs (one share each of
    the first; none where there is one worker or no GPU). Variables the user set win."""
    if workers < 2 or gpus < 1:
        return {}
    share = GPU_MEMORY_SHARE_OF_WORKERS / workers
    wanted = {"XLA_PYTHON_CLIENT_MEM_FRACTION": f"{share:.3f}",
              "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
    return {name: value for name, value in wanted.items() if name not in os.environ}


@contextlib.contextmanager
def gpu_sharing_environment(workers: int) -> Iterator[None]:
    """Set the GPU memory share while ``workers`` child processes start."""
    from pipelines.hardware import gpu_names

    settings = gpu_sharing_settings(workers, len(gpu_names()))
    os.environ.update(settings)
    try:
        yield
    finally:
        for name in settings:
            os.environ.pop(name, None)


def threads_per_job(workers: int, threads: int | None = None) -> int:
    """The threads each job gets: ``threads`` (``--threads``) if given, else this machine's
    cores shared among ``workers`` parallel jobs."""
    if threads is not None:
        return max(1, threads)
    return max(1, cpus_available() // max(1, workers))


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set these variables for a while, then put back what was there before."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def thread_environment(threads: int) -> contextlib.AbstractContextManager[None]:
    """Set the thread-count variables while child processes start, so that their BLAS,
    OpenMP and TensorFlow pools are sized from the start."""
    return environment({name: str(threads) for name in THREAD_ENV_VARIABLES})


def run_job_within(job: Job, context: RunContext, threads: int) -> dict:
    """``run_job`` held to ``threads``: the BLAS/OpenMP pools already loaded are limited, and
    the variables are set for what the job loads (TensorFlow sizes its pools when first
    imported) and for ``thread_budget()``, which the estimators and the record read. The
    job's arithmetic (``--precision``) is set the same way, in the process that runs it,
    whichever executor's (a Dask worker on another machine included)."""
    from threadpoolctl import threadpool_limits

    with thread_environment(threads), environment({PRECISION_ENV: job.precision}), \
            threadpool_limits(limits=threads):
        return run_job(job, context)


@runtime_checkable
class Executor(Protocol):
    """What the runner asks of an executor: its name and parallel workers, the threads
    each job gets, and ``run``, which calls ``on_record`` once for every job ``admit`` let
    start (ok, failed or timed out), never raising for a job's own failure."""

    name: str
    workers: int
    threads: int

    def run(self, jobs: list[Job], context: RunContext, on_start: OnStart,
            on_record: OnRecord, on_progress: OnProgress = ...,
            admit: Admit = ...) -> None: ...


def deadline_of(timeout: float | None, limit: float) -> tuple[float, str]:
    """When a job starting now must stop, and what its record will say if it does: the
    nearer of ``--timeout`` and the ``limit`` its run's budget grants it."""
    now = time.monotonic()
    if timeout is not None and timeout <= limit:
        return now + timeout, f"stopped after {timeout:g} s (--timeout)"
    if limit == float("inf"):
        return float("inf"), ""
    return now + limit, (f"stopped at the end of the run's time budget (--max-seconds), "
                         f"after {limit:.0f} s")

"""Where jobs run: in this process, in worker processes, or on a Dask cluster.

Whatever the executor, each job runs ``job.run_job`` within its thread budget
(``run_job_within``) and its record comes back to the calling process, which alone writes
the store. The data goes to each worker once (spawned processes get the run context when
they start; Dask workers get it scattered). Each job is granted a number of threads (BLAS
and OpenMP pools, the estimators' ``n_jobs``, TensorFlow's pools): ``--threads``, else the
cores shared among the parallel jobs so that they do not oversubscribe the machine. On one
machine and one set of packages, the grant is what a job's numbers depend on besides its
inputs (BLAS sums in another order with another thread count, and an MLP's training path or
a tree split can follow), so every executor applies it the same way and every record states
it (``env.threads``, with ``env.host``): two such records are the same whatever ran them.

A job that outlives ``--timeout`` is stopped and recorded as ``timeout``; a worker that dies
(a segfault, the OOM killer) costs its job a ``failed`` record, and a fresh worker takes over.
A run with a time budget (``--max-seconds``) gives each executor an ``admit`` function, asked
just before a job starts: it says whether the job starts at all and how long it may run
(the time left in the budget), which the process and Dask executors enforce like a timeout.

Worker processes on a machine with a GPU share it: each gets a bounded share of its memory
(``gpu_sharing_environment``), since JAX and TensorFlow otherwise take most of it at start.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pipelines.events import reporting_to
from pipelines.hardware import THREADS_ENV, cpus_available

from ..errors import FashionbenchError
from .context import Job, RunContext
from .job import run_job, stopped_record

THREAD_ENV_VARIABLES = (THREADS_ENV, "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                        "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")
EXECUTORS = ("serial", "process", "dask")

OnStart = Callable[[Job], None]
OnRecord = Callable[[dict], None]
OnProgress = Callable[[Job, dict], None]  # a job's mid-run event (a deep model's epoch)
# asked just before a job starts: None, do not start it; else the seconds it may run
Admit = Callable[[Job], float | None]
PROGRESS = "progress"  # tags a progress message from a worker process
DASK_PROGRESS_TOPIC = "fashionbench-progress"


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
def thread_environment(threads: int) -> Iterator[None]:
    """Set the thread-count variables while child processes start, so that their BLAS,
    OpenMP and TensorFlow pools are sized from the start."""
    saved = {name: os.environ.get(name) for name in THREAD_ENV_VARIABLES}
    os.environ.update({name: str(threads) for name in THREAD_ENV_VARIABLES})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_job_within(job: Job, context: RunContext, threads: int) -> dict:
    """``run_job`` held to ``threads``: the BLAS/OpenMP pools already loaded are limited, and
    the variables are set for what the job loads (TensorFlow sizes its pools when first
    imported) and for ``thread_budget()``, which the estimators and the record read."""
    from threadpoolctl import threadpool_limits

    with thread_environment(threads), threadpool_limits(limits=threads):
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


class SerialExecutor:
    """One job after another in this process: no isolation, no overhead, no timeout.

    Each job gets ``threads`` (default: every core this process may use), applied as the
    other executors apply theirs, so that ``--threads 1`` gives the same records here as on
    a worker. (A deep-learning framework already loaded in this process keeps the pools it
    was started with.)
    """

    name = "serial"
    workers = 1

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads_per_job(1, threads)

    def run(self, jobs: list[Job], context: RunContext, on_start: OnStart,
            on_record: OnRecord, on_progress: OnProgress = _ignore_progress,
            admit: Admit = _admit_all) -> None:
        """Runs each job ``admit`` lets start; its time limit is not enforced here (a run
        with limits uses a worker process: ``make_executor``)."""
        for job in jobs:
            if admit(job) is None:
                continue
            on_start(job)
            with reporting_to(lambda event, job=job: on_progress(job, event)):
                record = run_job_within(job, context, self.threads)
            on_record(record)


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


READY = "ready"
START_TIMEOUT_SECONDS = 300


def _worker_main(connection, threads: int) -> None:
    """A worker process: receives the run context, says it is ready, then receives jobs and
    sends records until None; progress events of the job in hand go back on the same pipe,
    tagged ``PROGRESS``. (The context comes on the pipe, not as a process argument: a spawned
    process's arguments are written while the parent waits, so workers would start one by
    one.)"""
    context = connection.recv()
    connection.send(READY)
    with reporting_to(lambda event: connection.send((PROGRESS, event))):
        while True:
            job = connection.recv()
            if job is None:
                return
            connection.send(run_job_within(job, context, threads))


@dataclass
class _Worker:
    process: multiprocessing.Process
    connection: multiprocessing.connection.Connection
    job: Job | None = None
    deadline: float = float("inf")
    stop_reason: str = ""  # what the deadline is: the --timeout or the run's budget


class ProcessExecutor:
    """Jobs in ``workers`` spawned processes, each started once with the run context."""

    name = "process"

    def __init__(self, workers: int = 2, timeout: float | None = None,
                 threads: int | None = None) -> None:
        self.workers = max(1, workers)
        self.timeout = timeout
        self.threads = threads_per_job(self.workers, threads)
        self._spawn = multiprocessing.get_context("spawn")

    def _start(self, context: RunContext) -> _Worker:
        return self._start_all(context, 1)[0]

    def _start_all(self, context: RunContext, count: int) -> list[_Worker]:
        """Launch every worker before waiting for any: their start-ups overlap."""
        launched = [self._launch() for _ in range(count)]
        workers: list[_Worker] = []
        try:
            for process, parent in launched:
                workers.append(self._ready(process, parent, context))
        except BaseException:
            for process, parent in launched[len(workers):]:
                self._stop(_Worker(process, parent))
            for worker in workers:
                self._stop(worker)
            raise
        return workers

    def _launch(self) -> tuple:
        parent, child = self._spawn.Pipe()
        process = self._spawn.Process(target=_worker_main, args=(child, self.threads),
                                      daemon=True, name="fashionbench-worker")
        with thread_environment(self.threads), gpu_sharing_environment(self.workers):
            process.start()
        child.close()
        return process, parent

    def _ready(self, process, parent, context: RunContext) -> _Worker:
        # a worker that cannot even start (e.g. a main module without the __main__ guard)
        # must stop the run, not be replaced forever
        try:
            parent.send(context)
            if not parent.poll(START_TIMEOUT_SECONDS) or parent.recv() != READY:
                raise EOFError
        except (EOFError, OSError):
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
            raise FashionbenchError(
                f"a worker process failed to start (exit code {process.exitcode}); when calling "
                f"the runner from a script, guard it with if __name__ == '__main__'"
            ) from None
        return _Worker(process, parent)

    @staticmethod
    def _stop(worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=10)
        worker.connection.close()

    def _give(self, worker: _Worker, pending: deque, admit: Admit, on_start: OnStart) -> None:
        """The next job ``admit`` lets start, to an idle worker, with its deadline."""
        while worker.job is None and pending:
            job = pending.popleft()
            limit = admit(job)
            if limit is None:
                continue
            worker.job = job
            worker.deadline, worker.stop_reason = deadline_of(self.timeout, limit)
            worker.connection.send(job)
            on_start(job)

    def run(self, jobs: list[Job], context: RunContext, on_start: OnStart,
            on_record: OnRecord, on_progress: OnProgress = _ignore_progress,
            admit: Admit = _admit_all) -> None:
        pending = deque(jobs)
        workers = self._start_all(context, min(self.workers, len(jobs)))
        try:
            while pending or any(worker.job for worker in workers):
                for worker in workers:
                    self._give(worker, pending, admit, on_start)
                busy = [worker for worker in workers if worker.job]
                if not busy:  # the budget let none of the jobs left start
                    break
                wait = min(worker.deadline for worker in busy) - time.monotonic()
                ready = multiprocessing.connection.wait(
                    [worker.connection for worker in busy],
                    timeout=None if wait == float("inf") else max(wait, 0))
                for index, worker in enumerate(workers):
                    if worker.job is None:
                        continue
                    if worker.connection in ready:
                        try:
                            record = worker.connection.recv()
                            if isinstance(record, tuple) and record[0] == PROGRESS:
                                on_progress(worker.job, record[1])
                                continue
                        except (EOFError, OSError):
                            worker.process.join(timeout=10)
                            code = worker.process.exitcode
                            record = stopped_record(
                                worker.job, context, "failed",
                                f"the worker process died (exit code {code}) while running "
                                f"this job; out of memory or a crash in native code",
                                self.threads)
                            self._stop(worker)
                            workers[index] = self._start(context)
                        else:
                            worker.job = None
                        on_record(record)
                    elif time.monotonic() >= worker.deadline:
                        record = stopped_record(worker.job, context, "timeout",
                                                worker.stop_reason, self.threads)
                        self._stop(worker)
                        workers[index] = self._start(context)
                        on_record(record)
        finally:
            for worker in workers:
                with contextlib.suppress(OSError, BrokenPipeError):
                    worker.connection.send(None)
                worker.process.join(timeout=5)
                self._stop(worker)


def _dask_task(job: Job, context: RunContext, threads: int, progress_key: str) -> dict:
    """Run a job on a Dask worker; its progress events go out on the Dask event topic."""
    from distributed import get_worker

    worker = get_worker()

    def send(event: dict) -> None:
        worker.log_event(DASK_PROGRESS_TOPIC, {"job": progress_key, "event": event})

    with reporting_to(send):
        return run_job_within(job, context, threads)


class DaskExecutor:
    """Jobs on a Dask cluster: a ``LocalCluster`` by default, or ``scheduler`` if given.

    The context is scattered to every worker once; at most one job per worker is in flight,
    so a job's deadline counts from when it starts. Deep jobs ask for the ``GPU`` resource
    when some worker advertises one (``dask worker --resources GPU=1``).
    """

    name = "dask"

    def __init__(self, workers: int = 2, timeout: float | None = None,
                 scheduler: str | None = None, connect_timeout: float = 30.0,
                 threads: int | None = None) -> None:
        self.connect_timeout = connect_timeout
        self.workers = max(1, workers)
        self.timeout = timeout
        self.scheduler = scheduler
        # with --scheduler and no --threads, this machine's cores / --workers, whatever the
        # workers' machines have: give --threads to size jobs for the cluster
        self.threads = threads_per_job(self.workers, threads)

    def _client(self):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise FashionbenchError(
                "--executor dask needs the 'distributed' package: pip install 'dask[distributed]'"
            ) from None
        if self.scheduler:
            try:
                return Client(self.scheduler, timeout=self.connect_timeout), None
            except (OSError, TimeoutError) as error:
                raise FashionbenchError(
                    f"cannot reach the Dask scheduler at {self.scheduler}: {error}; start one "
                    f"with 'dask scheduler' or leave out --scheduler for a local cluster"
                ) from None
        import dask

        # no dashboard, so nobody reads the workers' statistical profiles: sampling every
        # worker's stack 100 times a second only takes the GIL from pure-Python jobs (HOG)
        with thread_environment(self.threads), gpu_sharing_environment(self.workers), \
                dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=40)
        return Client(cluster), cluster

    def run(self, jobs: list[Job], context: RunContext, on_start: OnStart,
            on_record: OnRecord, on_progress: OnProgress = _ignore_progress,
            admit: Admit = _admit_all) -> None:
        from distributed import wait

        from pipelines.registry import get_entry

        client, cluster = self._client()
        try:
            info = client.scheduler_info()["workers"]
            slots = max(1, len(info)) if self.scheduler else self.workers
            has_gpu = any(worker.get("resources", {}).get("GPU") for worker in info.values())
            shared = client.scatter(context, broadcast=True)
            in_flight: dict[str, Job] = {}  # progress key -> running job, for worker events

            def relay(message) -> None:  # called on the client's event-loop thread
                _, payload = message
                job = in_flight.get(payload.get("job"))
                if job is not None:
                    on_progress(job, payload.get("event", {}))

            client.subscribe_topic(DASK_PROGRESS_TOPIC, relay)
            pending = deque(jobs)
            running: dict = {}  # future -> (job, deadline, why it stops, progress key)
            submitted = 0
            while pending or running:
                while pending and len(running) < slots:
                    job = pending.popleft()
                    limit = admit(job)
                    if limit is None:
                        continue
                    deep = get_entry(job.pipeline).family == "deep"
                    submitted += 1
                    key = f"{job.name}/{job.seed}/{submitted}"
                    in_flight[key] = job
                    future = client.submit(_dask_task, job, shared, self.threads, key,
                                           pure=False,
                                           resources={"GPU": 1} if deep and has_gpu else None)
                    running[future] = (job, *deadline_of(self.timeout, limit), key)
                    on_start(job)
                if not running:  # the budget let none of the jobs left start
                    break
                nearest = min(deadline for _, deadline, _, _ in running.values())
                remaining = nearest - time.monotonic()
                try:
                    done, _ = wait(list(running), timeout=None if remaining == float("inf")
                                   else max(remaining, 0.01), return_when="FIRST_COMPLETED")
                except TimeoutError:  # the nearest deadline passed with nothing finished
                    done = set()
                for future in done:
                    job, _, _, key = running.pop(future)
                    in_flight.pop(key, None)  # late events of a finished job are dropped
                    try:
                        on_record(future.result())
                    except Exception as error:  # the worker died or the task could not run
                        on_record(stopped_record(job, context, "failed",
                                                 f"Dask task failed: {type(error).__name__}: "
                                                 f"{error}", self.threads))
                now = time.monotonic()
                for future, (job, deadline, reason, key) in list(running.items()):
                    if now >= deadline:
                        running.pop(future)
                        in_flight.pop(key, None)
                        holders = [address for address, keys in client.processing().items()
                                   if future.key in keys]
                        future.cancel()
                        if holders:  # a running Python thread cannot be stopped: restart it
                            client.restart_workers(holders, raise_for_error=False)
                            shared = client.scatter(context, broadcast=True)
                        on_record(stopped_record(job, context, "timeout", reason,
                                                 self.threads))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()


def make_executor(kind: str = "serial", *, workers: int = 1, timeout: float | None = None,
                  scheduler: str | None = None, threads: int | None = None,
                  time_limited: bool = False):
    """The executor for ``--executor``; serial with a timeout, or with jobs ``time_limited``
    by a run's budget, runs in one worker process (only a process can be stopped).
    ``threads`` (``--threads``) is what each job may use; None: the cores / ``workers``."""
    if kind not in EXECUTORS:
        from ..errors import unknown_name

        raise unknown_name("executor", kind, list(EXECUTORS))
    if threads is not None and threads < 1:
        raise FashionbenchError(f"threads per job must be at least 1, not {threads}")
    if kind == "dask":
        return DaskExecutor(workers, timeout, scheduler, threads=threads)
    if kind == "process" or timeout is not None or time_limited:
        return ProcessExecutor(workers if kind == "process" else 1, timeout, threads)
    return SerialExecutor(threads)

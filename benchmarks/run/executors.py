"""Where jobs run: in this process, in worker processes, or on a Dask cluster.

Serial and process executors here, Dask in dask_executor.py, what they share in
workers.py. Whatever the executor, each job runs ``job.run_job`` within its thread budget
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
import time
from collections import deque
from dataclasses import dataclass

from pipelines.events import reporting_to

from ..errors import FashionbenchError
from .context import Job, RunContext
from .job import stopped_record
from .workers import (
    PROGRESS,
    Admit,
    OnProgress,
    OnRecord,
    OnStart,
    _admit_all,
    _ignore_progress,
    deadline_of,
    gpu_sharing_environment,
    run_job_within,
    thread_environment,
    threads_per_job,
)


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

"""Jobs on a Dask cluster: a LocalCluster of worker processes on this machine, or the
cluster of a scheduler given with ``--scheduler``. The run context is scattered to the workers
once; a job's mid-run events (a network's epochs) come back as Dask log events; ``--timeout``
and a run's budget stop a job by restarting the worker that holds it.
"""

from __future__ import annotations

import time
from collections import deque

from pipelines.events import reporting_to

from ..errors import FashionbenchError
from .context import Job, RunContext
from .job import stopped_record
from .workers import (
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

DASK_PROGRESS_TOPIC = "fashionbench-progress"


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

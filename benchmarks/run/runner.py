"""Plan jobs, run them with an executor, append each record to the store as it comes back.

The dataset is loaded and the split made once per run; every job gets the same index arrays
and, for a seed, the same subsample (job.py). A pipeline that raises becomes a ``failed``
record and the run goes on; a job already stored as ok is skipped unless forced, so an
interrupted run resumes where it stopped. Each job is claimed (records/claims.py) just before
it starts and until its record is stored: a second run on the same store passes over the jobs
the first is running, and those it stored since the plan was made.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.errors import FashionbenchError, unknown_name

from ..records.claims import Claims
from ..records.record import REFIT_MARK, job_key
from ..records.store import ResultsStore
from .budget import Budget
from .context import Job, remove_checkpoint
from .executors import ProcessExecutor, SerialExecutor
from .options import RunOptions
from .plan import (
    Plan,
    built_only_here,
    family_of,
    make_plan,
    plan_refits,
    refits_pending,
    requested_jobs,
)
from .progress import LineProgress
from .setup import RunSetup, open_run
from .twins import with_twins
from .workers import Executor


@dataclass
class RunSummary:
    ran: list[dict] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    unrefitted: list[Job] = field(default_factory=list)  # --refit, validation run not ok
    # jobs the run's time budget did not let start, each with why
    not_started: list[tuple[Job, str]] = field(default_factory=list)
    # jobs another run on the same store was running, or stored while this one ran: why
    elsewhere: list[tuple[Job, str]] = field(default_factory=list)
    store: ResultsStore | None = None  # where the run's records went
    workers: int = 1  # the parallel jobs of the executor that ran them

    @property
    def failed(self) -> list[dict]:
        return [record for record in self.ran if record["status"] != "ok"]

    @property
    def job_seconds(self) -> float:
        """The wall time of the jobs that ran, added up (what one worker would need)."""
        return sum(record["timing"]["job_seconds"] for record in self.ran if record["timing"])


def make_run_plan(options: RunOptions, setup: RunSetup | None = None) -> Plan:
    """The plan ``run`` would execute now (``--dry-run`` prints it)."""
    setup = setup or open_run(options)
    jobs = requested_jobs(options, setup.dataset.name)
    refits = refits_pending(jobs, setup.latest, setup.split.fingerprint) if options.refit else 0
    plan = make_plan(options, jobs, fingerprint=setup.split.fingerprint, profile=setup.profile,
                     latest=setup.latest, times=setup.times, header=setup.header,
                     extra_pending=refits)
    return with_twins_noted(plan, setup) if twins_on(options, setup) else plan


def twins_on(options: RunOptions, setup: RunSetup) -> bool:
    """Whether a job that trains as a stored run is scored with its kept model (twins.py):
    not under --force (it asks for training again), nor without a model cache."""
    return not options.force and setup.context.model_cache is not None


def with_twins_noted(plan: Plan, setup: RunSetup) -> Plan:
    """``plan`` in the order the run will take (a job waiting for a twin of the same run
    after it), saying which jobs will be scored with a twin's network (``--dry-run``)."""
    from pipelines.registry import create_pipeline

    now, later = with_twins(list(plan.to_run), setup.latest.values(), setup.context,
                            create_pipeline)
    notes = {dataclasses.replace(job, twin=None): f"scored with the network of "
             f"{job.twin.name}, stored: not trained" for job in now if job.twin}
    notes.update({job: "scored with the network of a job before it that trains alike, "
                       "once that is stored" for job in later})
    return dataclasses.replace(plan, to_run=tuple(dataclasses.replace(job, twin=None)
                                                  for job in now) + tuple(later),
                               twins=notes)


def run(options: RunOptions, *, report: Callable[[str], None] = print,
        progress=None) -> RunSummary:
    """Execute the run's plan: every job not yet stored as ok, each record appended to the
    store as it finishes; with ``options.refit``, then each job's refit.

    ``progress`` is a display from benchmarks.run.progress; by default, plain lines to ``report``.
    """
    progress = progress or LineProgress(report)
    setup = open_run(options)
    plan = make_run_plan(options, setup)
    refuse_what_workers_cannot_build(options, plan)
    setup.store.ensure_writable()
    executor = make_executor(plan.executor, workers=plan.workers, timeout=options.timeout,
                             scheduler=options.scheduler, threads=options.threads,
                             time_limited=options.max_seconds is not None)
    execution = Execution(setup, executor, progress, RunSummary(store=setup.store,
                                                                workers=executor.workers),
                          Budget(options.max_seconds, setup.times)
                          if options.max_seconds is not None else None,
                          Claims(setup.store.directory), twins=twins_on(options, setup))
    total = len(plan.jobs) * (2 if options.refit else 1)
    # two short lines rather than one that wraps on a terminal
    progress.begin(total, f"{total} jobs: {setup.header}\n{holdout_line(setup)}"
                          f"{executor_label(executor)}, {executor.threads} thread(s) per job; "
                          f"store {setup.store.path}")
    if options.share_features:
        setup.context.shared_features_dir = shared_features_folder()
    try:
        execution.run_phase(plan, first_number=1)
        if options.refit:
            execution.run_refits(options, plan, first_number=len(plan.jobs) + 1)
    finally:
        execution.claims.release_all()  # a job cut short by an error is free to run again
        progress.end()
        if setup.context.shared_features_dir is not None:
            shutil.rmtree(setup.context.shared_features_dir, ignore_errors=True)
    return execution.summary


def holdout_line(setup: RunSetup) -> str:
    """For a dataset of one's own, said before anything runs: the share of its training part
    the validation hold-out takes (each pipeline is tuned and early-stopped on it), and how
    to choose it; --refit trains each pipeline again on both parts."""
    if setup.dataset.fingerprint is None:  # a named dataset: its split is documented
        return ""
    held, trained = len(setup.split.validation), len(setup.split.train)
    return (f"validation hold-out: {held:,} of your {held + trained:,} training images "
            f"({held / (held + trained):.0%}, stratified; --validation-fraction to change "
            f"it, --refit to train each pipeline again on all of them)\n")


def refuse_what_workers_cannot_build(options: RunOptions, plan: Plan) -> None:
    """Before any job starts: a run that uses worker processes (a parallel executor, or a
    time limit, which only a process can enforce) cannot build pipelines made in this
    process. Refused in one line rather than run serially behind the user's back: they
    asked for workers, and a silent serial run could take many times longer."""
    if plan.executor == "serial" and options.timeout is None and options.max_seconds is None:
        return
    local = built_only_here(list(plan.to_run))
    if local:
        raise FashionbenchError(
            f"{', '.join(local)}: made in this process (a notebook's, or an estimator given "
            f"to run()), so the worker processes of the {plan.executor} executor cannot build "
            f"{'it' if len(local) == 1 else 'them'}; run with executor='serial', or register "
            f"them in a module or a plugin file (--plugin)")


@dataclass
class Execution:
    """One run under way: its executor, display, budget, and what it has done so far."""

    setup: RunSetup
    executor: Executor
    progress: object
    summary: RunSummary
    budget: Budget | None
    claims: Claims
    # score a job that trains as a stored run with that run's kept model (twins_on)
    twins: bool = False

    def keep(self, record: dict) -> None:
        self.setup.store.append(record)
        remove_checkpoint(record, self.setup.context.checkpoint_root)
        self.claims.release(job_key(record))  # stored: another run would now skip it
        self.summary.ran.append(record)
        self.setup.times.finished(record)
        self.progress.finished(record)

    def admit(self, job: Job) -> float | None:
        """Whether ``job`` starts now, and for how long: asked by every executor in this
        process just before the job starts. It must be ours to run (claimed, and not stored
        as ok by another run since the plan), and fit the budget (no budget: always)."""
        key = job.key(self.setup.split.fingerprint)
        holder = self.claims.take(key, f"{job.name} seed {job.seed}")
        why = (f"another run is running it ({holder})" if holder is not None
               else "another run stored it as ok meanwhile" if self.stored_meanwhile(key)
               else None)
        if why is not None:
            if holder is None:
                self.claims.release(key)
            self.summary.elsewhere.append((job, why))
            self.progress.not_started(job, why)
            return None
        limit = self.budget_limit(job)
        if limit is None:
            self.claims.release(key)
        return limit

    def stored_meanwhile(self, key: tuple) -> bool:
        """Whether another run stored ``key`` as ok since this one read the store (read
        again once the claim is ours: it may have finished just before we took it)."""
        ours = {record["run_id"] for record in self.summary.ran}
        return any(record.get("status") == "ok" and record["run_id"] not in ours
                   and job_key(record) == key
                   for record in self.setup.store.records_from(self.setup.mark))

    def budget_limit(self, job: Job) -> float | None:
        """Whether the budget lets ``job`` start now, and for how long (no budget: always)."""
        if self.budget is None:
            return float("inf")
        limit, why = self.budget.admit(job.name, family_of(job), trains=job.twin is None)
        if limit is None:
            self.summary.not_started.append((job, why))
            self.progress.not_started(job, why)
        return limit

    def run_phase(self, plan: Plan, first_number: int) -> None:
        for number, job in enumerate(plan.jobs, start=first_number):
            if job in plan.stored:
                self.summary.skipped.append(job)
                self.progress.skipped(job, number)
            elif job in plan.stale:
                self.progress.emit(f"{job.name} seed {job.seed}: stored with other settings "
                                   f"({plan.stale[job]}); running it again, the old record "
                                   f"stays in the store")
        self.progress.finished_count = len(self.summary.skipped) + len(self.summary.ran)
        if plan.to_run:
            self.run_jobs(list(plan.to_run))

    def run_jobs(self, jobs: list[Job]) -> None:
        """``jobs`` on the executor; with twins (twins.py), those that train as a stored run
        are scored with its model, and those that train as another of ``jobs`` run after it."""
        later = []
        if self.twins:
            from pipelines.registry import create_pipeline

            jobs, later = with_twins(jobs, self.setup.store.latest().values(),
                                     self.setup.context, create_pipeline)
        self.progress.expect(jobs + later, self.setup.times, self.executor.workers)
        self.executor.run(jobs, self.setup.context, self.progress.started, self.keep,
                          self.progress.progressed, admit=self.admit)
        if later:  # their twins are stored now (or failed: then the first of them trains)
            self.run_jobs(later)

    def run_refits(self, options: RunOptions, plan: Plan, first_number: int) -> None:
        """The refits, planned now that the validation runs are stored."""
        setup = self.setup
        latest = setup.store.latest()
        refits, unrefitted, outdated = plan_refits(list(plan.jobs), latest,
                                                   setup.split.fingerprint, setup.profile)
        for job, why in unrefitted:
            self.summary.unrefitted.append(job)
            self.progress.emit(f"{job.name}{REFIT_MARK} seed {job.seed}: not run, {why}")
        current = {} if options.force else {key: record for key, record in latest.items()
                                            if key not in outdated}
        refit_plan = make_plan(dataclasses.replace(options, executor=plan.executor,
                                                   workers=plan.workers), refits,
                               fingerprint=setup.split.fingerprint, profile=setup.profile,
                               latest=current, times=setup.times)
        self.run_phase(refit_plan, first_number)


EXECUTORS = ("serial", "process", "dask")


def make_executor(kind: str = "serial", *, workers: int = 1, timeout: float | None = None,
                  scheduler: str | None = None, threads: int | None = None,
                  time_limited: bool = False):
    """The executor for ``--executor``; serial with a timeout, or with jobs ``time_limited``
    by a run's budget, runs in one worker process (only a process can be stopped).
    ``threads`` (``--threads``) is what each job may use; None: the cores / ``workers``."""
    if kind not in EXECUTORS:
        raise unknown_name("executor", kind, list(EXECUTORS))
    if threads is not None and threads < 1:
        raise FashionbenchError(f"threads per job must be at least 1, not {threads}")
    if kind == "dask":
        from .dask_executor import DaskExecutor

        return DaskExecutor(workers, timeout, scheduler, threads=threads)
    if kind == "process" or timeout is not None or time_limited:
        return ProcessExecutor(workers if kind == "process" else 1, timeout, threads)
    return SerialExecutor(threads)


SHARED_FEATURES_PREFIX = "fashionbench-features-"


def shared_features_folder(parent: Path | None = None) -> Path:
    """A new folder for this run's shared feature steps, named after this process. A run
    killed before it could remove its own (SIGKILL, a power cut) leaves one behind, up to a
    gigabyte for the full zoo: those of processes no longer alive are removed here first."""
    parent = Path(parent or tempfile.gettempdir())
    for folder in parent.glob(f"{SHARED_FEATURES_PREFIX}*-*"):
        pid = folder.name[len(SHARED_FEATURES_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{SHARED_FEATURES_PREFIX}{os.getpid()}-", dir=parent))


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and its folder not ours
        return True
    return True


def executor_label(executor: Executor) -> str:
    workers = executor.workers
    return (f"{executor.name} executor" if executor.name == "serial"
            else f"{executor.name} executor, {workers} worker{'s' if workers != 1 else ''}")

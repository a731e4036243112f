"""Plan jobs, run them with an executor, append each record to the store as it comes back.

The dataset is loaded and the split made once per run; every job gets the same index arrays
and, for a seed, the same subsample (job.py). A pipeline that raises becomes a ``failed``
record and the run goes on; a job already stored as ok is skipped unless forced, so an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.hardware import cpus_available
from pipelines.profiles import get_profile

from ..data.custom_data import open_dataset
from ..data.datasets import Dataset
from ..data.splits import make_split
from ..records.store import ResultsStore
from .budget import Budget
from .environment import PROJECT_ROOT
from .executors import make_executor
from .job import REFIT_MARK, Job, RunContext, checkpoint_root_for, remove_checkpoint
from .job_times import JobTimes
from .progress import LineProgress
from .refit import changed_settings, refit_job
from .settings_check import as_json, describe_changes, setting_changes, size_changes


@dataclass
class RunOptions:
    pipelines: list[str]
    # a registered name, a path to an .npz file or a folder of class folders, or a Dataset
    # (``custom_data.dataset_from_arrays``); results are stored under the dataset's name
    dataset: str | Path | Dataset = "fashion-mnist"
    data_dir: Path | None = None
    # how a folder dataset's images are converted: (height, width), "gray" or "rgb"
    image_size: tuple[int, int] | None = None
    color: str = "gray"
    split: str = "standard"
    profile: str = "quick"
    seeds: list[int] = field(default_factory=lambda: [0])
    results_dir: Path = Path("results")
    force: bool = False
    # "serial", "process", "dask", or "auto" (the command line's default): one worker
    # process per core where two or more jobs and cores can use them, else serial. Serial
    # by default here: a pipeline registered in the calling process (a notebook's, a test's)
    # exists in no worker process
    executor: str = "serial"
    # parallel jobs for process/dask (None: the number of cores)
    workers: int | None = None
    # threads each job may use (BLAS, OpenMP, n_jobs); None: the cores / workers. A job's
    # numbers depend on it, so fixing it makes every executor give the same records
    threads: int | None = None
    timeout: float | None = None
    scheduler: str | None = None
    plugins: tuple[str, ...] = ()
    # the root of the epoch checkpoints (default: $FASHIONBENCH_CHECKPOINT_DIR, else the user
    # cache); each results directory gets its own folder under it
    checkpoint_dir: Path | None = None
    # a study's variants, (pipeline, overrides, label) each, run instead of ``pipelines``
    variants: tuple[tuple[str, tuple, str], ...] = ()
    # after each job's validation run, its refit on train + validation (refit.py), stored
    # as NAME[refit]
    refit: bool = False
    # where the job times of earlier runs are read (the longest-first order of the parallel
    # executors, the ETA); None: the results directory itself. A run into a scratch directory
    # (benchmarks.perf.budget) reads them from the committed stores instead: without them
    # the jobs go in registry order, and the zoo's longest job can start last
    history_dir: Path | None = None
    # whether jobs share the feature steps they repeat (the same HOG, PCA or FLD of the same
    # images: pipelines/sharing.py) through a folder of this run's, removed when it ends.
    # Their records count the loaded steps at what they cost to compute (job.py)
    share_features: bool = True
    # a wall-clock budget for the whole run (--max-seconds): a job whose expected time here
    # does not fit what is left is not started, and one that runs past the end is stopped
    # (budget.py)
    max_seconds: float | None = None
    # the order jobs start in: a pipeline's priority (0 first; the --only pattern that chose
    # it), then longest first within a priority; names not given come last
    priorities: dict[str, int] = field(default_factory=dict)


@dataclass
class RunSummary:
    ran: list[dict] = field(default_factory=list)
    skipped: list[Job] = field(default_factory=list)
    unrefitted: list[Job] = field(default_factory=list)  # --refit, validation run not ok
    # jobs the run's time budget did not let start, each with why
    not_started: list[tuple[Job, str]] = field(default_factory=list)
    store: ResultsStore | None = None  # where the run's records went
    workers: int = 1  # the parallel jobs of the executor that ran them

    @property
    def failed(self) -> list[dict]:
        return [record for record in self.ran if record["status"] != "ok"]

    @property
    def job_seconds(self) -> float:
        """The wall time of the jobs that ran, added up (what one worker would need)."""
        return sum(record["timing"]["job_seconds"] for record in self.ran if record["timing"])


def plan_jobs(options: RunOptions, dataset: str) -> list[Job]:
    if options.variants:
        return [Job(pipeline, dataset, options.split, options.profile, seed, overrides, label)
                for seed in options.seeds for pipeline, overrides, label in options.variants]
    return [Job(name, dataset, options.split, options.profile, seed)
            for seed in options.seeds for name in options.pipelines]


def run(options: RunOptions, *, report: Callable[[str], None] = print,
        progress=None) -> RunSummary:
    """Run every planned job not yet stored as ok, appending each record as it finishes.

    ``progress`` is a display from benchmarks.run.progress; by default, plain lines to ``report``.
    """
    progress = progress or LineProgress(report)
    profile = get_profile(options.profile)
    dataset = open_dataset(options.dataset, options.data_dir, image_size=options.image_size,
                           color=options.color)
    store = ResultsStore(options.results_dir, dataset.name, profile.name)
    store.ensure_writable()
    split = make_split(options.split, dataset)
    context = RunContext(dataset, split, profile, plugins=tuple(options.plugins),
                         checkpoint_root=checkpoint_root_for(options.results_dir,
                                                             options.checkpoint_dir))
    context.load_plugins()
    jobs = plan_jobs(options, dataset.name)
    # read once: what is done, and for each stored job the record its settings are checked on
    latest = {} if options.force else store.latest()
    done = store.completed_keys(latest)

    def key(job: Job, name: str | None = None) -> tuple:
        """The store's key of ``job``, or of the job stored under ``name`` in its place."""
        return (name or job.name, job.dataset, split.fingerprint, job.profile, job.seed)

    def stored(job: Job) -> bool:
        return key(job) in done

    # a job stored with settings the code no longer builds is run again, not skipped: its
    # stored result stands for another configuration than the one registered under its name
    stale = stale_jobs([job for job in jobs if stored(job)], latest, key, profile)
    done -= {key(job) for job in stale}

    # a refit counts as pending until it is stored: its job exists once its validation run does
    pending = sum(not stored(job) for job in jobs) + sum(
        key(job, job.name + REFIT_MARK) not in done for job in jobs if options.refit)
    kind, workers = choose_executor(options.executor, options.workers, pending=pending)
    executor = make_executor(kind, workers=workers, timeout=options.timeout,
                             scheduler=options.scheduler, threads=options.threads,
                             time_limited=options.max_seconds is not None)
    summary = RunSummary(store=store, workers=getattr(executor, "workers", 1))
    times = JobTimes.from_records(history_store(options, dataset.name, profile.name,
                                                store).records())
    budget = Budget(options.max_seconds, times) if options.max_seconds is not None else None
    total = len(jobs) * (2 if options.refit else 1)
    # two short lines rather than one that wraps on a terminal
    progress.begin(total, f"{total} jobs: {dataset.name}, split {split.name} "
                          f"({split.fingerprint}), profile {profile.name}\n"
                          f"{executor_label(executor)}, {executor.threads} thread(s) per "
                          f"job; store {store.path}")

    def keep(record: dict) -> None:
        store.append(record)
        remove_checkpoint(record, context.checkpoint_root)
        summary.ran.append(record)
        times.finished(record)
        progress.finished(record)

    def admit(job: Job) -> float | None:
        """Whether the budget lets ``job`` start now, and for how long (no budget: always)."""
        if budget is None:
            return float("inf")
        limit, why = budget.admit(job.name, family_of(job))
        if limit is None:
            summary.not_started.append((job, why))
            progress.not_started(job, why)
        return limit

    def run_phase(phase: list[Job], first_number: int) -> None:
        to_run = []
        for number, job in enumerate(phase, start=first_number):
            if stored(job):
                summary.skipped.append(job)
                progress.skipped(job, number)
            else:
                if job in stale:
                    progress.emit(f"{job.name} seed {job.seed}: stored with other settings "
                                  f"({stale[job]}); running it again, the old record stays "
                                  f"in the store")
                to_run.append(job)
        progress.finished_count = len(summary.skipped) + len(summary.ran)
        to_run = in_start_order(to_run, times, options.priorities,
                                longest_first=executor.name != "serial")
        progress.expect(to_run, times, getattr(executor, "workers", 1))
        if to_run:
            executor.run(to_run, context, progress.started, keep, progress.progressed,
                         admit=admit)

    if options.share_features:
        context.shared_features_dir = shared_features_folder()
    try:
        run_phase(jobs, 1)
        if options.refit:
            # the validation runs are stored now: each refit takes its configuration from one
            latest = store.latest()
            refits = []
            for job in jobs:
                chosen = latest.get(key(job))
                changed = (changed_settings(job, chosen, profile)
                           if chosen is not None and chosen.get("status") == "ok" else [])
                if chosen is None or chosen.get("status") != "ok":
                    why = f"its validation run {job.name} did not finish ok"
                elif changed:
                    why = (f"its settings changed since its validation run ({', '.join(changed)});"
                           f" rerun {job.name} with --force first")
                else:
                    refit = refit_job(job, chosen)
                    # a stored refit of an older validation run is stale: the configuration it
                    # trained is no longer the one chosen, so it is refitted again
                    stored_refit = latest.get(key(refit)) or {}
                    if (stored_refit.get("refit") or {}).get("of_run") != refit.refit_of:
                        done.discard(key(refit))
                    refits.append(refit)
                    continue
                summary.unrefitted.append(job)
                progress.emit(f"{job.name}{REFIT_MARK} seed {job.seed}: not run, {why}")
            run_phase(refits, len(jobs) + 1)
    finally:
        progress.end()
        if context.shared_features_dir is not None:
            shutil.rmtree(context.shared_features_dir, ignore_errors=True)
    return summary


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


def stale_jobs(stored_jobs: list[Job], latest: dict[tuple, dict], key: Callable,
               profile) -> dict[Job, str]:
    """Of the jobs stored as ok, those whose stored record holds other settings than the
    code builds today, each with what changed (``epochs 5 -> 2``). A pipeline that cannot be
    built now is left as stored: running it again would only store its failure. So is a job
    whose overrides differ from its record's: that is another request under the same name
    (a study file's values changed under a label), for the study to settle, not the code's
    doing (a search refuses it: its trials would mix two search spaces)."""
    stale = {}
    for job in stored_jobs:
        stored = latest[key(job)]
        if as_json(stored.get("overrides") or {}) != as_json(dict(job.overrides)):
            continue
        try:
            changes = {**size_changes(job, stored, profile),
                       **setting_changes(job, stored, profile)}
        except Exception:  # noqa: BLE001 - any error of a pipeline's own construction
            continue
        if changes:
            stale[job] = describe_changes(changes)
    return stale


def choose_executor(kind: str, workers: int | None, *, pending: int) -> tuple[str, int]:
    """The executor and worker count to use. ``auto`` runs one worker process per core where
    there are two or more jobs to run and two or more cores (a job's records state the one
    thread it had), and serially otherwise: a single job, or a single core, gains nothing from
    a worker process and pays its start."""
    cores = cpus_available()
    if kind == "auto":
        kind = "process" if pending >= 2 and cores >= 2 else "serial"
        workers = min(workers or cores, max(pending, 1)) if kind == "process" else 1
    return kind, workers or (cores if kind in ("process", "dask") else 1)


def executor_label(executor) -> str:
    workers = getattr(executor, "workers", 1)
    return (f"{executor.name} executor" if executor.name == "serial"
            else f"{executor.name} executor, {workers} worker{'s' if workers != 1 else ''}")


def history_store(options: RunOptions, dataset: str, profile: str,
                  store: ResultsStore) -> ResultsStore:
    """Where the job times of earlier runs are read: ``options.history_dir``, else the run's
    own store, else (a new results directory) the project's committed store of the same
    dataset and profile, so that a first run into a fresh directory still starts its longest
    jobs first and has an ETA."""
    if options.history_dir:
        return ResultsStore(options.history_dir, dataset, profile)
    if store.path.is_file() and store.path.stat().st_size:
        return store
    committed = ResultsStore(PROJECT_ROOT / "results", dataset, profile)
    return committed if committed.path.is_file() else store


def family_of(job: Job) -> str:
    from pipelines.registry import get_entry

    return get_entry(job.pipeline).family


def in_start_order(jobs: list[Job], times: JobTimes, priorities: dict[str, int], *,
                   longest_first: bool = True) -> list[Job]:
    """Jobs by priority (the --only pattern that chose their pipeline; unlisted ones last),
    then, for parallel workers, by how long the same name took before (longest first,
    never-timed ones first of all), so that workers do not end waiting on one straggler."""
    def priority(job: Job) -> int:
        return priorities.get(job.pipeline, len(priorities))

    def length(job: Job) -> float:
        expected = times.expected(job.name)
        return -(float("inf") if expected is None else expected) if longest_first else 0.0

    return sorted(jobs, key=lambda job: (priority(job), length(job)))

"""The plan of a run, as a value: which jobs it asks for, which are stored already, which
are stored with settings the code no longer builds (run again), the executor and workers,
each job's expected time and the order they start in; and, once the validation runs are
stored, the refit jobs. Making a plan reads the store and the registry and changes nothing:
``runner.run`` executes one, ``--dry-run`` prints one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipelines.estimators import SESSION_TAG
from pipelines.hardware import cpus_available
from pipelines.registry import get_entry

from ..records.record import Record
from .context import Job
from .job_times import JobTimes, format_duration
from .refit import refit_job, refit_overrides
from .settings_check import (
    as_json,
    describe_changes,
    setting_changes,
    size_changes,
)

if TYPE_CHECKING:  # a plan reads the options it is given
    from .options import RunOptions


@dataclass(frozen=True)
class Plan:
    jobs: tuple[Job, ...]  # every job asked for, in the options' order
    to_run: tuple[Job, ...]  # those to run, in the order they start
    stored: tuple[Job, ...]  # stored as ok with today's settings: not run again
    stale: dict[Job, str] = field(default_factory=dict)  # stored with other settings: why
    expected: dict[Job, float | None] = field(default_factory=dict)  # seconds here, if known
    executor: str = "serial"
    workers: int = 1
    header: str = ""  # the dataset, split and profile, in words
    # jobs that will be scored with a twin's network rather than trained (twins.py): how
    twins: dict[Job, str] = field(default_factory=dict)

    def describe(self) -> list[str]:
        """The plan as ``--dry-run`` prints it: one line per job, in start order."""
        workers = f", {self.workers} workers" if self.executor != "serial" else ""
        lines = [self.header, f"{len(self.to_run)} to run, {len(self.stored)} stored; "
                              f"{self.executor} executor{workers}"]
        for number, job in enumerate(self.to_run, start=1):
            seconds = self.expected.get(job)
            when = f"~{format_duration(seconds)}" if seconds is not None else "no time stored"
            why = f" (stored with other settings: {self.stale[job]})" if job in self.stale \
                else ""
            why += f" ({self.twins[job]})" if job in self.twins else ""
            lines.append(f"  {number:>3}. {job.name} seed {job.seed}: {when}{why}")
        lines += [f"  stored: {job.name} seed {job.seed}" for job in self.stored]
        return lines


def requested_jobs(options: RunOptions, dataset: str) -> list[Job]:
    """The jobs the options ask for: each pipeline (or study variant) for each seed; a seed
    given twice is one job (``--seeds 0 0`` would otherwise store the same job twice)."""
    seeds = list(dict.fromkeys(options.seeds))
    if options.variants:
        return [Job(pipeline, dataset, options.split, options.profile, seed, overrides, label,
                    precision=precision_of(pipeline, options.precision))
                for seed in seeds for pipeline, overrides, label in options.variants]
    return [Job(name, dataset, options.split, options.profile, seed,
                precision=precision_of(name, options.precision))
            for seed in seeds for name in options.pipelines]


def precision_of(pipeline: str, precision: str) -> str:
    """The arithmetic a job of ``pipeline`` is asked for: the run's ``--precision`` for a
    network, "auto" for the rest (a classical pipeline has one arithmetic, and its name no
    mark)."""
    return precision if get_entry(pipeline).family == "deep" else "auto"


def make_plan(options: RunOptions, jobs: list[Job], *, fingerprint: str, profile,
              latest: dict[tuple, Record], times: JobTimes, header: str = "",
              extra_pending: int = 0) -> Plan:
    """The plan of ``jobs`` against the store's ``latest`` records (empty with --force).
    ``extra_pending``: jobs still to come after these (the refits), which count when the
    executor is chosen."""
    stored_ok = [job for job in jobs
                 if (latest.get(job.key(fingerprint)) or {}).get("status") == "ok"]
    stale = stale_jobs(stored_ok, latest, fingerprint, profile)
    stored = [job for job in stored_ok if job not in stale]
    pending = [job for job in jobs if job not in stored]
    kind, workers = choose_executor(options.executor, options.workers,
                                    pending=len(pending) + extra_pending)
    ordered = in_start_order(pending, times, options.priorities,
                             longest_first=kind != "serial")
    return Plan(tuple(jobs), tuple(ordered), tuple(stored), stale,
                {job: times.expected(job.name) for job in ordered}, kind, workers, header)


def refits_pending(jobs: list[Job], latest: dict[tuple, Record], fingerprint: str) -> int:
    """How many refits a --refit run may still have to train, before their validation runs
    exist: each job whose refit is not stored as ok."""
    return sum((latest.get(job.refit_key(fingerprint)) or {}).get("status") != "ok"
               for job in jobs)


def plan_refits(jobs: list[Job], latest: dict[tuple, Record], fingerprint: str, profile,
                ) -> tuple[list[Job], list[tuple[Job, str]], set[tuple]]:
    """Once the validation runs are stored: the refit of each job whose validation run
    finished ok with today's settings; the others, each with why it has none; and the keys
    of stored refits that must run again (they refit an older validation run, whose
    configuration is no longer the one chosen)."""
    refits, unrefitted, outdated = [], [], set()
    for job in jobs:
        chosen = latest.get(job.key(fingerprint))
        if chosen is None or chosen.get("status") != "ok":
            unrefitted.append((job, f"its validation run {job.name} did not finish ok"))
            continue
        changed = changed_settings(job, chosen, profile)
        if changed:
            unrefitted.append((job, f"its settings changed since its validation run "
                                    f"({', '.join(changed)}); rerun {job.name} with --force "
                                    f"first"))
            continue
        refit = refit_job(job, chosen)
        stored_refit = latest.get(refit.key(fingerprint)) or {}
        # outdated: a refit of another validation run, or one configured otherwise (a
        # network's fixed recipe whose refit replayed its per-epoch rates before ddbcb91)
        if stored_refit and ((stored_refit.get("refit") or {}).get("of_run") != refit.refit_of
                             or asked_otherwise(stored_refit, refit)):
            outdated.add(refit.key(fingerprint))
        refits.append(refit)
    return refits, unrefitted, outdated


def changed_settings(job: Job, chosen: Record, profile) -> list[str]:
    """The settings of ``job``'s pipeline as the code builds it today that differ from those
    its validation run ``chosen`` recorded (what the refit sets itself aside): a refit must
    train the configuration that was chosen, not one edited since."""
    ignored = {name for name, _ in refit_overrides(chosen)}
    return list(setting_changes(job, chosen, profile, ignored=ignored))


def stale_jobs(stored_jobs: list[Job], latest: dict[tuple, Record], fingerprint: str,
               profile) -> dict[Job, str]:
    """Of the jobs stored as ok, those whose stored record holds other settings than the
    code builds today, each with what changed (``epochs 5 -> 2``). A pipeline that cannot be
    built now is left as stored: running it again would only store its failure. So is a job
    whose overrides differ from its record's: that is another request under the same name
    (a study file's values changed under a label), for the study to settle, not the code's
    doing (a search refuses it: its trials would mix two search spaces)."""
    stale = {}
    for job in stored_jobs:
        stored = latest[job.key(fingerprint)]
        if asked_otherwise(stored, job):
            continue
        try:
            changes = {**size_changes(job, stored, profile),
                       **setting_changes(job, stored, profile)}
        except Exception:  # noqa: BLE001 - any error of a pipeline's own construction
            continue
        if changes:
            stale[job] = describe_changes(changes)
    return stale


def asked_otherwise(stored: Record, job: Job) -> bool:
    """Whether ``stored`` was made with other overrides than ``job`` asks for."""
    return as_json(stored.get("overrides") or {}) != as_json(dict(job.overrides))


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


def built_only_here(jobs: list[Job]) -> list[str]:
    """The pipelines of ``jobs`` registered in this process only (in a notebook's or a
    script's ``__main__``, or an estimator given to ``api.run``): a worker process, which
    imports the zoos and plugins afresh, cannot build them."""
    names = dict.fromkeys(job.pipeline for job in jobs)
    return [name for name in names
            if get_entry(name).source.startswith("__main__.")
            or SESSION_TAG in get_entry(name).tags]


def family_of(job: Job) -> str:
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

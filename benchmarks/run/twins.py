"""Twins: a job that would train exactly as a stored run did, and differs from it only in how
it predicts (``resnet20@modern-ten-views`` beside ``resnet20@modern``: the same network, the
same training, ten views at test time instead of two), is scored with that run's kept model
(model_cache.py) instead of training the same network again.

What counts as "only in how it predicts" is the pipeline's to say (pipelines/base.py,
``PredictsAs``); everything else must be equal: the pipeline, dataset, split, profile, seed,
arithmetic, refit or not, and every other hyper-parameter as the twin's record lists them.
The runner finds the twins here, just before a phase runs: among the stored records, and
among the phase's own jobs, where the first trains and the others wait until it is stored.
The job, in its worker, is then scored by predicting.py's ``scored_with_twin``.

The record says so (``trained_by``: the twin's run and name) and counts the twin's training
as its own fit time, since that is what the network it predicts with cost; everything after
fit is its own (predictions, scores, predict time, robustness). A twin whose model is gone,
was kept on another machine, or trained in another backend or arithmetic than this process
would is passed over with a warning, and the job trains.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from pipelines.base import PredictsAs
from pipelines.recipes import split_name

from ..records.keys import asked_precision
from ..records.record import Record
from .context import Job, RunContext, Twin
from .environment import machine
from .job_times import hardware_key
from .refit import trained_run


def training_settings(pipeline: PredictsAs, params: dict) -> str:
    """``params`` (a record's ``model.params``, or ``pipeline.hyperparameters()``) without
    what changes prediction only, as canonical JSON: equal for two jobs that train alike."""
    kept = {key: value for key, value in params.items()
            if key not in pipeline.prediction_settings}
    return json.dumps(kept, sort_keys=True, default=str)


def _alike(job: Job, record: Record, context: RunContext) -> bool:
    """Everything but the hyper-parameters and image counts: the same pipeline, data,
    arithmetic and role, and a model kept in this machine's cache (a merged record's is
    another machine's)."""
    return (record.get("status") == "ok" and record["name"] != job.name
            and split_name(record["pipeline"])[0] == split_name(job.pipeline)[0]
            and (record["dataset"], record["profile"], record["seed"])
            == (job.dataset, job.profile, job.seed)
            and record["split"]["fingerprint"] == context.split.fingerprint
            and (asked_precision(record["name"]) or "auto") == job.precision
            and bool(record.get("refit")) == bool(job.refit_of)
            # its fit time is stated for this machine's device: it must have trained on it
            and hardware_key("deep", record.get("env") or {}) == hardware_key("deep", machine())
            and context.model_cache is not None
            and context.model_cache.holds(record.get("saved_model")))


def _settings_of(job: Job, context: RunContext, create: Callable) -> tuple | None:
    """The job's pipeline, unfitted, and its training settings; None for a pipeline that
    cannot predict as another (not ``PredictsAs``) or cannot be built in this process."""
    try:
        pipeline = create(job.pipeline, context.profile, seed=job.seed, **dict(job.overrides))
    except Exception:  # noqa: BLE001 - its own job will say why, in its record
        return None
    if not isinstance(pipeline, PredictsAs):
        return None
    return pipeline, training_settings(pipeline, pipeline.hyperparameters())


def stored_twin(job: Job, settings: tuple, records: Iterable[Record],
                context: RunContext) -> Twin | None:
    """The newest stored record that trained as ``job`` would, as a ``Twin``."""
    pipeline, wanted = settings
    found = [record for record in records if _alike(job, record, context)
             and isinstance((record.get("model") or {}).get("params"), dict)
             and training_settings(pipeline, record["model"]["params"]) == wanted]
    if found:  # the image counts last: they take the job's partitions to count
        sizes = job_sizes(job, context)
        found = [record for record in found if record.get("sizes") == sizes
                 and Path(record["saved_model"]["directory"]).is_dir()]  # not pruned
    if not found:
        return None
    newest = max(found, key=lambda record: record.get("finished_at") or "")
    timing = newest.get("timing") or {}
    # the run that trained the network: a twin's own trainer, an evaluated record's origin
    trainer = newest.get("trained_by") or {"run_id": trained_run(newest),
                                           "name": newest["name"]}
    return Twin(trainer["run_id"], trainer["name"], json.dumps(newest["saved_model"]),
                float(timing.get("fit_seconds") or 0.0),
                float(timing.get("fit_cpu_seconds") or 0.0),
                (newest.get("env") or {}).get("threads"))


def with_twins(jobs: list[Job], records: Iterable[Record], context: RunContext,
               create: Callable) -> tuple[list[Job], list[Job]]:
    """``jobs`` to run now, each with its stored twin where it has one, and those to run
    after them: jobs that train as an earlier job of the list will, scored once it is stored
    (they carry no twin yet: ask again then)."""
    records = list(records)
    now, later, training = [], [], set()
    for job in jobs:
        settings = _settings_of(job, context, create)
        if settings is None:
            now.append(job)
            continue
        shared = (split_name(job.pipeline)[0], job.precision, bool(job.refit_of), job.seed,
                  settings[1])
        twin = stored_twin(job, settings, records, context)
        if twin is not None:
            now.append(dataclasses.replace(job, twin=twin))
        elif shared in training:
            later.append(job)
        else:
            training.add(shared)
            now.append(job)
    return now, later


def job_sizes(job: Job, context: RunContext) -> dict[str, int]:
    """The images of each part ``job`` trains and is scored on, as its record's ``sizes``
    state them (counted, not copied)."""
    from pipelines.registry import get_entry

    entry = get_entry(job.pipeline)
    sizes = context.partition_sizes(job.seed, entry.train_size(context.profile),
                                    entry.validation_size(context.profile))
    if job.refit_of:  # a refit trains on both parts
        sizes["train"] += sizes["validation"]
    return sizes

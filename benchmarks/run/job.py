"""One job: build a pipeline, fit it (timed), predict (timed), score, and make its record.

A job is (pipeline, dataset, split, profile, seed). ``RunContext`` holds what every job of a
run shares (the data, the split, the profile, where checkpoints go); ``run_job`` never raises
for a pipeline's own failure: it becomes a ``failed`` record. This module knows nothing of
plans, executors or stores: the runner (runner.py) plans jobs and keeps their records, the
executors (executors.py) decide where ``run_job`` runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import sys
import time
import traceback
import uuid
import warnings
from collections.abc import Callable

import numpy as np

from pipelines import sharing
from pipelines.base import Resumable, TakesClassCount

from ..records.hardware import cpu_description
from ..records.record import Record, encode_predictions
from .context import Job, Partition, RunContext, checkpoint_directory
from .environment import environment
from .metrics import score
from .predicting import Trained, memory_at_start, predicted, scored_with_twin
from .robustness import robustness_metrics
from .timing import Stopwatch, add_time_before_resume, job_timing


def job_partitions(job: Job, context: RunContext) -> dict[str, Partition]:
    """The data one job trains and is scored on: its pipeline's image caps in this
    profile apply (``register_pipeline(train_sizes=..., validation_sizes=...)``)."""
    from pipelines.registry import get_entry

    entry = get_entry(job.pipeline)
    parts = context.partitions(job.seed, entry.train_size(context.profile),
                               entry.validation_size(context.profile))
    if not job.refit_of:
        return parts
    # a refit trains on both; the validation images stay what they were, for the network
    # that reports its epochs on them (they are training images now, scored by nobody)
    train, validation = parts["train"], parts["validation"]
    both = Partition(np.concatenate([train.images, validation.images]),
                     np.concatenate([train.labels, validation.labels]))
    return {**parts, "train": both}


def load_plugins(context: RunContext) -> None:
    """The run's loose plugin files, registered in this process (a worker's too)."""
    from pipelines.registry import load_plugin_file

    for plugin in context.plugins:
        load_plugin_file(plugin)


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)


def distinct_warnings(caught: list, limit: int = 10) -> list[str]:
    """The distinct warnings a job raised (a non-converged optimiser, say), for its record."""
    messages = []
    for warning in caught:
        message = f"{warning.category.__name__}: {str(warning.message).strip()}"[:300]
        if message not in messages:
            messages.append(message)
    return messages[:limit]


def _hardware(family: str, env: dict) -> str:
    if family == "deep" and env.get("gpu"):
        return env["gpu"]
    return cpu_description(env["cpu"], env["cpus_available"])


def new_record(job: Job, context: RunContext) -> Record:
    """The record of a job before it runs: identity, split, sizes and environment."""
    from pipelines.recipes import DEFAULT_RECIPE, split_name
    from pipelines.registry import get_entry

    entry = get_entry(job.pipeline)
    env = dict(environment())
    env["hardware"] = _hardware(entry.family, env)
    parts = job_partitions(job, context)
    return {
        "run_id": uuid.uuid4().hex,
        "name": job.name,  # what it is stored and ranked under (a study's label, say)
        "pipeline": job.pipeline,  # the registered pipeline built
        "family": entry.family,
        "dataset": job.dataset,
        "split": {"name": context.split.name, "fingerprint": context.split.fingerprint,
                  "sizes": context.split.sizes},
        "profile": job.profile,
        "seed": job.seed,
        "class_names": list(context.dataset.class_names),
        "status": "ok",
        "error": None,
        "sizes": {role: int(len(part.labels)) for role, part in parts.items()},
        "metrics": None,
        "timing": None,
        "model": None,
        "history": None,
        "predictions": None,
        "checkpoint": None,  # a resumable job's checkpoint directory and where it resumed
        "env": env,
        # the training recipe of a deep job (pipelines/recipes.py); None for classical ones
        "recipe": (split_name(job.pipeline)[1] or DEFAULT_RECIPE) if entry.family == "deep"
        else None,
        "overrides": {key: value for key, value in job.overrides},
        # a refit on train + validation, and the validation run that chose its configuration
        "refit": ({"of_run": job.refit_of, "trained_on": "train + validation"}
                  if job.refit_of else None),
        "started_at": utc_now(),
        "finished_at": None,
    }


def stopped_record(job: Job, context: RunContext, status: str, error: str,
                   threads: int) -> Record:
    """The record of a job the executor had to stop (timeout) or lost (a dead worker). The
    calling process makes it, so its ``env`` is this process's machine, with the threads the
    job had been granted."""
    record = new_record(job, context)
    record["env"]["threads"] = threads
    record.update(status=status, error=error, finished_at=utc_now())
    return record


def run_job(job: Job, context: RunContext, *, create: Callable | None = None) -> Record:
    """Build, fit, predict and score one job; never raises for a pipeline's own failure.

    Only the pipeline's own calls are guarded (``_train``): what they raise is the job's
    ``failed`` record. The harness's scoring and timing after them is not: a bug there is
    ours, and raises rather than being stored as the pipeline's failure (as scikit-learn's
    ``_fit_and_score`` guards only the estimator's calls)."""
    from pipelines.registry import create_pipeline

    create = create or create_pipeline
    load_plugins(context)
    record = new_record(job, context)
    parts = job_partitions(job, context)
    job_started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trained = None
        try:
            if job.twin is not None:  # scored with a stored twin's network, if it can be
                trained = scored_with_twin(job, context, parts, record, create)
            trained = trained or _train(job, context, parts, record, create)
        except KeyboardInterrupt:
            raise
        except Exception as error:
            record["status"] = "failed"
            record["error"] = f"{type(error).__name__}: {error}"
            record["traceback"] = traceback.format_exc(limit=-8)
            pipeline = getattr(error, "pipeline", None)
            if pipeline is not None:
                # the description is a courtesy here; the error is what matters
                with contextlib.suppress(Exception):
                    record["model"] = pipeline.describe()
        if trained is not None:
            _record_results(record, job, parts, trained, context.dataset.n_classes)
            if context.model_cache is not None:
                _keep_model(record, trained.pipeline, context.model_cache)
    record["warnings"] = distinct_warnings(caught)
    if record["timing"] is not None:
        record["timing"]["job_seconds"] = time.perf_counter() - job_started
    record["finished_at"] = utc_now()
    return record


def _train(job: Job, context: RunContext, parts: dict[str, Partition], record: Record,
           create: Callable) -> Trained:
    """The pipeline's own calls: build, fit (timed), predict the test images (timed), the
    validation images and probabilities, one image's latency, describe. An exception here is
    the pipeline's failure; it carries the pipeline, once built, as ``error.pipeline``."""
    pipeline = None
    try:
        seed_everything(job.seed)
        pipeline = create(job.pipeline, context.profile, seed=job.seed, **dict(job.overrides))
        return _fit_and_predict(pipeline, job, context, parts, record)
    except Exception as error:
        with contextlib.suppress(AttributeError):  # an exception type without attributes
            error.pipeline = pipeline
        raise


def _fit_and_predict(pipeline, job: Job, context: RunContext, parts: dict[str, Partition],
                     record: Record) -> Trained:
    train, validation = parts["train"], parts["validation"]
    fit_options = _fit_options(pipeline, job, context, record)
    memory = memory_at_start()
    # a refit has no validation split to tune on: its images are training images. A
    # network still gets them, as the images its epoch log is computed on (it is not
    # early-stopped; without them it would hold out part of its training set)
    given = (None if job.refit_of and record["family"] != "deep"
             else (validation.images, validation.labels))
    shared = context.shared_features_dir
    with sharing.shared_in(shared) as fit_shared, Stopwatch() as fit_watch:
        pipeline.fit(train.images, train.labels, validation=given, **fit_options)
    return predicted(pipeline, job, context, parts, fit_watch, fit_shared, memory)


def _keep_model(record: Record, pipeline, cache) -> None:
    """The fitted model into the cache, named in the record (``saved_model``), so that
    ``--evaluate`` can add a later metric without retraining. A model that cannot be kept
    (a full disk, an object that does not pickle) costs the record only this warning."""
    try:
        record["saved_model"] = cache.keep(pipeline, record)
    except Exception as error:  # noqa: BLE001 - keeping the model is a courtesy
        warnings.warn(f"the fitted model was not kept for --evaluate: "
                      f"{type(error).__name__}: {error}", RuntimeWarning, stacklevel=1)


def _fit_options(pipeline, job: Job, context: RunContext, record: Record) -> dict:
    """The optional keywords of fit the pipeline declares it takes (pipelines/base.py)."""
    options = {}
    if isinstance(pipeline, TakesClassCount) and pipeline.takes_n_classes:
        options["n_classes"] = context.dataset.n_classes
    if job.temperature is not None and getattr(pipeline, "takes_temperature", False):
        options["temperature"] = job.temperature  # pipelines/base.py, TakesTemperature
    if context.checkpoint_root is not None and isinstance(pipeline, Resumable) \
            and pipeline.resumable:
        options["checkpoint_dir"] = checkpoint_directory(job, context)
        record["checkpoint"] = {"directory": str(options["checkpoint_dir"]),
                                "resumed_from_epoch": None}
    return options


def _record_results(record: Record, job: Job, parts: dict[str, Partition], trained: Trained,
                    n_classes: int) -> None:
    """The harness's part: scores, times and predictions into the record."""
    validation, test = parts["validation"], parts["test"]
    for probabilities in (trained.test_probabilities, trained.validation_probabilities):
        if probabilities is not None and not np.isfinite(probabilities).all():
            warnings.warn("predict_proba returned NaN or infinite values; log-loss is "
                          "left out, the predictions are scored as usual",
                          RuntimeWarning, stacklevel=1)
    record["metrics"] = {
        # a refit trained on the validation images: no hold-out score is left
        "validation": None if job.refit_of else score(
            validation.labels, trained.validation_predictions, n_classes,
            trained.validation_probabilities),
        "test": score(test.labels, trained.test_predictions, n_classes,
                      trained.test_probabilities),
        "robustness": robustness_metrics(trained.corrupted),
    }
    record["timing"] = job_timing(trained, len(parts["train"].labels), len(test.labels))
    description = trained.description
    resumed = description.get("resumed")
    if resumed:
        add_time_before_resume(record["timing"], resumed)
        record["checkpoint"]["resumed_from_epoch"] = resumed["from_epoch"]
    record["model"] = description
    record["history"] = description.get("history")
    record["predictions"] = encode_predictions(trained.test_predictions, test.labels)


def describe_outcome(record: Record) -> str:
    if record["status"] != "ok":
        return f"{record['status']}: {record['error']}"
    test = record["metrics"]["test"]
    timing = record["timing"]
    twin = record.get("trained_by")
    return (f"test accuracy {test['accuracy']:.2%}, fit {timing['fit_seconds']:.1f} s"
            + (f" (the network of {twin['name']}, not trained again)" if twin else "")
            + f", predict {timing['predict_ms_per_1k']:.0f} ms/1k")


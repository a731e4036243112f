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
from dataclasses import dataclass

import numpy as np

from pipelines import sharing
from pipelines.base import PredictsWithProba, ProbaAtPredictCost, Resumable, TakesClassCount

from ..records.hardware import cpu_description
from ..records.record import Record, encode_predictions
from .context import Job, Partition, RunContext, checkpoint_directory
from .environment import environment
from .metrics import score
from .robustness import corrupted_predictions, robustness_metrics
from .timing import (
    Stopwatch,
    current_memory_mb,
    peak_memory_mb,
    reset_peak_memory,
    single_image_latency_ms,
)


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




def _add_time_before_resume(timing: dict, resumed: dict) -> None:
    """A resumed fit's record counts the epochs trained before the interruption: the fit time
    is what the whole training took (less the epoch cut short), not this process's share."""
    timing["fit_seconds_this_process"] = timing["fit_seconds"]
    timing["fit_seconds"] += resumed["fit_seconds_before"]
    timing["fit_cpu_seconds"] += resumed["fit_cpu_seconds_before"]
    timing["cpu_seconds"] += resumed["fit_cpu_seconds_before"]
    timing["train_images_per_second"] = (timing["train_images_per_second"]
                                         * timing["fit_seconds_this_process"]
                                         / timing["fit_seconds"])


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


def _check_predictions(predictions, expected: int, n_classes: int, what: str) -> np.ndarray:
    predictions = np.asarray(predictions)
    if predictions.shape != (expected,):
        raise ValueError(f"{what} returned shape {predictions.shape}, expected ({expected},)")
    if predictions.size and not np.issubdtype(predictions.dtype, np.integer):
        # casting would truncate 2.7 to class 2 and score it: a contract error, not a label
        raise ValueError(f"{what} returned {predictions.dtype} values, expected integer class "
                         f"indices 0..{n_classes - 1}")
    if predictions.size and (predictions.min() < 0 or predictions.max() >= n_classes):
        raise ValueError(f"{what} returned labels outside 0..{n_classes - 1}")
    return predictions.astype(np.int64)


def labels_and_probabilities(pipeline, images: np.ndarray) -> tuple:
    """A pipeline's labels and probabilities (None without them) for images the run does not
    time: from one pass when the pipeline offers ``predict_with_proba``."""
    if isinstance(pipeline, PredictsWithProba):
        return pipeline.predict_with_proba(images)
    predict_proba = getattr(pipeline, "predict_proba", None)
    return pipeline.predict(images), predict_proba(images) if predict_proba else None


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

    load_plugins(context)
    record = new_record(job, context)
    parts = job_partitions(job, context)
    job_started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trained = None
        try:
            trained = _train(job, context, parts, record, create or create_pipeline)
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


@dataclass
class Trained:
    """What a pipeline's own calls gave: its predictions, probabilities and description, and
    the clocks and memory readings taken around them."""

    test_predictions: np.ndarray
    test_probabilities: np.ndarray | None
    validation_predictions: np.ndarray | None
    validation_probabilities: np.ndarray | None
    latency_ms: float
    description: dict
    fit_watch: Stopwatch
    predict_watch: Stopwatch
    fit_shared: object  # sharing.shared_in's account of the feature steps loaded
    predict_shared: object
    memory_scope: str
    memory_before: float
    peak_mb: float
    corrupted: dict | None  # robustness.corrupted_predictions: the corrupted test subset predicted
    pipeline: object  # the fitted pipeline, kept in the model cache after scoring


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
    n_classes = context.dataset.n_classes
    train, validation, test = parts["train"], parts["validation"], parts["test"]
    fit_options = _fit_options(pipeline, job, context, record)
    memory_scope = "job" if reset_peak_memory() else "process"
    memory_before = current_memory_mb()
    # a refit has no validation split to tune on: its images are training images. A
    # network still gets them, as the images its epoch log is computed on (it is not
    # early-stopped; without them it would hold out part of its training set)
    given = (None if job.refit_of and record["family"] != "deep"
             else (validation.images, validation.labels))
    shared = context.shared_features_dir
    with sharing.shared_in(shared) as fit_shared, Stopwatch() as fit_watch:
        pipeline.fit(train.images, train.labels, validation=given, **fit_options)
    both = pipeline.predict_with_proba if isinstance(pipeline, ProbaAtPredictCost) \
        and pipeline.proba_at_predict_cost else None
    with sharing.shared_in(shared) as predict_shared, Stopwatch() as predict_watch:
        # one pass gives a network's (or a calibrated SVM's) labels and probabilities:
        # timing it is timing predict, and the test set is not run through a second time
        test_predictions, test_probabilities = (both(test.images) if both is not None
                                                else (pipeline.predict(test.images), None))
    test_predictions = _check_predictions(test_predictions, len(test.labels), n_classes,
                                          "predict")
    validation_predictions = validation_probabilities = None
    with sharing.shared_in(shared):  # not timed: shared only to save the run's time
        if not job.refit_of:  # a refit's validation images are training images
            validation_predictions, validation_probabilities = \
                labels_and_probabilities(pipeline, validation.images)
            validation_predictions = _check_predictions(
                validation_predictions, len(validation.labels), n_classes, "predict")
        predict_proba = getattr(pipeline, "predict_proba", None)
        if test_probabilities is None and predict_proba is not None:
            test_probabilities = predict_proba(test.images)
    latency_ms = single_image_latency_ms(pipeline.predict, test.images)
    corrupted = corrupted_predictions(pipeline.predict, test.images, test.labels,
                                      context.profile.robustness_images)
    return Trained(test_predictions, test_probabilities, validation_predictions,
                   validation_probabilities, latency_ms, pipeline.describe(), fit_watch,
                   predict_watch, fit_shared, predict_shared, memory_scope, memory_before,
                   peak_memory_mb(), corrupted, pipeline)


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
    record["timing"] = _timing(trained, len(parts["train"].labels), len(test.labels))
    description = trained.description
    resumed = description.get("resumed")
    if resumed:
        _add_time_before_resume(record["timing"], resumed)
        record["checkpoint"]["resumed_from_epoch"] = resumed["from_epoch"]
    record["model"] = description
    record["history"] = description.get("history")
    record["predictions"] = encode_predictions(trained.test_predictions, test.labels)


def _timing(trained: Trained, n_train: int, n_test: int) -> dict:
    # what the pipeline alone would have paid: the feature steps it loaded from
    # another job of the run are counted at what they took to compute there
    fit_watch, predict_watch = trained.fit_watch, trained.predict_watch
    fit_seconds = fit_watch.wall_seconds + trained.fit_shared.loaded_seconds
    predict_seconds = predict_watch.wall_seconds + trained.predict_shared.loaded_seconds
    timing = {
        "fit_seconds": fit_seconds,
        "predict_seconds": predict_seconds,
        "predict_ms_per_1k": predict_seconds * 1e6 / max(n_test, 1),
        "latency_ms": trained.latency_ms,
        "cpu_seconds": fit_watch.cpu_seconds + predict_watch.cpu_seconds,
        "fit_cpu_seconds": fit_watch.cpu_seconds,
        "peak_rss_mb": trained.peak_mb,
        "rss_before_mb": trained.memory_before,
        "peak_memory_scope": trained.memory_scope,
        "train_images_per_second": n_train / max(fit_seconds, 1e-9),
        # the corruption suite after the clean pass: the corrupted images made and predicted
        "robustness_seconds": (trained.corrupted or {}).get("seconds"),
    }
    if trained.fit_shared.loads or trained.predict_shared.loads:
        timing["shared_features"] = {
            "fit_seconds": trained.fit_shared.loaded_seconds,
            "predict_seconds": trained.predict_shared.loaded_seconds,
            "fit_wall_seconds": fit_watch.wall_seconds,
            "predict_wall_seconds": predict_watch.wall_seconds,
        }
    return timing


def describe_outcome(record: Record) -> str:
    if record["status"] != "ok":
        return f"{record['status']}: {record['error']}"
    test = record["metrics"]["test"]
    timing = record["timing"]
    return (f"test accuracy {test['accuracy']:.2%}, fit {timing['fit_seconds']:.1f} s, "
            f"predict {timing['predict_ms_per_1k']:.0f} ms/1k")


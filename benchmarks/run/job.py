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
import hashlib
import inspect
import json
import os
import random
import re
import shutil
import sys
import time
import traceback
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipelines import sharing
from pipelines.profiles import Profile

from ..data.datasets import Dataset
from ..data.splits import Split, subsample
from ..records.record import Record, encode_labels
from .environment import cpu_description, environment
from .metrics import score
from .timing import (
    Stopwatch,
    current_memory_mb,
    peak_memory_mb,
    reset_peak_memory,
    single_image_latency_ms,
)

REFIT_MARK = "[refit]"  # a refit's name: the pipeline's, with this after it


@dataclass(frozen=True)
class Job:
    pipeline: str  # the registered pipeline to build
    dataset: str
    split: str
    profile: str
    seed: int
    overrides: tuple[tuple[str, object], ...] = ()  # hyper-parameters given to its factory
    label: str = ""  # a study variant's name, e.g. "mcnn[batch_size=16]"
    # a refit (refit.py): the run_id of the validation run whose configuration it trains on
    # train + validation
    refit_of: str = ""

    @property
    def name(self) -> str:
        """The name its record is stored under."""
        return (self.label or self.pipeline) + (REFIT_MARK if self.refit_of else "")


@dataclass(frozen=True)
class Partition:
    images: np.ndarray
    labels: np.ndarray


@dataclass
class RunContext:
    """What every job of one run shares: the data, the split, the profile."""

    dataset: Dataset
    split: Split
    profile: Profile
    plugins: tuple[str, ...] = ()  # loose plugin files, loaded again in each worker process
    # where resumable pipelines keep their epoch checkpoints (None: they keep none)
    checkpoint_root: Path | None = None
    # where the run's jobs share their feature steps (pipelines/sharing.py; None: they
    # share none): one folder per run, removed when it ends
    shared_features_dir: Path | None = None
    _partitions: dict[int, dict[str, Partition]] = field(default_factory=dict)

    def load_plugins(self) -> None:
        from pipelines.registry import load_plugin_file

        for plugin in self.plugins:
            load_plugin_file(plugin)

    def __getstate__(self) -> dict:
        """Sent to workers without the subsamples: each worker makes its own, once."""
        state = dict(self.__dict__)
        state["_partitions"] = {}
        return state

    def partitions(self, seed: int, train_size: int | None = None,
                   validation_size: int | None = None) -> dict[str, Partition]:
        """Train / validation / test for a seed, subsampled to the profile's sizes, or to
        ``train_size`` training and ``validation_size`` validation images (a pipeline's own
        caps, below the profile's)."""
        # one subsample per sizes
        key = (seed, train_size or self.profile.train_size,
               validation_size or self.profile.validation_size)
        if key not in self._partitions:
            sizes = {"train": key[1],
                     "validation": key[2],
                     "test": self.profile.test_size}
            parts = {}
            for role, indices in (("train", self.split.train),
                                  ("validation", self.split.validation),
                                  ("test", self.split.test)):
                chosen = subsample(indices, self.dataset.labels, sizes[role], seed)
                parts[role] = Partition(self.dataset.images[chosen], self.dataset.labels[chosen])
            self._partitions[key] = parts
        return self._partitions[key]

    def job_partitions(self, job: Job) -> dict[str, Partition]:
        """The data one job trains and is scored on: its pipeline's image caps in this
        profile apply (``register_pipeline(train_sizes=..., validation_sizes=...)``)."""
        from pipelines.registry import get_entry

        entry = get_entry(job.pipeline)
        parts = self.partitions(job.seed, entry.train_size(self.profile),
                                entry.validation_size(self.profile))
        if not job.refit_of:
            return parts
        # a refit trains on both; the validation images stay what they were, for the network
        # that reports its epochs on them (they are training images now, scored by nobody)
        train, validation = parts["train"], parts["validation"]
        both = Partition(np.concatenate([train.images, validation.images]),
                         np.concatenate([train.labels, validation.labels]))
        return {**parts, "train": both}


CHECKPOINT_DIR_ENV = "FASHIONBENCH_CHECKPOINT_DIR"


def default_checkpoint_root() -> Path:
    """$FASHIONBENCH_CHECKPOINT_DIR, else the user cache: never under results/."""
    configured = os.environ.get(CHECKPOINT_DIR_ENV)
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("fashionbench")) / "checkpoints"


def checkpoint_root_for(results_dir: Path, root: Path | None = None) -> Path:
    """The checkpoints of one results directory: runs into two results directories (a
    scratch benchmark beside the real run) never share a job's checkpoint."""
    scope = hashlib.sha256(str(Path(results_dir).resolve()).encode()).hexdigest()[:10]
    return (root or default_checkpoint_root()) / f"results-{scope}"


def checkpoint_directory(job: Job, context: RunContext) -> Path:
    """One job's checkpoint directory: readable name, a digest of everything that makes the
    job (a study variant's settings included), so no other job can pick it up."""
    identity = json.dumps([job.pipeline, job.name, [list(item) for item in job.overrides],
                           job.dataset, context.split.fingerprint, job.profile, job.seed],
                          default=str)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", job.name).strip("_")[:60]
    return context.checkpoint_root / (f"{job.dataset}-{job.profile}-{readable}-seed{job.seed}-"
                                      f"{digest}")


def fit_accepts(pipeline, keyword: str) -> bool:
    """Whether ``pipeline.fit`` takes an optional keyword of the contract: ``n_classes`` (the
    dataset's class count, which a subsample's labels may not show) or ``checkpoint_dir``
    (a pipeline that trains by epochs and can resume)."""
    try:
        return keyword in inspect.signature(pipeline.fit).parameters
    except (TypeError, ValueError):
        return False


def remove_checkpoint(record: Record, root: Path | None) -> None:
    """Once an ok record is stored, its job's checkpoint has served; a failed or timed-out
    job keeps it, so that the next run continues from its last epoch."""
    directory = (record.get("checkpoint") or {}).get("directory")
    if record.get("status") != "ok" or not directory or root is None:
        return
    directory = Path(directory)
    if directory.resolve().is_relative_to(Path(root).resolve()):  # only what we made
        shutil.rmtree(directory, ignore_errors=True)


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


def _labels_and_probabilities(pipeline, images: np.ndarray) -> tuple:
    """A pipeline's labels and probabilities (None without them) for images the run does not
    time: from one pass when the pipeline offers ``predict_with_proba``."""
    both = getattr(pipeline, "predict_with_proba", None)
    if both is not None:
        return both(images)
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
    parts = context.job_partitions(job)
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
    """Build, fit, predict and score one job; never raises for a pipeline's own failure."""
    from pipelines.registry import create_pipeline

    create = create or create_pipeline
    context.load_plugins()
    record = new_record(job, context)
    parts = context.job_partitions(job)
    n_classes = context.dataset.n_classes
    pipeline = None
    job_started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            seed_everything(job.seed)
            pipeline = create(job.pipeline, context.profile, seed=job.seed,
                              **dict(job.overrides))
            fit_options = {}
            if fit_accepts(pipeline, "n_classes"):
                fit_options["n_classes"] = n_classes
            if context.checkpoint_root is not None and fit_accepts(pipeline, "checkpoint_dir"):
                fit_options["checkpoint_dir"] = checkpoint_directory(job, context)
                record["checkpoint"] = {"directory": str(fit_options["checkpoint_dir"]),
                                        "resumed_from_epoch": None}
            train, validation, test = parts["train"], parts["validation"], parts["test"]
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
            both = (getattr(pipeline, "predict_with_proba", None)
                    if getattr(pipeline, "predicts_by_argmax", False) else None)
            with sharing.shared_in(shared) as predict_shared, Stopwatch() as predict_watch:
                # one pass gives a network's labels and probabilities: timing it is timing
                # predict, and the test set is not run through the network a second time
                test_predictions, test_probabilities = (
                    both(test.images) if both is not None
                    else (pipeline.predict(test.images), None))
            test_predictions = _check_predictions(test_predictions, len(test.labels), n_classes,
                                                  "predict")
            validation_probabilities = None
            with sharing.shared_in(shared):  # not timed: shared only to save the run's time
                if not job.refit_of:  # a refit's validation images are training images
                    validation_predictions, validation_probabilities = \
                        _labels_and_probabilities(pipeline, validation.images)
                    validation_predictions = _check_predictions(
                        validation_predictions, len(validation.labels), n_classes, "predict")
                predict_proba = getattr(pipeline, "predict_proba", None)
                if test_probabilities is None and predict_proba is not None:
                    test_probabilities = predict_proba(test.images)
            for probabilities in (test_probabilities, validation_probabilities):
                if probabilities is not None and not np.isfinite(probabilities).all():
                    warnings.warn("predict_proba returned NaN or infinite values; log-loss is "
                                  "left out, the predictions are scored as usual",
                                  RuntimeWarning, stacklevel=1)
            latency_ms = single_image_latency_ms(pipeline.predict, test.images)
            peak_mb = peak_memory_mb()
            description = pipeline.describe()
            record["metrics"] = {
                # a refit trained on the validation images: no hold-out score is left
                "validation": None if job.refit_of else score(
                    validation.labels, validation_predictions, n_classes,
                    validation_probabilities),
                "test": score(test.labels, test_predictions, n_classes, test_probabilities),
            }
            # what the pipeline alone would have paid: the feature steps it loaded from
            # another job of the run are counted at what they took to compute there
            fit_seconds = fit_watch.wall_seconds + fit_shared.loaded_seconds
            predict_seconds = predict_watch.wall_seconds + predict_shared.loaded_seconds
            record["timing"] = {
                "fit_seconds": fit_seconds,
                "predict_seconds": predict_seconds,
                "predict_ms_per_1k": predict_seconds * 1e6 / max(len(test.labels), 1),
                "latency_ms": latency_ms,
                "cpu_seconds": fit_watch.cpu_seconds + predict_watch.cpu_seconds,
                "fit_cpu_seconds": fit_watch.cpu_seconds,
                "peak_rss_mb": peak_mb,
                "rss_before_mb": memory_before,
                "peak_memory_scope": memory_scope,
                "train_images_per_second": len(train.labels) / max(fit_seconds, 1e-9),
            }
            if fit_shared.loads or predict_shared.loads:
                record["timing"]["shared_features"] = {
                    "fit_seconds": fit_shared.loaded_seconds,
                    "predict_seconds": predict_shared.loaded_seconds,
                    "fit_wall_seconds": fit_watch.wall_seconds,
                    "predict_wall_seconds": predict_watch.wall_seconds,
                }
            resumed = description.get("resumed")
            if resumed:
                _add_time_before_resume(record["timing"], resumed)
                record["checkpoint"]["resumed_from_epoch"] = resumed["from_epoch"]
            record["model"] = description
            record["history"] = description.get("history")
            record["predictions"] = {"encoding": "uint8-base64",
                                     "test": encode_labels(test_predictions),
                                     "test_true": encode_labels(test.labels)}
        except KeyboardInterrupt:
            raise
        except Exception as error:
            record["status"] = "failed"
            record["error"] = f"{type(error).__name__}: {error}"
            record["traceback"] = traceback.format_exc(limit=-8)
            if pipeline is not None:
                # the description is a courtesy here; the error is what matters
                with contextlib.suppress(Exception):
                    record["model"] = pipeline.describe()
    record["warnings"] = distinct_warnings(caught)
    if record["timing"] is not None:
        record["timing"]["job_seconds"] = time.perf_counter() - job_started
    record["finished_at"] = utc_now()
    return record


def describe_outcome(record: Record) -> str:
    if record["status"] != "ok":
        return f"{record['status']}: {record['error']}"
    test = record["metrics"]["test"]
    timing = record["timing"]
    return (f"test accuracy {test['accuracy']:.2%}, fit {timing['fit_seconds']:.1f} s, "
            f"predict {timing['predict_ms_per_1k']:.0f} ms/1k")


"""A fitted pipeline's calls after fit, the same for a job that trained (job.py) and one
scored with a twin's kept network instead (``scored_with_twin``; twins.py finds the twins):
the test images predicted (timed), the validation images and probabilities, one image's
latency, the corruption suite, its description.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pipelines import sharing
from pipelines.base import PredictsWithProba, ProbaAtPredictCost

from ..errors import StoreError
from .robustness import corrupted_predictions
from .timing import (
    Stopwatch,
    current_memory_mb,
    peak_memory_mb,
    reset_peak_memory,
    single_image_latency_ms,
)

if TYPE_CHECKING:  # types only: the runner's values, handed in
    from ..records.record import Record
    from .context import Job, Partition, RunContext


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


def memory_at_start() -> tuple[str, float]:
    """The peak memory's scope (this job's, or the process's where it cannot be reset) and
    the memory in use, read before the job's pipeline does anything."""
    return ("job" if reset_peak_memory() else "process"), current_memory_mb()


def predicted(pipeline, job: Job, context: RunContext, parts: dict[str, Partition],
              fit_watch: Stopwatch, fit_shared, memory: tuple[str, float]) -> Trained:
    """A fitted pipeline's calls after fit: the test images (timed), the validation images
    and probabilities, one image's latency, the corruption suite, describe."""
    n_classes = context.dataset.n_classes
    validation, test = parts["validation"], parts["test"]
    shared = context.shared_features_dir
    both = pipeline.predict_with_proba if isinstance(pipeline, ProbaAtPredictCost) \
        and pipeline.proba_at_predict_cost else None
    with sharing.shared_in(shared) as predict_shared, Stopwatch() as predict_watch:
        # one pass gives a network's (or a calibrated SVM's) labels and probabilities:
        # timing it is timing predict, and the test set is not run through a second time
        test_predictions, test_probabilities = (both(test.images) if both is not None
                                                else (pipeline.predict(test.images), None))
    test_predictions = checked_predictions(test_predictions, len(test.labels), n_classes,
                                          "predict")
    validation_predictions = validation_probabilities = None
    with sharing.shared_in(shared):  # not timed: shared only to save the run's time
        if not job.refit_of:  # a refit's validation images are training images
            validation_predictions, validation_probabilities = \
                labels_and_probabilities(pipeline, validation.images)
            validation_predictions = checked_predictions(
                validation_predictions, len(validation.labels), n_classes, "predict")
        predict_proba = getattr(pipeline, "predict_proba", None)
        if test_probabilities is None and predict_proba is not None:
            test_probabilities = predict_proba(test.images)
    latency_ms = single_image_latency_ms(pipeline.predict, test.images)
    corrupted = corrupted_predictions(pipeline.predict, test.images, test.labels,
                                      context.profile.robustness_images)
    return Trained(test_predictions, test_probabilities, validation_predictions,
                   validation_probabilities, latency_ms, pipeline.describe(), fit_watch,
                   predict_watch, fit_shared, predict_shared, *memory, peak_memory_mb(),
                   corrupted, pipeline)


def checked_predictions(predictions, expected: int, n_classes: int, what: str) -> np.ndarray:
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


def scored_with_twin(job: Job, context: RunContext, parts: dict[str, Partition],
                     record: Record, create: Callable) -> Trained | None:
    """The job scored with its twin's kept model (``job.twin``); None, with a warning, where
    that model cannot serve: the job then trains."""
    twin = job.twin
    memory = memory_at_start()
    pipeline = create(job.pipeline, context.profile, seed=job.seed, **dict(job.overrides))
    why = "no model cache (--no-model-cache)" if context.model_cache is None else None
    if why is None:
        try:
            kept = context.model_cache.load(json.loads(twin.saved_model))
            if type(kept) is not type(pipeline):
                why = f"it is a {type(kept).__name__}, this job's a {type(pipeline).__name__}"
            elif not kept.predict_as(pipeline, warm_up=parts["train"].images):
                why = "it trained in another backend or arithmetic than this job would"
        except StoreError as error:
            why = str(error)
        except Exception as error:  # noqa: BLE001 - an old pickle, a Keras upgrade: train
            why = f"it does not load here ({type(error).__name__}: {error})"
    if why is None:
        try:
            trained = predicted(kept, job, context, parts,
                                Stopwatch(twin.fit_seconds, twin.fit_cpu_seconds),
                                sharing.Ledger(), memory)
        except Exception as error:  # noqa: BLE001 - a network of its own predicts, or says why
            why = f"it failed to predict ({type(error).__name__}: {error})"
    if why is not None:
        warnings.warn(f"trained rather than scored with the network of {twin.name} (run "
                      f"{twin.run_id[:12]}): {why}", RuntimeWarning, stacklevel=1)
        return None
    trained.description["resumed"] = None  # the twin's fit time counts any earlier epochs
    record["trained_by"] = {"run_id": twin.run_id, "name": twin.name,
                            "fit_seconds": twin.fit_seconds, "threads": twin.threads}
    return trained

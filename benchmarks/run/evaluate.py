"""``run_all.py --evaluate robustness|calibration``: add a metric to stored records from the
models their jobs kept (model_cache.py), without retraining.

For each stored job of the selected pipelines that stands in the leaderboard (its newest ok
record, on this split) and lacks the metric, its kept model is loaded, checked against the
record (it must predict the record's own test labels), scored, and a new record is appended:
the old one with the metric added, a new ``run_id`` and ``evaluated`` naming the record it
came from. It keeps the old ``finished_at``: the store's newest-wins rule then prefers it by
its place (the later line), and a job run since still wins. Nothing is retrained, and a
record whose model is gone, was kept elsewhere, or predicts differently is listed, not
touched: it gains the metric when it is run again.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import StoreError
from ..records.record import Record, decode_labels
from .job import utc_now
from .metrics import score
from .options import RunOptions
from .predicting import labels_and_probabilities
from .refit import trained_run
from .robustness import corrupted_predictions, robustness_metrics
from .setup import model_cache_of, open_run

# a kept model must give the record's own test labels (a few argmax ties may differ)
SAME_MODEL_AGREEMENT = 0.999


@dataclass
class EvaluationSummary:
    added: list[Record] = field(default_factory=list)
    complete: int = 0  # records that had the metrics already
    refused: list[tuple[str, str]] = field(default_factory=list)  # (name, why)


def missing_metrics(record: Record, wanted: tuple[str, ...]) -> list[str]:
    metrics = record.get("metrics") or {}
    missing = []
    if "robustness" in wanted and not metrics.get("robustness"):
        missing.append("robustness")
    test = metrics.get("test") or {}
    # a pipeline without probabilities of its own (an SVM) gains them on the validation split
    # its run held out; a refit held nothing out
    if "calibration" in wanted and "ece" not in test and (
            test.get("log_loss") is not None or not record.get("refit")):
        missing.append("calibration")
    return missing


def evaluate_stored(options: RunOptions, say: Callable[[str], None] = print
                    ) -> EvaluationSummary:
    setup = open_run(options)
    cache = model_cache_of(options)
    if cache is None:
        raise StoreError("--evaluate loads the models jobs kept: leave out --no-model-cache")
    summary = EvaluationSummary()
    selected = set(options.pipelines)
    for record in setup.store.latest().values():
        if record.get("status") != "ok" or record["pipeline"] not in selected \
                or record["split"]["fingerprint"] != setup.split.fingerprint \
                or record["seed"] not in options.seeds:
            continue
        missing = missing_metrics(record, options.evaluate)
        if not missing:
            summary.complete += 1
            continue
        try:
            pipeline = cache.load(record.get("saved_model"))
            evaluated = evaluated_record(record, pipeline, setup.context, missing)
        except StoreError as why:
            summary.refused.append((record["name"], str(why)))
            continue
        setup.store.append(evaluated)
        summary.added.append(evaluated)
        say(f"evaluated {record['name']} seed {record['seed']}: added {', '.join(missing)}")
    return summary


def evaluated_record(record: Record, pipeline, context, missing: list[str]) -> Record:
    """``record`` with the ``missing`` metrics computed from its kept ``pipeline``."""
    test = context.partitions(record["seed"])["test"]
    stored = decode_labels(record["predictions"]["test"])
    predicted, probabilities = labels_and_probabilities(pipeline, test.images)
    agreement = float(np.mean(np.asarray(predicted) == stored)) if len(stored) == len(
        test.labels) else 0.0
    if agreement < SAME_MODEL_AGREEMENT:
        raise StoreError(f"its kept model predicts {agreement:.1%} of the record's own test "
                         f"labels: not the model that made it; rerun the job instead")
    new = copy.deepcopy(record)
    new["run_id"] = uuid.uuid4().hex
    new["evaluated"] = {"from_run": trained_run(record), "added": missing, "at": utc_now()}
    if "calibration" in missing:
        if probabilities is None:
            probabilities = calibrated_probabilities(record, pipeline, context, test.images)
            new["model"]["calibration"] = pipeline.calibration()
        new["metrics"]["test"] = score(test.labels, stored, context.dataset.n_classes,
                                       np.asarray(probabilities))
    if "robustness" in missing:
        corrupted = corrupted_predictions(pipeline.predict, test.images, test.labels,
                                          context.profile.robustness_images)
        new["metrics"]["robustness"] = robustness_metrics(corrupted)
        new["timing"]["robustness_seconds"] = (corrupted or {}).get("seconds")
    return new


def calibrated_probabilities(record: Record, pipeline, context, images) -> np.ndarray:
    """Probabilities for ``images`` from a kept model that had none: calibrated on the very
    validation images its run held out (pipelines/base.py, ``SklearnPipeline.calibrate``)."""
    sizes = record.get("sizes") or {}
    validation = context.partitions(record["seed"], sizes.get("train"),
                                    sizes.get("validation"))["validation"]
    calibrate = getattr(pipeline, "calibrate", None)
    if calibrate is None or not calibrate(validation.images, validation.labels):
        raise StoreError("the pipeline gives no probabilities and cannot be calibrated: it "
                         "has no calibration")
    return np.asarray(pipeline.predict_proba(images))

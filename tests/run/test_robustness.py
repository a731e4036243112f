"""A job's robustness and calibration, checked against the pipeline's own predictions and
scikit-learn's metrics computed here, not against the code that stored them."""

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

from benchmarks.data.corruptions import CORRUPTIONS, corrupt, corruption_seed, suite_indices
from benchmarks.data.splits import make_split
from benchmarks.records.record import decode_labels
from benchmarks.run.context import Job, RunContext
from benchmarks.run.job import job_partitions, run_job
from benchmarks.run.robustness import SUITE_SEED
from pipelines import SklearnPipeline
from pipelines.base import flatten_images
from pipelines.profiles import get_profile


@pytest.fixture
def context(digits):
    return RunContext(digits, make_split("standard", digits), get_profile("smoke"))


def test_each_corruption_s_accuracy_is_the_pipelines_own_on_those_images(context):
    built = []

    def create(*args, **kwargs):
        built.append(SklearnPipeline("test-logreg", LogisticRegression(max_iter=200)))
        return built[-1]

    job = Job("raw-knn", "digits", "standard", "smoke", 0)
    record = run_job(job, context, create=create)
    assert record["status"] == "ok", record["error"]
    robustness = record["metrics"]["robustness"]
    test = job_partitions(job, context)["test"]
    size = context.profile.robustness_images
    indices = suite_indices(test.labels, size, SUITE_SEED)
    assert robustness["images"] == len(indices) == size
    assert set(robustness["accuracy"]) == set(CORRUPTIONS)
    pipeline = built[0]
    for name in ("invert", "rotate", "shot_noise"):
        corrupted = corrupt(test.images[indices], name, corruption_seed(SUITE_SEED, name))
        expected = np.mean(pipeline.predict(corrupted) == test.labels[indices])
        assert robustness["accuracy"][name] == pytest.approx(expected)
    # clean: the stored test predictions, on the suite's images
    stored = decode_labels(record["predictions"]["test"])
    assert robustness["clean_accuracy"] == pytest.approx(
        np.mean(stored[indices] == test.labels[indices]))
    mean = np.mean(list(robustness["accuracy"].values()))
    assert robustness["mean_accuracy"] == pytest.approx(mean)
    assert robustness["relative"] == pytest.approx(mean / robustness["clean_accuracy"])
    assert record["timing"]["robustness_seconds"] > 0


def test_calibration_is_scikit_learns_and_by_hand(context):
    built = []

    def create(*args, **kwargs):
        built.append(SklearnPipeline("test-logreg", LogisticRegression(max_iter=200)))
        return built[-1]

    job = Job("raw-knn", "digits", "standard", "smoke", 0)
    test_scores = run_job(job, context, create=create)["metrics"]["test"]
    test = job_partitions(job, context)["test"]
    proba = built[0].estimator_.predict_proba(flatten_images(test.images))
    # Brier: scikit-learn's, and the plain sum of squares by hand
    one_hot = np.eye(proba.shape[1])[test.labels]
    assert test_scores["brier"] == pytest.approx(np.mean(((proba - one_hot) ** 2).sum(axis=1)))
    assert test_scores["brier"] == pytest.approx(brier_score_loss(
        test.labels, proba, labels=np.arange(proba.shape[1]), scale_by_half=False))
    # ECE by hand: 15 bins (lo, hi], |accuracy - confidence| weighted by count
    confidence, correct = proba.max(axis=1), proba.argmax(axis=1) == test.labels
    gap = 0.0
    for low in np.linspace(0, 1, 16)[:-1]:
        inside = (confidence > low) & (confidence <= low + 1 / 15) if low else \
            (confidence <= 1 / 15)
        if inside.any():
            gap += inside.sum() * abs(correct[inside].mean() - confidence[inside].mean())
    assert test_scores["ece"] == pytest.approx(gap / len(correct), abs=1e-9)
    kept = np.argsort(-confidence, kind="stable")[:int(np.ceil(0.9 * len(correct)))]
    assert test_scores["selective_accuracy_90"] == pytest.approx(correct[kept].mean())
    assert sum(test_scores["reliability"]["count"]) == len(correct)


def test_a_pipeline_without_probabilities_has_robustness_but_no_calibration(context):
    record = run_job(Job("raw-knn", "digits", "standard", "smoke", 0), context,
                     create=lambda *a, **k: NoProba("test-no-proba", DummyClassifier()))
    assert record["status"] == "ok"
    assert "ece" not in record["metrics"]["test"]
    assert record["metrics"]["robustness"]["mean_accuracy"] is not None


class NoProba(SklearnPipeline):
    def predict_proba(self, X):
        return None

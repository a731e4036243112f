"""Feature steps computed once per run and shared (pipelines/sharing.py): the same
predictions as unshared, only equal steps on equal images meet, and the records and the
leaderboard count what was shared at its cost."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.data.splits import make_split
from benchmarks.records.store import ResultsStore
from benchmarks.reports.leaderboard import leaderboard_markdown
from benchmarks.run.context import Job, RunContext
from benchmarks.run.job import run_job
from benchmarks.run.runner import RunOptions, run
from pipelines import sharing
from pipelines.profiles import get_profile
from pipelines.registry import create_pipeline


@pytest.fixture
def parts(digits):
    split = make_split("standard", digits)
    return [(digits.images[indices], digits.labels[indices])
            for indices in (split.train, split.validation, split.test)]


def fitted_predictions(name, parts, seed=0):
    (train, train_labels), validation, (test, _) = parts
    pipeline = create_pipeline(name, get_profile("smoke"), seed=seed)
    pipeline.fit(train, train_labels, validation=validation)
    return pipeline.predict(test)


@pytest.mark.parametrize("first, second", [("pca-knn", "pca-tree"), ("hog-knn", "hog-bayes2"),
                                           ("fld-knn", "fld-bayes1"), ("pca-knn", "pca-xgboost")])
def test_the_second_pipeline_loads_the_first_one_s_features_and_predicts_as_unshared(
        first, second, parts, tmp_path):
    alone = fitted_predictions(second, parts)
    with sharing.shared_in(tmp_path) as computing:
        fitted_predictions(first, parts)
    with sharing.shared_in(tmp_path) as loading:
        shared = fitted_predictions(second, parts)
    assert computing.loads == 0 and computing.computed == 2  # the training rows, the test rows
    assert loading.loads >= 2 and loading.computed <= 1  # xgboost's validation rows are new
    assert loading.loaded_seconds > 0
    np.testing.assert_array_equal(shared, alone)


def test_other_steps_or_other_images_are_computed_not_loaded(parts, tmp_path):
    (train, labels), validation, test = parts
    with sharing.shared_in(tmp_path):
        fitted_predictions("pca-knn", parts)
    with sharing.shared_in(tmp_path) as other_seed:  # a PCA with another random state
        fitted_predictions("pca-knn", parts, seed=1)
    with sharing.shared_in(tmp_path) as other_images:
        fitted_predictions("pca-knn", [(train[1:], labels[1:]), validation, test])
    with sharing.shared_in(tmp_path) as other_steps:  # HOG, not PCA
        fitted_predictions("hog-knn", parts)
    for ledger in (other_seed, other_images, other_steps):
        assert ledger.loads == 0 and ledger.computed == 2


def test_pixels_alone_are_never_stored_and_nothing_is_shared_outside_the_block(parts, tmp_path):
    with sharing.shared_in(tmp_path) as raw:
        fitted_predictions("raw-knn", parts)
    assert (raw.loads, raw.computed) == (0, 0)
    assert not sharing.active()


def test_a_run_shares_and_its_records_count_the_loaded_time(digits, tmp_path, monkeypatch):
    folders = []
    real_run_job = run_job

    def watching(job, context, **kwargs):
        folders.append(context.shared_features_dir)
        return real_run_job(job, context, **kwargs)

    monkeypatch.setattr("benchmarks.run.workers.run_job", watching)
    options = RunOptions(pipelines=["pca-knn", "pca-tree", "raw-knn"], dataset="digits",
                         profile="smoke", results_dir=tmp_path)
    summary = run(options, report=lambda line: None)
    first, second, raw = summary.ran
    assert "shared_features" not in first["timing"] and "shared_features" not in raw["timing"]
    timing = second["timing"]
    shared = timing["shared_features"]
    assert shared["fit_seconds"] > 0 and shared["predict_seconds"] > 0
    assert timing["fit_seconds"] == pytest.approx(shared["fit_wall_seconds"]
                                                  + shared["fit_seconds"])
    assert timing["predict_seconds"] == pytest.approx(shared["predict_wall_seconds"]
                                                      + shared["predict_seconds"])
    # one folder for the run, gone when it ended
    assert len(set(folders)) == 1 and folders[0] is not None and not folders[0].exists()

    markdown = leaderboard_markdown(ResultsStore(tmp_path, "digits", "smoke"))
    assert "Fit times marked † (1) include feature steps" in markdown
    assert sum(line.startswith("| ") and " † |" in line and "pca-tree" in line
               for line in markdown.splitlines()) == 2  # the overall and the classical table

    unshared = run(RunOptions(pipelines=["pca-knn", "pca-tree"], dataset="digits",
                              profile="smoke", results_dir=tmp_path / "alone", force=True,
                              share_features=False), report=lambda line: None)
    assert not any("shared_features" in record["timing"] for record in unshared.ran)
    assert [record["predictions"] for record in unshared.ran] == \
        [record["predictions"] for record in summary.ran[:2]]


def test_a_job_without_a_shared_folder_shares_nothing(digits):
    context = RunContext(digits, make_split("standard", digits), get_profile("smoke"))
    record = run_job(Job("pca-knn", "digits", "standard", "smoke", 0), context)
    assert record["status"] == "ok" and "shared_features" not in record["timing"]


def test_a_run_removes_the_folders_killed_runs_left_and_keeps_live_ones(tmp_path):
    import os
    import subprocess
    import sys

    from benchmarks.run.runner import SHARED_FEATURES_PREFIX, shared_features_folder

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid names no process now
    left = tmp_path / f"{SHARED_FEATURES_PREFIX}{dead.pid}-x1"
    alive = tmp_path / f"{SHARED_FEATURES_PREFIX}{os.getpid()}-x2"
    unrelated = tmp_path / f"{SHARED_FEATURES_PREFIX}notapid-x3"
    for folder in (left, alive, unrelated):
        (folder / "cache").mkdir(parents=True)
    new = shared_features_folder(tmp_path)
    assert not left.exists() and alive.exists() and unrelated.exists()
    assert new.is_dir() and new.name.startswith(f"{SHARED_FEATURES_PREFIX}{os.getpid()}-")

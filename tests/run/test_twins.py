"""Twins (benchmarks/run/twins.py): a job that trains exactly as another and differs only in
its test-time augmentation is scored with the other's kept network, not trained again; what
it predicts is what that network gives with its own augmentation."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks.data.datasets import load_dataset
from benchmarks.records.check import check_record
from benchmarks.records.record import decode_labels
from benchmarks.records.store import ResultsStore
from benchmarks.reports.leaderboard import leaderboard_markdown
from benchmarks.run.budget import Budget
from benchmarks.run.context import Job
from benchmarks.run.environment import machine
from benchmarks.run.job_times import JobTimes, StoredTime, hardware_key
from benchmarks.run.model_cache import file_digest
from benchmarks.run.options import RunOptions
from benchmarks.run.runner import make_run_plan, run
from benchmarks.run.setup import open_run
from benchmarks.run.twins import _settings_of, stored_twin, training_settings
from pipelines.registry import create_pipeline
from pipelines.saving import PIPELINE_FILE, load_pipeline

MODERN, TEN_VIEWS = "cnn-seed004@modern", "cnn-seed004@modern-ten-views"


def run_smoke(tmp_path, pipelines, **options):
    results = tmp_path / "results"
    run(RunOptions(pipelines=pipelines, dataset="digits", profile="smoke", results_dir=results,
                   executor="serial", threads=1, model_cache_dir=tmp_path / "models",
                   **options), report=lambda line: None)
    return ResultsStore(results, "digits", "smoke")


def latest(store):
    return {record["name"]: record for record in store.latest().values()}


@pytest.mark.parametrize("profile", ["smoke", "quick", "full"])
def test_recipes_apart_only_in_tta_train_alike_and_no_others(profile):
    def settings(name):
        pipeline = create_pipeline(name, profile, seed=0)
        return training_settings(pipeline, pipeline.hyperparameters())

    assert settings("resnet20@modern") == settings("resnet20@modern-ten-views")
    assert settings("resnet20@modern-ema") != settings("resnet20@modern-ten-views")
    assert settings("resnet20@modern") != settings("resnet20")  # the seed recipe
    assert settings("mcnn@modern") == settings("mcnn@modern-ten-views")  # (the networks
    # themselves are told apart by their pipeline's name, as twins.py checks first)
    pipeline = create_pipeline("resnet20@modern", profile, seed=0)
    other_seed = create_pipeline("resnet20@modern", profile, seed=1)
    assert training_settings(pipeline, other_seed.hyperparameters()) != settings(
        "resnet20@modern")


@pytest.mark.parametrize("order", [[MODERN, TEN_VIEWS], [TEN_VIEWS, MODERN]])
def test_one_network_is_trained_and_the_twin_predicts_with_it(tmp_path, order):
    store = run_smoke(tmp_path, order)
    records = latest(store)
    trainer, twin = (records[name] for name in order)
    assert "trained_by" not in trainer and trainer["checkpoint"] is not None
    assert twin["trained_by"] == {"run_id": trainer["run_id"], "name": trainer["name"],
                                  "fit_seconds": trainer["timing"]["fit_seconds"],
                                  "threads": trainer["env"]["threads"]}
    assert twin["timing"]["fit_seconds"] == trainer["timing"]["fit_seconds"]
    assert twin["history"] == trainer["history"]
    assert twin["model"]["params"]["tta"] == create_pipeline(order[1], "smoke").config.tta
    assert twin["model"]["params"]["recipe"] == order[1].split("@")[1]
    check_record(twin)  # a merged store's check accepts it

    # what it predicted is the trainer's kept network with the twin's own augmentation
    network = load_pipeline(trainer["saved_model"]["directory"])
    network.config = dataclasses.replace(network.config,
                                         tta=twin["model"]["params"]["tta"])
    test_images = load_dataset("digits").test_images
    assert (network.predict(test_images) == decode_labels(
        twin["predictions"]["test"])).all()
    # and its own kept model predicts so too (--evaluate loads that one)
    assert twin["saved_model"]["directory"] != trainer["saved_model"]["directory"]
    kept = load_pipeline(twin["saved_model"]["directory"])
    np.testing.assert_array_equal(kept.predict(test_images), network.predict(test_images))
    # the leaderboard marks its fit time as the other row's network's
    page = leaderboard_markdown(store)
    marked = [line for line in page.splitlines() if "‡" in line and "|" in line]
    assert marked and all(f" {twin['name']} " in line for line in marked)
    assert "Fit times marked ‡ (1)" in page


def test_force_and_a_gone_model_train_again(tmp_path):
    store = run_smoke(tmp_path, [MODERN])
    trainer = latest(store)[MODERN]
    run_smoke(tmp_path, [TEN_VIEWS], force=True)
    assert "trained_by" not in latest(store)[TEN_VIEWS]  # --force asks for training

    shutil.rmtree(trainer["saved_model"]["directory"])
    run_smoke(tmp_path, [TEN_VIEWS], force=False)
    assert len(store.records()) == 2  # stored already: nothing ran
    store.path.write_text(store.path.read_text().splitlines()[0] + "\n")  # only MODERN's
    run_smoke(tmp_path, [TEN_VIEWS])
    ten_views = latest(store)[TEN_VIEWS]  # its twin's model is gone: it trains
    assert "trained_by" not in ten_views and ten_views["status"] == "ok"


def test_a_scored_job_is_held_neither_to_a_trainings_time_nor_counted_as_one():
    """Its stored time is a training's: the budget lets it start, and its few seconds of
    scoring neither become its name's time nor pace the run's other estimates."""
    here = hardware_key("deep", machine())
    times = JobTimes({"net@b": StoredTime(1000.0, "deep", here)})
    budget = Budget(100.0, times)
    assert budget.admit("net@b", "deep")[0] is None
    assert budget.admit("net@b", "deep", trains=False)[0] > 0
    scored = {"name": "net@b", "family": "deep", "timing": {"job_seconds": 5.0},
              "trained_by": {"run_id": "r", "name": "net@a"}, "env": {}}
    times.finished(scored)
    assert times.pace() is None
    assert "net@b" not in JobTimes.from_records([scored]).before


@pytest.fixture(scope="module")
def stored_modern(tmp_path_factory):
    """One trained MODERN run, its record and the context a TEN_VIEWS job would run in."""
    tmp_path = tmp_path_factory.mktemp("twins")
    store = run_smoke(tmp_path, [MODERN])
    options = RunOptions(pipelines=[TEN_VIEWS], dataset="digits", profile="smoke",
                         results_dir=tmp_path / "results", model_cache_dir=tmp_path / "models")
    context = open_run(options).context
    job = Job(TEN_VIEWS, "digits", options.split, "smoke", 0)
    return latest(store)[MODERN], context, job, _settings_of(job, context, create_pipeline)


def _changed(record, change):
    record = json.loads(json.dumps(record))
    change(record)
    return record


MISMATCHES = {
    "failed": lambda r: r.update(status="failed"),
    "another profile": lambda r: r.update(profile="quick"),
    "another seed": lambda r: r.update(seed=1),
    "another split": lambda r: r["split"].update(fingerprint="0" * 16),
    "another arithmetic": lambda r: r.update(name=r["name"] + "[bfloat16]"),
    "a refit": lambda r: r.update(refit={"of_run": "x", "trained_on": "train + validation"}),
    "other image counts": lambda r: r["sizes"].update(train=r["sizes"]["train"] - 1),
    "another network": lambda r: r.update(pipeline="mcnn@modern", name="mcnn@modern"),
    "another setting": lambda r: r["model"]["params"].update(label_smoothing=0.2),
    "kept elsewhere": lambda r: r["saved_model"].update(directory="/elsewhere/models/x"),
    "kept at the cache's root": lambda r: r["saved_model"].update(
        directory=str(Path(r["saved_model"]["directory"]).parent)),
    "an unresolvable folder": lambda r: r["saved_model"].update(directory="/tmp/a\x00b"),
    "no files named": lambda r: r["saved_model"].update(files={}),
    "its model pruned": lambda r: r["saved_model"].update(
        directory=str(Path(r["saved_model"]["directory"]).parent / "pruned")),
    "trained on another device": lambda r: r["env"].update(cpu="Another CPU", gpu=None),
}


@pytest.mark.parametrize("mismatch", MISMATCHES)
def test_a_run_that_differs_in_anything_but_prediction_is_no_twin(stored_modern, mismatch):
    record, context, job, settings = stored_modern
    assert stored_twin(job, settings, [record], context).run_id == record["run_id"]
    assert stored_twin(job, settings, [_changed(record, MISMATCHES[mismatch])],
                       context) is None


def test_a_twin_names_the_run_that_trained_its_network(stored_modern):
    record, context, job, settings = stored_modern
    scored = _changed(record, lambda r: r.update(
        name="cnn-seed004@other", run_id="b" * 32,
        trained_by={"run_id": "a" * 32, "name": "cnn-seed004@first", "fit_seconds": 1.0}))
    twin = stored_twin(job, settings, [scored], context)
    assert (twin.run_id, twin.name) == ("a" * 32, "cnn-seed004@first")
    evaluated = _changed(record, lambda r: r.update(
        run_id="c" * 32, evaluated={"from_run": record["run_id"], "added": ["robustness"]}))
    assert stored_twin(job, settings, [evaluated], context).run_id == record["run_id"]


def test_a_kept_model_that_does_not_load_is_trained_instead(tmp_path):
    store = run_smoke(tmp_path, [MODERN])
    saved = latest(store)[MODERN]["saved_model"]
    pipeline_file = Path(saved["directory"]) / PIPELINE_FILE
    pipeline_file.write_bytes(b"not a pickle")  # an old pickle, a library upgraded since
    record = latest(store)[MODERN]
    record["saved_model"]["files"][PIPELINE_FILE] = file_digest(pipeline_file)
    store.path.write_text(json.dumps(record) + "\n")
    run_smoke(tmp_path, [TEN_VIEWS])
    ten_views = latest(store)[TEN_VIEWS]
    assert ten_views["status"] == "ok" and "trained_by" not in ten_views
    assert any("does not load here" in warning for warning in ten_views["warnings"])


def test_a_network_trained_in_another_arithmetic_does_not_predict_as_the_job(stored_modern):
    record, *_ = stored_modern
    kept = load_pipeline(record["saved_model"]["directory"])
    job_pipeline = create_pipeline(TEN_VIEWS, "smoke", seed=0)
    images = load_dataset("digits").train_images[:4]
    kept.runtime_["dtype_policy"] = "mixed_bfloat16"  # as if it had trained so
    assert not kept.predict_as(job_pipeline, warm_up=images)
    assert (kept.config.tta, kept.name) == ("flip", MODERN)  # unchanged
    kept.runtime_["dtype_policy"] = "float32"
    assert kept.predict_as(job_pipeline, warm_up=images)
    assert (kept.config.tta, kept.name, kept.recipe) == ("flip-shifts", TEN_VIEWS,
                                                         "modern-ten-views")


def test_the_dry_run_says_which_jobs_will_be_scored_rather_than_trained(stored_modern,
                                                                        tmp_path):
    record, context, *_ = stored_modern
    results = Path(record["saved_model"]["directory"]).parent.parent / "results"

    def plan(results_dir, pipelines, **options):
        return make_run_plan(RunOptions(
            pipelines=pipelines, dataset="digits", profile="smoke", results_dir=results_dir,
            model_cache_dir=context.model_cache.root, executor="serial", **options)).describe()

    [line] = [line for line in plan(results, [TEN_VIEWS]) if TEN_VIEWS in line]
    assert f"scored with the network of {MODERN}, stored: not trained" in line
    assert not any("scored" in line for line in plan(results, [TEN_VIEWS], force=True))
    fresh = plan(tmp_path / "fresh", [TEN_VIEWS, MODERN])
    assert [line.split(". ")[1].split(" ")[0] for line in fresh if ". " in line] \
        == [TEN_VIEWS, MODERN]
    assert "once that is stored" in fresh[-1]


def test_the_eta_waits_for_no_training_of_a_job_a_twin_scores(monkeypatch):
    import io

    from rich.console import Console

    from benchmarks.run import progress as progress_module
    from benchmarks.run.context import Twin
    from benchmarks.run.progress import LiveProgress

    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    display = LiveProgress(Console(file=io.StringIO(), width=120))
    here = hardware_key("deep", machine())
    times = JobTimes({name: StoredTime(600.0, "deep", here) for name in (MODERN, TEN_VIEWS)})
    twin = Twin("r" * 32, MODERN, "{}", 600.0, 600.0)
    trains = Job(MODERN, "digits", "standard", "smoke", 1)
    scored = Job(TEN_VIEWS, "digits", "standard", "smoke", 0, twin=twin)
    display.expect([trains, scored], times, slots=1)
    assert display.eta() == 600.0  # the scored job's 600 s before were a training's
    display.started(scored)
    clock[0] += 5
    assert display.eta() == 600.0 + 1.0  # running: at least a second left, never 0 s
    display.finished({"name": TEN_VIEWS, "seed": 0, "status": "ok", "error": None,
                      "timing": {"job_seconds": 5.0, "fit_seconds": 600.0,
                                 "predict_ms_per_1k": 10.0},
                      "metrics": {"test": {"accuracy": 0.5}},
                      "trained_by": {"name": MODERN}})
    assert display.ran_seconds == []  # 5 s of scoring is no training's time

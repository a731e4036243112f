"""Kept models and ``--evaluate``: a metric added to stored records from the model that made
them gives the numbers the job itself computed, and nothing untrusted is loaded."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from benchmarks.cli import main
from benchmarks.errors import StoreError
from benchmarks.records.store import ResultsStore
from benchmarks.run.model_cache import ModelCache, file_digest
from pipelines.saving import NETWORK_FILE, load_pipeline, save_pipeline

PIPELINES = "raw-tree,pca-bayes1,raw-knn"


def smoke_run(results, cache, *extra):
    return main(["--dataset", "digits", "--profile", "smoke", "--results-dir", str(results),
                 "--model-cache", str(cache), "--only", PIPELINES, *extra])


def strip_new_metrics(store: ResultsStore) -> list[dict]:
    """The store as a store made before robustness and calibration were measured."""
    originals = store.records()
    stripped = []
    for record in originals:
        record = json.loads(json.dumps(record))
        record["metrics"]["robustness"] = None
        for key in ("ece", "brier", "selective_accuracy_90", "reliability"):
            record["metrics"]["test"].pop(key, None)
        stripped.append(record)
    store.path.write_text("".join(json.dumps(record) + "\n" for record in stripped))
    return originals


@pytest.fixture
def ran(tmp_path):
    results, cache = tmp_path / "results", tmp_path / "models"
    assert smoke_run(results, cache, "--quiet") == 0
    return results, cache, ResultsStore(results, "digits", "smoke")


def test_each_ok_job_keeps_its_model_named_with_digests(ran):
    _, cache, store = ran
    for record in store.records():
        saved = record["saved_model"]
        directory = cache / os.path.basename(saved["directory"])
        assert directory.is_dir() and saved["bytes"] > 0
        assert {name: file_digest(directory / name) for name in saved["files"]} \
            == saved["files"]


def test_evaluate_adds_the_metrics_the_job_computed_without_retraining(ran, capsys):
    results, cache, store = ran
    originals = {record["name"]: record for record in strip_new_metrics(store)}
    code = smoke_run(results, cache, "--evaluate", "robustness", "--evaluate", "calibration")
    assert code == 0
    out = capsys.readouterr().out
    assert "evaluated 3 records" in out
    latest = {record["name"]: record for record in store.latest().values()}
    for name, original in originals.items():
        evaluated = latest[name]
        assert evaluated["evaluated"]["from_run"] == original["run_id"]
        assert evaluated["run_id"] != original["run_id"]
        assert evaluated["metrics"]["robustness"]["accuracy"] == pytest.approx(
            original["metrics"]["robustness"]["accuracy"])
        for key in ("ece", "brier", "selective_accuracy_90"):
            assert evaluated["metrics"]["test"][key] == pytest.approx(
                original["metrics"]["test"][key])
        assert evaluated["timing"]["fit_seconds"] == original["timing"]["fit_seconds"]
    assert len(store.records()) == 6  # appended: the stripped records are still there
    assert smoke_run(results, cache, "--evaluate", "robustness") == 0
    assert "evaluated 0 records (3 had the metrics already" in capsys.readouterr().out


def test_a_changed_gone_or_foreign_model_is_listed_not_loaded(ran, capsys, tmp_path):
    results, cache, store = ran
    strip_new_metrics(store)
    records = {record["name"]: record for record in store.records()}
    tampered = records["raw-tree"]["saved_model"]
    with open(os.path.join(tampered["directory"], "pipeline.joblib"), "ab") as handle:
        handle.write(b"\0")
    gone = records["raw-knn"]["saved_model"]["directory"]
    for name in os.listdir(gone):
        os.remove(os.path.join(gone, name))
    before = len(store.records())
    assert smoke_run(results, tmp_path / "another-cache", "--evaluate", "robustness") == 0
    out = capsys.readouterr().out
    assert "not in this machine's model cache" in out  # every record: another cache
    assert len(store.records()) == before
    assert smoke_run(results, cache, "--evaluate", "robustness") == 0
    out = capsys.readouterr().out
    assert "raw-tree" in out and "has changed since its record was written" in out
    assert "raw-knn" in out and "is gone" in out
    assert "evaluated 1 records" in out  # pca-bayes1 only
    assert len(store.records()) == before + 1


def test_the_cache_removes_the_oldest_models_past_its_cap(tmp_path):
    cache = ModelCache(tmp_path, cap_bytes=250)
    for age, name in enumerate(["oldest", "middle", "newest"]):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "pipeline.joblib").write_bytes(b"x" * 100)
        os.utime(folder, (1_000_000 + age, 1_000_000 + age))
    assert [path.name for path in cache.prune()] == ["oldest"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["middle", "newest"]


def _fitted_network(name: str):
    """``name`` fitted at the smoke profile on 160 random images; and the 40 held out."""
    from pipelines.profiles import get_profile
    from pipelines.registry import create_pipeline

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(200, 28, 28), dtype=np.uint8)
    labels = np.arange(200) % 10
    pipeline = create_pipeline(name, get_profile("smoke"), seed=0)
    pipeline.fit(images[:160], labels[:160], validation=(images[160:], labels[160:]),
                 n_classes=10)
    return pipeline, images[160:]


def test_a_network_is_kept_as_its_own_keras_file(tmp_path):
    pipeline, held_out = _fitted_network("mcnn")
    save_pipeline(pipeline, tmp_path / "kept")
    from pipelines.deep._backend import keras

    network = keras.saving.load_model(tmp_path / "kept" / NETWORK_FILE, compile=False)
    assert network.count_params() == 213_354  # the MCNN of seed 000, opened by Keras alone
    loaded = load_pipeline(tmp_path / "kept")
    np.testing.assert_allclose(loaded.predict_proba(held_out),
                               pipeline.predict_proba(held_out), rtol=1e-5, atol=1e-6)
    assert pipeline.model_ is not None  # saving left the fitted pipeline whole


def test_a_network_with_the_recipes_augmentation_layer_loads_back(tmp_path):
    """The modern recipe puts our own augmentation layer in the network; Keras imports only
    its own modules when it opens a file, so without being told of the layer it refused every
    kept @modern model (--evaluate had nothing to load)."""
    pipeline, held_out = _fitted_network("mcnn@modern")
    assert any(layer.name == "augmentation" for layer in pipeline.model_.layers)
    save_pipeline(pipeline, tmp_path / "kept")
    loaded = load_pipeline(tmp_path / "kept")
    np.testing.assert_allclose(loaded.predict_proba(held_out),
                               pipeline.predict_proba(held_out), rtol=1e-5, atol=1e-6)


def test_load_refuses_a_record_without_a_kept_model(tmp_path):
    with pytest.raises(StoreError, match="no saved model"):
        ModelCache(tmp_path).load(None)


def test_an_svm_kept_before_its_calibration_is_calibrated_on_its_own_validation_images(
        tmp_path, capsys):
    """An SVM kept by the code before SVMs had probabilities: --evaluate calibration fits the
    temperature on the validation images its run held out, and so gives the ECE the run
    itself measured."""
    results, cache = tmp_path / "results", tmp_path / "models"
    run = ["--dataset", "digits", "--profile", "smoke", "--results-dir", str(results),
           "--model-cache", str(cache), "--only", "raw-svm"]
    assert main([*run, "--quiet"]) == 0
    store = ResultsStore(results, "digits", "smoke")
    (original,) = strip_new_metrics(store)
    assert original["model"]["calibration"]["temperature"] > 0
    directory = cache / os.path.basename(original["saved_model"]["directory"])
    old_model = load_pipeline(directory)
    del old_model.calibrator_
    save_pipeline(old_model, directory)
    (stripped,) = store.records()
    stripped["saved_model"]["files"] = {name: file_digest(directory / name)
                                        for name in stripped["saved_model"]["files"]}
    stripped["model"]["calibration"] = None
    stripped["metrics"]["test"]["log_loss"] = None  # as an SVM without probabilities had
    store.path.write_text(json.dumps(stripped) + "\n")

    assert main([*run, "--evaluate", "calibration"]) == 0
    assert "evaluated 1 records" in capsys.readouterr().out
    evaluated = store.latest()[next(iter(store.latest()))]
    assert evaluated["model"]["calibration"]["temperature"] == pytest.approx(
        original["model"]["calibration"]["temperature"])
    for key in ("ece", "brier", "log_loss"):
        assert evaluated["metrics"]["test"][key] == pytest.approx(
            original["metrics"]["test"][key])

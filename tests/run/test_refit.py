"""Refit on train + validation (--refit): what it trains on, what it replays, how it shows."""

import json

import numpy as np
import pytest

from benchmarks.cli import main
from benchmarks.data.splits import make_split, subsample
from benchmarks.records.record import decode_labels
from benchmarks.records.store import ResultsStore
from benchmarks.reports.leaderboard import leaderboard_markdown
from benchmarks.run.context import Job
from benchmarks.run.plan import changed_settings
from benchmarks.run.refit import refit_overrides
from benchmarks.run.runner import RunOptions, run
from pipelines import create_pipeline
from pipelines.profiles import get_profile


@pytest.fixture(scope="module")
def refitted(digits, tmp_path_factory):
    results = tmp_path_factory.mktemp("refit")
    summary = run(RunOptions(pipelines=["pca-svm", "raw-knn"], dataset="digits",
                             profile="smoke", results_dir=results, refit=True),
                  report=lambda line: None)
    assert not summary.failed
    return results, {record["name"]: record for record in summary.ran}


def test_a_refit_trains_the_chosen_settings_on_train_and_validation(refitted, digits):
    _, records = refitted
    chosen, refit = records["pca-svm"], records["pca-svm[refit]"]
    assert refit["refit"] == {"of_run": chosen["run_id"], "trained_on": "train + validation"}
    assert refit["sizes"]["train"] == chosen["sizes"]["train"] + chosen["sizes"]["validation"]
    assert refit["sizes"]["test"] == chosen["sizes"]["test"]
    assert refit["metrics"]["validation"] is None  # nothing held out is left
    # independently: the same estimator fitted by hand on the two parts together
    split, profile = make_split("standard", digits), get_profile("smoke")
    parts = [subsample(indices, digits.labels, size, 0) for indices, size in
             ((split.train, profile.train_size), (split.validation, profile.validation_size),
              (split.test, profile.test_size))]
    images = np.concatenate([digits.images[parts[0]], digits.images[parts[1]]])
    labels = np.concatenate([digits.labels[parts[0]], digits.labels[parts[1]]])
    by_hand = create_pipeline("pca-svm", profile, seed=0).fit(images, labels)
    expected = by_hand.predict(digits.images[parts[2]])
    assert np.array_equal(decode_labels(refit["predictions"]["test"]), expected)
    assert not np.array_equal(decode_labels(chosen["predictions"]["test"]), expected) \
        or chosen["metrics"]["test"] == refit["metrics"]["test"]


def test_refit_rows_are_marked_and_have_no_validation_score(refitted):
    results, _ = refitted
    markdown = leaderboard_markdown(ResultsStore(results, "digits", "smoke"))
    assert "Rows marked `[refit]` (2) were refitted" in markdown
    row = next(line for line in markdown.splitlines() if "| pca-svm[refit] " in line)
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert "–" in cells  # the validation accuracy column
    assert "1,288" in cells  # 1,000 training + 288 validation images


def test_a_second_run_finds_the_refits_stored(refitted):
    results, _ = refitted
    lines = []
    summary = run(RunOptions(pipelines=["pca-svm", "raw-knn"], dataset="digits",
                             profile="smoke", results_dir=results, refit=True),
                  report=lines.append)
    assert summary.ran == [] and len(summary.skipped) == 4
    assert any("pca-svm[refit] seed 0: already stored" in line for line in lines)


def history(rates):
    return [{"epoch": epoch, "learning_rate": rate, "val_accuracy": 0.5}
            for epoch, rate in enumerate(rates, start=1)]


def test_a_network_refits_for_its_best_epochs_at_their_learning_rates():
    chosen = {"family": "deep", "model": {"best_epoch": 3},
              "history": history([1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4])}
    assert dict(refit_overrides(chosen)) == {
        "epochs": 3, "early_stopping": False, "schedule": "steps",
        "learning_rates": (1e-3, 1e-3, 5e-4)}
    assert refit_overrides({"family": "classical", "model": {}, "history": None}) == ()
    # no best epoch recorded (no early stopping): every epoch it ran
    assert dict(refit_overrides({"family": "deep", "model": {},
                                 "history": history([1e-3, 1e-4])}))["epochs"] == 2


def test_a_network_trained_to_a_fixed_budget_refits_with_its_own_recipe():
    # the modern recipe: warm-up and cosine decay over the whole budget, no early stopping;
    # its history's rates are each epoch's last, 0 for the last epoch
    params = {"schedule": "cosine", "early_stopping": False, "epochs": 3}
    chosen = {"family": "deep", "model": {"best_epoch": 3, "params": params},
              "history": history([0.05, 0.1, 0.0])}
    assert refit_overrides(chosen) == ()
    # early stopping chose the epochs, or a plateau schedule chose the rates: replayed
    for changed in ({"early_stopping": True}, {"schedule": "plateau"}):
        chosen["model"]["params"] = {**params, **changed}
        assert dict(refit_overrides(chosen))["schedule"] == "steps"


def test_a_steps_schedule_needs_a_rate_for_every_epoch():
    from pipelines.deep.keras_pipeline import TrainingConfig

    with pytest.raises(ValueError, match="learning rate for each of the 3 epochs"):
        TrainingConfig(epochs=3, schedule="steps", learning_rates=(1e-3, 1e-3))
    assert TrainingConfig(epochs=2, schedule="steps", learning_rates=(1, 0.5)).learning_rates \
        == (1.0, 0.5)


def test_boosting_rounds_are_chosen_on_validation_and_a_refit_trains_that_many(digits, tmp_path):
    pytest.importorskip("xgboost")
    summary = run(RunOptions(pipelines=["pca-xgboost"], dataset="digits", profile="smoke",
                             results_dir=tmp_path, refit=True, force=True),
                  report=lambda line: None)
    chosen, refit = summary.ran
    rounds = chosen["model"]["chosen_on_validation"]["n_estimators"]
    # independently: XGBoost's own validation log-loss curve, refitted by hand
    split, profile = make_split("standard", digits), get_profile("smoke")
    train, validation = (subsample(indices, digits.labels, size, 0) for indices, size in
                         ((split.train, profile.train_size),
                          (split.validation, profile.validation_size)))
    pipeline = create_pipeline("pca-xgboost", profile, seed=0)
    pipeline.fit(digits.images[train], digits.labels[train],
                 validation=(digits.images[validation], digits.labels[validation]))
    curve = pipeline.estimator_[-1].evals_result()["validation_0"]["mlogloss"]
    assert rounds == int(np.argmin(curve)) + 1
    assert refit["overrides"] == {"early_stopping_rounds": None, "n_estimators": rounds}
    assert refit["model"]["params"]["xgboost__n_estimators"] == rounds
    assert refit["model"]["chosen_on_validation"] is None


def test_a_refit_is_refused_when_the_settings_changed_since_the_validation_run(refitted):
    results, records = refitted
    chosen = records["pca-svm"]
    job = Job("pca-svm", "digits", "standard", "smoke", 0)
    assert changed_settings(job, chosen, get_profile("smoke")) == []
    edited = {**chosen, "model": {**chosen["model"],
                                  "params": {**chosen["model"]["params"], "svm__C": 1.0}}}
    assert changed_settings(job, edited, get_profile("smoke")) == ["svm__C"]
    # the threads a job was granted are not a setting of the model
    threads = {**chosen, "model": {**chosen["model"],
                                   "params": {**chosen["model"]["params"], "pca__n_jobs": 7}}}
    assert changed_settings(job, threads, get_profile("smoke")) == []


def test_a_refit_of_an_older_validation_run_is_refitted_again(digits, tmp_path):
    def once(**options):
        return run(RunOptions(pipelines=["raw-knn"], dataset="digits", profile="smoke",
                              results_dir=tmp_path, **options), report=lambda line: None)

    first = once(refit=True)
    assert [r["name"] for r in first.ran] == ["raw-knn", "raw-knn[refit]"]
    rerun = once(force=True)  # the validation run again, as after a change of settings
    again = once(refit=True)
    assert [r["name"] for r in again.ran] == ["raw-knn[refit]"]  # not the validation run
    assert again.ran[0]["refit"]["of_run"] == rerun.ran[0]["run_id"] != \
        first.ran[1]["refit"]["of_run"]
    assert once(refit=True).ran == []  # now current: stored, skipped


def test_a_refit_configured_otherwise_than_today_is_refitted_again(digits, tmp_path):
    """A stored refit of the same validation run whose overrides are not today's (a fixed
    recipe's refit that replayed per-epoch rates, before its refit trained the recipe
    itself) is out of date, though the stored name and validation run still match."""
    def once():
        return run(RunOptions(pipelines=["raw-knn"], dataset="digits", profile="smoke",
                              results_dir=tmp_path, refit=True), report=lambda line: None)

    first = once()
    store = ResultsStore(tmp_path, "digits", "smoke")
    validation, refit = (json.loads(line) for line in store.path.read_text().splitlines())
    refit["overrides"] = {"schedule": "steps"}
    store.path.write_text(json.dumps(validation) + "\n" + json.dumps(refit) + "\n")
    again = once()
    assert [r["name"] for r in again.ran] == ["raw-knn[refit]"]
    assert again.ran[0]["refit"]["of_run"] == first.ran[0]["run_id"]
    assert once().ran == []


def test_a_metric_added_to_the_validation_run_leaves_its_refit_current(digits, tmp_path):
    """--evaluate appends the same run with a metric added: its refit still refits it."""
    def once(*extra):
        return main(["--dataset", "digits", "--profile", "smoke", "--results-dir",
                     str(tmp_path / "results"), "--model-cache", str(tmp_path / "models"),
                     "--only", "raw-knn", "--quiet", *extra])

    assert once("--refit") == 0
    store = ResultsStore(tmp_path / "results", "digits", "smoke")
    lines = store.path.read_text().splitlines()
    validation_run = json.loads(lines[0])
    assert validation_run["name"] == "raw-knn"
    validation_run["metrics"]["robustness"] = None  # as a record made before robustness
    store.path.write_text("\n".join([json.dumps(validation_run), *lines[1:]]) + "\n")
    assert once("--evaluate", "robustness") == 0
    evaluated = [json.loads(line) for line in store.path.read_text().splitlines()][-1]
    assert evaluated["evaluated"]["from_run"] == validation_run["run_id"]
    before = len(store.records())
    assert once("--refit") == 0
    assert len(store.records()) == before  # nothing trained again


def test_an_svm_refit_scales_its_decision_function_by_its_validation_runs_temperature(
        refitted):
    _, records = refitted
    chosen, refit = records["pca-svm"], records["pca-svm[refit]"]
    temperature = chosen["model"]["calibration"]["temperature"]
    assert temperature > 0 and chosen["model"]["calibration"]["fitted_on"] == "validation"
    assert refit["model"]["calibration"]["temperature"] == temperature
    assert refit["model"]["calibration"]["fitted_on"] == "its validation run"
    assert 0 <= refit["metrics"]["test"]["ece"] < 0.5 and refit["metrics"]["test"]["log_loss"]

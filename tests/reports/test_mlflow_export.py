"""Records exported to MLflow (the optional ``fashionbench[mlflow]`` extra): every record one
run whose params, metrics, tags and artifacts read back as the record says, and no duplicate
on a second export."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks.errors import FashionbenchError
from benchmarks.records.record import encode_labels
from benchmarks.records.store import ResultsStore
from benchmarks.reports.mlflow import INSTALL_HINT, RUN_ID_TAG, export_to_mlflow
from benchmarks.reports.publish import draw_leaderboard_figures
from benchmarks.reports.rows import summarise
from tests.conftest import frameworks_imported_by

mlflow = pytest.importorskip("mlflow")

from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH  # noqa: E402  (MLflow's own limit)

CLASSES = ["zero", "one", "two"]
N_TEST = 12
FINGERPRINT = "0123456789abcdef"
LONG_VALUE = "x" * (MAX_PARAM_VAL_LENGTH + 500)
HISTORY = [
    {"epoch": 1, "loss": 0.9, "accuracy": 0.61, "val_loss": 0.8, "val_accuracy": 0.655,
     "learning_rate": 0.001, "seconds": 2.5, "train_seconds": 2.0},
    {"epoch": 2, "loss": 0.5, "accuracy": 0.8125, "val_loss": 0.55, "val_accuracy": 0.79,
     "learning_rate": 0.0005, "seconds": 2.25, "train_seconds": 2.0},
    {"epoch": 3, "loss": 0.375, "accuracy": 0.875, "val_loss": 0.5, "val_accuracy": 0.83,
     "learning_rate": 0.0005, "seconds": 2.0, "train_seconds": 1.75},
]


def make_record(name, seed, *, family="classical", status="ok", mistakes=2, params=None,
                overrides=None, history=None, recipe=None):
    true = np.arange(N_TEST) % len(CLASSES)
    predicted = true.copy()
    predicted[:mistakes] = (true[:mistakes] + 1) % len(CLASSES)
    accuracy = float(np.mean(predicted == true))

    def evaluation(value):
        return {"n": N_TEST, "accuracy": value, "macro_f1": value - 0.0125,
                "balanced_accuracy": value - 0.00625, "kappa": value - 0.1,
                "log_loss": 0.3125 if family == "deep" else None,
                "per_class": [value] * len(CLASSES),
                "confusion": [[4 if i == j else 0 for j in range(3)] for i in range(3)]}

    ok = status == "ok"
    return {
        "run_id": f"run-{name}-{seed}-{status}", "name": name, "pipeline": name.split("[")[0],
        "family": family, "dataset": "digits",
        "split": {"name": "standard", "fingerprint": FINGERPRINT,
                  "sizes": {"train": 100, "validation": 20, "test": N_TEST}},
        "profile": "smoke", "seed": seed, "class_names": CLASSES, "status": status,
        "error": None if ok else "ValueError: the model would not fit",
        "sizes": {"train": 50, "validation": 20, "test": N_TEST},
        "metrics": {"validation": evaluation(accuracy - 0.05), "test": evaluation(accuracy)}
        if ok else None,
        "timing": {"fit_seconds": 1.5 + seed, "predict_seconds": 0.25,
                   "predict_ms_per_1k": 20.5, "latency_ms": 0.75, "peak_rss_mb": 321.25,
                   "peak_memory_scope": "job"} if ok else None,
        "model": {"name": name, "family": family, "reducer": "raw", "n_parameters": None,
                  "params": params or {"n_neighbors": 5, "weights": "distance"}},
        "history": history,
        "predictions": {"encoding": "uint8-base64", "test": encode_labels(predicted),
                        "test_true": encode_labels(true)} if ok else None,
        "checkpoint": None,
        "env": {"python": "3.11.7", "hardware": "Test CPU (1 of 2 cores)",
                "git_commit": "a" * 40},
        "recipe": recipe, "overrides": overrides or {},
        "started_at": f"2026-11-2{seed}T10:00:00+00:00",
        "finished_at": f"2026-11-2{seed}T10:00:30+00:00",
        "warnings": [],
    }


def build_results(root: Path) -> dict[str, dict]:
    """A store and a study's store; the store's figures drawn by publish as a report would."""
    deep_params = {"epochs": 3, "optimizer": "adam", "augment": ["flip"], "dropout": None,
                   "callbacks": {"EarlyStopping": {"monitor": "val_accuracy", "patience": 5}},
                   "note": LONG_VALUE}
    records = [
        make_record("raw-knn", 0, mistakes=2),
        make_record("raw-knn", 1, mistakes=3),
        make_record("mcnn", 0, family="deep", mistakes=1, params=deep_params, history=HISTORY,
                    recipe="seed"),
        make_record("raw-svm", 0, status="failed"),
    ]
    store = ResultsStore(root, "digits", "smoke")
    for record in records:
        store.append(record)
    study = make_record("pca-knn[n_components=10]", 0, overrides={"n_components": 10})
    ResultsStore(root / "studies" / "pca-components", "digits", "smoke").append(study)

    rows = summarise(store.records())
    images = np.zeros((N_TEST, 8, 8), dtype=np.uint8)
    draw_leaderboard_figures(rows, CLASSES, store.location.figures, f"standard-{FINGERPRINT[:8]}",
                             "digits, smoke", test_images=lambda run: images)
    return {record["run_id"]: record for record in [*store.records(), study]}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """One database for the module (MLflow's migrations take seconds): the results exported
    once into the default experiment."""
    base = tmp_path_factory.mktemp("mlflow")
    results = base / "results"
    records = build_results(results)
    uri = f"sqlite:///{base}/mlflow.db"
    summary = export_to_mlflow(results, uri, artifact_location=str(base / "artifacts"))
    client = mlflow.MlflowClient(tracking_uri=uri)
    runs = client.search_runs([summary.experiment_id], max_results=1000)
    return {"base": base, "results": results, "records": records, "uri": uri,
            "summary": summary, "client": client,
            "runs": {run.data.tags[RUN_ID_TAG]: run for run in runs}}


def test_every_record_is_one_run(exported):
    summary = exported["summary"]
    assert (summary.logged, summary.skipped, summary.failed, summary.redone) == (5, 0, 1, 0)
    assert summary.stores == 2
    assert sorted(exported["runs"]) == sorted(exported["records"])
    assert "exported 5 records" in summary.describe()


def test_params_are_the_records_fields_and_hyperparameters(exported):
    record = exported["records"]["run-raw-knn-0-ok"]
    assert exported["runs"]["run-raw-knn-0-ok"].data.params == {
        "name": "raw-knn", "pipeline": "raw-knn", "family": "classical", "dataset": "digits",
        "profile": "smoke", "seed": "0", "split.name": "standard",
        "split.sizes.train": "100", "split.sizes.validation": "20", "split.sizes.test": "12",
        "sizes.train": "50", "sizes.validation": "20", "sizes.test": "12",
        "model.reducer": "raw", "model.params.n_neighbors": "5",
        "model.params.weights": "distance",
    }
    assert record["model"]["params"]["n_neighbors"] == 5

    deep = exported["runs"]["run-mcnn-0-ok"].data.params
    assert deep["recipe"] == "seed"
    assert deep["model.params.epochs"] == "3"
    assert deep["model.params.augment"] == '["flip"]'
    assert deep["model.params.dropout"] == "null"
    assert deep["model.params.callbacks.EarlyStopping.monitor"] == "val_accuracy"
    assert deep["model.params.callbacks.EarlyStopping.patience"] == "5"
    note = deep["model.params.note"]  # longer than MLflow takes: cut at its limit
    assert len(note) == MAX_PARAM_VAL_LENGTH and note == "x" * (len(note) - 1) + "…"

    study = exported["runs"]["run-pca-knn[n_components=10]-0-ok"].data.params
    assert study["name"] == "pca-knn[n_components=10]" and study["pipeline"] == "pca-knn"
    assert study["overrides.n_components"] == "10"


def test_metrics_are_the_records_exactly(exported):
    for run_id, record in exported["records"].items():
        if record["status"] != "ok":
            continue
        metrics = exported["runs"][run_id].data.metrics
        for part in ("validation", "test"):
            for name in ("accuracy", "macro_f1", "balanced_accuracy", "kappa"):
                assert metrics[f"{part}.{name}"] == record["metrics"][part][name]
        for name in ("fit_seconds", "predict_ms_per_1k", "latency_ms", "peak_rss_mb"):
            assert metrics[name] == record["timing"][name]
        assert "peak_memory_scope" not in metrics  # not a number
    classical = exported["runs"]["run-raw-knn-0-ok"].data.metrics
    assert classical["test.accuracy"] == 10 / 12
    assert "test.log_loss" not in classical  # null in the record
    assert exported["runs"]["run-mcnn-0-ok"].data.metrics["test.log_loss"] == 0.3125


def test_a_deep_records_history_is_stepped_by_epoch(exported):
    client = exported["client"]
    run = exported["runs"]["run-mcnn-0-ok"]
    started = run.info.start_time
    # the training set's numbers as train.*, never beside test.accuracy under a bare name
    for name, logged in (("accuracy", "train.accuracy"), ("val_accuracy", "val_accuracy"),
                         ("loss", "train.loss"), ("val_loss", "val_loss"),
                         ("learning_rate", "learning_rate")):
        history = sorted(client.get_metric_history(run.info.run_id, logged),
                         key=lambda metric: metric.step)
        assert [(metric.step, metric.value) for metric in history] == [
            (epoch["epoch"], epoch[name]) for epoch in HISTORY]
        assert [metric.timestamp - started for metric in history] == [2500, 4750, 6750]
    assert "accuracy" not in exported["runs"]["run-raw-knn-0-ok"].data.metrics
    assert "accuracy" not in run.data.metrics and "loss" not in run.data.metrics


def test_only_the_leaderboards_records_by_default_and_superseded_ones_are_tagged(tmp_path):
    """A rerun of a job supersedes its record: the default export logs the records the
    leaderboard uses, tagged current; --all-records the history, the old one current=false;
    an earlier export's run of a record since superseded is re-tagged false."""
    results = tmp_path / "results"
    store = ResultsStore(results, "digits", "smoke")
    old = make_record("raw-knn", 0, mistakes=2)
    store.append(old)
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    export_to_mlflow(results, uri)
    newer = {**make_record("raw-knn", 0, mistakes=1), "run_id": "run-raw-knn-0-newer",
             "finished_at": "2026-11-29T10:00:30+00:00"}
    store.append(newer)
    summary = export_to_mlflow(results, uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    runs = {run.data.tags[RUN_ID_TAG]: run
            for run in client.search_runs([summary.experiment_id])}
    assert {run_id: run.data.tags["fashionbench.current"] for run_id, run in runs.items()} \
        == {old["run_id"]: "false", newer["run_id"]: "true"}
    # the default export of a fresh database: the current record only
    fresh = export_to_mlflow(results, f"sqlite:///{tmp_path}/fresh.db")
    assert fresh.logged == 1
    every = export_to_mlflow(results, f"sqlite:///{tmp_path}/every.db", all_records=True)
    assert every.logged == 2
    # artifacts beside the database, not in the working directory's ./mlruns
    assert (tmp_path / "mlflow-artifacts").is_dir() and not Path("mlruns").exists()


def test_tags_and_run_times(exported):
    for run_id, record in exported["records"].items():
        run = exported["runs"][run_id]
        tags = run.data.tags
        assert tags[RUN_ID_TAG] == record["run_id"]
        assert tags["fashionbench.dataset"] == "digits"
        assert tags["fashionbench.profile"] == "smoke"
        assert tags["fashionbench.split"] == "standard"
        assert tags["fashionbench.split_fingerprint"] == FINGERPRINT
        assert tags["fashionbench.hardware"] == "Test CPU (1 of 2 cores)"
        assert tags["fashionbench.status"] == record["status"]
        assert tags["fashionbench.git_commit"] == tags["mlflow.source.git.commit"] == "a" * 40
        assert run.info.run_name == f"{record['name']} (seed {record['seed']})"
        assert run.info.end_time - run.info.start_time == 30_000
    study = exported["runs"]["run-pca-knn[n_components=10]-0-ok"].data.tags
    assert study["fashionbench.study"] == "pca-components"
    assert study["fashionbench.store"] == "studies/pca-components/digits/smoke/runs.jsonl"
    assert "fashionbench.study" not in exported["runs"]["run-raw-knn-0-ok"].data.tags


def test_a_failed_record_is_a_failed_run_without_metrics(exported):
    run = exported["runs"]["run-raw-svm-0-failed"]
    assert run.info.status == "FAILED"
    assert run.data.metrics == {}
    assert run.data.tags["fashionbench.status"] == "failed"
    assert run.data.tags["fashionbench.error"] == "ValueError: the model would not fit"
    assert run.data.params["name"] == "raw-svm"
    assert exported["runs"]["run-raw-knn-0-ok"].info.status == "FINISHED"


def test_artifacts_are_the_record_and_the_figures_that_show_it(exported, tmp_path):
    client = exported["client"]
    figures_dir = exported["results"] / "digits" / "smoke" / "figures"
    prefix = f"standard-{FINGERPRINT[:8]}"
    expected = {  # the leader's grid, each family leader's confusion, the network's curves
        "run-mcnn-0-ok": {f"{prefix}-confusion-mcnn.png", f"{prefix}-curves-mcnn.png",
                          f"{prefix}-misclassified-mcnn.png"},
        "run-raw-knn-0-ok": {f"{prefix}-confusion-raw-knn.png"},
    }
    for run_id, record in exported["records"].items():
        run = exported["runs"][run_id]
        local = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / run_id)))
        assert json.loads((local / "record.json").read_text(encoding="utf-8")) == record
        figures = {path.name for path in (local / "figures").glob("*")}
        assert figures == expected.get(run_id, set()), run_id
        for name in figures:
            assert (local / "figures" / name).read_bytes() == (figures_dir / name).read_bytes()
    split_wide = {f"{prefix}-accuracy-vs-fit-time.png", f"{prefix}-per-class.png"}
    assert split_wide <= {path.name for path in figures_dir.glob("*.png")}  # drawn, not logged


def test_exporting_again_logs_nothing_new(exported):
    again = export_to_mlflow(exported["results"], exported["uri"])
    assert (again.logged, again.skipped) == (0, 5)
    assert again.experiment_id == exported["summary"].experiment_id
    runs = exported["client"].search_runs([again.experiment_id], max_results=1000)
    assert sorted(run.info.run_id for run in runs) == sorted(
        run.info.run_id for run in exported["runs"].values())


def test_only_a_new_record_is_logged_and_an_interrupted_run_is_redone(exported, tmp_path):
    results = tmp_path / "results"
    shutil.copytree(exported["results"], results)
    experiment = "interrupted"
    first = export_to_mlflow(results, exported["uri"], experiment=experiment,
                             artifact_location=str(tmp_path / "artifacts"))
    client = exported["client"]
    # an export killed after creating this run and before finishing it
    client.create_run(first.experiment_id, tags={RUN_ID_TAG: "run-raw-knn-5-ok"})
    ResultsStore(results, "digits", "smoke").append(make_record("raw-knn", 5))
    second = export_to_mlflow(results, exported["uri"], experiment=experiment)
    assert (second.logged, second.skipped, second.redone) == (1, 5, 1)
    runs = client.search_runs([first.experiment_id], max_results=1000)
    assert sorted(run.data.tags[RUN_ID_TAG] for run in runs) == sorted(
        [*exported["records"], "run-raw-knn-5-ok"])
    assert all(run.info.status != "RUNNING" for run in runs)


def test_a_file_store_uri_works(exported, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    uri = (tmp_path / "mlruns").as_uri()
    summary = export_to_mlflow(exported["results"], uri)
    assert (summary.logged, summary.skipped) == (5, 0)
    assert export_to_mlflow(exported["results"], uri).skipped == 5
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # to read it back here
    runs = mlflow.MlflowClient(tracking_uri=uri).search_runs([summary.experiment_id])
    metrics = {run.data.tags[RUN_ID_TAG]: run.data.metrics for run in runs}
    assert metrics["run-raw-knn-1-ok"]["test.accuracy"] == 9 / 12


def test_without_mlflow_the_error_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow raises ImportError
    with pytest.raises(FashionbenchError, match="pip install 'fashionbench\\[mlflow\\]'") as raised:
        export_to_mlflow(tmp_path, "sqlite:///unused.db")
    assert INSTALL_HINT in str(raised.value) and "\n" not in str(raised.value)
    assert not (Path.cwd() / "unused.db").exists()


def test_a_uri_mlflow_refuses_is_one_line(tmp_path):
    with pytest.raises(FashionbenchError, match="cannot export to MLflow at nosuch://x"):
        export_to_mlflow(tmp_path, "nosuch://x")


def test_importing_the_module_does_not_import_mlflow():
    assert frameworks_imported_by("import benchmarks.reports.mlflow", ("mlflow",)) == []


def test_the_command_line_exports_after_reporting(tmp_path, monkeypatch, capsys):
    from benchmarks.cli import main

    monkeypatch.chdir(tmp_path)  # MLflow's default artifact folder, ./mlruns, lands here
    results = tmp_path / "results"
    assert main(["--dataset", "digits", "--profile", "smoke", "--only", "raw-knn",
                 "--results-dir", str(results), "--quiet"]) == 0
    uri = f"sqlite:///{tmp_path / 'cli.db'}"
    for _ in range(2):  # the second export finds the run and logs nothing
        assert main(["--report-only", "--results-dir", str(results), "--export-mlflow",
                     uri]) == 0
    [record] = ResultsStore(results, "digits", "smoke").records()
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("fashionbench")
    [run] = client.search_runs([experiment.experiment_id])
    assert run.data.tags[RUN_ID_TAG] == record["run_id"]
    assert run.data.metrics["test.accuracy"] == record["metrics"]["test"]["accuracy"]
    assert "exported 0 records from 1 stores" in capsys.readouterr().out

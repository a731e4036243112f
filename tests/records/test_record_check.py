"""A record is checked where it is read (records/check.py): every field a reader uses has
its type and range, or the line is skipped by the store and left out by a merge, naming the
field. The records committed under results/ are the independent fact of what a good record
is: every one of them must still load."""

from __future__ import annotations

import base64
import copy
import json
import warnings
import zlib
from pathlib import Path

import pytest

from benchmarks.merge import merge
from benchmarks.records.record import RecordError, load_record
from benchmarks.records.store import ResultsStore
from benchmarks.reports.publish import publish

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COMMITTED = sorted((PROJECT_ROOT / "results").glob("**/runs.jsonl"))


def committed_record(with_history: bool = False) -> dict:
    """One ok record of the committed quick store (a network's, with its epochs, or not), as
    ``load_record`` reads it (an older line's label moved to ``name``)."""
    for line in (PROJECT_ROOT / "results/fashion-mnist/quick/runs.jsonl").open("rb"):
        record = json.loads(line)
        if bool(record.get("history")) == with_history:
            return copy.deepcopy(load_record(record))
    raise AssertionError("the committed quick store has no such record")


def test_every_committed_record_loads():
    lines = [(path, number, line) for path in COMMITTED
             for number, line in enumerate(path.read_bytes().splitlines(), start=1)
             if line.strip()]
    assert len(lines) > 400
    refused = []
    for path, number, line in lines:
        try:
            load_record(json.loads(line))
        except RecordError as error:
            refused.append(f"{path}:{number}: {error}")
    assert refused == []


def test_every_committed_store_reads_every_line_without_a_warning():
    from benchmarks.records.layout import ResultsLayout

    layout = ResultsLayout(PROJECT_ROOT / "results")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a skipped line would warn
        for location in layout.stores() + layout.study_stores():
            lines = [line for line in location.runs.read_bytes().splitlines() if line.strip()]
            assert len(ResultsStore.of(location).records()) == len(lines), location.runs


def test_a_record_naming_other_classes_than_its_split_is_skipped(tmp_path):
    """Each record alone is valid; side by side on one split, the later one cannot be
    ranked with the first (its per-class scores count other classes)."""
    first = committed_record()
    other = copy.deepcopy(first)
    other.update(run_id="other", seed=first["seed"] + 1, class_names=["a", "b"],
                 predictions=None)
    other["metrics"] = {"validation": None, "test": {
        "accuracy": 0.5, "macro_f1": 0.5, "per_class": [0.5, 0.5], "confusion": [[1, 1], [1, 1]]}}
    load_record(copy.deepcopy(other))
    results = tmp_path / "results"
    store = ResultsStore(results, "fashion-mnist", "quick")
    store.directory.mkdir(parents=True)
    store.path.write_text(json.dumps(first) + "\n" + json.dumps(other) + "\n")
    with pytest.warns(UserWarning, match="line 2 .*class_names differ"):
        assert [record["run_id"] for record in store.records()] == [first["run_id"]]
        publish(results, say=lambda _: None)
    assert store.location.leaderboard.exists()


def _set(path: str, value):
    def mutate(record: dict) -> None:
        *parents, last = path.split(".")
        target = record
        for key in parents:
            target = target[key]
        target[last] = value
    return mutate


def _truth_as_difference(step: int, cut: int = 0, keep_predictions: bool = True):
    """True labels stored as their difference from the predictions (records/labels.py):
    ``step`` added to every prediction, ``cut`` differences short."""
    def mutate(record: dict) -> None:
        size = record["sizes"]["test"] - cut
        record["predictions"]["test_true"] = "d:" + base64.b64encode(
            zlib.compress(bytes([step]) * size)).decode()
        if not keep_predictions:
            del record["predictions"]["test"]
    return mutate


# (what the audit stored, the field the error must name)
BAD = {
    "seed as a list": (_set("seed", [1]), "seed"),
    "seed as true": (_set("seed", True), "seed"),
    "seed negative": (_set("seed", -1), "seed"),
    "seed huge": (_set("seed", 10**30), "seed"),
    "null metrics on an ok record": (_set("metrics", None), "metrics"),
    "no test metrics": (_set("metrics.test", None), "metrics.test"),
    "accuracy as a string": (_set("metrics.test.accuracy", "0.9"), "metrics.test.accuracy"),
    "accuracy NaN-like string": (_set("metrics.test.accuracy", "NaN"),
                                 "metrics.test.accuracy"),
    "accuracy NaN": (_set("metrics.test.accuracy", float("nan")), "metrics.test.accuracy"),
    "accuracy above 1": (_set("metrics.test.accuracy", 1.5), "metrics.test.accuracy"),
    "per_class not a list": (_set("metrics.test.per_class", 3), "metrics.test.per_class"),
    "per_class too short": (_set("metrics.test.per_class", [0.5]), "metrics.test.per_class"),
    "confusion of strings": (_set("metrics.test.confusion", [["a"] * 10] * 10),
                             "metrics.test.confusion"),
    "predictions not base64": (_set("predictions.test", "***"), "predictions.test"),
    "predictions too short": (_set("predictions.test", base64.b64encode(b"\0").decode()),
                              "predictions.test"),
    "predictions not an object": (_set("predictions", "x"), "predictions"),
    "truth a difference from no predictions": (_truth_as_difference(0, keep_predictions=False),
                                               "predictions.test_true"),
    "truth a difference too short": (_truth_as_difference(0, cut=1), "predictions.test_true"),
    "truth a difference past the classes": (_truth_as_difference(10), "predictions.test_true"),
    "timing not an object": (_set("timing", [1]), "timing"),
    "fit time negative": (_set("timing.fit_seconds", -3), "timing.fit_seconds"),
    "fit time infinite": (_set("timing.fit_seconds", float("inf")), "timing.fit_seconds"),
    "history not a list": (_set("history", {"loss": 1}), "history"),
    "history of strings": (_set("history", ["epoch"]), "history[0]"),
    "class_names not strings": (_set("class_names", [1, 2]), "class_names"),
    "huge test size": (_set("sizes.test", 10**20), "sizes.test"),
    "negative train size": (_set("sizes.train", -5), "sizes.train"),
    "unknown status": (_set("status", "great"), "status"),
    "status as a list": (_set("status", ["ok"]), "status"),
    "env not an object": (_set("env", "gpu"), "env"),
    "hardware not a string": (_set("env.hardware", {"a": 1}), "env.hardware"),
    "model's epochs a string": (_set("model.params", {"epochs": "3"}), "model.params.epochs"),
    "saved_model's files a list": (_set("saved_model", {"directory": "d", "files": [],
                                                        "bytes": 1}), "saved_model.files"),
    "evaluated's added a string": (_set("evaluated", {"from_run": "r", "added": "ece",
                                                      "at": "now"}), "evaluated.added"),
    "name with a slash": (_set("name", "../../escape"), "name"),
    "dataset absolute": (_set("dataset", "/tmp/escape"), "dataset"),
    "profile ..": (_set("profile", ".."), "profile"),
    "split name with NUL": (_set("split.name", "a\0b"), "split.name"),
    "pipeline with a newline": (_set("pipeline", "a\nb"), "pipeline"),
    "fingerprint with a backslash": (_set("split.fingerprint", "..\\..\\x"),
                                     "split.fingerprint"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_wrong_field_is_refused_naming_it(case):
    mutate, field = BAD[case]
    record = copy.deepcopy(committed_record(with_history=True))
    mutate(record)
    with pytest.raises(RecordError, match=rf"\b{field.split('.')[-1].split('[')[0]}\b"):
        load_record(record)


def test_the_product_s_own_kinds_of_name_load():
    record = committed_record()
    for name in ("mcnn@modern", "hog-svm[refit]", "mcnn[batch_size=32]",
                 "pca-knn[trial=03]", "<img src=x onerror=alert(1)>", "a|b"):
        load_record({**record, "name": name})
    for dataset in ("fashion-mnist", "digits", "my data.v2"):
        load_record({**record, "dataset": dataset})


def test_the_store_skips_a_bad_line_and_reports_keep_working(tmp_path):
    """One bad line among good ones: the store warns (file and line) and skips it, the
    report is written, and the file still holds every byte."""
    results = tmp_path / "results"
    store = ResultsStore(results, "fashion-mnist", "quick")
    good = committed_record()
    bad = copy.deepcopy(committed_record(with_history=True))
    bad["seed"] = [1]
    store.directory.mkdir(parents=True)
    content = (json.dumps(good) + "\n" + json.dumps(bad) + "\n").encode()
    store.path.write_bytes(content)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [record["run_id"] for record in store.records()] == [good["run_id"]]
        publish(results, say=lambda _: None)
    assert any(f"{store.path}: line 2" in str(warning.message) and "seed" in
               str(warning.message) for warning in caught)
    assert store.location.leaderboard.exists()
    assert store.path.read_bytes() == content


def test_merge_leaves_a_bad_record_out(tmp_path):
    source = tmp_path / "source" / "fashion-mnist" / "quick"
    source.mkdir(parents=True)
    bad = copy.deepcopy(committed_record())
    bad["metrics"]["test"]["accuracy"] = "high"
    (source / "runs.jsonl").write_text(json.dumps(committed_record(with_history=True)) + "\n"
                                       + json.dumps(bad) + "\n")
    summary = merge(tmp_path / "source", tmp_path / "results")
    assert summary.added == 1
    assert len(summary.rejected) == 1 and "runs.jsonl:2" in summary.rejected[0]
    assert "metrics.test.accuracy" in summary.rejected[0]

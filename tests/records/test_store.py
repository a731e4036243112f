import json
import os

import pytest

from benchmarks.errors import StoreError
from benchmarks.records.record import job_key
from benchmarks.records.store import ResultsStore, find_stores


def record(pipeline="raw-knn", seed=0, status="ok", accuracy=0.5):
    """A record with the fields every reader uses (load_record checks them)."""
    test = {"accuracy": accuracy, "macro_f1": accuracy, "per_class": [accuracy, accuracy],
            "confusion": [[1, 1], [1, 1]]}
    sizes = {"train": 8, "validation": 2, "test": 4}
    return {"run_id": f"{pipeline}-{seed}-{status}-{accuracy}", "name": pipeline,
            "pipeline": pipeline, "family": "classical", "dataset": "digits",
            "profile": "smoke", "seed": seed,
            "split": {"name": "standard", "fingerprint": "abc", "sizes": sizes},
            "status": status, "class_names": ["zero", "one"], "sizes": dict(sizes), "env": {},
            "metrics": {"test": test, "validation": None},
            "timing": {"fit_seconds": 1.0, "predict_ms_per_1k": 2.0}}


def test_round_trip_keeps_every_field_and_order(tmp_path):
    store = ResultsStore(tmp_path, "digits", "smoke")
    records = [record(seed=seed, accuracy=seed / 10) for seed in range(3)]
    records[1]["nested"] = {"unicode": "T-shirt/top – ü", "list": [1, 2.5, None]}
    for item in records:
        store.append(item)
    assert store.path == tmp_path / "digits" / "smoke" / "runs.jsonl"
    assert store.records() == records
    assert len(store.path.read_text().splitlines()) == 3
    assert [found.path for found in find_stores(tmp_path)] == [store.path]


def test_resume_semantics(tmp_path):
    store = ResultsStore(tmp_path, "digits", "smoke")
    store.append(record("a", status="failed"))
    store.append(record("b"))
    store.append(record("c"))
    store.append(record("c", status="failed"))  # a forced rerun that failed
    assert store.completed_keys() == {job_key(record("b")), job_key(record("c"))}
    assert store.latest()[job_key(record("c"))]["status"] == "ok"
    store.append(record("a", accuracy=0.9))
    assert job_key(record("a")) in store.completed_keys()


def test_torn_last_line_is_set_aside_before_the_next_append(tmp_path):
    store = ResultsStore(tmp_path, "digits", "smoke")
    store.append(record("a"))
    with open(store.path, "ab") as handle:
        handle.write(b'{"pipeline": "b", "dataset": "dig')  # a writer killed mid-line
    with pytest.warns(UserWarning, match="torn"):
        assert [item["pipeline"] for item in store.records()] == ["a"]
    with pytest.warns(UserWarning, match=r"moved to .*runs\.jsonl\.torn"):
        store.append(record("c"))
    assert [item["pipeline"] for item in store.records()] == ["a", "c"]
    assert b'"dig' in (store.directory / "runs.jsonl.torn").read_bytes()


def test_nan_is_stored_as_null_never_as_invalid_json(tmp_path):
    store = ResultsStore(tmp_path, "digits", "smoke")
    # a log loss and a memory reading that were not finite: null, and the record still loads
    nan = record()
    nan["metrics"]["test"]["log_loss"] = float("nan")
    nan["timing"]["peak_rss_mb"] = float("inf")
    store.append(nan)
    assert "NaN" not in store.path.read_text() and "Infinity" not in store.path.read_text()
    stored = store.records()[0]
    assert stored["metrics"]["test"]["log_loss"] is None
    assert stored["timing"]["peak_rss_mb"] is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_directory_names_the_path(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(StoreError, match=str(tmp_path)):
            ResultsStore(tmp_path, "digits", "smoke").ensure_writable()
    finally:
        tmp_path.chmod(0o700)


def test_results_dir_that_is_a_file_names_the_path(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match=f"cannot write results to {blocker}"):
        ResultsStore(blocker, "digits", "smoke").ensure_writable()


def test_records_are_one_json_object_per_line(tmp_path):
    store = ResultsStore(tmp_path, "digits", "smoke")
    store.append(record())
    line = store.path.read_text()
    assert line.endswith("\n") and json.loads(line) == record()


def test_merging_results_from_another_machine_is_idempotent(tmp_path, capsys):
    """GPU-machine results come back as a results directory; merging adds each record once,
    unchanged, to the store at the same place, and reports lines that are not records."""
    from benchmarks.merge import main as merge_main
    from benchmarks.run.runner import RunOptions, run

    elsewhere = tmp_path / "elsewhere"
    run(RunOptions(pipelines=["raw-knn", "pca-knn"], dataset="digits", profile="smoke",
                   results_dir=elsewhere), report=lambda line: None)
    study = elsewhere / "studies" / "some-study" / "digits" / "smoke"
    study.mkdir(parents=True)
    source = ResultsStore(elsewhere, "digits", "smoke")
    records = source.records()
    (study / "runs.jsonl").write_text(json.dumps(records[0]) + "\n")
    with open(source.path, "a") as handle:
        handle.write('{"pipeline": "half a record"}\n{"torn')

    ours = tmp_path / "results"
    ResultsStore(ours, "digits", "smoke").append({**records[0], "run_id": "already-ours"})
    assert merge_main([str(elsewhere), "--results-dir", str(ours)]) == 0
    out, err = capsys.readouterr()
    assert "merged 3 records (0 already there, 2 left out)" in out
    assert "missing run_id" in err and "not JSON" in err and "runs.jsonl:4" in err
    merged = ResultsStore(ours, "digits", "smoke").records()
    assert [r["run_id"] for r in merged] == ["already-ours"] + [r["run_id"] for r in records]
    assert merged[1:] == records  # unaltered
    assert ResultsStore(ours / "studies" / "some-study", "digits", "smoke").records() \
        == records[:1]

    assert merge_main([str(elsewhere), "--results-dir", str(ours)]) == 0
    assert "merged 0 records (3 already there" in capsys.readouterr().out
    assert len(ResultsStore(ours, "digits", "smoke").records()) == 3

    assert merge_main([str(tmp_path / "nowhere"), "--results-dir", str(ours)]) != 0
    assert "no results to merge at" in capsys.readouterr().err


def complete(*args, **kwargs) -> dict:
    """A record with every field ``benchmarks.merge`` requires."""
    return {**record(*args, **kwargs), "family": "classical"}


def test_the_newest_record_by_finish_time_stands_for_a_job_wherever_it_ran(tmp_path):
    """``benchmarks.merge`` appends records from another machine at the end of the store: an
    older run merged today must not replace the newer local one in the leaderboard."""
    from benchmarks.merge import merge

    ours = tmp_path / "results"
    local = {**complete(accuracy=0.9), "run_id": "local",
             "finished_at": "2026-11-23T10:00:00+00:00"}
    ResultsStore(ours, "digits", "smoke").append(local)
    elsewhere = tmp_path / "gpu"
    older = {**complete(accuracy=0.8), "run_id": "gpu-old",
             "finished_at": "2026-11-20T10:00:00+00:00"}
    newer = {**complete("raw-svm", accuracy=0.7), "run_id": "gpu-new",
             "finished_at": "2026-11-24T00:00:00+00:00"}
    for item in (older, newer):
        ResultsStore(elsewhere, "digits", "smoke").append(item)
    merge(elsewhere, ours)

    store = ResultsStore(ours, "digits", "smoke")
    assert [item["run_id"] for item in store.records()] == ["local", "gpu-old", "gpu-new"]
    latest = store.latest()
    assert latest[job_key(local)]["run_id"] == "local"  # the merged line is older
    assert latest[job_key(newer)]["run_id"] == "gpu-new"

    # a newer merged run does replace the local one, even in another time zone's notation
    newest = {**complete(accuracy=0.95), "run_id": "gpu-newest",
              "finished_at": "2026-11-23T12:30:00+02:00"}  # 10:30 UTC, after 10:00 UTC
    store.append(newest)
    assert store.latest()[job_key(local)]["run_id"] == "gpu-newest"
    # an ok record still wins over a newer failed one of the same job
    store.append({**complete(status="failed"), "run_id": "failed-later",
                  "finished_at": "2026-11-25T00:00:00+00:00"})
    assert store.latest()[job_key(local)]["run_id"] == "gpu-newest"


def test_a_store_written_before_name_and_pipeline_were_split_reads_as_the_new_fields(tmp_path):
    # as the runner wrote a study's record until the record type: the label in "pipeline",
    # the registered name in "base_pipeline"
    old = {key: value for key, value in record().items() if key != "name"}
    old_study = old | {"run_id": "x", "pipeline": "mcnn[batch_size=32]", "family": "deep",
                       "base_pipeline": "mcnn"}
    store = ResultsStore(tmp_path, "digits", "smoke")
    store.path.parent.mkdir(parents=True)
    store.path.write_text("".join(json.dumps(item) + "\n" for item in (old, old_study)))
    plain, study = store.records()
    assert (plain["name"], plain["pipeline"]) == ("raw-knn", "raw-knn")
    assert (study["name"], study["pipeline"]) == ("mcnn[batch_size=32]", "mcnn")
    assert "base_pipeline" not in study
    assert set(store.latest()) == {job_key(plain), job_key(study)}  # keyed by the stored name


def test_a_network_asked_for_bfloat16_before_the_name_said_so_reads_as_its_own_job(tmp_path):
    """Stores written before an asked arithmetic marked the name: a network that trained in
    bfloat16 on a CPU (where "auto" is float32, so the run asked for it) reads as
    ``name[bfloat16]``, before a refit's mark, and no longer stands for the float32 job. A
    GPU's bfloat16 ("auto" there) and a pipeline's own setting keep their names."""
    def network(name, device="cpu", policy="mixed_bfloat16", setting="auto"):
        return {**record(), "run_id": f"{name}-{device}-{setting}", "name": name,
                "pipeline": "mcnn", "family": "deep",
                "model": {"device": device, "dtype_policy": policy,
                          "params": {"mixed_precision": setting}}}

    store = ResultsStore(tmp_path, "digits", "smoke")
    for item in (network("mcnn", policy="float32"), network("mcnn"),
                 network("mcnn[refit]"), network("mcnn", device="gpu"),
                 network("mcnn", setting="mixed_bfloat16"),
                 network("mcnn[bfloat16]")):
        store.append(item)
    names = [item["name"] for item in store.records()]
    assert names == ["mcnn", "mcnn[bfloat16]", "mcnn[bfloat16][refit]", "mcnn", "mcnn",
                     "mcnn[bfloat16]"]
    # the unmarked job's newest record is the pipeline's own bfloat16 setting, not the run
    # that asked for bfloat16; and where that asked-for run is the newest, the float32 one
    assert store.latest()[("mcnn", "digits", "abc", "smoke", 0)]["run_id"] \
        == "mcnn-cpu-mixed_bfloat16"
    other = ResultsStore(tmp_path / "other", "digits", "smoke")
    for item in ({**network("mcnn", policy="float32"), "run_id": "float32"}, network("mcnn")):
        other.append(item)
    assert other.latest()[("mcnn", "digits", "abc", "smoke", 0)]["run_id"] == "float32"


def test_a_line_that_is_json_but_not_a_record_is_reported_and_left_in_place(tmp_path):
    store = ResultsStore(tmp_path, "digits", "smoke")
    store.append(record("a"))
    store.append({"pipeline": "b", "seed": 0})  # no run_id, dataset, split, ...
    with pytest.warns(UserWarning, match=r"line 2 is not a record \(missing run_id"):
        assert [item["name"] for item in store.records()] == ["a"]
    assert len(store.path.read_text().splitlines()) == 2

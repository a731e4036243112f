"""The runner end to end on the offline digits set, smoke profile."""

import json
import re

import numpy as np
import pytest

from benchmarks.data.splits import make_split
from benchmarks.records.record import decode_labels
from benchmarks.records.store import ResultsStore
from benchmarks.run.context import Job, RunContext
from benchmarks.run.job import run_job
from benchmarks.run.runner import RunOptions, run
from pipelines import SklearnPipeline, register_pipeline
from pipelines.profiles import get_profile


@pytest.fixture
def context(digits):
    return RunContext(digits, make_split("standard", digits), get_profile("smoke"))


def test_record_has_the_design_fields(context, digits):
    record = run_job(Job("raw-knn", "digits", "standard", "smoke", 0), context)
    assert record["status"] == "ok" and record["error"] is None
    assert record["split"]["fingerprint"] == context.split.fingerprint
    assert record["sizes"] == {"train": 1000, "validation": 288, "test": 360}
    test = record["metrics"]["test"]
    assert 0.9 < test["accuracy"] <= 1.0 and 0 < test["macro_f1"] <= 1
    assert np.array(test["confusion"]).sum() == 360
    assert len(test["per_class"]) == 10
    assert 0 < record["metrics"]["validation"]["accuracy"] <= 1
    timing = record["timing"]
    for field in ("fit_seconds", "predict_seconds", "predict_ms_per_1k", "cpu_seconds",
                  "peak_rss_mb", "latency_ms"):
        assert timing[field] > 0, field
    assert timing["predict_ms_per_1k"] == pytest.approx(timing["predict_seconds"] * 1e6 / 360)
    assert record["model"]["reducer"] == "raw"
    assert record["env"]["python"] and record["env"]["hardware"]
    predictions = decode_labels(record["predictions"]["test"])
    labels = digits.labels[context.split.test]
    assert (predictions == labels).mean() == pytest.approx(test["accuracy"])


def test_every_pipeline_gets_the_same_subsample(context):
    first = context.partitions(0)["train"]
    assert context.partitions(0)["train"] is first
    assert not np.array_equal(context.partitions(1)["train"].labels, first.labels) or \
        not np.array_equal(context.partitions(1)["train"].images, first.images)


class Exploding(SklearnPipeline):
    def fit(self, X, y, *, validation=None):
        raise RuntimeError("out of memory on purpose")


class WrongShape(SklearnPipeline):
    def predict(self, X):
        return np.zeros((len(X), 2))


def test_failures_become_records_and_the_run_goes_on(isolated_registry, digits, tmp_path):
    from sklearn.dummy import DummyClassifier

    register_pipeline("test-exploding", family="classical")(
        lambda profile: Exploding("test-exploding", DummyClassifier()))
    register_pipeline("test-wrong-shape", family="classical")(
        lambda profile: WrongShape("test-wrong-shape", DummyClassifier()))
    options = RunOptions(pipelines=["test-exploding", "test-wrong-shape", "raw-knn"],
                         dataset="digits", profile="smoke", results_dir=tmp_path)
    lines = []
    summary = run(options, report=lines.append)
    statuses = {record["name"]: (record["status"], record["error"]) for record in summary.ran}
    assert statuses["test-exploding"] == ("failed", "RuntimeError: out of memory on purpose")
    assert statuses["test-wrong-shape"][0] == "failed"
    assert "shape (360, 2)" in statuses["test-wrong-shape"][1]
    assert statuses["raw-knn"][0] == "ok"
    assert len(ResultsStore(tmp_path, "digits", "smoke").records()) == 3


def test_resume_skips_ok_jobs_and_force_reruns(digits, tmp_path):
    options = RunOptions(pipelines=["raw-knn", "pca-knn"], dataset="digits", profile="smoke",
                         seeds=[0, 1], results_dir=tmp_path)
    first = run(options, report=lambda line: None)
    assert len(first.ran) == 4 and not first.skipped
    second = run(options, report=lambda line: None)
    assert not second.ran and len(second.skipped) == 4
    options.force = True
    options.seeds = [1]
    third = run(options, report=lambda line: None)
    assert len(third.ran) == 2
    records = ResultsStore(tmp_path, "digits", "smoke").records()
    assert len(records) == 6 and len({record["run_id"] for record in records}) == 6


def test_a_job_stored_with_other_settings_is_run_again_and_the_run_says_why(digits, tmp_path):
    options = RunOptions(pipelines=["raw-knn", "pca-knn"], dataset="digits", profile="smoke",
                         results_dir=tmp_path)
    run(options, report=lambda line: None)
    store = ResultsStore(tmp_path, "digits", "smoke")
    # the raw-knn record as an older version of the code would have stored it: another k,
    # and no record of a setting the code has since (not a change: its default is the old
    # behaviour, by the project's convention)
    lines = store.path.read_text().splitlines()
    edited = []
    for line in lines:
        record = json.loads(line)
        if record["name"] == "raw-knn":
            params = record["model"]["params"]
            assert params["knn__n_neighbors"] != 9
            params["knn__n_neighbors"] = 9
            del params["knn__p"]
        edited.append(json.dumps(record))
    store.path.write_text("\n".join(edited) + "\n")

    said = []
    second = run(options, report=said.append)
    assert [record["name"] for record in second.ran] == ["raw-knn"]
    assert [job.name for job in second.skipped] == ["pca-knn"]
    expected = ("raw-knn seed 0: stored with other settings (knn__n_neighbors 9 -> "
                f"{second.ran[0]['model']['params']['knn__n_neighbors']}); "
                "running it again, the old record stays in the store")
    assert expected in said
    assert len(store.records()) == 3  # nothing stored is lost
    # the new record holds today's settings: the next run skips it
    third = run(options, report=lambda line: None)
    assert not third.ran and len(third.skipped) == 2


def test_a_job_stored_on_more_images_than_its_cap_now_gives_is_run_again(isolated_registry,
                                                                         tmp_path):
    from sklearn.naive_bayes import GaussianNB

    def factory(profile):
        return SklearnPipeline("test-recapped", GaussianNB())

    register_pipeline("test-recapped", family="classical")(factory)
    options = RunOptions(pipelines=["test-recapped"], dataset="digits", profile="smoke",
                         results_dir=tmp_path)
    first = run(options, report=lambda line: None)
    assert first.ran[0]["sizes"]["validation"] == 288
    # the same pipeline, registered since with a CPU-sized validation budget
    register_pipeline("test-recapped", family="classical", validation_sizes={"smoke": 50})(factory)
    said = []
    second = run(options, report=said.append)
    assert second.ran[0]["sizes"]["validation"] == 50
    assert ("test-recapped seed 0: stored with other settings (validation images 288 -> 50); "
            "running it again, the old record stays in the store") in said
    assert not run(options, report=lambda line: None).ran


class NanProbabilities(SklearnPipeline):
    def predict_proba(self, X):
        return np.full((len(X), 10), np.nan)


def test_nan_probabilities_are_reported_not_fatal(isolated_registry, tmp_path):
    from sklearn.dummy import DummyClassifier

    register_pipeline("test-nan-proba", family="classical")(
        lambda profile: NanProbabilities("test-nan-proba", DummyClassifier()))
    summary = run(RunOptions(pipelines=["test-nan-proba"], dataset="digits", profile="smoke",
                             results_dir=tmp_path), report=lambda line: None)
    record = summary.ran[0]
    assert record["status"] == "ok"
    assert record["metrics"]["test"]["log_loss"] is None
    assert any("NaN or infinite" in warning for warning in record["warnings"])


def test_full_disk_keeps_what_was_stored(tmp_path, monkeypatch, capsys):
    import errno
    import os

    from benchmarks.cli import main

    argv = ["--dataset", "digits", "--profile", "smoke", "--results-dir", str(tmp_path),
            "--only", "raw-knn", "--quiet"]
    assert main(argv) == 0
    store = ResultsStore(tmp_path, "digits", "smoke")
    before = store.path.read_bytes()

    def no_space(descriptor, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("benchmarks.records.store.os.write", no_space)
    capsys.readouterr()
    assert main(argv + ["--force"]) == 1  # a disk that refuses a write: exit 1 (issue 33)
    err = capsys.readouterr().err
    assert "No space left on device" in err and str(store.path) in err
    assert err.count("\n") == 1
    assert store.path.read_bytes() == before


def test_parallel_runs_start_with_the_longest_jobs_within_each_priority(tmp_path):
    from benchmarks.run.job_times import JobTimes
    from benchmarks.run.plan import in_start_order
    from tests.records.test_store import record

    store = ResultsStore(tmp_path, "digits", "smoke")
    for name, seconds in (("fast", 1.0), ("slow", 50.0), ("middle", 10.0), ("first", 2.0)):
        # a whole record (the store skips one without the fields its readers use)
        store.append(record(name) | {"run_id": name, "timing": {
            "job_seconds": seconds, "fit_seconds": 1.0, "predict_ms_per_1k": 1.0}})
    jobs = [Job(name, "digits", "standard", "smoke", 0)
            for name in ("fast", "middle", "never-ran", "slow", "first")]
    times = JobTimes.from_records(store.records())

    def order(priorities, **given):
        return [job.name for job in in_start_order(jobs, times, priorities, **given)]

    assert order({}) == ["never-ran", "slow", "middle", "first", "fast"]
    # --only first --only fast,middle: the first pattern's jobs first, then the second's
    # (longest first), then the rest
    assert order({"first": 0, "fast": 1, "middle": 1}) == [
        "first", "middle", "fast", "never-ran", "slow"]
    # one job at a time: priorities, then the order given
    assert order({"first": 0}, longest_first=False) == [
        "first", "fast", "middle", "never-ran", "slow"]


def test_live_display_shows_running_jobs_with_their_latest_epoch():
    import io

    from rich.console import Console

    from benchmarks.run.progress import LiveProgress
    from pipelines.events import describe_event

    console = Console(file=io.StringIO(), width=160, force_terminal=False)
    display = LiveProgress(console)
    job = Job("mcnn", "fashion-mnist", "standard", "full", 0)

    def panel() -> str:
        probe = Console(file=io.StringIO(), width=160)
        probe.print(display._render())
        return probe.file.getvalue()

    display.begin(3, "3 jobs")
    try:
        display.started(job)
        event = {"epoch": 7, "epochs": 100, "loss": 0.2512, "val_accuracy": 0.9231,
                 "seconds": 1.25}
        display.progressed(job, event)
        text = panel()
        assert "0 done" in text and "1 running" in text and "2 left" in text
        assert "mcnn seed 0" in text
        assert "epoch 7/100 · val_accuracy 92.31% · loss 0.2512 · 1.2 s" in text
        assert describe_event(event) in text
        display.finished({"name": "mcnn", "pipeline": "mcnn", "seed": 0, "status": "ok",
                          "metrics": {"test": {"accuracy": 0.93}},
                          "timing": {"fit_seconds": 10.0, "predict_ms_per_1k": 5.0}})
        display.progressed(job, {"epoch": 8, "epochs": 100})  # late: ignored
        text = panel()
        assert "1 done" in text and "epoch" not in text and "mcnn seed 0 " not in text
    finally:
        display.end()


class CountingPasses(SklearnPipeline):
    """Counts the passes over the validation images (288 in the smoke digits split)."""

    calls: list = []

    def predict_with_proba(self, X):
        CountingPasses.calls.append(("predict_with_proba", len(X)))
        return super().predict_with_proba(X)


def test_validation_images_are_scored_in_one_pass_with_the_same_metrics(context):
    from pipelines.registry import create_pipeline

    job = Job("pca-knn", "digits", "standard", "smoke", 0)
    reference = run_job(job, context)

    def counting(name, profile, seed=0, **overrides):
        built = create_pipeline(name, profile, seed=seed, **overrides)
        return CountingPasses(built.name, built.estimator, reducer=built.reducer)

    CountingPasses.calls.clear()
    record = run_job(job, context, create=counting)
    # kNN's labels are its probabilities' argmax: the timed test pass gives both as well
    test_images = len(context.partitions(0)["test"].labels)
    assert CountingPasses.calls == [("predict_with_proba", test_images),
                                    ("predict_with_proba", 288)]
    assert record["metrics"] == reference["metrics"]


@pytest.mark.parametrize("name", ["hog-knn", "pca-svm", "fld-bayes3", "raw-rf", "pca-kmeans"])
def test_predict_with_proba_is_predict_and_predict_proba(context, name):
    from pipelines.registry import create_pipeline

    parts = context.partitions(0)
    pipeline = create_pipeline(name, "smoke").fit(parts["train"].images, parts["train"].labels)
    images = parts["validation"].images
    labels, probabilities = pipeline.predict_with_proba(images)
    assert np.array_equal(labels, pipeline.predict(images))
    expected = pipeline.predict_proba(images)
    if expected is None:  # the SVMs: no Platt scaling
        assert probabilities is None
    else:
        np.testing.assert_allclose(probabilities, expected)


def test_a_subclass_overriding_predict_proba_keeps_it_for_validation(context):
    from sklearn.dummy import DummyClassifier

    parts = context.partitions(0)
    pipeline = NanProbabilities("nan", DummyClassifier()).fit(parts["train"].images,
                                                              parts["train"].labels)
    _, probabilities = pipeline.predict_with_proba(parts["validation"].images)
    assert np.isnan(probabilities).all()


class FloatLabels(SklearnPipeline):
    def predict(self, X):
        return super().predict(X) + 0.7  # 2.7 used to be stored as class 2


def test_float_predictions_are_rejected_not_truncated(context):
    from sklearn.dummy import DummyClassifier

    def create(*args, **kwargs):
        return FloatLabels("test-float-labels", DummyClassifier())

    record = run_job(Job("raw-knn", "digits", "standard", "smoke", 0), context, create=create)
    assert record["status"] == "failed"
    assert record["error"] == ("ValueError: predict returned float64 values, expected integer "
                               "class indices 0..9")


class Recording(SklearnPipeline):
    """Keeps what the runner hands to fit, and how often predict ran."""

    takes_n_classes = True  # pipelines/base.py: fit(..., n_classes=)

    def fit(self, X, y, *, validation=None, n_classes=None):
        self.n_classes_given = n_classes
        return super().fit(X, y, validation=validation)

    def predict(self, X):
        import time

        self.calls = getattr(self, "calls", 0) + 1
        if len(X) == 1 and not getattr(self, "warmed", False):
            self.warmed = True
            time.sleep(0.5)  # the first single-image call builds a path (a compile, say)
        return super().predict(X)


def test_fit_gets_the_class_count_and_latency_is_timed_after_a_warm_up(context):
    from sklearn.dummy import DummyClassifier

    pipeline = Recording("test-recording", DummyClassifier())
    record = run_job(Job("raw-knn", "digits", "standard", "smoke", 0), context,
                     create=lambda *args, **kwargs: pipeline)
    assert record["status"] == "ok"
    assert pipeline.n_classes_given == context.dataset.n_classes == 10
    assert record["timing"]["latency_ms"] < 100  # the 0.5 s first call was not timed


def test_a_run_into_a_scratch_directory_orders_its_jobs_by_another_stores_history(digits,
                                                                                  tmp_path):
    from benchmarks.run.progress import LineProgress

    history, scratch = tmp_path / "history", tmp_path / "scratch"
    options = RunOptions(pipelines=["raw-knn", "pca-knn"], dataset="digits", profile="smoke",
                         results_dir=history)
    first = run(options, report=lambda line: None)
    took = {record["name"]: record["timing"]["job_seconds"] for record in first.ran}

    class Spy(LineProgress):
        def expect(self, jobs, times, slots):
            self.seconds = times.seconds

    def expected(**given):
        spy = Spy(lambda line: None)
        run(RunOptions(pipelines=["raw-knn", "pca-knn"], dataset="digits", profile="smoke",
                       results_dir=scratch, force=True, **given), progress=spy)
        return spy.seconds

    assert expected() == {}  # an empty scratch store knows no job's time: registry order
    assert expected(history_dir=history) == took


def times_before(seconds: dict[str, float], deep=()):
    """Job times as if stored on this machine."""
    from benchmarks.run.environment import machine
    from benchmarks.run.job_times import JobTimes, StoredTime, hardware_key

    def stored(name, took):
        family = "deep" if name in deep else "classical"
        return StoredTime(took, family, hardware_key(family, machine()))

    return JobTimes({name: stored(name, took) for name, took in seconds.items()})


def finished(display, times, record):
    """What the runner does when a record comes back: its time, then the display."""
    times.finished(record)
    display.finished(record)


def test_the_eta_comes_from_how_long_each_job_took_before_not_from_skipped_jobs(monkeypatch):
    import io

    from rich.console import Console

    from benchmarks.run import progress as progress_module
    from benchmarks.run.job_times import format_duration
    from benchmarks.run.progress import LiveProgress

    clock = [1000.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    display = LiveProgress(Console(file=io.StringIO(), width=120))
    jobs = [Job(name, "digits", "standard", "smoke", 0) for name in ("slow", "fast", "new")]
    display.total = 40
    display.finished_count = 37  # 37 already stored: skipped in no time
    times = times_before({"slow": 300.0, "fast": 20.0})
    display.expect(jobs, times, slots=1)
    assert display.eta() == 300 + 20 + 160  # the unknown job counts as the known ones' mean
    display.started(jobs[0])
    clock[0] += 100
    assert display.eta() == 200 + 20 + 160
    finished(display, times, {"name": "slow", "seed": 0, "status": "failed", "error": "x",
                              "timing": {"job_seconds": 100.0}})
    display.expect(jobs[1:], times, slots=2)
    # now this run's own mean job (100 s) for the unknown one, and "fast" at this run's pace:
    # "slow" took a third of its time before
    assert display.eta() == pytest.approx((20 / 3 + 100) / 2)
    assert [format_duration(s) for s in (42, 185, 3720)] == ["42 s", "3 min 05 s",
                                                             "1 h 02 min"]


def test_the_eta_follows_this_run_s_pace_when_the_times_before_came_from_a_slower_machine(
        monkeypatch):
    import io

    from rich.console import Console

    from benchmarks.run import progress as progress_module
    from benchmarks.run.progress import LiveProgress

    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    display = LiveProgress(Console(file=io.StringIO(), width=120))
    jobs = [Job(name, "digits", "standard", "smoke", 0)
            for name in ("cnn-seed004", "lstm", "raw-knn", "pca-knn")]
    display.total = 4
    times = times_before({"cnn-seed004": 400.0, "lstm": 200.0, "raw-knn": 100.0,
                          "pca-knn": 100.0}, deep=("cnn-seed004", "lstm"))
    display.expect(jobs, times, slots=1)
    assert display.eta() == 800
    display.started(jobs[0])
    clock[0] += 100
    finished(display, times, {"name": "cnn-seed004", "family": "deep", "seed": 0,
                              "status": "failed", "error": "x",
                              "timing": {"job_seconds": 100.0}})
    assert times.pace("deep") == 0.25  # 100 s where the store says 400
    assert times.pace("classical") == 0.25  # none of its own yet: every family's
    assert display.eta() == (200 + 100 + 100) * 0.25
    display.started(jobs[2])
    clock[0] += 50
    finished(display, times, {"name": "raw-knn", "family": "classical", "seed": 0,
                              "status": "failed", "error": "x",
                              "timing": {"job_seconds": 50.0}})
    assert times.pace("classical") == 0.5  # its own family's now
    assert times.pace("deep") == 0.25
    assert display.eta() == 200 * 0.25 + 100 * 0.5
    display.started(jobs[1])
    clock[0] += 20
    assert display.eta() == (50 - 20) + 50
    # a job running past its expected time: never 0 s left while it runs
    clock[0] += 60
    assert display.eta() == pytest.approx(0.1 * 80 + 50)


def test_the_eta_is_never_zero_while_a_job_runs_on_a_first_run(monkeypatch):
    import io

    from rich.console import Console

    from benchmarks.run import progress as progress_module
    from benchmarks.run.job_times import JobTimes
    from benchmarks.run.progress import LiveProgress

    clock = [0.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    display = LiveProgress(Console(file=io.StringIO(), width=120))
    jobs = [Job(name, "digits", "standard", "smoke", 0) for name in ("a", "b", "c")]
    times = JobTimes()  # a first run: nothing stored anywhere
    display.total = 3
    display.expect(jobs, times, slots=2)
    assert display.eta() is None  # nothing to go on: "ETA –", not 0 s
    display.started(jobs[0])
    display.started(jobs[1])
    clock[0] += 10
    finished(display, times, {"name": "a", "seed": 0, "status": "failed", "error": "x",
                              "timing": {"job_seconds": 10.0}})
    display.started(jobs[2])
    for _ in range(20):  # b and c run on, far past the mean job's 10 s
        clock[0] += 5
        assert display.eta() > 0


def test_the_last_lines_say_how_long_what_failed_where_the_report_is_and_the_top(tmp_path,
                                                                                 capsys):
    from benchmarks.cli import main

    assert main(["--dataset", "digits", "--profile", "smoke", "--only", "raw-knn",
                 "--only", "pca-svm", "--only", "raw-tree", "--results-dir",
                 str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()[-3:]
    assert re.fullmatch(r"done in \d+ s: 3 ran \(0 failed\), 0 already stored", lines[0])
    assert lines[1] == f"report: {tmp_path / 'digits' / 'smoke' / 'LEADERBOARD.md'}"
    assert re.fullmatch(r"top 3 of 3: pca-svm [\d.]+% · raw-knn [\d.]+% · raw-tree [\d.]+%",
                        lines[2])


def test_a_run_redraws_its_own_leaderboard_and_the_index_and_report_only_redraws_all(tmp_path,
                                                                                    capsys):
    from benchmarks.cli import main

    def run_profile(profile):
        assert main(["--dataset", "digits", "--profile", profile, "--only", "raw-knn",
                     "--results-dir", str(tmp_path), "--quiet"]) == 0

    smoke, quick = (tmp_path / "digits" / profile / "LEADERBOARD.md"
                    for profile in ("smoke", "quick"))
    run_profile("smoke")
    assert smoke.is_file()
    smoke.unlink()
    run_profile("quick")
    assert quick.is_file() and not smoke.exists()  # the smoke store did not change
    index = (tmp_path / "README.md").read_text()
    assert "digits/smoke/LEADERBOARD.md" in index and "digits/quick/LEADERBOARD.md" in index
    assert main(["--report-only", "--results-dir", str(tmp_path)]) == 0
    assert smoke.is_file()


def test_auto_uses_a_worker_per_core_only_where_two_jobs_and_cores_can(monkeypatch):
    from benchmarks.run import plan

    monkeypatch.setattr(plan, "cpus_available", lambda: 2)
    assert plan.choose_executor("auto", None, pending=40) == ("process", 2)
    assert plan.choose_executor("auto", None, pending=1) == ("serial", 1)
    assert plan.choose_executor("auto", 4, pending=3) == ("process", 3)
    assert plan.choose_executor("serial", None, pending=40) == ("serial", 1)
    assert plan.choose_executor("process", None, pending=1) == ("process", 2)
    monkeypatch.setattr(plan, "cpus_available", lambda: 1)
    assert plan.choose_executor("auto", None, pending=40) == ("serial", 1)


def test_a_pipeline_s_own_training_cap_is_applied_and_recorded(isolated_registry, tmp_path):
    from sklearn.neighbors import KNeighborsClassifier

    register_pipeline("test-capped", family="classical", train_sizes={"smoke": 300},
                      validation_sizes={"smoke": 100})(
        lambda profile: SklearnPipeline("test-capped", KNeighborsClassifier()))
    summary = run(RunOptions(pipelines=["test-capped", "raw-knn"], dataset="digits",
                             profile="smoke", results_dir=tmp_path), report=lambda line: None)
    records = {record["name"]: record for record in summary.ran}
    assert records["test-capped"]["sizes"] == {"train": 300, "validation": 100, "test": 360}
    assert records["raw-knn"]["sizes"] == {"train": 1000, "validation": 288, "test": 360}
    # scored on the validation images it was given: 100 of them, in steps of 1/100
    assert round(records["test-capped"]["metrics"]["validation"]["accuracy"] * 100, 6) % 1 == 0
    # the cap never raises a profile's own: a larger one leaves the profile's
    entry = isolated_registry.get_entry("test-capped")
    assert entry.train_size(get_profile("quick")) == 10_000
    assert entry.train_size(get_profile("full")) is None
    assert entry.validation_size(get_profile("full")) is None
    with pytest.raises(ValueError, match="train_sizes of 'test-bad-cap' must be positive"):
        register_pipeline("test-bad-cap", family="classical", train_sizes={"smoke": 0})
    with pytest.raises(ValueError, match="validation_sizes of 'test-bad-cap' must be positive"):
        register_pipeline("test-bad-cap", family="classical", validation_sizes={"quick": -1})


def test_one_pass_gives_a_network_s_test_labels_and_probabilities(isolated_registry, context):
    from sklearn.naive_bayes import GaussianNB

    calls = []

    class Counting(SklearnPipeline):
        def predict(self, X):
            calls.append(("predict", len(X)))
            return super().predict(X)

        def predict_proba(self, X):
            calls.append(("predict_proba", len(X)))
            return super().predict_proba(X)

        def predict_with_proba(self, X):
            calls.append(("both", len(X)))
            probabilities = super().predict_proba(X)
            return probabilities.argmax(axis=1), probabilities

    class Network(Counting):
        proba_at_predict_cost = True

    for cls in (Counting, Network):
        register_pipeline(f"test-{cls.__name__}", family="classical")(
            lambda profile, cls=cls: cls(f"test-{cls.__name__}", GaussianNB()))
    record = run_job(Job("test-Network", "digits", "standard", "smoke", 0), context)
    assert record["status"] == "ok" and record["metrics"]["test"]["log_loss"] is not None
    # the test (timed) and validation images, one pass each
    assert calls[:2] == [("both", 360), ("both", 288)]
    assert ("predict_proba", 360) not in calls
    # an estimator whose predict is not the argmax (an SVC's) has its own predict timed
    calls.clear()
    run_job(Job("test-Counting", "digits", "standard", "smoke", 0), context)
    assert calls[:3] == [("predict", 360), ("both", 288), ("predict_proba", 360)]

"""Executors: the same records whatever runs them, given the same threads per job; timeouts,
dead workers, thread budgets. (A real cluster of ``dask`` processes: test_dask_cluster.py.)"""

import os
import re
import textwrap

import pytest

from benchmarks.records.store import ResultsStore
from benchmarks.run.progress import LineProgress
from benchmarks.run.runner import RunOptions, run
from benchmarks.run.workers import threads_per_job

PLUGIN = textwrap.dedent('''
    import os
    import time

    from sklearn.dummy import DummyClassifier

    from pipelines.hardware import thread_budget
    from pipelines.events import report_progress
    from pipelines import SklearnPipeline, register_pipeline


    class Behaving(SklearnPipeline):
        """Does something unusual in fit, then behaves like a majority baseline."""

        def __init__(self, name, action):
            super().__init__(name, DummyClassifier())
            self.action = action

        def fit(self, X, y, *, validation=None):
            if self.action == "sleep":
                time.sleep(60)
            if self.action == "die":
                os._exit(3)
            if self.action == "report":
                for epoch in (1, 2, 3):
                    report_progress({"epoch": epoch, "epochs": 3, "loss": 1.0 / epoch})
            from threadpoolctl import threadpool_info
            self.threads_ = (thread_budget(), max((pool["num_threads"]
                                                   for pool in threadpool_info()), default=1))
            return super().fit(X, y)

        def describe(self):
            description = super().describe()
            description["threads"] = list(getattr(self, "threads_", ()))
            return description


    for action in ("sleep", "die", "count", "report"):
        register_pipeline(f"test-{action}", family="classical")(
            lambda profile, action=action: Behaving(f"test-{action}", action))
''')


@pytest.fixture
def plugin(tmp_path, isolated_registry):
    """The plugin's pipelines exist only for the test that asks for them."""
    path = tmp_path / "executor_plugin.py"
    path.write_text(PLUGIN)
    return str(path)


def assert_same_result(record, reference):
    """What must not depend on the executor once the threads per job are the same (each
    record states them): everything but timings, to the last digit. (With another thread
    count BLAS sums in another order, and an MLP's log-loss moves in the last digits.)"""
    assert record["env"]["threads"] == reference["env"]["threads"]
    for field in ("pipeline", "seed", "status", "predictions", "sizes", "split", "metrics"):
        assert record[field] == reference[field], field


class RecordedProgress(LineProgress):
    """The plain-line display, its lines and mid-job events kept for the test."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.events: list[tuple[str, int, dict]] = []
        super().__init__(self.lines.append)

    def progressed(self, job, event) -> None:
        self.events.append((job.name, job.seed, event))
        super().progressed(job, event)


def run_with(tmp_path, executor, pipelines, plugin=None, progress=None, **options):
    summary = run(RunOptions(pipelines=pipelines, dataset="digits", profile="smoke",
                             results_dir=tmp_path / executor, executor=executor,
                             plugins=(plugin,) if plugin else (), **options),
                  report=lambda line: None, progress=progress)
    stored = ResultsStore(tmp_path / executor, "digits", "smoke").records()
    assert len(stored) == len(summary.ran)
    return {record["pipeline"]: record for record in stored}


COMPARED = ["raw-knn", "pca-knn", "pca-mlp"]  # pca-mlp: its log-loss depends on the threads


@pytest.fixture(scope="module")
def serial_records(tmp_path_factory):
    return run_with(tmp_path_factory.mktemp("serial"), "serial", COMPARED, threads=1)


def test_process_executor_gives_the_same_records(tmp_path, serial_records):
    records = run_with(tmp_path, "process", COMPARED, workers=2, threads=1)
    for name, record in records.items():
        assert_same_result(record, serial_records[name])


@pytest.mark.parametrize("threads", [1, 2])
def test_every_executor_grants_the_threads_asked_and_records_them(tmp_path, plugin, threads):
    """Serial jobs too are held to ``--threads`` (the same pools, the same n_jobs), and each
    record reads its job's thread count, not one cached by an earlier job in the process."""
    import platform

    for executor in ("serial", "process"):
        records = run_with(tmp_path / str(threads), executor, ["test-count"], plugin,
                           workers=1, threads=threads)
        record = records["test-count"]
        granted, pool_threads = record["model"]["threads"]
        assert granted == threads and pool_threads <= threads, executor
        assert record["env"]["threads"] == threads, executor
        assert record["env"]["host"] == platform.node(), executor


def test_serial_jobs_get_every_core_by_default(tmp_path, plugin):
    import os

    records = run_with(tmp_path, "serial", ["test-count"], plugin)
    assert records["test-count"]["env"]["threads"] == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("value", ["0", "-2"])
def test_threads_below_one_is_a_one_line_error(capsys, tmp_path, value):
    from benchmarks.cli import main

    code = main(["--only", "raw-knn", "--dataset", "digits", "--profile", "smoke",
                 "--results-dir", str(tmp_path), "--threads", value])
    err = capsys.readouterr().err
    assert code == 2 and f"--threads must be at least 1 (threads per job), not {value}" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # refused before anything ran


def test_timeout_and_dead_worker_are_recorded_and_the_run_goes_on(tmp_path, plugin):
    records = run_with(tmp_path, "process", ["test-sleep", "test-die", "raw-knn"], plugin,
                       workers=2, timeout=8)
    assert records["test-sleep"]["status"] == "timeout"
    assert "stopped after 8 s" in records["test-sleep"]["error"]
    assert records["test-die"]["status"] == "failed"
    assert "exit code 3" in records["test-die"]["error"]
    assert records["raw-knn"]["status"] == "ok"
    # stopped or not, each record states the threads its job was granted
    assert {record["env"]["threads"] for record in records.values()} == {threads_per_job(2)}


def test_jobs_are_granted_a_share_of_the_cores(tmp_path, plugin):
    import os

    records = run_with(tmp_path, "process", ["test-count"], plugin, workers=2)
    granted, pool_threads = records["test-count"]["model"]["threads"]
    expected = max(1, len(os.sched_getaffinity(0)) // 2)
    assert granted == expected and pool_threads <= expected


def test_serial_with_a_timeout_isolates_the_job(tmp_path, plugin):
    records = run_with(tmp_path, "serial", ["test-sleep"], plugin, timeout=5)
    assert records["test-sleep"]["status"] == "timeout"


def assert_epochs_reported(progress: RecordedProgress) -> None:
    """The plugin's three epochs reach the display, in order, attributed to their job, and
    each is printed before the job's own finished line."""
    epochs = [event["epoch"] for name, seed, event in progress.events if name == "test-report"]
    assert epochs == [1, 2, 3]
    assert all(seed == 0 for _, seed, _ in progress.events)
    lines = [line for line in progress.lines if "test-report" in line]
    assert lines[:3] == [f"    test-report seed 0: epoch {n}/3 · loss {1 / n:.4f}"
                         for n in (1, 2, 3)]
    assert re.match(r"\[\d/\d\] test-report seed 0: test accuracy", lines[3])


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_mid_job_progress_reaches_the_display(tmp_path, plugin, executor):
    progress = RecordedProgress()
    records = run_with(tmp_path, executor, ["test-report"], plugin, progress, workers=1)
    assert records["test-report"]["status"] == "ok"
    assert_epochs_reported(progress)


def test_dask_executor_same_records_timeout_and_progress(tmp_path, plugin, serial_records):
    pytest.importorskip("distributed")
    progress = RecordedProgress()
    records = run_with(tmp_path, "dask", [*COMPARED, "test-report", "test-sleep"],
                       plugin, progress, workers=2, timeout=15, threads=1)
    for name in COMPARED:
        assert_same_result(records[name], serial_records[name])
    assert records["test-sleep"]["status"] == "timeout"
    assert_epochs_reported(progress)


def test_unknown_scheduler_is_a_clear_error(tmp_path):
    pytest.importorskip("distributed")
    from benchmarks.errors import FashionbenchError
    from benchmarks.run.dask_executor import DaskExecutor

    with pytest.raises(FashionbenchError, match="cannot reach the Dask scheduler"):
        DaskExecutor(1, scheduler="tcp://127.0.0.1:9", connect_timeout=3)._client()


class _DiesWhenUnpickled:
    """Sent as a worker's context, it ends the worker process before it can say it is ready."""

    def __reduce__(self):
        import os

        return (os._exit, (3,))


def test_a_worker_that_cannot_start_stops_the_run_and_leaves_no_process():
    import multiprocessing

    from benchmarks.errors import FashionbenchError
    from benchmarks.run.executors import ProcessExecutor

    executor = ProcessExecutor(workers=2)
    with pytest.raises(FashionbenchError, match=r"failed to start \(exit code 3\)"):
        executor._start_all(_DiesWhenUnpickled(), 2)
    assert not [child for child in multiprocessing.active_children()
                if child.name == "fashionbench-worker"]


def test_precision_is_set_where_the_network_trains_and_recorded(tmp_path, monkeypatch):
    """--precision bfloat16 reaches the worker process that trains a network (set around
    each job, as the threads are, so a Dask worker elsewhere gets it too), its record says
    mixed_bfloat16, and the calling process's environment is left as it was."""
    pytest.importorskip("keras")
    from pipelines.hardware import PRECISION_ENV

    monkeypatch.delenv(PRECISION_ENV, raising=False)
    records = run_with(tmp_path, "process", ["cnn-seed004"], workers=1, threads=1,
                       precision="bfloat16")
    assert records["cnn-seed004"]["model"]["dtype_policy"] == "mixed_bfloat16"
    assert PRECISION_ENV not in os.environ


def test_an_asked_precision_is_a_job_of_its_own_beside_the_default(tmp_path):
    """A network asked for in bfloat16 is another job than its default ("auto") one, as a
    recipe makes another: a store holding the float32 record neither skips it nor has that
    record replaced, and its name says the arithmetic. A classical pipeline has one
    arithmetic: its stored record is skipped and its name unmarked."""
    pytest.importorskip("keras")

    def run_asking(precision):
        return run(RunOptions(pipelines=["cnn-seed004", "raw-knn"], dataset="digits",
                              profile="smoke", results_dir=tmp_path, executor="serial",
                              threads=1, precision=precision), report=lambda line: None)

    run_asking("auto")
    asked = run_asking("bfloat16")
    assert [record["name"] for record in asked.ran] == ["cnn-seed004[bfloat16]"]
    latest = ResultsStore(tmp_path, "digits", "smoke").latest()
    policies = {record["name"]: record["model"].get("dtype_policy")
                for record in latest.values()}
    assert policies == {"cnn-seed004": "float32", "cnn-seed004[bfloat16]": "mixed_bfloat16",
                        "raw-knn": None}

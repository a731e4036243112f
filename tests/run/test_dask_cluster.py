"""A real Dask cluster, started as a user would: ``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1, their own command-line programs. A small suite run on it with
``--scheduler`` gives the records a serial run gives with the same threads per job, to the
last digit and the last prediction; every record names its host and thread count; and no
process the test started outlives it."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.records.store import ResultsStore
from benchmarks.run.runner import RunOptions, run

pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")  # a dependency of distributed

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).parent / "dask"
# the classical pipelines whose numbers depend on the thread count (BLAS in PCA and the MLP,
# XGBoost's histograms, a tree split on a feature that moved in the last digit), and kNN
PIPELINES = ["pca-mlp", "pca-tree", "pca-rf", "pca-xgboost", "raw-knn"]
WORKERS = 2
START_SECONDS = 90  # two busy cores importing distributed in three processes at once
STOP_SECONDS = 20


def _log_tails(logs: list[Path]) -> str:
    return "\n".join(f"--- {log.name}:\n{log.read_text(errors='replace')[-1500:]}"
                     for log in logs if log.exists())


def _wait_for_address(scheduler_file: Path, scheduler: subprocess.Popen,
                      logs: list[Path]) -> str:
    """The address the scheduler chose (``--port 0``), once it has written its file."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if scheduler.poll() is not None:
            pytest.fail(f"dask scheduler exited ({scheduler.returncode})\n{_log_tails(logs)}")
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (OSError, ValueError, KeyError):  # not written yet, or half written
            time.sleep(0.2)
    pytest.fail(f"dask scheduler wrote no address in {START_SECONDS} s\n{_log_tails(logs)}")


def _stop(started: list[subprocess.Popen]) -> list[psutil.Process]:
    """Stop every process started (the scheduler first in ``started``) and what they started
    (each worker's nanny spawns the worker proper): SIGTERM, a wait, SIGKILL for any still
    there. Returns them all."""
    everyone: list[psutil.Process] = []
    for process in started:
        if process.poll() is None:  # not yet reaped, so its pid is still its own
            try:
                parent = psutil.Process(process.pid)
                everyone += [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                pass
    # the workers first, while the scheduler is there to say goodbye to, then the scheduler
    for group in (started[1:], started[:1]):
        for process in group:
            if process.poll() is None:
                process.terminate()
        for process in group:
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_SECONDS)
    _, alive = psutil.wait_procs(everyone, timeout=STOP_SECONDS)
    for process in alive:
        process.kill()
    psutil.wait_procs(alive, timeout=STOP_SECONDS)
    return everyone


@pytest.fixture(scope="module")
def scheduler_address(tmp_path_factory):
    """``dask scheduler`` and two one-thread ``dask worker`` processes, run from the repository
    with it on PYTHONPATH (the workers import the project to run its jobs); all stopped at
    the end, whatever happened."""
    from distributed import Client

    if not DASK.exists():
        pytest.skip(f"no dask command next to {sys.executable}")
    folder = tmp_path_factory.mktemp("dask-cluster")
    scheduler_file = folder / "scheduler.json"
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    started: list[subprocess.Popen] = []
    logs: list[Path] = []

    def start(name: str, *arguments: str) -> subprocess.Popen:
        logs.append(folder / f"{name}.log")
        with logs[-1].open("wb") as log:
            started.append(subprocess.Popen([str(DASK), *arguments], cwd=ROOT, env=environment,
                                            stdout=log, stderr=subprocess.STDOUT))
        return started[-1]

    try:
        scheduler = start("scheduler", "scheduler", "--host", "127.0.0.1", "--port", "0",
                          "--no-dashboard", "--scheduler-file", str(scheduler_file))
        address = _wait_for_address(scheduler_file, scheduler, logs)
        assert address.startswith("tcp://127.0.0.1:")
        for number in range(WORKERS):
            start(f"worker-{number}", "worker", address, "--nthreads", "1",
                  "--name", f"worker-{number}", "--no-dashboard",
                  "--local-directory", str(folder / f"worker-{number}"))
        with Client(address, timeout=START_SECONDS) as client:
            try:
                client.wait_for_workers(WORKERS, timeout=START_SECONDS)
            except TimeoutError:
                pytest.fail(f"{WORKERS} dask workers did not join in {START_SECONDS} s\n"
                            f"{_log_tails(logs)}")
        yield address
    finally:
        everyone = _stop(started)
        left = [process.pid for process in everyone if process.is_running()
                and process.status() != psutil.STATUS_ZOMBIE]
        assert not left, f"processes left running: {left}"
        assert all(process.returncode is not None for process in started)


def _records(results_dir: Path) -> dict[str, dict]:
    return {record["pipeline"]: record
            for record in ResultsStore(results_dir, "digits", "smoke").records()}


def _run(results_dir: Path, executor: str, scheduler: str | None = None) -> dict[str, dict]:
    summary = run(RunOptions(pipelines=PIPELINES, dataset="digits", profile="smoke",
                             results_dir=results_dir, executor=executor, scheduler=scheduler,
                             threads=1),
                  report=lambda line: None)
    assert [record["status"] for record in summary.ran] == ["ok"] * len(PIPELINES), \
        [record["error"] for record in summary.ran]
    return _records(results_dir)


def test_a_dask_cluster_gives_the_serial_records(tmp_path, scheduler_address):
    on_cluster = _run(tmp_path / "dask", "dask", scheduler_address)
    serial = _run(tmp_path / "serial", "serial")
    assert sorted(on_cluster) == sorted(serial) == sorted(PIPELINES)
    host = platform.node()
    for name in PIPELINES:
        ours, theirs = on_cluster[name], serial[name]
        for record in (ours, theirs):
            assert record["env"]["host"] == host and record["env"]["threads"] == 1, name
        # equal, not approximately equal: the same inputs and thread count give the same sums
        assert ours["metrics"] == theirs["metrics"], name
        assert ours["predictions"] == theirs["predictions"], name

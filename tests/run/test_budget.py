"""A run with a wall-clock budget (--max-seconds), as on a GPU machine lent for 10 minutes:
jobs that cannot finish are not started and are named, a job running past the end is
stopped and recorded, and what finished merges cleanly into another results directory."""

from __future__ import annotations

import json

import pytest

from benchmarks.cli import main
from benchmarks.errors import FashionbenchError
from benchmarks.records.store import ResultsStore
from benchmarks.run.budget import Budget
from benchmarks.run.environment import machine
from benchmarks.run.job_times import JobTimes, StoredTime, hardware_key
from benchmarks.run.workers import gpu_sharing_settings


def stored_here(seconds: float, family: str = "classical") -> StoredTime:
    return StoredTime(seconds, family, hardware_key(family, machine()))


def test_a_job_starts_only_if_its_time_here_fits_what_is_left():
    times = JobTimes({"long": stored_here(500.0), "short": stored_here(5.0),
                      "elsewhere": StoredTime(500.0, "deep", "a slower machine")})
    budget = Budget(100.0, times)
    assert budget.margin == 10.0  # at least 10 s, else 5% of the budget
    limit, why = budget.admit("long", "classical")
    assert limit is None and "expected to take 8 min 20 s here" in why and "left" in why
    limit, _ = budget.admit("short", "classical")
    assert 85 < limit <= 90  # it may run until the budget ends, less the margin
    # a time from other hardware says nothing here until this run has a pace to scale it
    assert budget.admit("elsewhere", "deep")[0] is not None
    assert budget.admit("never-ran", "deep")[0] is not None
    times.finished({"name": "short", "family": "deep", "timing": {"job_seconds": 10.0}})
    assert times.pace("deep") == 2.0
    assert budget.admit("elsewhere", "deep")[0] is None  # 500 s at twice the time: too long
    spent = Budget(20.0, times, started=0.0)  # started long ago
    assert spent.admit("short", "classical") == (None, "the --max-seconds budget (20 s) is "
                                                       "spent")


def test_worker_processes_share_a_gpu_s_memory(monkeypatch):
    monkeypatch.delenv("XLA_PYTHON_CLIENT_MEM_FRACTION", raising=False)
    monkeypatch.delenv("TF_FORCE_GPU_ALLOW_GROWTH", raising=False)
    assert gpu_sharing_settings(4, gpus=1) == {"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.225",
                                               "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
    assert gpu_sharing_settings(1, gpus=1) == {}  # one worker takes what it likes
    assert gpu_sharing_settings(4, gpus=0) == {}  # no GPU, nothing to share
    monkeypatch.setenv("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.5")  # the user's own choice wins
    assert gpu_sharing_settings(4, gpus=1) == {"TF_FORCE_GPU_ALLOW_GROWTH": "true"}


@pytest.mark.parametrize("value", ["0", "-5", "nan"])
def test_a_budget_must_be_a_positive_number_of_seconds(value, tmp_path, capsys):
    code = main(["--dataset", "digits", "--profile", "smoke", "--only", "raw-knn",
                 "--results-dir", str(tmp_path), "--max-seconds", value])
    err = capsys.readouterr().err
    assert code == FashionbenchError.exit_code
    assert err.count("\n") == 1 and "--max-seconds must be a positive number" in err


def test_a_budgeted_run_starts_what_fits_names_the_rest_and_merges_cleanly(tmp_path, capsys):
    """The GPU command's own test, on the CPU with the smoke profile: a first run stores each
    job's time here; then a budget too small for one of them (its stored time inflated)
    starts the others in the order given, names the one left out, and the records merge."""
    from benchmarks.merge import main as merge_main

    away, home = tmp_path / "away", tmp_path / "home"
    common = ["--dataset", "digits", "--profile", "smoke", "--results-dir", str(away)]
    assert main(common + ["--only", "raw-knn", "--only", "raw-tree", "--quiet"]) == 0
    store = ResultsStore(away, "digits", "smoke")
    slow = dict(store.latest()[next(key for key in store.latest() if key[0] == "raw-tree")])
    slow.update(run_id="slow-raw-tree", timing={**slow["timing"], "job_seconds": 10_000.0})
    store.append(slow)  # as if raw-tree took 2 h 46 min on this machine
    capsys.readouterr()

    assert main(common + ["--force", "--max-seconds", "120", "--only", "cnn-seed004",
                          "--only", "raw-tree,raw-knn", "--executor", "process",
                          "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "raw-tree seed 0: not started, expected to take 2 h 46 min here" in out
    assert "1 not started within --max-seconds: raw-tree seed 0" in out  # the last lines
    ran = [record for record in store.records() if record["run_id"] != "slow-raw-tree"][-2:]
    assert [record["name"] for record in ran] == ["cnn-seed004", "raw-knn"]  # as prioritised
    assert all(record["status"] == "ok" for record in ran)

    assert merge_main([str(away), "--results-dir", str(home), "--report"]) == 0
    merged = capsys.readouterr().out
    total = len(store.records())
    assert f"merged {total} records (0 already there, 0 left out)" in merged
    assert (home / "digits" / "smoke" / "LEADERBOARD.md").is_file()
    assert [json.loads(line)["run_id"] for line in
            (home / "digits" / "smoke" / "runs.jsonl").read_text().splitlines()] == \
        [record["run_id"] for record in store.records()]


def test_a_job_running_past_the_budget_is_stopped_and_recorded(isolated_registry, tmp_path):
    plugin = tmp_path / "sleeper.py"
    plugin.write_text(
        "import time\n"
        "from sklearn.dummy import DummyClassifier\n"
        "from pipelines import SklearnPipeline, register_pipeline\n\n"
        "class Sleeper(SklearnPipeline):\n"
        "    def fit(self, X, y, *, validation=None):\n"
        "        time.sleep(120)\n\n"
        "@register_pipeline('test-sleeper', family='classical')\n"
        "def sleeper(profile):\n"
        "    return Sleeper('test-sleeper', DummyClassifier())\n")
    results = tmp_path / "results"
    assert main(["--dataset", "digits", "--profile", "smoke", "--plugin", str(plugin),
                 "--only", "test-sleeper", "--results-dir", str(results),
                 "--max-seconds", "25", "--quiet"]) == 0
    [record] = ResultsStore(results, "digits", "smoke").records()
    assert record["status"] == "timeout"
    assert "end of the run's time budget (--max-seconds)" in record["error"]

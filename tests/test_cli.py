import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.cli import main
from benchmarks.records.store import ResultsStore
from pipelines.hardware import gpu_names
from tests.conftest import frameworks_imported_by

ROOT = Path(__file__).resolve().parent.parent


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list(capsys):
    code, out, _ = run_cli(capsys, "--list")
    assert code == 0 and "raw-knn" in out and "pca-knn" in out and "classical" in out


def test_describe_prints_json_with_n_parameters(capsys):
    code, out, _ = run_cli(capsys, "--describe", "pca-knn", "--profile", "smoke")
    description = json.loads(out)
    assert code == 0 and description["name"] == "pca-knn" and "n_parameters" in description
    assert description["params"]["pca__n_components"] == 30


@pytest.mark.parametrize("argv, message", [
    (["--describe", "raw-knnn"], "unknown pipeline 'raw-knnn': did you mean raw-knn"),
    (["--only", "pca-knm"], "unknown pipeline 'pca-knm': did you mean pca-knn"),
    (["--only", "zzz-*"], "no pipeline matches 'zzz-*'"),
    (["--dataset", "fashoin-mnist"], "did you mean fashion-mnist"),
    (["--split", "seed00"], "did you mean seed000"),
    (["--profile", "ful"], "did you mean full"),
    (["--plugin", "/nonexistent/plugin.py"], "plugin file /nonexistent/plugin.py does not exist"),
    (["--only", "raw-knn", "--dataset", "digits", "--seeds", "-1"],
     "--seeds must be whole numbers from 0 to 4,294,967,295"),
    (["--only", "raw-knn", "--dataset", "digits", "--seeds", "4294967296"],
     "--seeds must be whole numbers from 0 to 4,294,967,295"),
    (["--only", "raw-knn", "--dataset", "digits", "--timeout", "nan"],
     "--timeout must be a positive number of seconds, not nan"),
])
def test_bad_names_are_one_line_errors(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_corrupt_data_file_is_one_line_naming_file_and_checksum(capsys, tmp_path):
    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (folder / name).write_bytes(b"\x1f\x8b\x08\x00garbage")
    code, _, err = run_cli(capsys, "--data-dir", str(folder), "--profile", "smoke",
                           "--results-dir", str(tmp_path / "results"))
    assert code == 2 and "train-images-idx3-ubyte.gz" in err and "MD5" in err
    assert err.count("\n") == 1


def test_run_then_report_only(capsys, tmp_path):
    results = tmp_path / "results"
    code, out, _ = run_cli(capsys, "--dataset", "digits", "--profile", "smoke",
                           "--results-dir", str(results), "--only", "raw-knn")
    assert code == 0 and "1 ran (0 failed)" in out
    leaderboard = results / "digits" / "smoke" / "LEADERBOARD.md"
    before = leaderboard.read_bytes()
    leaderboard.unlink()
    code, out, _ = run_cli(capsys, "--report-only", "--results-dir", str(results))
    assert code == 0 and leaderboard.read_bytes() == before
    code, out, _ = run_cli(capsys, "--dataset", "digits", "--profile", "smoke",
                           "--results-dir", str(results), "--only", "raw-knn")
    assert "already stored" in out and "0 ran" in out
    assert len(ResultsStore(results, "digits", "smoke").records()) == 1


def test_unwritable_results_dir_stops_before_training(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, out, err = run_cli(capsys, "--dataset", "digits", "--profile", "smoke",
                             "--results-dir", str(blocker))
    assert code == 2 and str(blocker) in err and "[1/" not in out


def test_run_all_script_lists_without_deep_learning_imports():
    completed = subprocess.run([sys.executable, "run_all.py", "--list"], cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "raw-knn" in completed.stdout
    assert frameworks_imported_by("from benchmarks.cli import main; main(['--list'])") == []


def test_the_readme_excerpt_is_updated_from_any_directory(tmp_path, monkeypatch):
    """publish() used to look for README.md and results/ in the current directory."""
    from benchmarks.records.layout import PROJECT_ROOT
    from benchmarks.reports import publish

    calls = []
    monkeypatch.setattr("benchmarks.reports.publish.write_reports", lambda *a, **k: [Path("x")])
    monkeypatch.setattr("benchmarks.reports.publish.write_study_reports", lambda *a, **k: [])
    monkeypatch.setattr("benchmarks.reports.publish.update_readme_excerpt",
                        lambda readme, results_dir: calls.append(readme) or True)
    monkeypatch.chdir(tmp_path)
    publish.publish(PROJECT_ROOT / "results", say=lambda line: None)
    assert calls == [PROJECT_ROOT / "README.md"]
    publish.publish(tmp_path / "elsewhere", say=lambda line: None)
    assert calls == [PROJECT_ROOT / "README.md"]  # another results directory: no excerpt


BACKEND_NOISE = re.compile(r"absl|cuda|cuInit|TensorFlow binary|oneDNN custom operations|"
                           r"^[IWE]\d{4} ", re.IGNORECASE | re.MULTILINE)


def test_describing_a_network_prints_no_backend_start_up_noise():
    # --describe builds the network in this process, through another first import of Keras
    # than a run's (the architectures module's)
    pytest.importorskip("keras")
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", "FASHIONBENCH_VERBOSE")}
    completed = subprocess.run([sys.executable, "run_all.py", "--describe", "mcnn"], cwd=ROOT,
                               env=env, capture_output=True, text=True, timeout=300)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert not BACKEND_NOISE.search(output), output
    assert json.loads(completed.stdout)["n_parameters"] == 213_354  # seed 002's MCNN


def test_a_deep_run_prints_no_backend_start_up_noise_unless_verbose(tmp_path):
    pytest.importorskip("keras")
    env = {key: value for key, value in os.environ.items()
           if key not in ("TF_CPP_MIN_LOG_LEVEL", "FASHIONBENCH_VERBOSE")}
    command = [sys.executable, "run_all.py", "--dataset", "digits", "--profile", "smoke",
               "--only", "cnn-seed003", "--results-dir", str(tmp_path)]
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=300)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert not BACKEND_NOISE.search(output), output
    assert "[1/1] cnn-seed003 seed 0: test accuracy" in output
    if not gpu_names():  # the one-line notice instead
        assert output.count("train on the CPU (no GPU), slowly") == 1


def test_dry_run_prints_the_plan_and_runs_nothing(capsys, tmp_path):
    """--dry-run: the jobs in start order, what is stored, nothing written; a seed given twice
    is one job."""
    results = tmp_path / "results"
    code, out, _ = run_cli(capsys, "--only", "raw-knn,pca-knn", "--dataset", "digits",
                           "--profile", "smoke", "--seeds", "0", "0", "--results-dir",
                           str(results), "--dry-run")
    assert code == 0
    assert "2 to run, 0 stored" in out
    assert out.count("seed 0:") == 2 and "raw-knn seed 0" in out and "pca-knn seed 0" in out
    assert not results.exists()
    assert main(["--only", "raw-knn", "--dataset", "digits", "--profile", "smoke",
                 "--results-dir", str(results), "--quiet"]) == 0
    capsys.readouterr()
    code, out, _ = run_cli(capsys, "--only", "raw-knn,pca-knn", "--dataset", "digits",
                           "--profile", "smoke", "--results-dir", str(results), "--dry-run")
    assert "1 to run, 1 stored" in out and "stored: raw-knn seed 0" in out


def test_exclude_takes_comma_joined_patterns_as_only_does(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "--only", "raw-*", "--exclude", "raw-knn,raw-svm",
                           "--exclude", "raw-bayes*", "--dataset", "digits", "--profile",
                           "smoke", "--results-dir", str(tmp_path), "--dry-run")
    assert code == 0
    assert "raw-tree seed 0" in out
    assert not re.search(r"raw-(knn|svm|bayes\d) seed", out)

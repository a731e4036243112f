"""Epoch-level resume of deep jobs: the checkpoint files, and a run killed mid-training.

The end-to-end test kills ``run_all.py`` with SIGKILL once a checkpoint of epoch 2 exists,
reruns the same command, and compares the record with an uninterrupted run's: every epoch
once, the same numbers (on the CPU, at the same thread count, TensorFlow and JAX are
deterministic), the checkpoint gone once the record is stored.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.records.store import ResultsStore
from benchmarks.run.context import checkpoint_root_for, remove_checkpoint
from pipelines.deep.checkpoints import EpochCheckpoint
from tests.conftest import PROJECT_ROOT

EPOCHS = 6
PLUGIN = f'''
from pipelines import register_pipeline
from pipelines.deep import KerasPipeline, TrainingConfig


@register_pipeline("resume-probe", family="deep")
def resume_probe(profile, seed=0):
    """Seed 000's MCNN (batch norm, dropout) for {EPOCHS} short epochs on the digits."""
    return KerasPipeline("resume-probe", "mcnn", TrainingConfig(epochs={EPOCHS}, batch_size=8),
                         seed=seed)
'''


def test_checkpoint_round_trip_and_only_complete_states_are_read(tmp_path):
    checkpoint = EpochCheckpoint(tmp_path / "job")
    assert checkpoint.load() is None
    arrays = {"model/0": np.arange(6.0).reshape(2, 3), "optimizer/0": np.array(7)}
    checkpoint.save(1, {"history": [{"epoch": 1}]}, arrays)
    checkpoint.save(2, {"history": [{"epoch": 1}, {"epoch": 2}]},
                    {**arrays, "model/0": arrays["model/0"] * 2})
    state, loaded = checkpoint.load()
    assert state["epoch"] == 2 and state["history"][-1] == {"epoch": 2}
    assert np.array_equal(loaded["model/0"], arrays["model/0"] * 2)
    assert sorted(path.name for path in checkpoint.directory.iterdir()) == [
        "epoch-0002.npz", "state.json"]  # the older arrays go once the new state is in place

    # a writer killed before renaming leaves only a temporary file: the last state stands
    (checkpoint.directory / ".epoch-0003.npz.123.tmp").write_bytes(b"half")
    assert checkpoint.load()[0]["epoch"] == 2
    # a state naming arrays that are not there (never written by save) reads as none
    (checkpoint.directory / "epoch-0002.npz").unlink()
    assert checkpoint.load() is None
    checkpoint.remove()
    assert not checkpoint.directory.exists()


def test_the_checkpoint_is_removed_only_once_an_ok_record_is_stored(tmp_path):
    root = tmp_path / "checkpoints"
    for status, kept in (("timeout", True), ("failed", True), ("ok", False)):
        directory = root / status
        directory.mkdir(parents=True)
        remove_checkpoint({"status": status, "checkpoint": {"directory": str(directory)}}, root)
        assert directory.exists() == kept
    elsewhere = tmp_path / "not-ours"
    elsewhere.mkdir()
    remove_checkpoint({"status": "ok", "checkpoint": {"directory": str(elsewhere)}}, root)
    assert elsewhere.exists()  # a record never makes the runner delete what it did not make
    assert checkpoint_root_for(tmp_path / "a", root) != checkpoint_root_for(tmp_path / "b", root)


def _command(tmp_path: Path, results: str) -> list[str]:
    return [sys.executable, "run_all.py", "--dataset", "digits", "--profile", "smoke",
            "--plugin", str(tmp_path / "probe.py"), "--only", "resume-probe", "--quiet",
            "--results-dir", str(tmp_path / results),
            "--checkpoint-dir", str(tmp_path / "checkpoints")]


def _newest_state(tmp_path: Path) -> dict | None:
    for path in (tmp_path / "checkpoints").glob("*/*/state.json"):
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None
    return None


def test_a_killed_deep_job_resumes_at_its_last_epoch_and_equals_an_uninterrupted_run(tmp_path):
    pytest.importorskip("keras")
    (tmp_path / "probe.py").write_text(PLUGIN)
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    killed = subprocess.Popen(_command(tmp_path, "interrupted"), cwd=PROJECT_ROOT,
                              env=environment, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while (state := _newest_state(tmp_path)) is None or state["epoch"] < 2:
        assert killed.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no checkpoint of epoch 2 within 300 s"
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    stopped_at = _newest_state(tmp_path)["epoch"]
    assert 2 <= stopped_at < EPOCHS
    store = ResultsStore(tmp_path / "interrupted", "digits", "smoke")
    assert store.records() == []  # killed mid-job: nothing stored, nothing torn

    for results in ("interrupted", "uninterrupted"):
        subprocess.run(_command(tmp_path, results), cwd=PROJECT_ROOT, env=environment,
                       check=True, capture_output=True, timeout=600)
    [resumed] = store.records()
    [straight] = ResultsStore(tmp_path / "uninterrupted", "digits", "smoke").records()
    assert resumed["status"] == straight["status"] == "ok"
    assert resumed["checkpoint"]["resumed_from_epoch"] == stopped_at
    assert straight["checkpoint"]["resumed_from_epoch"] is None
    assert [epoch["epoch"] for epoch in resumed["history"]] == list(range(1, EPOCHS + 1))
    numbers = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")
    for ours, theirs in zip(resumed["history"], straight["history"], strict=True):
        assert {key: ours[key] for key in numbers} == {key: theirs[key] for key in numbers}
    assert resumed["predictions"]["test"] == straight["predictions"]["test"]
    assert resumed["metrics"]["test"] == straight["metrics"]["test"]
    # the fit time counts the epochs trained before the kill, not only this process's share
    timing = resumed["timing"]
    assert timing["fit_seconds"] > timing["fit_seconds_this_process"]
    # stored, so removed; a new job starts from epoch 1
    assert not Path(resumed["checkpoint"]["directory"]).exists()
    assert not Path(straight["checkpoint"]["directory"]).exists()


def test_a_finished_checkpoint_is_not_trained_again_and_another_settings_one_is_discarded(
        tmp_path, digits):
    pytest.importorskip("keras")
    from pipelines import create_pipeline

    X, y = digits.images[:300], digits.labels[:300]
    validation = (digits.images[300:400], digits.labels[300:400])
    directory = tmp_path / "job"

    def fit(**settings):
        return create_pipeline("cnn-seed004", "smoke", epochs=2, **settings).fit(
            X, y, validation=validation, checkpoint_dir=directory)

    first = fit()
    assert first.resumed_ is None and len(first.history_) == 2
    again = fit()  # the caller did not remove it: training had finished, so none is run
    assert again.resumed_["from_epoch"] == 2 and again.history_ == first.history_
    assert np.array_equal(again.predict_proba(X), first.predict_proba(X))
    other = fit(batch_size=32)  # other settings: the checkpoint cannot continue this training
    assert other.resumed_ is None
    assert other.describe()["checkpoint_discarded"] == "its settings differ from this run's"
    assert len(other.history_) == 2

"""TensorFlow's oneDNN kernels, on by default here (pipelines/deep/_backend.py), change only
speed: from the same seed and batches, a network trained with them and without them starts
from the same weights, ends close to the same weights and predicts the same classes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

TRAIN = """
import json
import numpy as np
from sklearn.datasets import load_digits
from pipelines import create_pipeline
from pipelines.deep._backend import onednn_enabled

digits = load_digits()
images = (digits.images * 16).clip(0, 255).astype(np.uint8)
labels = digits.target
pipeline = create_pipeline("mcnn", "full", seed=0, epochs=1, max_steps_per_epoch=10,
                           predict_batch_size=512)
flat = lambda model: np.concatenate([np.ravel(w) for w in model.get_weights()]).tolist()
built, build = [], type(pipeline)._build

def build_and_keep(self, *arguments, **settings):  # the weights fit itself starts from
    model, network = build(self, *arguments, **settings)
    built.append(flat(model))
    return model, network

type(pipeline)._build = build_and_keep
pipeline.fit(images[:1280], labels[:1280], validation=(images[1280:1480], labels[1280:1480]))
print(json.dumps({"onednn": onednn_enabled(), "start": built[0],
                  "weights": flat(pipeline.model_),
                  "predicted": pipeline.predict(images[1280:]).tolist()}))
"""


def train(onednn: str) -> dict:
    environment = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_ENABLE_ONEDNN_OPTS": onednn,
                   "CUDA_VISIBLE_DEVICES": ""}
    completed = subprocess.run([sys.executable, "-c", TRAIN], env=environment, cwd=ROOT,
                               capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_onednn_is_on_by_default_and_changes_nothing_but_speed():
    pytest.importorskip("tensorflow")
    with_onednn, without = train("1"), train("0")
    assert with_onednn["onednn"] is True and without["onednn"] is False
    start, first, other_start, second = (np.asarray(run[key]) for run in (with_onednn, without)
                                         for key in ("start", "weights"))
    assert np.array_equal(start, other_start)
    # Ten Adam steps from the same start. Float32 sums in another order differ by round-off,
    # and Adam's per-weight normalisation enlarges that where a gradient is near zero: the
    # runs part by about 2.5% of the distance training moved the weights (Xeon, TF 2.x),
    # where a kernel computing something else would part by about all of it.
    moved = np.linalg.norm(second - start)
    assert np.linalg.norm(first - second) < 0.1 * moved, np.linalg.norm(first - second) / moved
    agree = np.mean(np.asarray(with_onednn["predicted"]) == np.asarray(without["predicted"]))
    assert agree >= 0.99, agree


def test_the_default_sets_onednn_before_tensorflow_loads_and_a_user_s_choice_wins():
    code = ("import os; from pipelines.deep._backend import onednn_enabled; "
            "print(os.environ['TF_ENABLE_ONEDNN_OPTS'], onednn_enabled())")
    environment = {key: value for key, value in os.environ.items()
                   if key != "TF_ENABLE_ONEDNN_OPTS"}
    environment["KERAS_BACKEND"] = "tensorflow"
    by_default = subprocess.run([sys.executable, "-c", code], env=environment, cwd=ROOT,
                                capture_output=True, text=True, check=True)
    assert by_default.stdout.split() == ["1", "True"]
    chosen = subprocess.run([sys.executable, "-c", code],
                            env={**environment, "TF_ENABLE_ONEDNN_OPTS": "0"}, cwd=ROOT,
                            capture_output=True, text=True, check=True)
    assert chosen.stdout.split() == ["0", "False"]

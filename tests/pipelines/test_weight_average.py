"""A recipe's moving average of the weights (``ema_momentum``, Keras's optimizer ``use_ema``):
the network that predicts holds the exponential average of the weights that training went
through, step by step, computed here by hand from runs stopped after each step, on every
backend (on JAX each epoch is a ``fit`` call, which puts the average in by itself)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipelines import create_pipeline

ROOT = Path(__file__).resolve().parents[2]
MOMENTUM = 0.5  # far from 0 and 1, so that each step's share is plain to see
STEPS = 3

TRAIN = f"""
import json
import numpy as np
from sklearn.datasets import load_digits
from pipelines import create_pipeline

digits = load_digits()
images = (digits.images * 16).clip(0, 255).astype(np.uint8)
labels = digits.target
validation = (images[1000:1100], labels[1000:1100])

def trained(epochs, ema_momentum=None):
    # one step an epoch at a fixed rate: a run of k epochs is the first k steps of a longer one
    pipeline = create_pipeline("cnn-seed004", "smoke", seed=2, epochs=epochs, batch_size=64,
                               max_steps_per_epoch=1, optimizer="sgd", momentum=0.9,
                               schedule="steps", learning_rates=(0.05,) * epochs,
                               early_stopping=False, ema_momentum=ema_momentum)
    pipeline.fit(images[:640], labels[:640], validation=validation)
    return [np.asarray(v.numpy()).tolist() for v in pipeline.model_.trainable_variables]

print(json.dumps({{"steps": [trained(k) for k in range(1, {STEPS} + 1)],
                   "averaged": trained({STEPS}, {MOMENTUM})}}))
"""


def train(backend: str) -> dict:
    environment = {**os.environ, "KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": ""}
    completed = subprocess.run([sys.executable, "-c", TRAIN], env=environment, cwd=ROOT,
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_the_predicting_weights_are_the_moving_average_of_each_step_s(backend):
    pytest.importorskip(backend)
    run = train(backend)
    steps = [[np.asarray(w) for w in weights] for weights in run["steps"]]
    # Keras starts the average at the first step's weights, then a <- m a + (1 - m) w
    expected = steps[0]
    for weights in steps[1:]:
        expected = [MOMENTUM * a + (1 - MOMENTUM) * w for a, w in zip(expected, weights,
                                                                       strict=True)]
    averaged = [np.asarray(w) for w in run["averaged"]]
    for ours, theirs in zip(averaged, expected, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    # and it differs from where training ended, which a test of the wiring alone would miss
    assert not all(np.allclose(a, w) for a, w in zip(averaged, steps[-1], strict=True))


def test_the_ema_recipe_is_ten_views_with_the_average_and_needs_a_fixed_budget():
    for profile in ("quick", "full"):
        ten_views = create_pipeline("resnet20@modern-ten-views", profile).config
        ema = create_pipeline("resnet20@modern-ema", profile).config
        assert ema.ema_momentum == {"quick": 0.99, "full": 0.9995}[profile]
        assert ten_views.ema_momentum is None
        assert {**vars(ema), "ema_momentum": None} == vars(ten_views)
    described = create_pipeline("resnet20@modern-ema", "smoke").hyperparameters()
    assert "moving average" in described["best_weights"]
    with pytest.raises(ValueError, match="ema_momentum needs early_stopping=False"):
        create_pipeline("mcnn", "smoke", ema_momentum=0.99)
    with pytest.raises(ValueError, match="between 0 and 1"):
        create_pipeline("mcnn", "smoke", ema_momentum=1.5, early_stopping=False)
    with pytest.raises(ValueError, match="needs recalibrate_batch_norm"):
        create_pipeline("mcnn", "full", ema_momentum=0.9, early_stopping=False)


def test_a_memory_too_long_for_the_run_is_stated_and_warned_of():
    from pipelines.deep.keras_pipeline import _first_step_share

    # 3 full-profile epochs of 375 steps at the full recipe's 0.9995: 57% of the first step
    with pytest.warns(UserWarning, match="leaves 57% of the first step's weights"):
        assert _first_step_share(0.9995, 1125) == pytest.approx(0.9995 ** 1124)
    assert _first_step_share(0.9995, 11250) < 0.004  # the 30 epochs it was set for


def test_a_resumed_training_carries_the_average_on(tmp_path):
    """The average lives in the optimizer's variables, which the epoch checkpoint keeps: a
    training stopped after two of three epochs, resumed by a new trainer for the third, puts
    in the same average as an uninterrupted one."""
    keras = pytest.importorskip("keras")
    from pipelines.deep._training import EpochTrainer
    from pipelines.deep.checkpoints import EpochCheckpoint

    rng = np.random.default_rng(3)
    images, labels = rng.random((64, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 64)

    class StopAt(keras.callbacks.Callback):  # a kill at the start of an epoch
        def __init__(self, epoch):
            super().__init__()
            self.epoch = epoch

        def on_epoch_begin(self, epoch, logs=None):
            if epoch == self.epoch:
                raise KeyboardInterrupt

    def trained(checkpoint=None, stop_at=None):
        keras.utils.set_random_seed(7)
        model = keras.Sequential([
            keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.BatchNormalization(), keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax")])
        model.compile(keras.optimizers.SGD(0.1, momentum=0.9, use_ema=True, ema_momentum=0.6),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        EpochTrainer(model, (images, labels), (images[:16], labels[:16]), epochs=3,
                     batch_size=16, seed=1, callbacks=[StopAt(stop_at)], predict_batch_size=16,
                     checkpoint=checkpoint, identity={"probe": 1}).run()
        model.optimizer.finalize_variable_values(model.trainable_variables)
        return model.get_weights()

    checkpoint = EpochCheckpoint(tmp_path / "state")
    with pytest.raises(KeyboardInterrupt):
        trained(checkpoint, stop_at=2)
    assert checkpoint.load()[0]["epoch"] == 2
    for ours, theirs in zip(trained(checkpoint), trained(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)

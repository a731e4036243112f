"""The Keras-dependent half of training: batches, the epoch log, device and precision.

Imports Keras at the top; ``KerasPipeline`` imports this module only inside fit/describe.
"""

from __future__ import annotations

import contextlib
import time

import keras
import numpy as np

from benchmarks.events import report_progress


class ShuffledBatches(keras.utils.PyDataset):
    """Full batches of a fresh seeded permutation every epoch; the remainder is dropped.

    Dropping the last partial batch keeps one batch shape, so a jitted train step compiles
    once (under mixed_bfloat16 a partial batch recompiled, see DESIGN); each epoch drops
    different images. ``max_steps`` caps an epoch (the smoke budget of the big networks).
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int,
                 max_steps: int | None = None) -> None:
        super().__init__()
        self.images = images
        self.labels = labels
        self.batch_size = min(batch_size, len(labels))
        steps = len(labels) // self.batch_size
        self.steps = min(steps, max_steps) if max_steps else steps
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(labels))

    @property
    def images_per_epoch(self) -> int:
        return self.steps * self.batch_size

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, index: int):
        chosen = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        return self.images[chosen], self.labels[chosen]

    def on_epoch_end(self) -> None:
        self._order = self._rng.permutation(len(self.labels))


class EpochLog(keras.callbacks.Callback):
    """One dict per epoch: the logged metrics, the learning rate used, wall seconds.

    Placed first in the callback list so the learning rate is read before ReduceLROnPlateau
    lowers it. ``train_seconds`` stops where validation starts (``on_test_begin``), so the
    images-per-second figure measures training steps only.
    """

    def __init__(self, images_per_epoch: int) -> None:
        super().__init__()
        self.images_per_epoch = images_per_epoch
        self.epochs: list[dict] = []
        self._started = 0.0
        self._train_seconds: float | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self._train_seconds = None
        self._started = time.perf_counter()

    def on_test_begin(self, logs=None):
        if self._train_seconds is None:
            self._train_seconds = time.perf_counter() - self._started

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._started
        logs = logs or {}
        entry = {"epoch": epoch + 1}
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            entry[key] = float(logs[key]) if key in logs else None
        entry["learning_rate"] = float(keras.ops.convert_to_numpy(
            self.model.optimizer.learning_rate))
        entry["seconds"] = seconds
        entry["train_seconds"] = self._train_seconds if self._train_seconds is not None \
            else seconds
        self.epochs.append(entry)
        report_progress({"epoch": epoch + 1, "epochs": self.params.get("epochs"),
                         **{key: entry[key] for key in ("loss", "accuracy", "val_loss",
                                                        "val_accuracy", "seconds")}})


def recalibrate_batch_norm(model: keras.Model, images: np.ndarray, batch_size: int) -> int:
    """Replace BN moving averages by the plain average of batch statistics over ``images``.

    Keras's moving averages (momentum 0.99) start at mean 0, variance 1 and forget that
    start only after about a thousand steps; where a channel's true variance is near 1e-4,
    even 1% of the start left over distorts inference. Run in training mode (as the
    averages are gathered during fit: batch statistics, dropout on) with momentum
    k / (k + 1) at the k-th batch, which makes the result the average over all the batches.
    The weights are not touched. Returns the number of BN layers recalibrated.
    """
    layers = [layer for layer in model._flatten_layers()
              if isinstance(layer, keras.layers.BatchNormalization)]
    if not layers or not len(images):
        return 0
    momenta = [layer.momentum for layer in layers]
    try:
        for index, start in enumerate(range(0, len(images), batch_size)):
            for layer in layers:
                layer.momentum = index / (index + 1)
            model(images[start:start + batch_size], training=True)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
    return len(layers)


class RecalibrateBatchNorm(keras.callbacks.Callback):
    """Re-estimate BN statistics before every validation pass of fit.

    Without it a short run validates with moving averages that still remember their start,
    so EarlyStopping and ReduceLROnPlateau would act on, and keep, a meaningless epoch.
    Training is unchanged: its forward pass uses batch statistics, not the averages.
    """

    def __init__(self, images: np.ndarray, batch_size: int) -> None:
        super().__init__()
        self.images = images
        self.batch_size = batch_size

    def on_test_begin(self, logs=None):
        recalibrate_batch_norm(self.model, self.images, self.batch_size)


def gpu_devices() -> list[str]:
    """The accelerators Keras's backend sees (empty on a CPU-only machine)."""
    if keras.backend.backend() == "torch":
        import torch  # already imported by Keras's torch backend

        return [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    try:
        return list(keras.distribution.list_devices("gpu"))
    except Exception:  # a backend without distribution support: treat as CPU
        return []


def device_name() -> str:
    """The GPU's name (from nvidia-smi) when Keras sees a GPU, else ``cpu``."""
    if not gpu_devices():
        return "cpu"
    from benchmarks.environment import gpu_names

    names = gpu_names()
    return names[0] if names else "gpu"


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build under a global dtype policy and put the previous one back afterwards."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)

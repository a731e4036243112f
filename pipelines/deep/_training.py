"""The Keras-dependent half of training: the epoch loop and its checkpoints, BN statistics,
device and precision.

Imports Keras at the top; ``KerasPipeline`` imports this module only inside fit/describe.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..events import report_progress
from ._backend import keras
from .checkpoints import EpochCheckpoint


def epoch_order(n_images: int, batch_size: int, seed: int, epoch: int,
                max_steps: int | None = None) -> np.ndarray:
    """The images one epoch trains on, in order: whole batches of a permutation that depends
    on the seed and the epoch alone, so a resumed run sees the batches an uninterrupted one
    would. The remainder is dropped: one batch shape, so a jitted train step compiles once
    (under mixed_bfloat16 a partial batch recompiled, see DESIGN), and each epoch drops
    different images. ``max_steps`` caps an epoch (the smoke budget of the big networks)."""
    batch_size = min(batch_size, n_images)
    steps = n_images // batch_size
    if max_steps:
        steps = min(steps, max_steps)
    return np.random.default_rng([seed, epoch]).permutation(n_images)[:steps * batch_size]


# The counters Keras's EarlyStopping and ReduceLROnPlateau carry from epoch to epoch (their
# public attributes); EarlyStopping's best weights are checkpointed with the arrays
CALLBACK_COUNTERS = ("wait", "best", "best_epoch", "stopped_epoch", "cooldown_counter")


@dataclass
class TrainingOutcome:
    history: list[dict]
    resumed: dict | None  # from_epoch, fit_seconds_before, fit_cpu_seconds_before
    discarded: str | None  # why a checkpoint found was not used


class EpochTrainer:
    """Training as seed 000 ran it, an epoch at a time, checkpointed each epoch.

    The loop is ours so that an epoch is a unit we control: its data order comes from
    ``epoch_order`` (numpy arrays into ``fit`` on JAX, batch by batch through
    ``train_on_batch`` on TensorFlow and torch, Keras's own compiled step with ``fit``'s
    weights and logs, tested: ``through_fit``), the BN statistics can be
    re-estimated before validation, and after each
    epoch the whole training state goes to ``checkpoint``: the model's variables (with the
    dropout seed generators), the optimizer's (moments, iteration count, learning rate), the
    best epoch's weights, the callbacks' counters and the history. A run that finds a
    checkpoint with the same ``identity`` continues after its last epoch. The callbacks are
    Keras's own EarlyStopping and ReduceLROnPlateau, driven through a ``CallbackList`` with
    the logs of each epoch.
    """

    def __init__(self, model: keras.Model, train: tuple[np.ndarray, np.ndarray],
                 validation: tuple[np.ndarray, np.ndarray], *, epochs: int, batch_size: int,
                 seed: int, callbacks: list, predict_batch_size: int,
                 max_steps: int | None = None, before_validation: Callable | None = None,
                 checkpoint: EpochCheckpoint | None = None, identity: dict | None = None,
                 started: tuple[float, float] | None = None) -> None:
        self.model = model
        self.images, self.labels = train
        self.val_images, self.val_labels = validation
        self.epochs = epochs
        self.batch_size = batch_size
        self.seed = seed
        self.callbacks = callbacks
        self.predict_batch_size = predict_batch_size
        self.max_steps = max_steps
        self.before_validation = before_validation  # the BN re-estimation, where asked
        self.checkpoint = checkpoint
        self.identity = json.loads(json.dumps(identity or {}, default=str))
        # (wall, CPU) clock when fit began, for the cumulative fit time a checkpoint keeps
        self.started = started or (time.perf_counter(), time.process_time())

    @property
    def images_per_epoch(self) -> int:
        return len(epoch_order(len(self.labels), self.batch_size, 0, 0, self.max_steps))

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {}
        for group, variables in (("model", self.model.variables),
                                 ("optimizer", self.model.optimizer.variables)):
            for index, variable in enumerate(variables):
                arrays[f"{group}/{index}"] = variable.numpy()
        early_stopping = self._early_stopping()
        if early_stopping is not None and early_stopping.best_weights is not None:
            for index, value in enumerate(early_stopping.best_weights):
                arrays[f"best/{index}"] = np.asarray(value)
        return {**arrays, **global_random_state()}

    def _early_stopping(self) -> keras.callbacks.EarlyStopping | None:
        return next((callback for callback in self.callbacks
                     if isinstance(callback, keras.callbacks.EarlyStopping)), None)

    def _save(self, epoch: int, history: list[dict], finished: bool,
              before: tuple[float, float]) -> None:
        wall, cpu = (time.perf_counter() - self.started[0], time.process_time() - self.started[1])
        state = {
            "identity": self.identity, "finished": finished, "history": history,
            "fit_seconds": before[0] + wall, "fit_cpu_seconds": before[1] + cpu,
            "callbacks": [{name: _plain(getattr(callback, name)) for name in CALLBACK_COUNTERS
                           if hasattr(callback, name)} for callback in self.callbacks],
        }
        self.checkpoint.save(epoch, state, self._arrays())

    def _restore(self, state: dict, arrays: dict[str, np.ndarray]) -> None:
        for group, variables in (("model", self.model.variables),
                                 ("optimizer", self.model.optimizer.variables)):
            for index, variable in enumerate(variables):
                variable.assign(arrays[f"{group}/{index}"])
        for callback, counters in zip(self.callbacks, state["callbacks"], strict=True):
            for name, value in counters.items():
                setattr(callback, name, value)
        early_stopping = self._early_stopping()
        best = sorted((key for key in arrays if key.startswith("best/")),
                      key=lambda key: int(key.split("/")[1]))
        if early_stopping is not None and best:
            early_stopping.best_weights = [arrays[key] for key in best]
        restore_global_random_state(arrays)

    def _compatible(self, state: dict, arrays: dict[str, np.ndarray]) -> str | None:
        """Why a stored checkpoint cannot continue this training (None: it can)."""
        if state.get("identity") != self.identity:
            return "its settings differ from this run's"
        for group, variables in (("model", self.model.variables),
                                 ("optimizer", self.model.optimizer.variables)):
            for index, variable in enumerate(variables):
                stored = arrays.get(f"{group}/{index}")
                if stored is not None and tuple(stored.shape) != tuple(variable.shape):
                    return f"its {group} variable {index} has another shape"
        if len(state.get("callbacks", [])) != len(self.callbacks):
            return "it was written with other callbacks"
        return None

    def run(self) -> TrainingOutcome:
        callbacks = keras.callbacks.CallbackList(self.callbacks, model=self.model,
                                                 epochs=self.epochs, verbose=0)
        callbacks.on_train_begin()  # resets the callbacks; a checkpoint's counters come after
        history: list[dict] = []
        first_epoch, finished, resumed, discarded = 0, False, None, None
        before = (0.0, 0.0)
        loaded = self.checkpoint.load() if self.checkpoint is not None else None
        if loaded is not None:
            if not self.model.optimizer.built:
                self.model.optimizer.build(self.model.trainable_variables)
            state, arrays = loaded
            discarded = self._compatible(state, arrays)
            if discarded is None:
                self._restore(state, arrays)
                history = list(state["history"])
                first_epoch, finished = int(state["epoch"]), bool(state["finished"])
                before = (float(state["fit_seconds"]), float(state["fit_cpu_seconds"]))
                resumed = {"from_epoch": first_epoch, "fit_seconds_before": before[0],
                           "fit_cpu_seconds_before": before[1]}
            else:
                self.checkpoint.remove()
        # a one-epoch training (the smoke profile) has nothing to resume: no checkpoint files
        saving = self.checkpoint is not None and self.epochs > 1
        for epoch in range(first_epoch, 0 if finished else self.epochs):
            history.append(self._epoch(epoch, callbacks))
            finished = bool(self.model.stop_training) or epoch + 1 == self.epochs
            if saving:
                self._save(epoch + 1, history, finished, before)
            if finished:
                break
        callbacks.on_train_end()
        return TrainingOutcome(history, resumed, discarded)

    def _epoch(self, epoch: int, callbacks: keras.callbacks.CallbackList) -> dict:
        callbacks.on_epoch_begin(epoch)
        began = time.perf_counter()
        order = epoch_order(len(self.labels), self.batch_size, self.seed, epoch, self.max_steps)
        trained = train_epoch(self.model, self.images[order], self.labels[order],
                              min(self.batch_size, len(order)))
        # JAX dispatches steps asynchronously: without waiting for the last one, the clock
        # would stop while the epoch's work is still queued (measured: 35x too fast)
        self.model.trainable_variables[-1].numpy()
        train_seconds = time.perf_counter() - began
        if self.before_validation is not None:
            self.before_validation()
        evaluated = evaluate(self.model, self.val_images, self.val_labels,
                             self.predict_batch_size)
        logs = {"loss": trained["loss"], "accuracy": trained["accuracy"],
                "val_loss": evaluated["loss"], "val_accuracy": evaluated["accuracy"]}
        # where the schedule stands at the end of the epoch (read before ReduceLROnPlateau
        # lowers it for the next one)
        learning_rate = float(self.model.optimizer.learning_rate)
        callbacks.on_epoch_end(epoch, logs)
        entry = {"epoch": epoch + 1, **logs, "learning_rate": learning_rate,
                 "seconds": time.perf_counter() - began, "train_seconds": train_seconds}
        report_progress({"epoch": epoch + 1, "epochs": self.epochs,
                         **{key: entry[key] for key in ("loss", "accuracy", "val_loss",
                                                        "val_accuracy", "seconds")}})
        return entry


def global_random_state() -> dict[str, np.ndarray]:
    """The random state outside the model that training draws from: on torch, the global
    generator, from which Keras draws a Dropout layer's masks when the layer has no seed of
    its own (keras/src/backend/torch/random.py, ``dropout``); the other backends draw them
    from the layer's seed generator, a model variable. Without it a resumed run on torch
    drew other masks than an uninterrupted one."""
    if keras.backend.backend() != "torch":
        return {}
    import torch

    return {"torch/rng": torch.get_rng_state().numpy()}


def restore_global_random_state(arrays: dict[str, np.ndarray]) -> None:
    if "torch/rng" in arrays and keras.backend.backend() == "torch":
        import torch

        torch.set_rng_state(torch.from_numpy(np.ascontiguousarray(arrays["torch/rng"])))


def through_fit() -> bool:
    """Whether an epoch goes through Keras's ``fit`` and ``evaluate`` (JAX) or batch by batch
    (``batch_by_batch``: TensorFlow and torch). On JAX ``fit`` keeps ``steps_per_execution``
    (8 steps a call with a GPU) and the asynchronous dispatch that ``train_on_batch`` loses,
    waiting for every step. On TensorFlow each ``fit`` call built a tf.data pipeline that
    stalled beside a busy process. On torch the first ``fit`` call of a process drew from
    torch's global generator, so a resumed run's dropout masks differed from an uninterrupted
    run's (``global_random_state``)."""
    return keras.backend.backend() == "jax"


def train_epoch(model: keras.Model, images: np.ndarray, labels: np.ndarray,
                batch_size: int) -> dict[str, float]:
    """One pass of ``model`` over the images in order, its logs as ``fit`` reports them."""
    if not through_fit():
        return batch_by_batch(model.train_on_batch, images, labels, batch_size)
    with averages_kept_aside(model.optimizer):
        history = model.fit(images, labels, batch_size=batch_size, epochs=1, shuffle=False,
                            verbose=0).history
    return {key: float(values[-1]) for key, values in history.items()}


@contextlib.contextmanager
def averages_kept_aside(optimizer):
    """Keep ``fit`` from putting an optimizer's moving average of the weights (``use_ema``)
    into the model: every ``fit`` call ends with ``finalize_variable_values``, and here each
    epoch is a ``fit`` call, so on JAX the average would replace the training weights after
    every epoch where TensorFlow and torch, batch by batch, keep training them. The caller
    finalizes once, after the last epoch. Under mixed_float16 the optimizer is a
    LossScaleOptimizer, whose own ``use_ema`` is False and whose finalizing is its inner one's."""
    if not getattr(getattr(optimizer, "inner_optimizer", optimizer), "use_ema", False):
        yield
        return
    optimizer.finalize_variable_values = lambda var_list: None  # shadows the method
    try:
        yield
    finally:
        del optimizer.finalize_variable_values


def evaluate(model: keras.Model, images: np.ndarray, labels: np.ndarray,
             batch_size: int) -> dict[str, float]:
    """``model``'s loss and metrics on the images, as ``evaluate`` reports them."""
    if not through_fit():
        return batch_by_batch(model.test_on_batch, images, labels, batch_size)
    logs = model.evaluate(images, labels, batch_size=batch_size, verbose=0, return_dict=True)
    return {key: float(value) for key, value in logs.items()}


def batch_by_batch(step: Callable, images: np.ndarray, labels: np.ndarray,
                   batch_size: int) -> dict[str, float]:
    """``step`` (``train_on_batch`` or ``test_on_batch``) over the images in order, batch
    after batch; its logs averaged over the images, as ``fit`` and ``evaluate`` report them.

    Not ``fit`` and ``evaluate`` themselves on TensorFlow: there each call builds a tf.data
    pipeline, and on these 2-core machines, beside another busy process (the default run's
    second worker), every process of ours slept in it, in futex waits, for 1 to 15 s a call:
    a quick resnet20 job took 170 s beside a busy loop against 112 s alone, with the same
    CPU time. Batch by batch it takes 115 s beside it, 114 s alone (docs/pipelines.md)."""
    totals: dict[str, float] = {}
    for start in range(0, len(labels), batch_size):
        batch = slice(start, start + batch_size)
        logs = step(images[batch], labels[batch], return_dict=True)
        size = len(labels[batch])
        for key, value in logs.items():
            totals[key] = totals.get(key, 0.0) + float(value) * size
    return {key: total / len(labels) for key, total in totals.items()}


def _plain(value):
    """A callback counter as JSON: numpy scalars to Python numbers."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return np.asarray(value).item()


def warmup_cosine(peak: float, warmup_epochs: float, epochs: int, steps_per_epoch: int):
    """Linear warm-up from 0 to ``peak``, then cosine decay to 0 at the last step: Keras's
    ``CosineDecay`` in step units."""
    total = max(1, epochs * steps_per_epoch)
    warmup = min(total - 1, int(round(warmup_epochs * steps_per_epoch)))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0, decay_steps=total - warmup, alpha=0.0, warmup_target=peak,
        warmup_steps=warmup)


def set_dropout_rate(model: keras.Model, rate: float) -> int:
    """Set every Dropout layer's rate (read when the step is traced); returns how many."""
    layers = [layer for layer in model._flatten_layers()
              if isinstance(layer, keras.layers.Dropout)]
    for layer in layers:
        layer.rate = float(rate)
    return len(layers)


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
    from ..hardware import gpu_names

    names = gpu_names()
    return names[0] if names else "gpu"


# --precision's names as Keras's dtype policies: bfloat16 computes in bfloat16 and keeps
# float32 weights (Keras's mixed policy; a pure bfloat16 policy would round the weights too)
PRECISION_POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


def auto_dtype_policy(gpu: bool) -> str:
    """What a pipeline's "auto" precision is in this job: the policy --precision asked for
    (the executor sets it for each job: hardware.requested_precision), else mixed_bfloat16 on
    a GPU, where it is the fast path, and float32 on a CPU, where it is the default: a CPU
    gains from bfloat16 only with matrix units for it (an Intel Xeon's AMX), and it changes the
    arithmetic, so only a user asks for it there."""
    from ..hardware import requested_precision

    requested = requested_precision()
    if requested == "auto":
        requested = "bfloat16" if gpu else "float32"
    return PRECISION_POLICIES[requested]


@contextlib.contextmanager
def dtype_policy(name: str):
    """Build under a global dtype policy and put the previous one back afterwards."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)

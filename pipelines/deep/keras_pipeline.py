"""``KerasPipeline``: any network of the deep zoo behind the fashionbench contract.

One training protocol for every network, seed 000's: Adam at 1e-3, batch 128, sparse
categorical cross-entropy (the same loss as the seed's categorical cross-entropy on one-hot
labels, without the one-hot copy), EarlyStopping (patience 5) and ReduceLROnPlateau (halve
after 3 epochs without progress) on validation accuracy, the best epoch's weights kept,
at most ``profile.epochs`` epochs.

Seed 000 wrote ``monitor='val_acc'`` for EarlyStopping and ReduceLROnPlateau; Keras 2.3+
logs ``val_accuracy``, so in the seed both callbacks only warned and did nothing (its 100
epochs ran at a constant 1e-3). Here they monitor ``val_accuracy``, as the seed intended.

Best weights: ``EarlyStopping(restore_best_weights=True)`` keeps them in host memory, which
needs no temporary files and behaves the same on every backend. Keras before 3.6 restored
them only when patience ran out, so fit also sets them explicitly after training: the model
that predicts is always the best validation epoch, whichever way training ended.

Keras is imported inside the methods, never at module import (see the package docstring).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import train_test_split

DEFAULT_INPUT_SHAPE = (28, 28, 1)  # what describe() builds on before fit
DEFAULT_CLASSES = 10


@dataclass(frozen=True)
class TrainingConfig:
    """Every hyper-parameter of training; written whole into describe()."""

    epochs: int
    batch_size: int = 128
    learning_rate: float = 1e-3
    # one of OPTIMIZERS (seed 000 compares them all; Adam is its choice)
    optimizer: str = "adam"
    monitor: str = "val_accuracy"
    early_stopping_patience: int = 5
    reduce_lr_patience: int = 3
    reduce_lr_factor: float = 0.5
    min_learning_rate: float = 0.0
    # After fit, re-estimate every BatchNormalization's population statistics from this many
    # training images (None: keep the moving averages, as the seeds did); see zoo.py for why
    # the short profiles need it
    recalibrate_batch_norm: int | None = None
    # caps the steps of an epoch: the smoke budget of networks too slow for a CPU smoke run
    max_steps_per_epoch: int | None = None
    predict_batch_size: int = 1024
    # "auto": what --precision asked for (float32, or bfloat16 as mixed_bfloat16), else
    # mixed_bfloat16 where Keras sees a GPU and float32 on a CPU (auto_dtype_policy)
    mixed_precision: str = "auto"
    # "auto": Keras's own choice (XLA on JAX; on TensorFlow only with a GPU; never on torch)
    jit_compile: bool | str = "auto"
    # "auto": 8 on JAX with a GPU (fewer host round-trips per epoch), else 1
    steps_per_execution: int | str = "auto"
    # "auto": on a GPU, fit ends with one predict call on a full batch, so that the runner's
    # timed predict measures inference rather than the compilation of the predict step
    warm_up_predict: bool | str = "auto"
    # used only when fit gets no validation split: a stratified hold-out of the training set
    validation_fraction: float = 0.1
    # the epoch-end validation (early stopping, the schedule, the history) on a stratified
    # subset of this many validation images (None: all of them): a budget for networks whose
    # inference is slow on a CPU; the runner still scores the whole validation split after fit
    # (the quick profile's big networks are given fewer validation images by the runner
    # instead, register_pipeline(validation_sizes=...): watched and scored alike)
    monitor_images: int | None = None

    # ---- what a training recipe (pipelines/recipes.py) sets beyond seed 000's protocol ----
    momentum: float = 0.0  # SGD's
    nesterov: bool = False  # SGD's
    weight_decay: float = 0.0  # decoupled, the optimizer's own ``weight_decay``
    # "plateau": seed 000's ReduceLROnPlateau; "cosine": linear warm-up from 0 over
    # ``warmup_epochs``, then cosine decay to 0 at the last step (Keras's CosineDecay);
    # "steps": epoch i trains at ``learning_rates[i]`` (a refit replays the rates its
    # validation run's plateau schedule chose, benchmarks/run/refit.py)
    schedule: str = "plateau"
    warmup_epochs: float = 0.0
    learning_rates: tuple[float, ...] = ()
    # False: no EarlyStopping, the whole epoch budget, the last epoch's weights
    early_stopping: bool = True
    label_smoothing: float = 0.0
    # random augmentation of training batches inside the model (``_augmentation``):
    # "translate" (pad and crop by up to ``translate_pixels``), "flip", "erase"
    augment: tuple[str, ...] = ()
    translate_pixels: int = 2
    erase_probability: float = 0.5
    # every Dropout layer's rate (None: the architecture's own rates)
    dropout: float | None = None
    # test-time augmentation: "flip" averages the probabilities of an image and its mirror,
    # "flip-shifts" also those of both moved by one pixel each way (ten views)
    tta: str = "none"
    # the weights that predict: an exponential moving average of the training weights, with
    # this momentum per step (Keras's optimizer ``use_ema``), put in at the end of fit, then
    # its BN statistics re-estimated; None: the training weights themselves. Needs a fixed
    # epoch budget (early stopping keeps an epoch's training weights instead) and
    # ``recalibrate_batch_norm`` (the training weights' BN statistics do not fit the average)
    ema_momentum: float | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule {self.schedule!r} is not one of {', '.join(SCHEDULES)}")
        if self.tta not in TEST_TIME_AUGMENTATIONS:
            problems.append(f"tta {self.tta!r} is not one of "
                            f"{', '.join(TEST_TIME_AUGMENTATIONS)}")
        unknown = sorted(set(self.augment) - set(AUGMENTATIONS))
        if unknown:
            problems.append(f"augment {unknown} is not among {', '.join(AUGMENTATIONS)}")
        if self.optimizer.lower() not in OPTIMIZERS:
            problems.append(f"optimizer {self.optimizer!r} is not one of "
                            f"{', '.join(OPTIMIZERS)}")
        if self.schedule == "steps" and len(self.learning_rates) < self.epochs:
            problems.append(f"schedule 'steps' needs a learning rate for each of the "
                            f"{self.epochs} epochs; learning_rates has "
                            f"{len(self.learning_rates)}")
        if self.ema_momentum is not None and not 0 < self.ema_momentum < 1:
            problems.append(f"ema_momentum must lie between 0 and 1; got {self.ema_momentum}")
        if self.ema_momentum is not None and self.early_stopping:
            problems.append("ema_momentum needs early_stopping=False: early stopping keeps "
                            "its best epoch's training weights, not their average")
        if self.ema_momentum is not None and not self.recalibrate_batch_norm:
            problems.append("ema_momentum needs recalibrate_batch_norm (a number of training "
                            "images): the averaged weights need BN statistics of their own")
        if problems:
            raise ValueError("; ".join(problems))
        object.__setattr__(self, "augment", tuple(self.augment))
        object.__setattr__(self, "learning_rates",
                           tuple(float(rate) for rate in self.learning_rates))


SCHEDULES = ("plateau", "cosine", "steps")
TEST_TIME_AUGMENTATIONS = ("none", "flip", "flip-shifts")
# "flip-shifts" moves the image and its mirror by one pixel up, down, left and right, with
# zeros coming in as in training's translation: on the validation split of the two
# resnet20@modern[bfloat16] runs, ten views scored 94.96 and 95.16% where the mirror alone
# scored 94.73 and 94.97% (and wrapped-around shifts 94.88 and 95.08%), docs/pipelines.md
TTA_SHIFTS = ((-1, 0), (1, 0), (0, -1), (0, 1))
# the TrainingConfig fields that change only how a trained network predicts: the test-time
# augmentation, and whether fit warms predict up (a timing courtesy). Not the prediction
# batch: each epoch's validation is predicted in it, and its rounding could tip a schedule
PREDICTION_SETTINGS = ("tta", "warm_up_predict")


def shifted(images: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """N x H x W x C images moved by (rows, columns) pixels, zeros coming in, what moves
    out gone (training's ``translate``, one fixed shift)."""
    padding = max(abs(rows), abs(columns))
    padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
    height, width = images.shape[1:3]
    return np.ascontiguousarray(padded[:, padding - rows:padding - rows + height,
                                       padding - columns:padding - columns + width])


def tta_views(images: np.ndarray, tta: str) -> list[np.ndarray]:
    """The images a prediction averages over: the images themselves, with ``"flip"`` their
    mirror images, with ``"flip-shifts"`` also both moved by one pixel each way (ten)."""
    views = [images]
    if tta == "flip-shifts":
        views += [shifted(images, rows, columns) for rows, columns in TTA_SHIFTS]
    if tta in ("flip", "flip-shifts"):
        views += [np.ascontiguousarray(view[:, :, ::-1]) for view in views]
    return views
AUGMENTATIONS = ("translate", "flip", "erase")  # as _augmentation.AUGMENTATIONS (no Keras here)
OPTIMIZERS = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW",
              "adadelta": "Adadelta", "adagrad": "Adagrad", "adamax": "Adamax", "nadam": "Nadam"}


def make_optimizer(name: str, learning_rate, *, weight_decay: float = 0.0,
                   momentum: float = 0.0, nesterov: bool = False,
                   ema_momentum: float | None = None):
    """A Keras optimizer by its lower-case name, at the given learning rate (a number or a
    Keras schedule), with decoupled weight decay where asked, SGD's momentum, and a moving
    average of the weights where ``ema_momentum`` is given."""
    from ._backend import keras

    if name.lower() not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; one of {', '.join(OPTIMIZERS)}")
    settings = {"learning_rate": learning_rate}
    if weight_decay or name.lower() == "adamw":
        settings["weight_decay"] = weight_decay
    if name.lower() == "sgd":
        settings.update(momentum=momentum, nesterov=nesterov)
    if ema_momentum is not None:
        settings.update(use_ema=True, ema_momentum=ema_momentum)
    return getattr(keras.optimizers, OPTIMIZERS[name.lower()])(**settings)


def scale_images(X: np.ndarray) -> np.ndarray:
    """uint8 N x H x W (or N x H x W x C) to float32 in [0, 1] with a channel axis."""
    X = np.asarray(X)
    if X.ndim == 3:
        X = X[..., np.newaxis]
    return X.astype(np.float32) / np.float32(255.0)


class KerasPipeline:
    """A network from ``_architectures.ARCHITECTURES`` trained with ``TrainingConfig``.

    Hyper-parameters are set in ``__init__`` only; what fit learns ends in ``_``.
    """

    family = "deep"
    # the optional parts of the contract it offers (pipelines/base.py)
    proba_at_predict_cost = True  # predict is predict_proba's argmax
    takes_n_classes = True  # fit(..., n_classes=): the output layer's size
    resumable = True  # fit(..., checkpoint_dir=): a checkpoint every epoch, resumed
    keeps_network = True  # saved with its network as a .keras file (pipelines/saving.py)
    network_attribute = "model_"
    # what changes how a trained network predicts, never how it trains (PredictsAs): two
    # recipes apart only in these, modern and modern-ten-views, train the same network
    prediction_settings = PREDICTION_SETTINGS + ("recipe",)

    def __init__(self, name: str, architecture: str, config: TrainingConfig, *, seed: int = 0,
                 notes: str | None = None, network: dict[str, Any] | None = None) -> None:
        self.name = name
        self.architecture = architecture
        self.config = config
        # settings of the network itself (filters, activations ...), for the architectures
        # that take them; empty: the network as its seed describes it
        self.network = dict(network or {})
        self.seed = seed
        self.notes = notes

    # ---- runtime choices -------------------------------------------------------------
    def _runtime(self) -> dict[str, Any]:
        """Device, dtype policy and compilation settings for this machine and backend."""
        from . import _training
        from ._backend import keras

        gpu = bool(_training.gpu_devices())
        policy = self.config.mixed_precision
        if policy == "auto":
            policy = _training.auto_dtype_policy(gpu)
        steps_per_execution = self.config.steps_per_execution
        if steps_per_execution == "auto":
            steps_per_execution = 8 if gpu and keras.backend.backend() == "jax" else 1
        warm_up = self.config.warm_up_predict
        if warm_up == "auto":
            warm_up = gpu
        from ._backend import onednn_enabled

        return {"keras_version": keras.__version__, "backend": keras.backend.backend(),
                "onednn": onednn_enabled(),
                "device": _training.device_name(), "dtype_policy": policy,
                "steps_per_execution": int(steps_per_execution),
                "warm_up_predict": bool(warm_up)}

    def _build(self, input_shape: tuple[int, ...], n_classes: int, policy: str = "float32"):
        """The network, and the model that trains it: the network itself, or the network
        behind the recipe's augmentation layer (which is the identity at inference)."""
        from . import _training
        from ._architectures import ARCHITECTURES
        from ._backend import keras

        with _training.dtype_policy(policy):
            network = ARCHITECTURES[self.architecture].build(tuple(input_shape), n_classes,
                                                             **self.network)
            if self.config.dropout is not None:
                _training.set_dropout_rate(network, self.config.dropout)
            if not self.config.augment:
                return network, network
            from ._augmentation import TrainingAugmentation

            inputs = keras.Input(shape=tuple(input_shape), name="images")
            augmented = TrainingAugmentation(
                self.config.augment, self.config.translate_pixels,
                self.config.erase_probability, seed=self.seed, name="augmentation")(inputs)
            return keras.Model(inputs, network(augmented), name=network.name), network

    # ---- the contract ----------------------------------------------------------------
    def fit(self, X, y, *, validation: tuple | None = None, n_classes: int | None = None,
            checkpoint_dir: str | Path | None = None) -> KerasPipeline:
        """Train. ``n_classes``: the dataset's class count (default: the largest label seen
        plus one, too few when a subsample lacks the last class). With ``checkpoint_dir``,
        save the training state there after every epoch and continue from the state found
        there (a run that was killed resumes at its last finished epoch); the caller removes
        the directory once it has kept the result."""
        from . import _training
        from ._backend import keras, set_random_seed
        from .checkpoints import EpochCheckpoint

        started = (time.perf_counter(), time.process_time())
        config = self.config
        X, y, X_val, y_val = self._watched(X, y, validation)
        images, val_images = scale_images(X), scale_images(X_val)

        keras.backend.clear_session()  # a long run builds many models in one process
        set_random_seed(self.seed)
        runtime = self._runtime()
        seen = int(max(y.max(), y_val.max() if len(y_val) else 0)) + 1
        if n_classes is not None and n_classes < seen:
            raise ValueError(f"n_classes={n_classes}, but the labels go up to {seen - 1}")
        n_classes = n_classes or seen
        model, network = self._build(images.shape[1:], n_classes, runtime["dtype_policy"])
        targets, val_targets = self._compile(model, y, y_val, n_classes, runtime)
        callbacks, early_stopping = self._callbacks()
        recalibrate = self._recalibration(network, images)
        trainer = _training.EpochTrainer(
            model, (images, targets), (val_images, val_targets), epochs=config.epochs,
            batch_size=config.batch_size, seed=self.seed, callbacks=callbacks,
            predict_batch_size=config.predict_batch_size, max_steps=config.max_steps_per_epoch,
            before_validation=recalibrate,
            checkpoint=EpochCheckpoint(checkpoint_dir) if checkpoint_dir else None,
            identity={"architecture": self.architecture, "network": self.network,
                      "config": dataclasses.asdict(config), "seed": self.seed,
                      "backend": runtime["backend"], "dtype_policy": runtime["dtype_policy"],
                      "input_shape": list(images.shape[1:]), "classes": n_classes,
                      "train_images": len(y), "validation_images": len(y_val)},
            started=started)
        outcome = trainer.run()
        if config.ema_momentum is not None:  # before the BN statistics are re-estimated
            model.optimizer.finalize_variable_values(model.trainable_variables)
            self.ema_first_step_share_ = _first_step_share(
                config.ema_momentum, int(model.optimizer.iterations.numpy()))
        if early_stopping is not None and early_stopping.best_weights is not None:
            model.set_weights(early_stopping.best_weights)
        self.recalibrated_layers_ = recalibrate() if recalibrate is not None else 0
        runtime["jit_compile"] = bool(model.jit_compile)
        self.model_ = model
        if runtime["warm_up_predict"]:  # the timed predict then measures inference, not
            model.predict_on_batch(images[:config.predict_batch_size])  # its compilation
        self.runtime_ = runtime
        self.history_ = outcome.history
        self.resumed_ = outcome.resumed
        self.checkpoint_discarded_ = outcome.discarded
        self.best_epoch_ = (None if not self.history_ else len(self.history_)
                            if early_stopping is None else int(early_stopping.best_epoch) + 1)
        self.images_per_epoch_ = trainer.images_per_epoch
        return self

    def _watched(self, X, y, validation: tuple | None):
        """The training images and labels, and the validation images each epoch ends on:
        the runner's split (``validation``), else a stratified hold-out of the training
        images; with ``monitor_images``, a stratified part of them. Says which in
        ``validation_source_``."""
        config = self.config
        y = np.asarray(y).astype(np.int32)
        if validation is None:
            X, X_val, y, y_val = self._hold_out(np.asarray(X), y)
        else:
            X_val, y_val = validation
            y_val = np.asarray(y_val).astype(np.int32)
        source = ("runner's validation split" if validation is not None
                  else f"{config.validation_fraction:.0%} stratified hold-out")
        if config.monitor_images is not None and config.monitor_images < len(y_val):
            X_val, _, y_val, _ = train_test_split(
                np.asarray(X_val), y_val, train_size=config.monitor_images, stratify=y_val,
                random_state=self.seed)
            source += f", a stratified {len(y_val):,} of it at each epoch's end"
        self.validation_source_ = source
        return X, y, X_val, y_val

    def _compile(self, model, y: np.ndarray, y_val: np.ndarray, n_classes: int,
                 runtime: dict) -> tuple:
        """Compile with the recipe's optimizer, schedule and loss; the targets that loss
        takes (one-hot where labels are smoothed: Keras smooths one-hot targets only)."""
        from . import _training
        from ._backend import keras

        config = self.config
        steps_per_epoch = len(_training.epoch_order(len(y), config.batch_size, 0, 0,
                                                    config.max_steps_per_epoch))
        steps_per_epoch //= min(config.batch_size, len(y))
        learning_rate = config.learning_rate
        if config.schedule == "cosine":
            learning_rate = _training.warmup_cosine(config.learning_rate, config.warmup_epochs,
                                                    config.epochs, steps_per_epoch)
        targets, val_targets = y, y_val
        loss, metrics = "sparse_categorical_crossentropy", ["accuracy"]
        if config.label_smoothing:
            targets = keras.utils.to_categorical(y, n_classes)
            val_targets = keras.utils.to_categorical(y_val, n_classes)
            loss = keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)
            metrics = [keras.metrics.CategoricalAccuracy(name="accuracy")]
        model.compile(
            optimizer=make_optimizer(config.optimizer, learning_rate,
                                     weight_decay=config.weight_decay, momentum=config.momentum,
                                     nesterov=config.nesterov,
                                     ema_momentum=config.ema_momentum),
            loss=loss, metrics=metrics, jit_compile=config.jit_compile,
            steps_per_execution=runtime["steps_per_execution"],
        )
        return targets, val_targets

    def _callbacks(self) -> tuple[list, object]:
        """The recipe's epoch-end callbacks, and the early stopping among them (or None)."""
        from ._backend import keras

        config = self.config
        callbacks = []
        early_stopping = None
        if config.early_stopping:
            early_stopping = keras.callbacks.EarlyStopping(
                monitor=config.monitor, mode="max", patience=config.early_stopping_patience,
                restore_best_weights=True)
            callbacks.append(early_stopping)
        if config.schedule == "steps":
            rates = config.learning_rates
            callbacks.append(keras.callbacks.LearningRateScheduler(
                lambda epoch, current: rates[min(epoch, len(rates) - 1)]))
        if config.schedule == "plateau":
            callbacks.append(keras.callbacks.ReduceLROnPlateau(
                monitor=config.monitor, mode="max", patience=config.reduce_lr_patience,
                factor=config.reduce_lr_factor, min_lr=config.min_learning_rate))
        return callbacks, early_stopping

    def _recalibration(self, network, images: np.ndarray):
        """With ``recalibrate_batch_norm``: a function that re-estimates the network's batch
        norm statistics on that many clean training images (no augmentation), before each
        validation and once at the end; else None."""
        from . import _training

        config = self.config
        if not config.recalibrate_batch_norm:
            return None
        chosen = np.random.default_rng(self.seed).permutation(len(images))
        calibration_images = images[np.sort(chosen[:config.recalibrate_batch_norm])]

        def recalibrate() -> int:
            return _training.recalibrate_batch_norm(network, calibration_images,
                                                    config.batch_size)

        return recalibrate

    def _hold_out(self, X: np.ndarray, y: np.ndarray):
        try:
            return train_test_split(X, y, test_size=self.config.validation_fraction,
                                    random_state=self.seed, stratify=y)
        except ValueError:  # a class too rare to stratify
            return train_test_split(X, y, test_size=self.config.validation_fraction,
                                    random_state=self.seed)

    def _probabilities(self, images: np.ndarray) -> np.ndarray:
        # one compiled call a batch, not predict(): no data adapter for a single image, and
        # on TensorFlow no tf.data pipeline, which stalled (_training.batch_by_batch)
        size = self.config.predict_batch_size
        probabilities = np.concatenate([self.model_.predict_on_batch(images[start:start + size])
                                        for start in range(0, len(images), size)])
        return np.asarray(probabilities, dtype=np.float64)

    def predict_proba(self, X) -> np.ndarray:
        views = tta_views(scale_images(X), self.config.tta)
        probabilities = sum(self._probabilities(view) for view in views) / len(views)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)

    def predict_with_proba(self, X) -> tuple[np.ndarray, np.ndarray]:
        probabilities = self.predict_proba(X)
        return probabilities.argmax(axis=1), probabilities

    def predict_as(self, other: KerasPipeline, *, warm_up: np.ndarray) -> bool:
        """Predict from now on as ``other`` (unfitted, trained alike) would: its test-time
        augmentation, its name, recipe and notes; ``warm_up`` (training images) compiles
        the predict step where fit would have. False, and nothing changed, where this network
        trained in another backend or arithmetic than ``other`` would train in here (its
        weights would not be the ones ``other`` would learn)."""
        wanted = other._runtime()
        if any(self.runtime_.get(key) != wanted[key] for key in ("backend", "dtype_policy")):
            return False
        self.config = dataclasses.replace(self.config, **{
            name: getattr(other.config, name) for name in PREDICTION_SETTINGS})
        self.name, self.notes = other.name, other.notes
        self.recipe = getattr(other, "recipe", None)
        if wanted["warm_up_predict"]:  # as fit would have (on a GPU)
            self.model_.predict_on_batch(
                scale_images(warm_up[:self.config.predict_batch_size]))
        return True

    # ---- description -----------------------------------------------------------------
    def _parameter_counts(self) -> tuple[int, int, list[int]]:
        model = getattr(self, "model_", None)
        if model is None:  # describe before fit: the network the default input would get
            if not hasattr(self, "_unfitted_counts"):
                from ._backend import keras

                built, _ = self._build(DEFAULT_INPUT_SHAPE, DEFAULT_CLASSES)
                self._unfitted_counts = (
                    int(built.count_params()),
                    int(sum(np.prod(w.shape) for w in built.trainable_weights)),
                    list(DEFAULT_INPUT_SHAPE))
                del built
                keras.backend.clear_session()
            return self._unfitted_counts
        trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
        return int(model.count_params()), trainable, [int(d) for d in model.input_shape[1:]]

    def hyperparameters(self) -> dict[str, Any]:
        config = self.config
        callbacks = {
            "EarlyStopping": {"monitor": config.monitor, "mode": "max",
                              "patience": config.early_stopping_patience,
                              "restore_best_weights": True} if config.early_stopping else None,
            "ReduceLROnPlateau": {"monitor": config.monitor, "mode": "max",
                                  "patience": config.reduce_lr_patience,
                                  "factor": config.reduce_lr_factor,
                                  "min_lr": config.min_learning_rate}
            if config.schedule == "plateau" else None,
            "RecalibrateBatchNorm": (
                f"BN statistics re-estimated from {config.recalibrate_batch_norm} training "
                "images (no augmentation) before each validation and after fit"
                if config.recalibrate_batch_norm else None),
        }
        if config.schedule == "plateau":
            schedule = (f"constant {config.learning_rate:g}, multiplied by "
                        f"{config.reduce_lr_factor:g} after {config.reduce_lr_patience} epochs "
                        f"without a better {config.monitor}")
        else:
            schedule = (f"linear warm-up from 0 to {config.learning_rate:g} over "
                        f"{config.warmup_epochs:g} epochs, then cosine decay to 0 at the end "
                        f"of epoch {config.epochs}")
        return {
            **dataclasses.asdict(config),
            # the network's own settings (a head, a tuned layer), so that a stored run of
            # another network is not taken for today's
            "network": self.network,
            "recipe": getattr(self, "recipe", None),
            "loss": (f"categorical cross-entropy, label smoothing {config.label_smoothing:g}"
                     if config.label_smoothing else "sparse_categorical_crossentropy"),
            "seed": self.seed,
            "shuffle": "a permutation seeded by (seed, epoch) each epoch, last partial batch "
                       "dropped",
            "callbacks": callbacks,
            "schedule_description": schedule,
            "best_weights": _weights_kept(config),
        }

    def describe(self) -> dict:
        from ._architectures import ARCHITECTURES

        architecture = ARCHITECTURES[self.architecture]
        n_parameters, trainable, input_shape = self._parameter_counts()
        runtime = getattr(self, "runtime_", None) or {**self._runtime(), "jit_compile": None}
        history = getattr(self, "history_", None)
        description = {
            "name": self.name,
            "family": self.family,
            "reducer": "none",
            "architecture": self.architecture,
            "source": architecture.source,
            "n_parameters": n_parameters,
            "trainable_parameters": trainable,
            # the seed's count holds for the seed's network, not for a tuned variant of it
            "expected_parameters_28x28": None if self.network
            else architecture.expected_parameters,
            "network": self.network,
            "input_shape": input_shape,
            "params": self.hyperparameters(),
            **runtime,
            "determinism": ("seeded with keras.utils.set_random_seed; repeatable on CPU; GPU "
                            "kernels (cuDNN, XLA autotuning) may still vary run to run"),
            "train_images_per_second": _images_per_second(history, self._images_per_epoch()),
            "epochs_run": len(history) if history is not None else None,
            "best_epoch": getattr(self, "best_epoch_", None),
            "validation": getattr(self, "validation_source_", None),
            "batch_norm_layers_recalibrated": getattr(self, "recalibrated_layers_", None),
            "history": history,
            # where this fit continued a checkpoint: the epoch it started from and the fit
            # time spent before it (the runner adds that to the record's fit time)
            "resumed": getattr(self, "resumed_", None),
            "checkpoint_discarded": getattr(self, "checkpoint_discarded_", None),
            # how much of the moving average is still the first step's weights (ema_momentum)
            "ema_first_step_share": getattr(self, "ema_first_step_share_", None),
            "notes": self.notes,
        }
        return description

    def _images_per_epoch(self) -> int | None:
        return getattr(self, "images_per_epoch_", None)


# Keras starts the moving average at the first step's weights: a memory too long for the run
# leaves much of them in the average that predicts
FIRST_STEP_SHARE_WARNING = 0.05


def _first_step_share(momentum: float, steps: int) -> float:
    """The first step's weight in a moving average over ``steps`` steps (Keras's: the first
    step sets it, each later one keeps ``momentum`` of it); warns past 5%."""
    share = momentum ** max(0, steps - 1)
    if share > FIRST_STEP_SHARE_WARNING:
        highest = FIRST_STEP_SHARE_WARNING ** (1 / max(1, steps - 1))
        warnings.warn(f"ema_momentum {momentum:g} over {steps} steps leaves {share:.0%} of the "
                      f"first step's weights in the average that predicts; a momentum of at "
                      f"most {highest:.4g} keeps it under {FIRST_STEP_SHARE_WARNING:.0%}",
                      stacklevel=3)
    return share


def _weights_kept(config: TrainingConfig) -> str:
    if config.early_stopping:
        return "the best-val_accuracy epoch's, kept by EarlyStopping in memory"
    if config.ema_momentum is not None:
        return (f"an exponential moving average of the training weights (momentum "
                f"{config.ema_momentum:g} per step), put in after the last epoch; each "
                "epoch's validation scores the training weights")
    return "the last epoch's"


def _images_per_second(history: list[dict] | None, images_per_epoch: int | None) -> float | None:
    """Training throughput; the first epoch (compilation) is left out when there are more."""
    if not history or not images_per_epoch:
        return None
    epochs = history[1:] if len(history) > 1 else history
    seconds = sum(epoch["train_seconds"] for epoch in epochs)
    return images_per_epoch * len(epochs) / seconds if seconds > 0 else None

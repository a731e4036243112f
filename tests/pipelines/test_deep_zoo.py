"""The deep zoo: the seeds' parameter counts, a smoke fit of every network, the contract.

Sized for 2 CPU cores: 256 training images and one epoch per network (VGG16 and ResNet50
also cap their smoke epoch at 2 batches inside the pipeline).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from pipelines import create_pipeline, list_pipelines
from tests.conftest import frameworks_imported_by

ROOT = Path(__file__).resolve().parents[2]

# On 28 x 28 x 1 with 10 classes. The first five are the counts the seeds' reports state;
# the last three are this project's reconstructions, pinned so that a change is noticed.
SEED_PARAMETER_COUNTS = {
    "mcnn": 213_354,  # seed 000, Figure 14
    "cnn-seed001": 565_386,  # seed 001, model without regularisation
    "cnn-seed001-dropout": 590_346,  # seed 001, final model
    "cnn-seed003": 83_322,  # seed 003, baseline
    "cnn-seed004": 693_962,  # seed 004, first CNN
}
RECONSTRUCTED_PARAMETER_COUNTS = {
    # seed 002's CNN 1: conv 320 + BN 128, conv 9,248 + BN 128, the 24 x 24 x 32 map into
    # dense 512 (9,437,696) + BN 2,048, dense 128 (65,664) + BN 512, softmax 1,290
    "cnn-seed002": 320 + 128 + 9_248 + 128 + 9_437_696 + 2_048 + 65_664 + 512 + 1_290,
    # seed 002's cnn_model2: conv 32, 32, 64, 128 each with BN, 1 x 1 x 128 into dense 512 and
    # 128 with BN, softmax
    "cnn-seed002-v2": (320 + 128 + 9_248 + 128 + 18_496 + 256 + 73_856 + 512 + 66_048 + 2_048
                       + 65_664 + 512 + 1_290),
    # seed 004's cnn_model2: conv 32 (320), conv 64 (18,496), 5 x 5 x 64 into dense 128
    # (204,928), 256 (33,024), 128 (32,896), softmax (1,290)
    "cnn-seed004-v2": 320 + 18_496 + 204_928 + 33_024 + 32_896 + 1_290,
    # seed 004's cnn_model3: conv 64 (640), 128 (73,856), 64 (73,792), 1 x 1 x 64 into dense
    # 128 (8,320), 256 (33,024), 256 (65,792), 128 (32,896), softmax (1,290)
    "cnn-seed004-v3": 640 + 73_856 + 73_792 + 8_320 + 33_024 + 65_792 + 32_896 + 1_290,
    "lstm": 98_186,  # LSTM 128 (80,384) + dense 128 + softmax
    "resnet20": 273_754,  # He et al. 2016's CIFAR ResNet-20, counted by hand in its docstring
    # keras.applications.VGG16's convolutions (14,714,688), then seed 004's three fully
    # connected layers: 512 x 4096 + 4096, 4096 x 4096 + 4096, 4096 x 10 + 10
    "vgg16": 14_714_688 + 2_101_248 + 16_781_312 + 40_970,
    "resnet50": 23_608_202,  # keras.applications.ResNet50 without top (23,587,712) + softmax
}
DEEP_PIPELINES = sorted({**SEED_PARAMETER_COUNTS, **RECONSTRUCTED_PARAMETER_COUNTS})
TRAIN_IMAGES = 256


def test_the_deep_zoo_is_registered_as_deep():
    assert sorted(list_pipelines(family="deep")) == DEEP_PIPELINES


def test_importing_the_pipelines_imports_no_deep_learning_framework():
    code = ("import pipelines; from pipelines.deep import KerasPipeline; "
            "pipelines.list_pipelines(); pipelines.create_pipeline('mcnn', 'smoke')")
    assert frameworks_imported_by(code) == []


def test_the_gpu_machine_needs_only_the_wheels_prepare_device_brings():
    """The device machine has no scikit-image, Optuna, Dask or TensorFlow (Keras and XGBoost
    come as wheels from prepare-device.sh): listing and building any pipeline, and the runner
    itself, must not import them."""
    code = ("import pipelines, benchmarks.run.runner, benchmarks.run.executors, "
            "benchmarks.reports.publish, benchmarks.studies.spec, benchmarks.cli; "
            "pipelines.list_pipelines(); "
            "[pipelines.create_pipeline(n, 'full') for n in pipelines.list_pipelines()]")
    lacking = ("skimage", "optuna", "distributed", "dask", "tensorflow", "keras")
    assert frameworks_imported_by(code, lacking) == []


@pytest.mark.parametrize("name", DEEP_PIPELINES)
def test_parameter_count_before_training(name):
    pytest.importorskip("keras")
    expected = {**SEED_PARAMETER_COUNTS, **RECONSTRUCTED_PARAMETER_COUNTS}[name]
    description = create_pipeline(name, "smoke").describe()
    assert description["n_parameters"] == expected
    assert description["input_shape"] == [28, 28, 1]
    if name in SEED_PARAMETER_COUNTS:
        assert description["expected_parameters_28x28"] == expected
    assert description["history"] is None and description["family"] == "deep"
    assert description["jit_compile"] is None  # known only once compiled
    json.dumps(description)
    # the runner's stale-settings check reads the settings without building the model
    assert description["params"] == create_pipeline(name, "smoke").hyperparameters()


@pytest.fixture(scope="module")
def small_split(request):
    """256 / 128 / 200 images: Fashion-MNIST where its files are present, digits otherwise."""
    from benchmarks.data.datasets import load_dataset
    from tests.conftest import genuine_data_dir

    directory = genuine_data_dir()
    dataset = (load_dataset("fashion-mnist", directory, download=False) if directory
               else load_dataset("digits"))
    order = np.random.default_rng(0).permutation(len(dataset.labels))
    cuts = np.cumsum([TRAIN_IMAGES, 128, 200])
    train, validation, test = np.split(order[:cuts[-1]], cuts[:-1])
    return {role: (dataset.images[indices], dataset.labels[indices])
            for role, indices in (("train", train), ("validation", validation), ("test", test))}


@pytest.mark.parametrize("name", DEEP_PIPELINES)
def test_every_deep_pipeline_trains_in_the_smoke_profile(name, small_split):
    pytest.importorskip("keras")
    (X, y), validation, (X_test, _) = (small_split["train"], small_split["validation"],
                                       small_split["test"])
    from pipelines.events import reporting_to

    events = []
    with reporting_to(events.append):
        pipeline = create_pipeline(name, "smoke", seed=0).fit(X, y, validation=validation)

    probabilities = pipeline.predict_proba(X_test)
    assert probabilities.shape == (len(X_test), int(y.max()) + 1)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    predictions = pipeline.predict(X_test)
    assert predictions.shape == (len(X_test),)
    assert np.array_equal(predictions, probabilities.argmax(axis=1))
    assert pipeline.predict(X_test[:1]).shape == (1,)  # the runner's single-image latency
    both = pipeline.predict_with_proba(X_test)  # how the runner scores validation images
    assert np.array_equal(both[0], predictions) and np.allclose(both[1], probabilities)

    description = pipeline.describe()
    json.loads(json.dumps(description))
    assert description["name"] == name and description["reducer"] == "none"
    assert description["n_parameters"] > 0 and description["device"] == "cpu"
    assert description["dtype_policy"] == "float32"
    assert description["train_images_per_second"] > 0
    history = description["history"]
    assert len(history) == 1 and description["epochs_run"] == 1
    assert set(history[0]) >= {"loss", "accuracy", "val_loss", "val_accuracy",
                               "learning_rate", "seconds"}
    assert all(np.isfinite(history[0][key]) for key in ("loss", "val_loss", "seconds"))
    # the live display's epoch progress: one event per epoch, the same numbers as the record
    assert events == [{"epoch": 1, "epochs": 1, **{key: history[0][key] for key in (
        "loss", "accuracy", "val_loss", "val_accuracy", "seconds")}}]
    params = description["params"]
    assert params["epochs"] == 1 and params["batch_size"] == 128
    assert params["callbacks"]["EarlyStopping"]["restore_best_weights"] is True
    # the networks with batch normalisation
    if name in ("mcnn", "resnet20", "resnet50", "cnn-seed002", "cnn-seed002-v2"):
        assert description["batch_norm_layers_recalibrated"] > 0
    else:
        assert description["batch_norm_layers_recalibrated"] == 0


def test_big_networks_cap_their_smoke_epoch_and_say_so():
    for name in ("vgg16", "resnet50"):
        assert create_pipeline(name, "smoke").config.max_steps_per_epoch == 2
        assert create_pipeline(name, "quick").config.max_steps_per_epoch is None
    assert create_pipeline("vgg16", "quick").config.learning_rate == 1e-4
    assert create_pipeline("mcnn", "full").config.epochs == 100


def test_short_profiles_recalibrate_batch_norm_and_full_keeps_the_seeds_averages():
    assert create_pipeline("mcnn", "smoke").config.recalibrate_batch_norm == 256
    assert create_pipeline("resnet50", "quick").config.recalibrate_batch_norm == 1024
    assert create_pipeline("mcnn", "full").config.recalibrate_batch_norm is None


def test_digits_sized_images_train_natively_or_resized(digits):
    pytest.importorskip("keras")
    X, y = digits.images[:300], digits.labels[:300]
    for name, shape in (("mcnn", [8, 8, 1]), ("cnn-seed003", [8, 8, 1])):
        pipeline = create_pipeline(name, "smoke").fit(X[:200], y[:200],
                                                      validation=(X[200:], y[200:]))
        assert pipeline.predict(X[200:]).shape == (100,)
        assert pipeline.describe()["input_shape"] == shape
    # seed 003's valid convolutions need 12 pixels: the 8 x 8 image is resized inside the model
    layer_names = [layer.name for layer in pipeline.model_.layers]
    assert "resize_to_seed_size" in layer_names


def test_same_seed_same_model_on_cpu(small_split):
    pytest.importorskip("keras")
    (X, y), validation, (X_test, _) = (small_split["train"], small_split["validation"],
                                       small_split["test"])
    runs = [create_pipeline("cnn-seed004", "smoke", seed=3).fit(X, y, validation=validation)
            .predict_proba(X_test) for _ in range(2)]
    assert np.array_equal(runs[0], runs[1])


def test_an_epoch_batch_by_batch_is_keras_s_own_fit_and_evaluate():
    """The epoch loop trains through train_on_batch, not fit (whose tf.data pipeline slept
    for seconds at each call beside another busy process): the same weights and the same
    epoch logs as fit, and evaluate's numbers, on a network with BN, dropout and a remainder
    batch in the evaluation."""
    keras = pytest.importorskip("keras")
    from pipelines.deep._training import batch_by_batch

    rng = np.random.default_rng(0)
    images = rng.random((96, 8, 8, 1), dtype=np.float32)
    labels = rng.integers(0, 3, 96)

    def network():
        keras.utils.set_random_seed(7)
        model = keras.Sequential([
            keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.BatchNormalization(), keras.layers.Flatten(),
            keras.layers.Dropout(0.3, seed=1), keras.layers.Dense(3, activation="softmax")])
        model.compile(keras.optimizers.SGD(0.1, momentum=0.9),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    by_fit, by_batch = network(), network()
    fitted = by_fit.fit(images, labels, batch_size=32, epochs=1, shuffle=False, verbose=0)
    trained = batch_by_batch(by_batch.train_on_batch, images, labels, 32)
    for ours, theirs in zip(by_batch.get_weights(), by_fit.get_weights(), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    assert trained["loss"] == pytest.approx(fitted.history["loss"][0], rel=1e-5)
    assert trained["accuracy"] == pytest.approx(fitted.history["accuracy"][0], rel=1e-6)
    evaluated = by_fit.evaluate(images[:70], labels[:70], batch_size=32, verbose=0,
                                return_dict=True)
    ours = batch_by_batch(by_fit.test_on_batch, images[:70], labels[:70], 32)
    assert ours["loss"] == pytest.approx(evaluated["loss"], rel=1e-5)
    assert ours["accuracy"] == pytest.approx(evaluated["accuracy"], rel=1e-6)


@pytest.mark.parametrize("policy, smoothing", [("float32", 0.0), ("mixed_bfloat16", 0.1)])
def test_an_epoch_trainer_epoch_is_fit_on_its_order_then_evaluate(policy, smoothing):
    """EpochTrainer's wiring: one epoch trains on epoch_order's images at the trainer's batch
    size and validates at the predict batch size, its logs landing under loss / val_*; a
    twin model given the same order through Keras's own fit and evaluate ends with the same
    weights and logs, in float32 and bfloat16, with sparse or label-smoothed one-hot labels."""
    keras = pytest.importorskip("keras")
    from pipelines.deep._training import EpochTrainer, dtype_policy, epoch_order

    rng = np.random.default_rng(1)
    images, val_images = rng.random((100, 8, 8, 1), dtype=np.float32), rng.random(
        (45, 8, 8, 1), dtype=np.float32)
    labels, val_labels = rng.integers(0, 3, 100), rng.integers(0, 3, 45)
    if smoothing:
        labels, val_labels = (keras.utils.to_categorical(each, 3) for each in (labels,
                                                                                 val_labels))
    loss = (keras.losses.CategoricalCrossentropy(label_smoothing=smoothing) if smoothing
            else "sparse_categorical_crossentropy")

    def network():
        keras.utils.set_random_seed(7)
        with dtype_policy(policy):
            model = keras.Sequential([
                keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                keras.layers.BatchNormalization(), keras.layers.Flatten(),
                keras.layers.Dropout(0.3, seed=1),
                keras.layers.Dense(3, activation="softmax", dtype="float32")])
        model.compile(keras.optimizers.SGD(0.1, momentum=0.9), loss, metrics=["accuracy"])
        return model

    ours, twin = network(), network()
    trainer = EpochTrainer(ours, (images, labels), (val_images, val_labels), epochs=1,
                           batch_size=32, seed=5, callbacks=[], predict_batch_size=20)
    logs = trainer.run().history[0]
    order = epoch_order(100, 32, 5, 0)
    assert len(order) == 96  # the remainder batch is dropped
    fitted = twin.fit(images[order], labels[order], batch_size=32, epochs=1, shuffle=False,
                      verbose=0).history
    evaluated = twin.evaluate(val_images, val_labels, batch_size=20, verbose=0,
                              return_dict=True)
    for mine, theirs in zip(ours.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    assert logs["loss"] == pytest.approx(fitted["loss"][0], rel=1e-4)
    assert logs["accuracy"] == pytest.approx(fitted["accuracy"][0], rel=1e-6)
    assert logs["val_loss"] == pytest.approx(evaluated["loss"], rel=1e-4)
    assert logs["val_accuracy"] == pytest.approx(evaluated["accuracy"], rel=1e-6)


def test_fit_without_validation_holds_out_part_of_the_training_set(small_split):
    pytest.importorskip("keras")
    X, y = small_split["train"]
    pipeline = create_pipeline("cnn-seed004", "smoke", batch_size=64).fit(X, y)
    description = pipeline.describe()
    assert description["validation"] == "10% stratified hold-out"
    assert description["history"][0]["val_accuracy"] is not None
    assert description["params"]["batch_size"] == 64


def test_mixed_bfloat16_keeps_float32_probabilities_and_restores_the_policy(small_split):
    """The GPU path (bf16, steps_per_execution > 1, predict warm-up), forced on the CPU."""
    keras = pytest.importorskip("keras")
    (X, y), validation, (X_test, _) = (small_split["train"], small_split["validation"],
                                       small_split["test"])
    pipeline = create_pipeline("cnn-seed004", "smoke", mixed_precision="mixed_bfloat16",
                               steps_per_execution=3, warm_up_predict=True, batch_size=64)
    pipeline.fit(X, y, validation=validation)
    assert pipeline.model_.layers[-1].compute_dtype == "float32"
    assert any(layer.compute_dtype == "bfloat16" for layer in pipeline.model_.layers)
    assert keras.config.dtype_policy().name == "float32"
    assert np.allclose(pipeline.predict_proba(X_test).sum(axis=1), 1.0)
    description = pipeline.describe()
    assert description["dtype_policy"] == "mixed_bfloat16"
    # 4 steps an epoch in groups of 3: the last group is shorter
    assert description["steps_per_execution"] == 3 and description["warm_up_predict"] is True


def test_auto_precision_follows_the_run_s_request_then_the_device(monkeypatch):
    """"auto" is what --precision asked for in this job, else bfloat16 on a GPU only; a value
    the option could not have set is one line naming the variable."""
    pytest.importorskip("keras")
    from pipelines.deep._training import auto_dtype_policy
    from pipelines.hardware import PRECISION_ENV

    monkeypatch.delenv(PRECISION_ENV, raising=False)
    assert (auto_dtype_policy(gpu=False), auto_dtype_policy(gpu=True)) \
        == ("float32", "mixed_bfloat16")
    monkeypatch.setenv(PRECISION_ENV, "bfloat16")
    assert auto_dtype_policy(gpu=False) == "mixed_bfloat16"
    monkeypatch.setenv(PRECISION_ENV, "float32")
    assert auto_dtype_policy(gpu=True) == "float32"
    monkeypatch.setenv(PRECISION_ENV, "fp16")
    with pytest.raises(ValueError, match=f"^{PRECISION_ENV} must be one of auto, float32, "
                                         f"bfloat16, not 'fp16'"):
        auto_dtype_policy(gpu=False)


def test_the_class_count_comes_from_the_dataset_not_the_largest_label(small_split):
    """A subsample without the last class must still give a softmax over every class, or
    its probabilities (and log-loss) silently lose a column."""
    pytest.importorskip("keras")
    (X, y), (X_val, y_val), (X_test, _) = (small_split["train"], small_split["validation"],
                                           small_split["test"])
    keep, keep_val = y < 9, y_val < 9
    pipeline = create_pipeline("cnn-seed004", "smoke").fit(
        X[keep], y[keep], validation=(X_val[keep_val], y_val[keep_val]), n_classes=10)
    assert pipeline.predict_proba(X_test).shape == (len(X_test), 10)
    with pytest.raises(ValueError, match="n_classes=5, but the labels go up to 8"):
        create_pipeline("cnn-seed004", "smoke").fit(X[keep], y[keep], n_classes=5)


def test_epoch_end_validation_can_watch_a_stratified_part_of_the_validation_split(small_split):
    pytest.importorskip("keras")
    X, y = small_split["train"]
    X_val, y_val = small_split["validation"]
    model = create_pipeline("cnn-seed004", "smoke", epochs=1, monitor_images=40)
    model.fit(X, y, validation=(X_val, y_val))
    description = model.describe()
    assert description["validation"] == "runner's validation split, a stratified 40 of it at " \
                                        "each epoch's end"
    assert description["history"][0]["val_accuracy"] is not None
    assert len(model.predict(X_val)) == len(y_val)  # the runner still scores all of it


def test_a_steps_schedule_trains_each_epoch_at_its_given_rate(small_split):
    """What a refit replays (benchmarks/refit.py): the rates its validation run had."""
    pytest.importorskip("keras")
    X, y = small_split["train"]
    rates = (2e-3, 1e-3, 2.5e-4)
    model = create_pipeline("cnn-seed004", "smoke", epochs=3, schedule="steps",
                            learning_rates=rates, early_stopping=False)
    model.fit(X, y, validation=small_split["validation"])
    history = model.describe()["history"]
    assert [epoch["learning_rate"] for epoch in history] == pytest.approx(rates)


def test_every_seed_figure_is_on_the_line_it_cites():
    """The "seed reported" table cites a line of each seed document: the figure is there."""
    from pipelines.seed_figures import SEED_FIGURES, seed_figure

    seeds = ROOT.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"{seeds} is not on this machine")
    for name, figure in SEED_FIGURES.items():
        [document] = seeds.glob(f"{figure.document}_*.txt")
        line = document.read_text().splitlines()[figure.line - 1]
        written = (f"{figure.accuracy * 100:.2f}", f"{figure.accuracy:.4f}")
        assert any(text in line for text in written), (name, line)
        assert name in list_pipelines(), name
    assert seed_figure("mcnn").accuracy == 0.9337
    assert seed_figure("mcnn", "modern") is None  # another recipe trains something else
    assert seed_figure("mcnn", None, {"batch_size": 16}) is None  # a study's variant
    assert seed_figure("resnet20") is None  # no seed counterpart

"""Training recipes: the registry and ``name@recipe``, the augmentation layer inside the
compiled step, flip test-time augmentation, and a recipe run end to end into a leaderboard."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks.api import select_pipelines
from benchmarks.cli import main
from benchmarks.errors import UnknownNameError
from pipelines import create_pipeline
from pipelines.recipes import (
    MODERN_EPOCHS,
    MODERN_FULL_CHANGES,
    get_recipe,
    recipe_entries,
    register_recipe,
    split_name,
    with_recipe,
)
from pipelines.registry import PipelineContractError


def test_the_seed_and_modern_recipes_are_registered():
    assert {"seed", "modern"} <= set(recipe_entries())
    assert get_recipe("seed").factory(None) == {}  # seed 000's protocol: the config's defaults
    assert split_name("mcnn@modern") == ("mcnn", "modern")
    assert split_name("pca-knn") == ("pca-knn", None)
    assert with_recipe("mcnn", "seed") == "mcnn" and with_recipe("mcnn", "modern") == \
        "mcnn@modern"


def test_a_recipe_sets_the_training_protocol_and_the_bare_name_keeps_the_seeds():
    seed = create_pipeline("mcnn", "full")
    modern = create_pipeline("mcnn@modern", "full")
    assert modern.name == "mcnn@modern" and modern.recipe == "modern"
    assert seed.recipe == "seed" and seed.config.optimizer == "adam"
    assert seed.config.schedule == "plateau" and seed.config.early_stopping
    config = modern.config
    assert (config.optimizer, config.nesterov, config.schedule) == ("sgd", True, "cosine")
    assert config.epochs == MODERN_EPOCHS["full"] and not config.early_stopping
    # the full profile's parts were chosen on validation (MODERN_FULL_CHANGES); the others
    # keep the whole recipe
    assert config.augment == ("translate", "flip") and config.dropout == 0.0
    assert config.tta == "flip"
    assert create_pipeline("mcnn@modern", "quick").config.augment == \
        ("translate", "flip", "erase")
    assert config.label_smoothing > 0 and config.weight_decay > 0
    # the user's own settings win over the recipe's
    assert create_pipeline("mcnn@modern", "quick", epochs=3).config.epochs == 3
    # the architecture is the same network: same parameter count
    assert modern.describe()["n_parameters"] == seed.describe()["n_parameters"] == 213_354
    params = modern.describe()["params"]
    assert params["recipe"] == "modern" and params["callbacks"]["EarlyStopping"] is None


def test_recipe_names_are_checked_with_one_line_errors():
    with pytest.raises(UnknownNameError, match="did you mean modern"):
        create_pipeline("mcnn@moden", "quick")
    with pytest.raises(UnknownNameError, match="recipes train deep pipelines.*raw-knn"):
        create_pipeline("raw-knn@modern", "quick")
    with pytest.raises(ValueError, match="already registered"):
        register_recipe("modern")(lambda profile: {})
    with pytest.raises(ValueError, match="without '@'"):
        register_recipe("a@b")


def test_a_plugin_recipe_reaches_any_deep_pipeline(isolated_registry, monkeypatch):
    from pipelines import recipes

    monkeypatch.setattr(recipes, "_RECIPES", dict(recipes._RECIPES))

    @register_recipe("tiny-batches")
    def tiny_batches(profile):
        """Batch 16, everything else seed 000's."""
        return {"batch_size": 16}

    assert create_pipeline("lstm@tiny-batches", "quick").config.batch_size == 16

    @isolated_registry.register_pipeline("rigid-net", family="deep")
    def rigid(profile, seed=0):  # takes no training settings
        return create_pipeline("lstm", profile)

    with pytest.raises(PipelineContractError, match="does not take the training settings"):
        create_pipeline("rigid-net@tiny-batches", "quick")


def test_the_command_line_selects_recipes(capsys):
    assert select_pipelines(["mcnn@modern"], []) == ["mcnn@modern"]
    assert select_pipelines(["mcnn", "raw-knn"], [], ["modern", "seed"]) == ["mcnn@modern",
                                                                            "mcnn"]
    assert "1 classical pipeline(s) left out" in capsys.readouterr().err
    assert select_pipelines(["cnn-*@modern"], ["*-dropout", "*-v?"]) == [
        "cnn-seed001@modern", "cnn-seed002@modern", "cnn-seed003@modern", "cnn-seed004@modern"]
    with pytest.raises(UnknownNameError, match="no deep pipeline matches"):
        select_pipelines(["raw-*@modern"], [])
    with pytest.raises(UnknownNameError, match="unknown recipe"):
        select_pipelines(["mcnn"], [], ["nope"])
    assert main(["--describe", "mcnn@modern", "--profile", "full"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["name"] == "mcnn@modern" and described["params"]["optimizer"] == "sgd"
    assert main(["--list"]) == 0
    listing = capsys.readouterr().out
    assert "recipe (--recipe NAME" in listing and "modern" in listing


# ---- the augmentation layer --------------------------------------------------------------

@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _augment(keras, images, augment, **settings):
    from pipelines.deep._augmentation import TrainingAugmentation

    layer = TrainingAugmentation(augment, seed=3, **settings)
    batch = images.astype("float32")[..., None]
    assert np.array_equal(np.asarray(layer(batch, training=False)), batch)  # inference
    return np.asarray(layer(batch, training=True))[..., 0]


def _shifted(image, dy, dx):
    """``image`` moved by (dy, dx), zeros coming in: pad-and-crop, by hand."""
    padded = np.pad(image, 2)
    return padded[2 - dy:2 - dy + image.shape[0], 2 - dx:2 - dx + image.shape[1]]


def test_translation_moves_each_image_by_at_most_two_pixels_with_zeros_coming_in(keras):
    images = np.random.default_rng(0).uniform(0.1, 1.0, size=(64, 28, 28))
    moved = _augment(keras, images, ("translate",))
    shifts = set()
    for original, result in zip(images, moved, strict=True):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if np.allclose(result, _shifted(original, dy, dx), atol=1e-6)]
        assert len(matches) == 1
        shifts.add(matches[0])
    assert len(shifts) > 10  # random per image, not one shift for the batch


def test_flip_mirrors_about_half_the_images_and_erasing_replaces_one_rectangle(keras):
    images = np.random.default_rng(1).uniform(0.0, 1.0, size=(400, 28, 28))
    flipped = _augment(keras, images, ("flip",))
    mirrored = [np.allclose(result, original[:, ::-1])
                for original, result in zip(images, flipped, strict=True)]
    kept = [np.allclose(result, original) for original, result in zip(images, flipped,
                                                                       strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert 140 < sum(mirrored) < 260

    blank = -np.ones((200, 28, 28))  # noise in [0, 1) never equals -1: changes are visible
    erased = _augment(keras, blank, ("erase",), erase_probability=1.0) != -1
    for changed in erased:
        rows, columns = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        assert changed.sum() == len(rows) * len(columns)  # exactly one filled rectangle
        assert np.ptp(rows) + 1 == len(rows) and np.ptp(columns) + 1 == len(columns)
        assert 0.01 * 784 <= changed.sum() <= 0.45 * 784  # Zhong et al.'s 2-40%, whole pixels
    assert (_augment(keras, blank, ("erase",), erase_probability=0.0) == -1).all()


def test_the_augmentation_stays_in_the_compiled_step(keras):
    """Keras turns XLA off, with a warning, for a model with a non-jittable layer (its own
    RandomTranslation is one, which made JAX training >100x slower). With ours, the model keeps
    ``jit_compile=True`` and trains under XLA."""
    from pipelines.deep._augmentation import TrainingAugmentation

    def model_with(layer):
        inputs = keras.Input((28, 28, 1))
        outputs = keras.layers.Dense(10, activation="softmax")(
            keras.layers.Flatten()(layer(inputs)))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=True)
        return model

    with pytest.warns(UserWarning, match="doesn't support `jit_compile=True`"):
        fallback = model_with(keras.layers.RandomTranslation(0.1, 0.1))
    assert fallback.jit_compile is False  # the check below can fail
    ours = model_with(TrainingAugmentation(seed=0))
    assert ours.jit_compile is True
    images = np.random.default_rng(0).uniform(size=(64, 28, 28, 1)).astype("float32")
    history = ours.fit(images, np.arange(64) % 10, batch_size=32, epochs=1, verbose=0)
    assert ours.jit_compile is True and np.isfinite(history.history["loss"][0])


# ---- flip test-time augmentation, and a recipe run end to end ----------------------------

def test_flip_tta_averages_the_mirror_images_opinion(keras, digits):
    X, y = digits.images[:300], digits.labels[:300]
    validation = (digits.images[300:400], digits.labels[300:400])
    pipeline = create_pipeline("cnn-seed004@modern", "smoke", epochs=2).fit(
        X, y, validation=validation)
    test = digits.images[400:500]
    images = test.astype("float32")[..., None] / 255
    plain = np.asarray(pipeline.model_.predict_on_batch(images), dtype=np.float64)
    mirror = np.asarray(pipeline.model_.predict_on_batch(images[:, :, ::-1].copy()),
                        dtype=np.float64)
    expected = (plain + mirror) / 2
    assert np.allclose(pipeline.predict_proba(test), expected / expected.sum(1, keepdims=True))
    assert not np.allclose(pipeline.predict_proba(test), plain)  # the mirror changed them


def test_a_one_pixel_shift_is_scipys_with_zeros_coming_in():
    from scipy import ndimage

    from pipelines.deep.keras_pipeline import TTA_SHIFTS, shifted

    images = np.random.default_rng(0).random((3, 6, 5, 1)).astype("float32")
    for rows, columns in (*TTA_SHIFTS, (2, -1)):
        assert np.array_equal(shifted(images, rows, columns),
                              ndimage.shift(images, (0, rows, columns, 0), order=0, cval=0))


def test_ten_view_tta_averages_each_shift_and_its_mirror(keras, digits):
    from scipy import ndimage

    X, y = digits.images[:300], digits.labels[:300]
    pipeline = create_pipeline("cnn-seed004@modern-erasing", "smoke", epochs=1).fit(
        X, y, validation=(digits.images[300:400], digits.labels[300:400]))
    assert pipeline.config.tta == "flip-shifts"
    test = digits.images[400:450]
    images = test.astype("float32")[..., None] / 255
    views = [ndimage.shift(images, (0, rows, columns, 0), order=0, cval=0)
             for rows, columns in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))]
    views += [view[:, :, ::-1].copy() for view in views]
    expected = sum(np.asarray(pipeline.model_.predict_on_batch(view), dtype=np.float64)
                   for view in views)
    assert np.allclose(pipeline.predict_proba(test), expected / expected.sum(1, keepdims=True))


def test_the_erasing_and_ten_view_recipes_are_modern_with_one_change_each():
    for profile in ("quick", "full"):
        modern = create_pipeline("resnet20@modern", profile).config
        erasing = create_pipeline("resnet20@modern-erasing", profile).config
        assert erasing.augment == ("translate", "flip", "erase")
        assert erasing.tta == "flip-shifts" and modern.tta == "flip"
        assert (erasing.epochs, erasing.dropout, erasing.learning_rate) == (
            modern.epochs, modern.dropout, modern.learning_rate)
        ten_views = create_pipeline("resnet20@modern-ten-views", profile).config
        assert ten_views.tta == "flip-shifts" and ten_views.augment == modern.augment


def test_a_recipe_run_is_stored_under_its_name_and_shown_beside_the_seed_recipe(tmp_path):
    pytest.importorskip("keras")
    from benchmarks.records.store import ResultsStore
    from benchmarks.reports.leaderboard import leaderboard_markdown

    assert main(["--dataset", "digits", "--profile", "smoke", "--only", "cnn-seed004",
                 "--recipe", "seed", "--recipe", "modern", "--results-dir", str(tmp_path),
                 "--quiet"]) == 0
    records = {record["name"]: record
               for record in ResultsStore(tmp_path, "digits", "smoke").records()}
    assert set(records) == {"cnn-seed004", "cnn-seed004@modern"}
    modern = records["cnn-seed004@modern"]
    assert modern["status"] == "ok" and modern["recipe"] == "modern"
    assert records["cnn-seed004"]["recipe"] == "seed"
    assert modern["model"]["params"]["augment"] == ["translate", "flip", "erase"]
    text = leaderboard_markdown(ResultsStore(tmp_path, "digits", "smoke"))
    gain = text.split("### Recipe gain")[1].split("###")[0]
    assert "| cnn-seed004 | seed " in gain and "| cnn-seed004 | modern " in gain
    assert "### Time to accuracy" in text


def test_the_full_recipe_is_the_candidate_best_on_validation_in_the_committed_study():
    """MODERN_FULL_CHANGES is the full-profile ablation candidate with the best validation
    accuracy in the committed study store, and better than the recipe before it."""
    from benchmarks.records.store import ResultsStore
    from benchmarks.studies.spec import load_study

    root = Path(__file__).resolve().parents[2] / "results"
    study = ResultsStore(root / "studies" / "modern-recipe-ablation", "fashion-mnist", "full")
    candidates = [r for r in study.latest().values() if r["status"] == "ok"]
    assert len(candidates) >= 2
    best = max(candidates, key=lambda r: r["metrics"]["validation"]["accuracy"])
    variant = next(v for v in load_study("modern-recipe-ablation").variants
                   if v.label == best["name"])
    assert {key: tuple(value) if isinstance(value, list | tuple) else value
            for key, value in variant.overrides} == MODERN_FULL_CHANGES
    before = [r for r in ResultsStore(root, "fashion-mnist", "full").records()
              if r["name"] == "mcnn@modern" and r["status"] == "ok"
              and "erase" in r["model"]["params"]["augment"]]
    assert before and best["metrics"]["validation"]["accuracy"] > max(
        r["metrics"]["validation"]["accuracy"] for r in before)

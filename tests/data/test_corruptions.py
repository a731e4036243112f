"""The corruption suite against direct library calls, hand-made expectations and the real data."""

from __future__ import annotations

import dataclasses
import io
import math

import numpy as np
import pytest
from scipy import ndimage
from skimage import transform, util

import benchmarks.data.corruptions as C
from benchmarks.reports.corruption_grid import corruption_grid
from tests.conftest import requires_genuine_data

SEED = 7
NAMES = (
    "gaussian_noise", "shot_noise", "impulse_noise", "gaussian_blur", "motion_blur", "rotate",
    "shear", "scale", "translate", "brightness", "contrast", "invert", "flip_horizontal",
    "flip_vertical",
)
NOISES = ("gaussian_noise", "shot_noise", "impulse_noise")


def _garments(n: int = 4, h: int = 28, w: int = 28) -> np.ndarray:
    """Bright blocks with texture on a black background, like Fashion-MNIST's images."""
    rng = np.random.default_rng(0)
    images = np.zeros((n, h, w), np.uint8)
    images[:, h // 5: -h // 6, w // 4: -w // 5] = rng.integers(90, 256, (n, 1, 1))
    return np.where(images > 0, images - rng.integers(0, 60, images.shape), 0).astype(np.uint8)


def _per_image(images: np.ndarray, f) -> np.ndarray:
    return np.stack([util.img_as_ubyte(np.clip(f(util.img_as_float(im)), 0, 1))
                     for im in images])


def _about_centre(matrix: np.ndarray, h: int, w: int) -> transform.AffineTransform:
    """`matrix` (in x, y) about the image centre, composed by hand."""
    cx, cy = (w - 1) / 2, (h - 1) / 2
    to_origin = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    back = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1]])
    return transform.AffineTransform(matrix=back @ matrix @ to_origin)


def _shifted(images: np.ndarray, down: int, right: int) -> np.ndarray:
    out = np.zeros_like(images)
    out[:, down:, right:] = images[:, :images.shape[1] - down, :images.shape[2] - right]
    return out


def _motion_kernel_by_hand() -> np.ndarray:
    # a 7 px line at 45 degrees, lower left to upper right: 5 pixels of a 7x7 box
    kernel = np.zeros((7, 7))
    for i in range(5):
        kernel[5 - i, 1 + i] = 1 / 5
    return kernel


def _expected(name: str, images: np.ndarray, seed: int) -> np.ndarray:
    """Each corruption as the direct library call, with the table's parameters."""
    x = util.img_as_float(images)
    rng = np.random.default_rng(seed)
    tan = math.tan(0.3)
    h, w = images.shape[1:]
    whole_batch = {
        "gaussian_noise": lambda: util.random_noise(x, mode="gaussian", var=0.2**2, rng=rng),
        "shot_noise": lambda: np.clip(rng.poisson(x * 15) / 15, 0, 1),
        "impulse_noise": lambda: util.random_noise(x, mode="s&p", amount=0.1, rng=rng),
    }
    if name in whole_batch:
        return util.img_as_ubyte(whole_batch[name]())
    per_image = {
        "gaussian_blur": lambda im: ndimage.gaussian_filter(im, 1.0, mode="constant"),
        "motion_blur": lambda im: ndimage.convolve(im, _motion_kernel_by_hand(), mode="constant"),
        "rotate": lambda im: transform.rotate(im, 30, order=1),
        "shear": lambda im: transform.warp(im, _about_centre(
            np.array([[1, -tan, 0], [0, 1, 0], [0, 0, 1]]), h, w).inverse, order=1),
        "scale": lambda im: transform.warp(im, _about_centre(
            np.diag([0.7, 0.7, 1]), h, w).inverse, order=1),
        "brightness": lambda im: im + 0.3,
        "contrast": lambda im: (im - im.mean()) * 0.4 + im.mean(),
    }
    if name in per_image:
        return _per_image(images, per_image[name])
    exact = {
        "translate": lambda: _shifted(images, 3, 3),
        "invert": lambda: 255 - images,
        "flip_horizontal": lambda: images[:, :, ::-1],
        "flip_vertical": lambda: images[:, ::-1, :],
    }
    return exact[name]()


def test_the_table_has_the_fourteen_corruptions_once_each():
    assert tuple(C.CORRUPTIONS) == NAMES
    for name, entry in C.CORRUPTIONS.items():
        assert entry.name == name and entry.call and entry.description
        hash(entry)  # frozen, hashable rows


@pytest.mark.parametrize("name", NAMES)
def test_each_corruption_is_the_library_call_with_the_table_parameters(name):
    images = _garments()
    np.testing.assert_array_equal(C.corrupt(images, name, SEED), _expected(name, images, SEED))


@pytest.mark.parametrize("name", NAMES)
def test_dtype_shape_and_range_on_any_size(name):
    images = _garments(3, 20, 36)
    out = C.corrupt(images, name, SEED)
    assert out.dtype == np.uint8 and out.shape == images.shape
    assert not np.array_equal(out, images)
    assert np.array_equal(images, _garments(3, 20, 36))  # the input is left alone


@pytest.mark.parametrize("name", NOISES)
def test_noise_is_seeded(name):
    images = _garments()
    same = C.corrupt(images, name, 1), C.corrupt(images, name, 1)
    np.testing.assert_array_equal(*same)
    assert not np.array_equal(same[0], C.corrupt(images, name, 2))


@pytest.mark.parametrize("name", sorted(set(NAMES) - set(NOISES)))
def test_the_rest_ignore_the_seed(name):
    images = _garments()
    np.testing.assert_array_equal(C.corrupt(images, name, 1), C.corrupt(images, name, 2))


def test_spatial_parameters_scale_with_the_image():
    big = _garments(2, 56, 56)
    np.testing.assert_array_equal(C.corrupt(big, "translate"), _shifted(big, 6, 6))
    np.testing.assert_array_equal(
        C.corrupt(big, "gaussian_blur"),
        _per_image(big, lambda im: ndimage.gaussian_filter(im, 2.0, mode="constant")))


def test_the_motion_kernel_is_the_drawn_line():
    np.testing.assert_allclose(C.motion_kernel(7, 45), _motion_kernel_by_hand())
    horizontal = C.motion_kernel(5, 0)
    np.testing.assert_allclose(horizontal[2], np.full(5, 0.2))
    assert horizontal.sum() == pytest.approx(1.0)


def test_brightness_and_contrast_by_hand():
    pixels = np.array([[[0, 100, 200]]], np.uint8)
    # +0.3 of 255 is 76.5 levels, which rounds either way; white clips
    brighter = C.corrupt(pixels, "brightness")[0, 0]
    assert brighter[0] in (76, 77) and brighter[1] in (176, 177) and brighter[2] == 255
    # the mean is 100: 0 -> 60 and 200 -> 140
    assert C.corrupt(pixels, "contrast").tolist() == [[[60, 100, 140]]]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="uint8"):
        C.corrupt(np.zeros((2, 28, 28), np.float32), "rotate")
    with pytest.raises(ValueError, match="uint8"):
        C.corrupt(np.zeros((28, 28), np.uint8), "rotate")
    with pytest.raises(ValueError, match="unknown corruption"):
        C.corrupt(_garments(), "fog")


def _balanced_labels(per_class: int = 100, classes: int = 10) -> np.ndarray:
    return np.random.default_rng(3).permutation(np.repeat(np.arange(classes), per_class))


@pytest.mark.parametrize("n", [10, 205, 990])
def test_suite_indices_are_stratified_sorted_and_fixed(n):
    labels = _balanced_labels()
    indices = C.suite_indices(labels, n, seed=0)
    assert len(indices) == n == len(np.unique(indices))
    assert np.all(np.diff(indices) > 0)
    counts = np.bincount(labels[indices], minlength=10)
    assert counts.max() - counts.min() <= 1
    np.testing.assert_array_equal(indices, C.suite_indices(labels, n, seed=0))
    assert not np.array_equal(indices, C.suite_indices(labels, n, seed=1))


def test_suite_indices_take_everything_when_asked_for_as_many():
    labels = _balanced_labels(3)
    np.testing.assert_array_equal(C.suite_indices(labels, 30), np.arange(30))
    np.testing.assert_array_equal(C.suite_indices(labels, 2000), np.arange(30))


def test_the_fingerprint_follows_version_table_indices_and_seed(monkeypatch):
    indices = np.array([1, 5, 9])
    base = C.suite_fingerprint(indices, 0)
    assert len(base) == 16 and int(base, 16) >= 0
    assert C.suite_fingerprint([1, 5, 9], 0) == base  # the type of the indices doesn't matter
    assert C.suite_fingerprint(np.array([1, 5, 8]), 0) != base
    assert C.suite_fingerprint(indices, 1) != base
    monkeypatch.setattr(C, "SUITE_VERSION", C.SUITE_VERSION + 1)
    assert C.suite_fingerprint(indices, 0) != base
    monkeypatch.undo()
    milder = dataclasses.replace(C.CORRUPTIONS["rotate"], params=(("degrees", 15),))
    monkeypatch.setattr(C, "_TABLE", tuple(milder if c.name == "rotate" else c
                                           for c in C._TABLE))
    assert C.suite_fingerprint(indices, 0) != base


def test_corruption_seeds_depend_on_the_name_not_the_place():
    seeds = {C.corruption_seed(s, name) for s in (0, 1) for name in NAMES}
    assert len(seeds) == 2 * len(NAMES)
    assert C.corruption_seed(0, "shot_noise") == C.corruption_seed(0, "shot_noise")


def test_corrupted_sets_corrupt_the_fixed_subset_with_each_own_seed():
    labels = _balanced_labels(4)
    images = np.repeat(_garments(4), 10, axis=0)
    indices = C.suite_indices(labels, 20, seed=5)
    seen = []
    for name, corrupted, subset_labels in C.corrupted_sets(images, labels, n=20, seed=5):
        seen.append(name)
        np.testing.assert_array_equal(subset_labels, labels[indices])
        np.testing.assert_array_equal(
            corrupted, C.corrupt(images[indices], name, C.corruption_seed(5, name)))
    assert tuple(seen) == NAMES


def test_the_suite_is_the_sets_stacked_made_once_per_test_set():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
    labels = np.repeat(np.arange(3), 20)
    suite = C.corrupted_suite(images, labels, 30, 1)
    expected = [images[C.suite_indices(labels, 30, 1)]] + [
        corrupted for _, corrupted, _ in C.corrupted_sets(images, labels, 30, 1)]
    np.testing.assert_array_equal(suite.images, np.concatenate(expected))
    assert suite.names == ("clean", *C.CORRUPTIONS)
    assert C.corrupted_suite(images.copy(), labels, 30, 1) is suite  # same content: kept
    assert C.corrupted_suite(images[::-1].copy(), labels, 30, 1) is not suite
    parts = suite.parts(np.arange(len(suite.images)))
    assert list(parts) == list(suite.names)
    np.testing.assert_array_equal(parts["invert"], np.arange(30) + 30 * suite.names.index(
        "invert"))


def test_example_grid_is_a_figure_with_a_row_per_corruption():
    labels = np.array([0, 1, 2, 0, 1, 2])
    figure = corruption_grid(np.repeat(_garments(3), 2, axis=0), labels, ["a", "b", "c"])
    assert len(figure.axes) == (1 + len(NAMES)) * 3
    assert [ax.get_title() for ax in figure.axes[:3]] == ["a", "b", "c"]
    assert figure.axes[3].get_ylabel() == NAMES[0]
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=30)
    assert buffer.getvalue().startswith(b"\x89PNG")


@requires_genuine_data
def test_on_genuine_fashion_mnist_the_corruptions_keep_their_physics(fashion):
    images, labels = fashion.test_images[:500], fashion.test_labels[:500].astype(np.int64)
    clean = images[C.suite_indices(labels, 100)]
    ink = clean.sum(axis=(1, 2), dtype=np.int64)
    out = {name: corrupted for name, corrupted, _ in C.corrupted_sets(images, labels, n=100)}
    for name, corrupted in out.items():
        assert np.mean(corrupted != clean) > 0.02, name
    for name in ("flip_horizontal", "flip_vertical"):
        np.testing.assert_array_equal(out[name].sum(axis=(1, 2)), ink)
    np.testing.assert_array_equal(out["invert"].sum(axis=(1, 2)), 255 * 28 * 28 - ink)
    # contrast keeps each image's mean; blurs and turns keep nearly all the ink in the frame
    np.testing.assert_allclose(out["contrast"].mean(axis=(1, 2)), clean.mean(axis=(1, 2)),
                               atol=1)
    for name in ("gaussian_blur", "motion_blur", "rotate", "shear"):
        assert out[name].sum() == pytest.approx(ink.sum(), rel=0.05), name
    # shrinking to 70% leaves 0.7 ** 2 of the ink
    assert out["scale"].sum() / ink.sum() == pytest.approx(0.49, abs=0.02)
    # no photons from black: shot noise leaves the background black
    assert np.all(out["shot_noise"][clean == 0] == 0)
    # salt and pepper hit 10% of the pixels, half each; pepper on black changes nothing
    unchanged_by_a_hit = 0.5 * np.mean(clean == 0) + 0.5 * np.mean(clean == 255)
    assert np.mean(out["impulse_noise"] != clean) == pytest.approx(
        0.1 * (1 - unchanged_by_a_hit), abs=0.01)

"""A fixed corruption suite for grayscale uint8 images, after MNIST-C and Fashion-MNIST-C.

MNIST-C (Mu & Gilmer 2019) and Fashion-MNIST-C (Weiss & Tonella 2022) test robustness with one
fixed severity per corruption, so a model gets one number per corruption, not a curve. The same
is done here: ``CORRUPTIONS`` is the whole suite, one row per corruption, and each row names the
library routine that does the work and its parameters.

Images are uint8 arrays of shape (n, h, w). Spatial parameters (blur widths, shifts, the motion
blur's length) are given for a 28 px image and scale with the image's smaller side; the rest
(angles, factors, noise levels) do not depend on the size. Geometric corruptions are fixed (no
random direction), so only the noises use the seed.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from skimage import draw, transform, util
from sklearn.model_selection import train_test_split

# bump whenever a corruption's code changes in a way that changes its output, so that the
# fingerprints of records made before and after no longer match
SUITE_VERSION = 1
# the image side that the spatial parameters are given for
REFERENCE_SIDE = 28


@dataclass(frozen=True)
class Corruption:
    """One row of the suite: its name, the library call, its fixed parameters, what it does."""

    name: str
    call: str
    params: tuple[tuple[str, float], ...]
    description: str
    # float images in [0, 1], the generator, the spatial scale, then the params as keywords
    apply: Callable[..., np.ndarray] = field(repr=False, compare=False)

    @property
    def kwargs(self) -> dict[str, float]:
        return dict(self.params)


# --- the corruptions: each takes float images (n, h, w) in [0, 1] ---------------------------

def _gaussian_noise(x, rng, scale, *, sigma):
    return util.random_noise(x, mode="gaussian", var=sigma**2, rng=rng)


def _shot_noise(x, rng, scale, *, photons):
    # skimage's mode="poisson" takes its photon count from the number of distinct grey levels in
    # the batch, so the noise would depend on which images were passed; MNIST-C's fixed count is
    # numpy's Poisson draw at `photons` for a white pixel
    return rng.poisson(x * photons) / photons


def _impulse_noise(x, rng, scale, *, amount):
    return util.random_noise(x, mode="s&p", amount=amount, rng=rng)


def _gaussian_blur(x, rng, scale, *, sigma):
    # sigma 0 along the batch axis so that images don't blur into each other; the background
    # outside the frame is black, as Fashion-MNIST's is
    return ndimage.gaussian_filter(x, sigma=(0, sigma * scale, sigma * scale), mode="constant")


def motion_kernel(length: float, angle: float) -> np.ndarray:
    """A normalised line of about `length` px at `angle` degrees, centred in an odd box."""
    half = max(0, round((length - 1) / 2))
    theta = math.radians(angle)
    dr, dc = round(half * math.sin(theta)), round(half * math.cos(theta))
    kernel = np.zeros((2 * half + 1, 2 * half + 1))
    # rows grow downwards, so -dr puts a positive angle counter-clockwise, as in rotate
    rr, cc = draw.line(half + dr, half - dc, half - dr, half + dc)
    kernel[rr, cc] = 1.0
    return kernel / kernel.sum()


def _motion_blur(x, rng, scale, *, length, angle):
    kernel = motion_kernel(length * scale, angle)
    return ndimage.convolve(x, kernel[None], mode="constant")


def _stacked(x: np.ndarray) -> np.ndarray:
    """(n, h, w) -> (h, w, n): skimage warps the images of a stack as channels in one call."""
    return np.moveaxis(x, 0, -1)


def _rotate(x, rng, scale, *, degrees):
    return np.moveaxis(transform.rotate(_stacked(x), degrees, order=1, mode="constant"), -1, 0)


def _about_centre(x: np.ndarray, **affine) -> transform.AffineTransform:
    """An affine map about the image centre (skimage's own ones act about the corner)."""
    centre = np.array([x.shape[2] - 1, x.shape[1] - 1]) / 2  # (x, y) = (column, row)
    return (transform.AffineTransform(translation=-centre)
            + transform.AffineTransform(**affine)
            + transform.AffineTransform(translation=centre))


def _warped(x: np.ndarray, forward: transform.AffineTransform) -> np.ndarray:
    # warp wants the map from output to input pixels, hence the inverse
    return np.moveaxis(transform.warp(_stacked(x), forward.inverse, order=1, mode="constant"),
                       -1, 0)


def _shear(x, rng, scale, *, angle):
    return _warped(x, _about_centre(x, shear=angle))


def _scale(x, rng, scale, *, factor):
    return _warped(x, _about_centre(x, scale=factor))


def _translate(x, rng, scale, *, dx, dy):
    return _warped(x, transform.AffineTransform(translation=(dx * scale, dy * scale)))


def _brightness(x, rng, scale, *, delta):
    return x + delta  # clipped to [0, 1] on the way back to uint8, as MNIST-C's brightness is


def _contrast(x, rng, scale, *, factor):
    # towards each image's own mean, as ImageNet-C's contrast does
    mean = x.mean(axis=(1, 2), keepdims=True)
    return (x - mean) * factor + mean


def _invert(x, rng, scale):
    return util.invert(x)


def _flip_horizontal(x, rng, scale):
    return np.flip(x, axis=2)


def _flip_vertical(x, rng, scale):
    return np.flip(x, axis=1)


_TABLE = (
    Corruption("gaussian_noise", "skimage.util.random_noise(mode='gaussian')", (("sigma", 0.2),),
               "additive Gaussian noise, sigma 0.2 of the full range", _gaussian_noise),
    Corruption("shot_noise", "numpy.random.Generator.poisson", (("photons", 15),),
               "Poisson noise with 15 photons for a white pixel (MNIST-C's formula)", _shot_noise),
    Corruption("impulse_noise", "skimage.util.random_noise(mode='s&p')", (("amount", 0.1),),
               "salt and pepper on 10% of the pixels", _impulse_noise),
    Corruption("gaussian_blur", "scipy.ndimage.gaussian_filter", (("sigma", 1.0),),
               "Gaussian blur, sigma 1 px", _gaussian_blur),
    Corruption("motion_blur", "scipy.ndimage.convolve + skimage.draw.line",
               (("length", 7), ("angle", 45)),
               "average along a 7 px line at 45 degrees (5 pixels)", _motion_blur),
    Corruption("rotate", "skimage.transform.rotate", (("degrees", 30),),
               "rotation by 30 degrees counter-clockwise about the centre", _rotate),
    Corruption("shear", "skimage.transform.AffineTransform + warp", (("angle", 0.3),),
               "horizontal shear by 0.3 rad (17 degrees) about the centre", _shear),
    Corruption("scale", "skimage.transform.AffineTransform + warp", (("factor", 0.7),),
               "shrink to 70% about the centre", _scale),
    Corruption("translate", "skimage.transform.AffineTransform + warp", (("dx", 3), ("dy", 3)),
               "shift 3 px right and 3 px down (4.2 px)", _translate),
    Corruption("brightness", "numpy.clip", (("delta", 0.3),),
               "add 0.3 of the full range, then clip", _brightness),
    Corruption("contrast", "numpy", (("factor", 0.4),),
               "scale the contrast by 0.4 about each image's mean", _contrast),
    Corruption("invert", "skimage.util.invert", (),
               "negative image (255 - value)", _invert),
    Corruption("flip_horizontal", "numpy.flip(axis=2)", (),
               "mirror left to right", _flip_horizontal),
    Corruption("flip_vertical", "numpy.flip(axis=1)", (),
               "mirror top to bottom", _flip_vertical),
)
CORRUPTIONS: dict[str, Corruption] = {c.name: c for c in _TABLE}


def corrupt(images: np.ndarray, name: str, seed: int | Sequence[int] = 0) -> np.ndarray:
    """Apply corruption `name` to uint8 images (n, h, w); same seed, same output.

    The noise of an image depends on its place in the batch, so corrupt the whole subset at once.
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images (n, h, w), got {images.dtype} {images.shape}")
    if name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {name!r}; known: {', '.join(CORRUPTIONS)}")
    entry = CORRUPTIONS[name]
    scale = min(images.shape[1:]) / REFERENCE_SIDE
    out = entry.apply(util.img_as_float(images), np.random.default_rng(seed), scale,
                      **entry.kwargs)
    # img_as_ubyte rounds to the nearest level; it insists on [0, 1], which noise may leave
    return util.img_as_ubyte(np.clip(out, 0.0, 1.0))


def corruption_seed(seed: int, name: str) -> int:
    """The seed of one corruption: derived from its name, so the suite's order doesn't matter."""
    sequence = np.random.SeedSequence([seed, zlib.crc32(name.encode())])
    return int(sequence.generate_state(1, np.uint64)[0])


def suite_indices(labels: np.ndarray, n: int = 2000, seed: int = 0) -> np.ndarray:
    """A fixed stratified subset of `n` of the (test) images, as sorted indices."""
    labels = np.asarray(labels)
    everything = np.arange(len(labels))
    if n >= len(labels):
        return everything
    try:
        chosen, _ = train_test_split(everything, train_size=n, stratify=labels,
                                     random_state=seed)
    except ValueError:  # a class too rare to stratify (a small set of one's own): drawn plain
        chosen = np.random.default_rng(seed).choice(everything, size=n, replace=False)
    return np.sort(chosen)


def suite_fingerprint(indices: np.ndarray, seed: int) -> str:
    """A short digest of what decides the corrupted images: version, table, indices and seed."""
    table = [[c.name, c.call, [list(p) for p in c.params]] for c in _TABLE]
    digest = hashlib.sha256(json.dumps([SUITE_VERSION, table, int(seed)]).encode())
    # a fixed byte order, so that the digest is the same on every machine
    digest.update(np.asarray(indices, dtype="<i8").tobytes())
    return digest.hexdigest()[:16]


def corrupted_sets(images: np.ndarray, labels: np.ndarray, n: int = 2000, seed: int = 0,
                   ) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(name, corrupted images, their labels) for every corruption, on one fixed subset."""
    indices = suite_indices(labels, n, seed)
    subset, subset_labels = np.asarray(images)[indices], np.asarray(labels)[indices]
    for name in CORRUPTIONS:
        yield name, corrupt(subset, name, corruption_seed(seed, name)), subset_labels


@dataclass(frozen=True)
class CorruptedSuite:
    """The whole suite made once: the subset's indices, and the clean subset followed by each
    corruption of it (in ``CORRUPTIONS``' order), stacked into one array."""

    indices: np.ndarray
    names: tuple[str, ...]  # "clean", then every corruption
    images: np.ndarray  # (len(names) * len(indices), h, w)

    def parts(self, predicted: np.ndarray) -> dict[str, np.ndarray]:
        """``predicted`` (one label per stacked image) split back by name."""
        return dict(zip(self.names, np.split(np.asarray(predicted), len(self.names)),
                        strict=True))


_made: dict[str, CorruptedSuite] = {}  # the last suite made in this process, by its inputs


def corrupted_suite(images: np.ndarray, labels: np.ndarray, n: int = 2000,
                    seed: int = 0) -> CorruptedSuite:
    """The suite for these test images, made once per process: every job of a run scores the
    same corrupted images, so a worker pays the corrupting (about 0.6 s for 2,000 images on
    one core) for its first job only, and a job's robustness costs its predictions."""
    images, labels = np.ascontiguousarray(images), np.ascontiguousarray(labels)
    digest = hashlib.sha256(images.tobytes())
    digest.update(labels.tobytes())
    digest.update(json.dumps([SUITE_VERSION, int(n), int(seed), images.shape]).encode())
    key = digest.hexdigest()
    if key not in _made:
        indices = suite_indices(labels, n, seed)
        stacked = [images[indices]] + [corrupted for _, corrupted, _ in
                                        corrupted_sets(images, labels, n, seed)]
        _made.clear()  # one suite kept: a run has one test set
        _made[key] = CorruptedSuite(indices, ("clean", *CORRUPTIONS),
                                    np.concatenate(stacked))
    return _made[key]

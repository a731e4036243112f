"""Your own data: an ``.npz`` file, a folder of class folders, or arrays from Python.

Each becomes a ``Dataset`` like the built-in ones (uint8 images, integer labels, class
names, its own train and test parts), after checks that name the file and the problem in one
line. Each carries a fingerprint of its content, which goes into the split's fingerprint, so
that two records on "the same split" of a custom dataset were scored on the same images.

- ``.npz``: arrays ``x_train``, ``y_train``, ``x_test``, ``y_test`` and optionally
  ``class_names``; images N x H x W (grayscale) or N x H x W x 3 (RGB), uint8 or integers in
  0-255, or floats in [0, 1]; labels integers 0..K-1, or strings (their sorted values become
  the class names).
- A folder: one sub-folder of images per class (PNG, JPEG, BMP, GIF), class names sorted as
  Keras's ``image_dataset_from_directory`` and torchvision's ``ImageFolder`` sort them; with
  ``train/`` and ``test/`` sub-folders, those are the parts, otherwise a stratified 20% of
  the images (random_state=0) is the test part, as for scikit-learn's digits. Every image is
  converted with Pillow to a stated size (default 28 x 28, aspect not kept) and to grayscale
  or RGB.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from pipelines.errors import unsafe_name
from pipelines.names import MAX_NAME_LENGTH, path_part_problem

from ..errors import DataError, unknown_name
from .datasets import DATASETS, Dataset, load_dataset, looks_like_a_path

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # image_dataset_from_directory's
COLOR_MODES = {"gray": "L", "rgb": "RGB"}
DEFAULT_IMAGE_SIZE = (28, 28)
FOLDER_TEST_FRACTION = 0.2
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def open_dataset(name: str | Path | Dataset, data_dir: Path | str | None = None, *,
                 image_size: tuple[int, int] | None = None, color: str = "gray") -> Dataset:
    """What ``--dataset`` names: a registered dataset (downloaded and verified where needed),
    a path to your own data (``image_size`` and ``color`` convert a folder's images), or a
    Dataset already made (``from_arrays``)."""
    if isinstance(name, Dataset):
        return name
    if str(name) in DATASETS:
        return load_dataset(str(name), data_dir)
    if looks_like_a_path(name):
        return load_custom_dataset(name, image_size=image_size or DEFAULT_IMAGE_SIZE,
                                   color=color)
    raise unknown_name("dataset", str(name), list(DATASETS) + ["FILE.npz", "FOLDER/"])


def load_custom_dataset(path: str | Path, *, image_size: tuple[int, int] = DEFAULT_IMAGE_SIZE,
                        color: str = "gray") -> Dataset:
    """An ``.npz`` file or a folder of class folders as a Dataset (checked)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{path}: no such file or folder; give an .npz file or a folder with "
                        f"one sub-folder of images per class")
    if path.is_dir():
        return load_image_folder(path, image_size=image_size, color=color)
    if path.suffix != ".npz":
        raise DataError(f"{path}: not an .npz file or a folder; save the arrays with "
                        f"numpy.savez({', '.join(NPZ_KEYS)}) or give a folder of class folders")
    return load_npz(path)


def dataset_name(path: Path) -> str:
    """The name a custom dataset's results are stored under: its file or folder name."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem if path.is_file() else path.name)
    return name[:MAX_NAME_LENGTH].strip("-.") or "custom"


def load_npz(path: Path) -> Dataset:
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataError(f"{path}: missing array(s) {', '.join(missing)}; an .npz "
                                f"dataset holds {', '.join(NPZ_KEYS)} (class_names optional)")
            arrays = {key: archive[key] for key in NPZ_KEYS}
            names = archive["class_names"] if "class_names" in archive.files else None
    except (OSError, ValueError) as error:  # not a zip, or object arrays (pickles)
        raise DataError(f"{path}: cannot be read as an .npz of plain arrays ({error}); save "
                        f"it with numpy.savez and no object arrays") from error
    return dataset_from_arrays(**arrays, class_names=None if names is None else list(names),
                               name=dataset_name(path), source=str(path))


def load_image_folder(root: Path, *, image_size: tuple[int, int] = DEFAULT_IMAGE_SIZE,
                      color: str = "gray") -> Dataset:
    if color not in COLOR_MODES:
        raise DataError(f"colour {color!r} is not one of {', '.join(COLOR_MODES)}")
    if (root / "train").is_dir() and (root / "test").is_dir():
        classes = _class_folders(root / "train")
        x_train, y_train = _read_images(root / "train", classes, image_size, color)
        test_classes = _class_folders(root / "test")
        unknown = sorted(set(test_classes) - set(classes))
        if unknown:
            raise DataError(f"{root / 'test'}: class folder(s) {', '.join(unknown)} have no "
                            f"training folder in {root / 'train'}")
        x_test, y_test = _read_images(root / "test", classes, image_size, color,
                                      present=test_classes)
    else:
        from sklearn.model_selection import train_test_split

        classes = _class_folders(root)
        images, labels = _read_images(root, classes, image_size, color)
        counts = np.bincount(labels, minlength=len(classes))
        if counts.min() < 2:
            raise DataError(f"{root / classes[int(counts.argmin())]}: a class needs at least 2 "
                            f"images (one to train, one to test); add images or give train/ "
                            f"and test/ folders")
        x_train, x_test, y_train, y_test = train_test_split(
            images, labels, test_size=FOLDER_TEST_FRACTION, stratify=labels, random_state=0)
    return dataset_from_arrays(x_train, y_train, x_test, y_test, class_names=classes,
                               name=dataset_name(root), source=str(root))


def _class_folders(root: Path) -> list[str]:
    classes = sorted(entry.name for entry in root.iterdir()
                     if entry.is_dir() and not entry.name.startswith("."))
    if len(classes) < 2:
        raise DataError(f"{root}: found {len(classes)} class folder(s); a folder dataset needs "
                        f"one sub-folder of images per class, at least 2")
    return classes


def _read_images(root: Path, classes: list[str], size: tuple[int, int], color: str,
                 present: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, UnidentifiedImageError

    height, width = size
    images, labels = [], []
    for label, name in enumerate(classes):
        if present is not None and name not in present:
            continue
        files = sorted(path for path in (root / name).iterdir()
                       if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."))
        if not files:
            raise DataError(f"{root / name}: no images ({', '.join(IMAGE_SUFFIXES)}) in this "
                            f"class folder; add some or remove the folder")
        for file in files:
            try:
                with Image.open(file) as image:
                    converted = image.convert(COLOR_MODES[color]).resize(
                        (width, height), Image.Resampling.BILINEAR)
                    images.append(np.asarray(converted, dtype=np.uint8))
            except (UnidentifiedImageError, OSError) as error:
                raise DataError(f"{file}: not a readable image ({error}); remove or replace "
                                f"it") from error
            labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def dataset_from_arrays(x_train, y_train, x_test, y_test, *,
                        class_names: list[str] | None = None, name: str = "arrays",
                        source: str = "arrays") -> Dataset:
    """Check and convert arrays into a Dataset; each problem is one line naming ``source``."""
    problem = path_part_problem(name)  # the store's folder is named after it
    if problem is not None:
        raise unsafe_name("dataset name", name, problem)
    x_train = _images(x_train, "x_train", source)
    x_test = _images(x_test, "x_test", source)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(f"{source}: x_train images are {_shape(x_train)} but x_test images are "
                        f"{_shape(x_test)}; both parts need one image size")
    y_train, y_test, class_names = _labels(y_train, y_test, class_names, source)
    for images, labels, part in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if len(images) != len(labels):
            raise DataError(f"{source}: x_{part} has {len(images):,} images but y_{part} has "
                            f"{len(labels):,} labels; they must match one to one")
    counts = np.bincount(y_train, minlength=len(class_names))
    empty = [class_names[index] for index in np.flatnonzero(counts == 0)]
    if empty:
        raise DataError(f"{source}: class(es) {', '.join(map(str, empty))} have no training "
                        f"images; drop them from class_names or add images")
    digest = hashlib.sha256()
    for array in (x_train, y_train, x_test, y_test):
        digest.update(repr((array.dtype.str, array.shape)).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update("\0".join(class_names).encode())
    return Dataset(name, tuple(class_names), x_train, y_train, x_test, y_test, source=source,
                   fingerprint=digest.hexdigest()[:16])


def _shape(images: np.ndarray) -> str:
    return " x ".join(str(size) for size in images.shape[1:])


def _images(images, key: str, source: str) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise DataError(f"{source}: {key} has shape {images.shape}; images must be N x H x W "
                        f"(grayscale) or N x H x W x 3 (RGB)")
    if len(images) == 0:
        raise DataError(f"{source}: {key} holds no images")
    if images.dtype == np.uint8:
        return images
    if np.issubdtype(images.dtype, np.integer) and not np.issubdtype(images.dtype, np.bool_):
        if images.min() < 0 or images.max() > 255:
            raise DataError(f"{source}: {key} has integer pixels from {images.min()} to "
                            f"{images.max()}; they must lie in 0-255")
        return images.astype(np.uint8)
    if np.issubdtype(images.dtype, np.floating):
        if not np.isfinite(images).all() or images.min() < 0 or images.max() > 1:
            raise DataError(f"{source}: {key} has float pixels outside [0, 1] (or NaN); give "
                            f"floats in [0, 1] or integers in 0-255")
        return np.round(images * 255).astype(np.uint8)
    raise DataError(f"{source}: {key} has dtype {images.dtype}; images must be uint8, "
                    f"integers in 0-255 or floats in [0, 1]")


def _labels(y_train, y_test, class_names, source: str):
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    for labels, key in ((y_train, "y_train"), (y_test, "y_test")):
        if labels.ndim != 1:
            raise DataError(f"{source}: {key} has shape {labels.shape}; labels must be one "
                            f"class per image (a 1-D array), not one-hot")
    if y_train.dtype.kind in "USO":  # string labels: their sorted values are the classes
        names = sorted(set(y_train.tolist()))
        unknown = sorted(set(y_test.tolist()) - set(names))
        if unknown:
            raise DataError(f"{source}: y_test has label(s) {', '.join(map(str, unknown[:5]))} "
                            f"that no training image has")
        index = {value: position for position, value in enumerate(names)}
        return (np.array([index[v] for v in y_train.tolist()], dtype=np.int64),
                np.array([index[v] for v in y_test.tolist()], dtype=np.int64),
                [str(value) for value in names])
    for labels, key in ((y_train, "y_train"), (y_test, "y_test")):
        if labels.dtype.kind not in "iu":
            raise DataError(f"{source}: {key} has dtype {labels.dtype}; labels must be integers "
                            f"0..K-1 or strings")
        if len(labels) and labels.min() < 0:
            raise DataError(f"{source}: {key} has a negative label ({labels.min()}); labels "
                            f"must be 0..K-1")
    top = int(max(y_train.max(initial=0), y_test.max(initial=0)))
    if class_names is None:
        class_names = [str(label) for label in range(top + 1)]
    class_names = [str(name) for name in class_names]
    if top >= len(class_names):
        raise DataError(f"{source}: label {top} is out of range for {len(class_names)} class "
                        f"names; labels must be 0..{len(class_names) - 1}")
    if len(class_names) < 2:
        raise DataError(f"{source}: {len(class_names)} class; a classification benchmark needs "
                        f"at least 2")
    return y_train.astype(np.int64), y_test.astype(np.int64), class_names

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
import math
import re
import zipfile
import zlib
from pathlib import Path

import numpy as np

from pipelines.errors import unsafe_name
from pipelines.names import MAX_NAME_LENGTH, path_part_problem

from ..errors import DataError, unknown_name
from .datasets import DATASETS, Dataset, load_dataset, looks_like_a_path
from .image_folder import COLOR_MODES, class_folders, read_images
from .splits import stratified_holdout

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


# far above any image dataset this harness trains on (Fashion-MNIST's arrays: 55 MB), far
# below what a zip bomb inflates to: an .npz whose arrays declare more is refused unread
MAX_NPZ_BYTES = 4 << 30
NPZ_FIX = f"save it again with numpy.savez({', '.join(NPZ_KEYS)})"


def load_npz(path: Path) -> Dataset:
    """An .npz file's arrays as a Dataset; a file that is no zip, a corrupt or truncated one,
    one too large, or one holding pickled objects is one DataError naming it (never loaded
    with pickles allowed: unpickling runs code)."""
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not an .npz (zip) archive: empty, truncated or another kind "
                        f"of file; {NPZ_FIX}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            _check_npz_members(path, archive)
            arrays = {key: _npz_array(path, archive, key) for key in NPZ_KEYS}
            names = _npz_array(path, archive, "class_names") \
                if "class_names" in archive.files else None
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as error:
        raise DataError(f"{path}: corrupt or truncated .npz archive ({_cause(error)}); "
                        f"{NPZ_FIX}") from None
    if names is not None and names.ndim != 1:
        raise DataError(f"{path}: class_names has shape {names.shape}; give one name per "
                        f"class (a 1-D array of strings)")
    return dataset_from_arrays(**arrays, class_names=None if names is None else names.tolist(),
                               name=dataset_name(path), source=str(path))


def _check_npz_members(path: Path, archive) -> None:
    missing = [key for key in NPZ_KEYS if key not in archive.files]
    if missing:
        raise DataError(f"{path}: missing array(s) {', '.join(missing)}; an .npz "
                        f"dataset holds {', '.join(NPZ_KEYS)} (class_names optional)")
    declared = sum(member.file_size for member in archive.zip.infolist())
    if declared > MAX_NPZ_BYTES:
        raise DataError(f"{path}: its arrays take {declared / 2**30:,.1f} GiB uncompressed, "
                        f"more than the {MAX_NPZ_BYTES >> 30} GiB this harness loads; give "
                        f"fewer or smaller images")
    for member in archive.zip.infolist():
        shape, needed = _declared_array(archive.zip, member)
        if needed > member.file_size:
            raise DataError(f"{path}: {member.filename} declares a {shape} array of "
                            f"{needed:,} bytes with its header but holds "
                            f"{member.file_size:,}: truncated or forged; {NPZ_FIX}")


def _declared_array(zip_file: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[tuple, int]:
    """The shape an .npy member's header declares and the bytes the member needs for it
    (header included), read before the array is, so that a forged header cannot make numpy
    allocate it; (), 0 for a member that is not .npy (numpy returns its bytes) or whose
    header numpy would refuse itself."""
    from numpy.lib import format as npy

    readers = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}
    with zip_file.open(member) as stream:
        if stream.read(len(npy.MAGIC_PREFIX)) != npy.MAGIC_PREFIX:
            return (), 0
        version = tuple(stream.read(2))
        if version not in readers:
            return (), 0
        shape, _, dtype = readers[version](stream)
        return shape, stream.tell() + math.prod(shape) * dtype.itemsize


def _npz_array(path: Path, archive, key: str) -> np.ndarray:
    try:
        return archive[key]
    except ValueError as error:
        if "pickle" not in str(error):
            raise
        raise DataError(f"{path}: {key} is an object array (pickled Python objects), which is "
                        f"never loaded since unpickling can run code; save numbers or "
                        f"strings") from None
    except MemoryError:
        raise DataError(f"{path}: {key} declares an array too large to load; {NPZ_FIX}") \
            from None


def _cause(error: Exception) -> str:
    """What went wrong, in the error's words unless they advise unpickling (never ours)."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return type(error).__name__ if "pickle" in text else text


def load_image_folder(root: Path, *, image_size: tuple[int, int] = DEFAULT_IMAGE_SIZE,
                      color: str = "gray") -> Dataset:
    if color not in COLOR_MODES:
        raise DataError(f"colour {color!r} is not one of {', '.join(COLOR_MODES)}")
    if (root / "train").is_dir() and (root / "test").is_dir():
        classes = class_folders(root / "train")
        x_train, y_train = read_images(root / "train", classes, image_size, color)
        test_classes = class_folders(root / "test")
        unknown = sorted(set(test_classes) - set(classes))
        if unknown:
            raise DataError(f"{root / 'test'}: class folder(s) {', '.join(unknown)} have no "
                            f"training folder in {root / 'train'}")
        x_test, y_test = read_images(root / "test", classes, image_size, color,
                                      present=test_classes)
    else:
        classes = class_folders(root)
        images, labels = read_images(root, classes, image_size, color)
        train, test = stratified_holdout(
            labels, FOLDER_TEST_FRACTION, 0, where=str(root),
            fix="add images to the small classes or give train/ and test/ folders")
        x_train, x_test, y_train, y_test = images[train], images[test], labels[train], \
            labels[test]
    return dataset_from_arrays(x_train, y_train, x_test, y_test, class_names=classes,
                               name=dataset_name(root), source=str(root))


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


def _as_array(values, key: str, source: str, what: str) -> np.ndarray:
    """``values`` as one numpy array; ragged nesting (rows of several lengths) is an error."""
    try:
        return np.asarray(values)
    except (ValueError, TypeError) as error:
        raise DataError(f"{source}: {key} is not one rectangular array ({_cause(error)}); "
                        f"give {what}") from None


def _images(images, key: str, source: str) -> np.ndarray:
    images = _as_array(images, key, source, "images of one size, N x H x W (x 3)")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or (images.ndim == 4 and images.shape[-1] != 3):
        raise DataError(f"{source}: {key} has shape {images.shape}; images must be N x H x W "
                        f"(grayscale) or N x H x W x 3 (RGB)")
    if len(images) == 0:
        raise DataError(f"{source}: {key} holds no images")
    if images.size == 0:
        raise DataError(f"{source}: {key} images are {_shape(images)} pixels; give images at "
                        f"least 1 x 1")
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
    y_train = _as_array(y_train, "y_train", source, "one label per image")
    y_test = _as_array(y_test, "y_test", source, "one label per image")
    for labels, key in ((y_train, "y_train"), (y_test, "y_test")):
        if labels.ndim != 1:
            raise DataError(f"{source}: {key} has shape {labels.shape}; labels must be one "
                            f"class per image (a 1-D array), not one-hot")
    if y_train.dtype.kind in "USO":  # string labels: their sorted values are the classes
        return _string_labels(y_train, y_test, source)
    for labels, key in ((y_train, "y_train"), (y_test, "y_test")):
        if labels.dtype.kind not in "iu":
            raise DataError(f"{source}: {key} has dtype {labels.dtype}; labels must be integers "
                            f"0..K-1 or strings")
        if len(labels) and labels.min() < 0:
            raise DataError(f"{source}: {key} has a negative label ({labels.min()}); labels "
                            f"must be 0..K-1")
    top = int(max(y_train.max(initial=0), y_test.max(initial=0)))
    if class_names is None:
        # every class needs a training image, so a label past their count is a mistake, and
        # naming classes up to it would make that many names
        if top >= len(y_train):
            raise DataError(f"{source}: label {top} but only {len(y_train):,} training images; "
                            f"labels must be 0..K-1, each with training images")
        class_names = [str(label) for label in range(top + 1)]
    class_names = _class_names(class_names, source)
    if top >= len(class_names):
        raise DataError(f"{source}: label {top} is out of range for {len(class_names)} class "
                        f"names; labels must be 0..{len(class_names) - 1}")
    if len(class_names) < 2:
        raise DataError(f"{source}: {len(class_names)} class; a classification benchmark needs "
                        f"at least 2")
    return y_train.astype(np.int64), y_test.astype(np.int64), class_names


def _string_labels(y_train: np.ndarray, y_test: np.ndarray, source: str):
    for labels, key in ((y_train, "y_train"), (y_test, "y_test")):
        if not all(isinstance(value, str) for value in labels.tolist()):
            raise DataError(f"{source}: {key} mixes strings with other values; labels must be "
                            f"all strings or all integers 0..K-1")
    names = sorted(set(y_train.tolist()))
    unknown = sorted(set(y_test.tolist()) - set(names))
    if unknown:
        raise DataError(f"{source}: y_test has label(s) {', '.join(map(str, unknown[:5]))} "
                        f"that no training image has")
    index = {value: position for position, value in enumerate(names)}
    return (np.array([index[v] for v in y_train.tolist()], dtype=np.int64),
            np.array([index[v] for v in y_test.tolist()], dtype=np.int64),
            [str(value) for value in names])


def _class_names(class_names, source: str) -> list[str]:
    """``class_names`` as a list of distinct strings (a lone string is not a list of names)."""
    if isinstance(class_names, str | bytes) or not isinstance(
            class_names, list | tuple | np.ndarray):
        raise DataError(f"{source}: class_names is {type(class_names).__name__}; give a list "
                        f"of strings, one per class")
    names = [str(name) for name in np.asarray(class_names, dtype=object).ravel().tolist()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"{source}: class_names repeats {', '.join(map(repr, repeated[:5]))}; "
                        f"give each class its own name")
    return names

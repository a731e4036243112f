"""The dataset registry: Fashion-MNIST (default), MNIST and scikit-learn's 8x8 digits.

Every dataset comes back as uint8 images with integer labels and class names, split into the
publisher's own train and test parts; how those are divided further is the split protocol's
business (splits.py). Images stay uint8: each pipeline decides how to scale them.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import DataError, unknown_name
from .download import RemoteFile, download_file, verified_content
from .idx import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    MAX_DECOMPRESSED_BYTES,
    parse_idx,
    read_bytes,
    unwrap,
)

DATA_DIR_ENV = "FASHIONBENCH_DATA_DIR"
ROLES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class Dataset:
    """Images (uint8, N x H x W) and labels of a dataset's own train and test parts."""

    name: str
    class_names: tuple[str, ...]
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str = ""
    # a hash of the images, labels and class names of a custom dataset (custom_data.py),
    # which its split's fingerprint includes; None for the built-in ones, whose files are
    # checked against the publishers' checksums instead
    fingerprint: str | None = None

    @property
    def n_train(self) -> int:
        return len(self.train_labels)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @cached_property
    def images(self) -> np.ndarray:
        """Train then test images in one pool, the space that split indices point into."""
        return np.concatenate([self.train_images, self.test_images])

    @cached_property
    def labels(self) -> np.ndarray:
        return np.concatenate([self.train_labels, self.test_labels]).astype(np.int64)

    def __getstate__(self) -> dict:
        """Pickled without the pool, a copy of the arrays that a worker rebuilds on demand."""
        return {key: value for key, value in self.__dict__.items()
                if key not in ("images", "labels")}


@dataclass(frozen=True)
class IdxDatasetSpec:
    """A dataset published as four IDX files on one or more mirrors."""

    name: str
    class_names: tuple[str, ...]
    mirrors: tuple[str, ...]
    files: dict[str, RemoteFile] = field(default_factory=dict)
    description: str = ""

    def load(self, data_dir: Path | None = None, *, download: bool = True) -> Dataset:
        directory = find_files(self, data_root(data_dir))
        arrays = {}
        for role in ROLES:
            remote = self.files[role]
            path = existing_file(directory, remote)
            if path is None:
                if not download:
                    raise DataError(
                        f"{directory / remote.name} is missing; put the official file there "
                        f"or allow downloading"
                    )
                path = download_file(remote, self.mirrors, directory)
            magic = IMAGES_MAGIC if role.endswith("images") else LABELS_MAGIC
            arrays[role] = parse_idx(
                _checked_content(path, remote), source=str(path), expect_magic=magic
            )
        for part in ("train", "test"):
            images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
            if len(images) != len(labels):
                raise DataError(
                    f"{directory}: {part} has {len(images)} images but {len(labels)} labels"
                )
        return Dataset(self.name, self.class_names, source=str(directory), **arrays)


def _checked_content(path: Path, remote: RemoteFile) -> bytes:
    size = path.stat().st_size
    if size > MAX_DECOMPRESSED_BYTES:  # read whole below, even to check its MD5: not that
        raise DataError(f"{path}: {size / 2**30:,.1f} GiB, far larger than any {remote.name} "
                        f"(compressed or not); not the file expected: delete it and rerun to "
                        f"download it again, or replace it with the official file")
    if path.name == remote.name or remote.raw_md5 is not None:
        return verified_content(path, remote, unwrap)
    warnings.warn(
        f"{path}: no official MD5 is known for the uncompressed file, so it was not verified; "
        f"use the official {remote.name} to have it checked",
        stacklevel=3,
    )
    return read_bytes(path)


def data_root(explicit: Path | str | None = None) -> Path:
    """Where datasets live: --data-dir, else $FASHIONBENCH_DATA_DIR, else the user cache."""
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("fashionbench")) / "data"


def existing_file(directory: Path, remote: RemoteFile) -> Path | None:
    """The dataset file in ``directory``, gzip-compressed or not, if it is there."""
    for name in (remote.name, remote.raw_name):
        if (directory / name).is_file():
            return directory / name
    return None


def find_files(spec: IdxDatasetSpec, root: Path) -> Path:
    """The folder holding the dataset: ``root`` itself when named after it, else root/<name>.

    A root that holds the four files directly is accepted too. When none has them all, the
    first candidate is where they get downloaded.
    """
    candidates = [root] if root.name == spec.name else [root / spec.name, root]
    for directory in candidates:
        if all(existing_file(directory, spec.files[role]) for role in ROLES):
            return directory
    return candidates[0]


FASHION_MNIST = IdxDatasetSpec(
    name="fashion-mnist",
    class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    files={
        "train_images": RemoteFile("train-images-idx3-ubyte.gz",
                                   "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                                   "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        "train_labels": RemoteFile("train-labels-idx1-ubyte.gz",
                                   "25c81989df183df01b3e8a0aad5dffbe",
                                   "9018921c3c673c538a1fc5bad174d6f9"),
        "test_images": RemoteFile("t10k-images-idx3-ubyte.gz",
                                  "bef4ecab320f06d8554ea6380940ec79",
                                  "8181f5470baa50b63fa0f6fddb340f0a"),
        "test_labels": RemoteFile("t10k-labels-idx1-ubyte.gz",
                                  "bb300cfdad3c16e7a12a480ee83cd310",
                                  "15d484375f8d13e6eb1aabb0c3f46965"),
    },
    description="Zalando's 28x28 grayscale clothing images, 60,000 train / 10,000 test",
)

MNIST = IdxDatasetSpec(
    name="mnist",
    class_names=tuple(str(digit) for digit in range(10)),
    mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
             "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    files={
        "train_images": RemoteFile("train-images-idx3-ubyte.gz",
                                   "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        "train_labels": RemoteFile("train-labels-idx1-ubyte.gz",
                                   "d53e105ee54ea40749a09fcbcd1e9432"),
        "test_images": RemoteFile("t10k-images-idx3-ubyte.gz",
                                  "9fb629c4189551a2d022fa330f9573f3"),
        "test_labels": RemoteFile("t10k-labels-idx1-ubyte.gz",
                                  "ec29112dd5afa0611ce80d1b7f02629c"),
    },
    description="LeCun's 28x28 handwritten digits, 60,000 train / 10,000 test",
)


def load_digits_dataset(data_dir: Path | None = None, *, download: bool = True) -> Dataset:
    """scikit-learn's bundled 8x8 digits (1,797 images), offline, scaled from 0-16 to uint8.

    The set has no official test part; a fixed stratified 20% (random_state=0) plays it.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)
    labels = bunch.target.astype(np.uint8)
    train, test = train_test_split(np.arange(len(labels)), test_size=0.2, random_state=0,
                                   stratify=labels)
    return Dataset(
        "digits", tuple(str(digit) for digit in range(10)),
        images[train], labels[train], images[test], labels[test], source="scikit-learn",
    )


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    description: str
    loader: Callable[..., Dataset]


DATASETS: dict[str, DatasetEntry] = {
    FASHION_MNIST.name: DatasetEntry(FASHION_MNIST.name, FASHION_MNIST.description,
                                     FASHION_MNIST.load),
    MNIST.name: DatasetEntry(MNIST.name, MNIST.description, MNIST.load),
    "digits": DatasetEntry("digits", "scikit-learn's 8x8 digits, 1,797 images, offline",
                           load_digits_dataset),
}
DEFAULT_DATASET = FASHION_MNIST.name


def looks_like_a_path(name: str | Path) -> bool:
    """A ``--dataset`` that is not a registered name but a file or folder of one's own."""
    text = str(name)
    return isinstance(name, Path) or text.endswith(".npz") or "/" in text or \
        Path(text).exists()


def get_dataset_entry(name: str) -> DatasetEntry:
    if name not in DATASETS:
        raise unknown_name("dataset", name, list(DATASETS))
    return DATASETS[name]


def load_dataset(name: str = DEFAULT_DATASET, data_dir: Path | str | None = None,
                 *, download: bool = True) -> Dataset:
    """Load a registered dataset, downloading and verifying its files where needed (your own
    data, a file or folder: ``custom_data.open_dataset``)."""
    return get_dataset_entry(name).loader(Path(data_dir) if data_dir else None, download=download)

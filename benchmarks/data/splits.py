"""Split protocols: which images train, which validate, which test.

A split is three index arrays into the dataset's pool (its train images, then its test
images). It is made once per run and shared by every job; its fingerprint, a hash of the
three arrays, goes into every record so that "scored on the same split" can be checked.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sklearn.model_selection import train_test_split

from pipelines.errors import FashionbenchError, unknown_name


class Dataset(Protocol):
    """What a split reads of a dataset (datasets.Dataset has it): how many training images,
    the labels of both parts, and the content digest of a dataset that is not a named one."""

    n_train: int
    source: str
    train_labels: np.ndarray
    test_labels: np.ndarray
    fingerprint: str | None


class SplitError(FashionbenchError):
    """A dataset too small for a split: a class, or all, too few to cut as the split cuts.
    (Not a DataError: this module stays below benchmarks.errors, on the runner's short
    import stack.)"""


VALIDATION_FRACTION = 0.2  # 12,000 of Fashion-MNIST's 60,000 training images
STANDARD_SPLIT_SEED = 0
SEED000_RANDOM_STATE = 42
SEED000_MIN_IMAGES = 10  # fewer leave its validation or test tenth empty


@dataclass(frozen=True)
class Split:
    name: str
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    # a custom dataset's content fingerprint: then "same split" also means "same images"
    content: str | None = None

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.train, self.validation, self.test, content=self.content)

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.validation),
                "test": len(self.test)}


def fingerprint(*index_arrays: np.ndarray, content: str | None = None) -> str:
    """A short stable hash of index arrays: same indices in the same order, same fingerprint;
    with ``content`` (a custom dataset's fingerprint), same images and labels too."""
    digest = hashlib.sha256()
    for indices in index_arrays:
        data = np.ascontiguousarray(indices, dtype="<i8")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data.tobytes())
    if content is not None:
        digest.update(content.encode())
    return digest.hexdigest()[:16]


def stratified_holdout(labels: np.ndarray, fraction: float, random_state: int, *,
                       where: str, fix: str) -> tuple[np.ndarray, np.ndarray]:
    """Positions into ``labels``: the kept part and a stratified, seeded ``fraction`` held
    out. Too few images of a class, or too few in all, for every class to be on both sides
    is one SplitError naming ``where`` (the dataset) and the ``fix``."""
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) and counts.min() < 2:
        raise SplitError(f"{where}: class {classes[counts.argmin()]} has {counts.min()} image; "
                        f"holding out {fraction:.0%} by class needs at least 2 of each; {fix}")
    try:
        return train_test_split(np.arange(len(labels)), test_size=fraction,
                                stratify=labels, random_state=random_state)
    except ValueError:  # a side smaller than the number of classes
        raise SplitError(f"{where}: {len(labels):,} images cannot give every one of its "
                        f"{len(classes)} classes a place both in the {fraction:.0%} held out "
                        f"and in the rest; {fix}") from None


def standard_split(dataset: Dataset, validation_fraction: float = VALIDATION_FRACTION) -> Split:
    """The publisher's test part; a stratified, seeded validation hold-out of its train part,
    20% unless told (48,000 / 12,000 / 10,000 on Fashion-MNIST)."""
    train, validation = stratified_holdout(
        dataset.train_labels, validation_fraction, STANDARD_SPLIT_SEED,
        where=f"{dataset.source or 'the dataset'}'s training part",
        fix="add training images or change the validation fraction (--validation-fraction)")
    test = dataset.n_train + np.arange(len(dataset.test_labels))
    return Split("standard", np.sort(train), np.sort(validation), test)


def seed000_split(dataset: Dataset) -> Split:
    """Seed 000's protocol: 80/10/10 of the training part, ``train_test_split(random_state=42)``
    twice, unstratified, as the paper's code does (48,000 / 6,000 / 6,000)."""
    if dataset.n_train < SEED000_MIN_IMAGES:
        raise SplitError(f"{dataset.source or 'the dataset'}: {dataset.n_train} training images; "
                        f"the seed000 split cuts them 80/10/10 and needs at least "
                        f"{SEED000_MIN_IMAGES}; add images or use --split standard")
    train, rest = train_test_split(np.arange(dataset.n_train), test_size=0.2,
                                   random_state=SEED000_RANDOM_STATE)
    validation, test = train_test_split(rest, test_size=0.5, random_state=SEED000_RANDOM_STATE)
    return Split("seed000", np.sort(train), np.sort(validation), np.sort(test))


SPLITS: dict[str, Callable[[Dataset], Split]] = {
    "standard": standard_split,
    "seed000": seed000_split,
}
DEFAULT_SPLIT = "standard"


def make_split(name: str, dataset: Dataset, validation_fraction: float | None = None) -> Split:
    """The split ``name`` of ``dataset``; ``validation_fraction``: the standard split's
    hold-out of the training part, when not 20% (its indices, so its fingerprint, differ)."""
    if name not in SPLITS:
        raise unknown_name("split", name, list(SPLITS))
    if validation_fraction is not None and name != "standard":
        raise FashionbenchError(f"split {name!r} has its paper's own hold-out; a validation "
                                f"fraction applies to the standard split only")
    split = (standard_split(dataset, validation_fraction) if validation_fraction is not None
             else SPLITS[name](dataset))
    return dataclasses.replace(split, content=dataset.fingerprint) if dataset.fingerprint \
        else split


def check_split_name(name: str) -> None:
    if name not in SPLITS:
        raise unknown_name("split", name, list(SPLITS))


def subsample(indices: np.ndarray, labels: np.ndarray, size: int | None, seed: int) -> np.ndarray:
    """A stratified, seeded subset of ``indices`` of at most ``size`` (all of them for None).

    Every pipeline of one run gets the same subset for the same seed, so they stay comparable.
    """
    if size is None or size >= len(indices):
        return indices
    classes, counts = np.unique(labels[indices], return_counts=True)
    # stratified where every class can be on both sides of the cut, else a plain random
    # subset: a rare class, or a subset one image short of all, must not stop a run
    stratified = (counts.min() >= 2 and size >= len(classes)
                  and len(indices) - size >= len(classes))
    stratify = labels[indices] if stratified else None
    chosen, _ = train_test_split(indices, train_size=size, stratify=stratify, random_state=seed)
    return np.sort(chosen)

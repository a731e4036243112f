"""What a run is made of: a ``Job`` (pipeline, dataset, split, profile, seed: one record's
worth of work), and the ``RunContext`` its jobs share (the data, the split, the profile,
where checkpoints go). Values and where they live, nothing run: job.py runs a job.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..data.splits import Split, subsample
from ..records.keys import job_name, key_of

if TYPE_CHECKING:  # types only: a context is handed a dataset and a profile, never makes one
    from pipelines.profiles import Profile

    from ..data.datasets import Dataset
    from ..records.record import Record
    from .model_cache import ModelCache


@dataclass(frozen=True)
class Twin:
    """A stored run that trained exactly as a job would and differs from it only in how it
    predicts (twins.py): the job is scored with its kept model instead of training."""

    run_id: str
    name: str
    saved_model: str  # its record's ``saved_model``, as JSON (a Job stays hashable)
    fit_seconds: float
    fit_cpu_seconds: float
    threads: int | None = None  # the trainer's, which its fit time was measured with


@dataclass(frozen=True)
class Job:
    pipeline: str  # the registered pipeline to build
    dataset: str
    split: str
    profile: str
    seed: int
    overrides: tuple[tuple[str, object], ...] = ()  # hyper-parameters given to its factory
    label: str = ""  # a study variant's name, e.g. "mcnn[batch_size=16]"
    # a refit (refit.py): the run_id of the validation run whose configuration it trains on
    # train + validation
    refit_of: str = ""
    # a refit of a validation run that calibrated its probabilities: the temperature it
    # fitted there, since the refit has no images left to fit one on (pipelines/base.py)
    temperature: float | None = None
    # a network's arithmetic (--precision; pipelines/hardware.PRECISIONS), set in the
    # process that runs it (workers.run_job_within); "auto" for every classical job
    precision: str = "auto"
    # the stored run whose kept model scores this job, found by the runner just before the
    # job starts (twins.py); None: the job trains
    twin: Twin | None = None

    @property
    def name(self) -> str:
        """The name its record is stored under: a refit's and an asked arithmetic's marks
        after the pipeline's (or study variant's) own, e.g. ``vgg16[bfloat16][refit]``."""
        return self._stored_name(refit=bool(self.refit_of))

    def key(self, fingerprint: str) -> tuple:
        """The store's key of this job's record, on the split with ``fingerprint``."""
        return key_of(self.name, self.dataset, fingerprint, self.profile, self.seed)

    def refit_key(self, fingerprint: str) -> tuple:
        """The store's key of the record of this job's refit (``--refit``), on that split."""
        return key_of(self._stored_name(refit=True), self.dataset, fingerprint, self.profile,
                      self.seed)

    def _stored_name(self, refit: bool) -> str:
        return job_name(self.label or self.pipeline, self.precision, refit)


@dataclass(frozen=True)
class Partition:
    images: np.ndarray
    labels: np.ndarray


@dataclass
class RunContext:
    """What every job of one run shares: the data, the split, the profile."""

    dataset: Dataset
    split: Split
    profile: Profile
    plugins: tuple[str, ...] = ()  # loose plugin files, loaded again in each worker process
    # where resumable pipelines keep their epoch checkpoints (None: they keep none)
    checkpoint_root: Path | None = None
    # where the run's jobs share their feature steps (pipelines/sharing.py; None: they
    # share none): one folder per run, removed when it ends
    shared_features_dir: Path | None = None
    # where each ok job's fitted model is kept for --evaluate (None: not kept)
    model_cache: ModelCache | None = None
    _partitions: dict[int, dict[str, Partition]] = field(default_factory=dict)

    def __getstate__(self) -> dict:
        """Sent to workers without the subsamples: each worker makes its own, once."""
        state = dict(self.__dict__)
        state["_partitions"] = {}
        return state

    def partitions(self, seed: int, train_size: int | None = None,
                   validation_size: int | None = None) -> dict[str, Partition]:
        """Train / validation / test for a seed, subsampled to the profile's sizes, or to
        ``train_size`` training and ``validation_size`` validation images (a pipeline's own
        caps, below the profile's)."""
        # one subsample per sizes
        key = (seed, train_size or self.profile.train_size,
               validation_size or self.profile.validation_size)
        if key not in self._partitions:
            self._partitions[key] = {
                role: Partition(self.dataset.images[chosen], self.dataset.labels[chosen])
                for role, chosen in self._chosen(*key).items()}
        return self._partitions[key]

    def partition_sizes(self, seed: int, train_size: int | None = None,
                        validation_size: int | None = None) -> dict[str, int]:
        """How many images ``partitions`` would give each part, without copying them."""
        return {role: len(chosen) for role, chosen in self._chosen(
            seed, train_size or self.profile.train_size,
            validation_size or self.profile.validation_size).items()}

    def _chosen(self, seed: int, train_size: int | None,
                validation_size: int | None) -> dict[str, np.ndarray]:
        sizes = {"train": train_size, "validation": validation_size,
                 "test": self.profile.test_size}
        return {role: subsample(indices, self.dataset.labels, sizes[role], seed)
                for role, indices in (("train", self.split.train),
                                      ("validation", self.split.validation),
                                      ("test", self.split.test))}


CHECKPOINT_DIR_ENV = "FASHIONBENCH_CHECKPOINT_DIR"


def default_checkpoint_root() -> Path:
    """$FASHIONBENCH_CHECKPOINT_DIR, else the user cache: never under results/."""
    configured = os.environ.get(CHECKPOINT_DIR_ENV)
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("fashionbench")) / "checkpoints"


def checkpoint_root_for(results_dir: Path, root: Path | None = None) -> Path:
    """The checkpoints of one results directory: runs into two results directories (a
    scratch benchmark beside the real run) never share a job's checkpoint."""
    scope = hashlib.sha256(str(Path(results_dir).resolve()).encode()).hexdigest()[:10]
    return (root or default_checkpoint_root()) / f"results-{scope}"


def checkpoint_directory(job: Job, context: RunContext) -> Path:
    """One job's checkpoint directory: readable name, a digest of everything that makes the
    job (a study variant's settings included), so no other job can pick it up. A precision
    asked for counts too, through the name: a float32 epoch's state continued in bfloat16
    would make a record of neither (mixed bfloat16 keeps float32 weights, so nothing else
    would refuse it)."""
    name, dataset, fingerprint, profile, seed = job.key(context.split.fingerprint)
    identity = json.dumps([job.pipeline, name, [list(item) for item in job.overrides],
                           dataset, fingerprint, profile, seed], default=str)
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", job.name).strip("_")[:60]
    return context.checkpoint_root / (f"{job.dataset}-{job.profile}-{readable}-seed{job.seed}-"
                                      f"{digest}")


def remove_checkpoint(record: Record, root: Path | None) -> None:
    """Once an ok record is stored, its job's checkpoint has served; a failed or timed-out
    job keeps it, so that the next run continues from its last epoch."""
    directory = (record.get("checkpoint") or {}).get("directory")
    if record.get("status") != "ok" or not directory or root is None:
        return
    directory = Path(directory)
    if directory.resolve().is_relative_to(Path(root).resolve()):  # only what we made
        shutil.rmtree(directory, ignore_errors=True)

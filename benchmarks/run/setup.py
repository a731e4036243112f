"""What a run opens before it plans, writing nothing: the dataset, its split, the profile, the
store, the context its jobs share and the job times to expect (``open_run``). The runner and
``--evaluate`` both start from it; it stays apart from the executors so that either stands on
a short stack of modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.profiles import Profile, get_profile

from ..data.custom_data import open_dataset
from ..data.datasets import Dataset
from ..data.splits import Split, make_split
from ..records.layout import PROJECT_ROOT
from ..records.store import ResultsStore
from .context import RunContext, checkpoint_root_for
from .job import load_plugins
from .job_times import JobTimes
from .model_cache import ModelCache, default_model_cache
from .options import RunOptions, check_options


@dataclass
class RunSetup:
    """What a run opens before it plans: the data, its split, the profile, the store, the
    context its jobs share, the store's latest records and the job times to expect."""

    dataset: Dataset
    split: Split
    profile: Profile
    store: ResultsStore
    context: RunContext
    latest: dict[tuple, dict]
    times: JobTimes
    mark: int = 0  # the store's end when it was read: what is after it, others stored since

    @property
    def header(self) -> str:
        return (f"{self.dataset.name}, split {self.split.name} ({self.split.fingerprint}), "
                f"profile {self.profile.name}")


def model_cache_of(options: RunOptions) -> ModelCache | None:
    if not options.keep_models:
        return None
    return ModelCache(Path(options.model_cache_dir or default_model_cache()),
                      int(options.model_cache_gb * 2**30))


def open_run(options: RunOptions) -> RunSetup:
    """Open the dataset, make the split, read the store (nothing is written)."""
    check_options(options)
    profile = get_profile(options.profile)
    dataset = open_dataset(options.dataset, options.data_dir, image_size=options.image_size,
                           color=options.color)
    store = ResultsStore(options.results_dir, dataset.name, profile.name)
    split = make_split(options.split, dataset, options.validation_fraction)
    context = RunContext(dataset, split, profile, plugins=tuple(options.plugins),
                         checkpoint_root=checkpoint_root_for(options.results_dir,
                                                             options.checkpoint_dir),
                         model_cache=model_cache_of(options))
    load_plugins(context)
    mark = store.end_of_records()  # before the store is read: nothing slips between them
    times = JobTimes.from_records(history_store(options, dataset.name, profile.name,
                                                store).records())
    return RunSetup(dataset, split, profile, store, context,
                    {} if options.force else store.latest(), times, mark)



def history_store(options: RunOptions, dataset: str, profile: str,
                  store: ResultsStore) -> ResultsStore:
    """Where the job times of earlier runs are read: ``options.history_dir``, else the run's
    own store, else (a new results directory) the project's committed store of the same
    dataset and profile, so that a first run into a fresh directory still starts its longest
    jobs first and has an ETA."""
    if options.history_dir:
        return ResultsStore(options.history_dir, dataset, profile)
    if store.path.is_file() and store.path.stat().st_size:
        return store
    committed = ResultsStore(PROJECT_ROOT / "results", dataset, profile)
    return committed if committed.path.is_file() else store

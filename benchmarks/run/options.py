"""What a run is asked to do: ``RunOptions``, the pipelines its patterns select, and the one
check of every option (``check_options``) that the command line, the API and the runner share,
so that a bad value is one line before anything runs or is stored."""

from __future__ import annotations

import fnmatch
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.errors import FashionbenchError, UnknownNameError, unknown_name
from pipelines.hardware import PRECISIONS

if TYPE_CHECKING:
    from ..data.datasets import Dataset

# a seed feeds numpy's legacy seeding and the subsamples: both take 32 bits
MAX_SEED = 2**32 - 1


@dataclass
class RunOptions:
    pipelines: list[str]
    # a registered name, a path to an .npz file or a folder of class folders, or a Dataset
    # (``custom_data.dataset_from_arrays``); results are stored under the dataset's name
    dataset: str | Path | Dataset = "fashion-mnist"
    data_dir: Path | None = None
    # how a folder dataset's images are converted: (height, width), "gray" or "rgb"
    image_size: tuple[int, int] | None = None
    color: str = "gray"
    split: str = "standard"
    # the standard split's validation hold-out of the training part (None: 20%); your own
    # data loses this share of its training images to it (--validation-fraction, holdout=)
    validation_fraction: float | None = None
    profile: str = "quick"
    seeds: list[int] = field(default_factory=lambda: [0])
    results_dir: Path = Path("results")
    force: bool = False
    # "serial", "process", "dask", or "auto" (the command line's default): one worker
    # process per core where two or more jobs and cores can use them, else serial. Serial
    # by default here: a pipeline registered in the calling process (a notebook's, a test's)
    # exists in no worker process
    executor: str = "serial"
    # parallel jobs for process/dask (None: the number of cores)
    workers: int | None = None
    # threads each job may use (BLAS, OpenMP, n_jobs); None: the cores / workers. A job's
    # numbers depend on it, so fixing it makes every executor give the same records
    threads: int | None = None
    timeout: float | None = None
    scheduler: str | None = None
    plugins: tuple[str, ...] = ()
    # the root of the epoch checkpoints (default: $FASHIONBENCH_CHECKPOINT_DIR, else the user
    # cache); each results directory gets its own folder under it
    checkpoint_dir: Path | None = None
    # where fitted models are kept for --evaluate (model_cache.py; None: the default cache),
    # whether they are kept, and the cache's cap in GiB (the oldest removed first)
    model_cache_dir: Path | None = None
    keep_models: bool = True
    model_cache_gb: float = 5.0
    # metrics to add to stored records from their kept models instead of running jobs
    # (--evaluate; evaluate.py): "robustness", "calibration"
    evaluate: tuple[str, ...] = ()
    # a study's variants, (pipeline, overrides, label) each, run instead of ``pipelines``
    variants: tuple[tuple[str, tuple, str], ...] = ()
    # after each job's validation run, its refit on train + validation (refit.py), stored
    # as NAME[refit]
    refit: bool = False
    # where the job times of earlier runs are read (the longest-first order of the parallel
    # executors, the ETA); None: the results directory itself. A run into a scratch directory
    # (benchmarks.perf.budget) reads them from the committed stores instead: without them
    # the jobs go in registry order, and the zoo's longest job can start last
    history_dir: Path | None = None
    # whether jobs share the feature steps they repeat (the same HOG, PCA or FLD of the same
    # images: pipelines/sharing.py) through a folder of this run's, removed when it ends.
    # Their records count the loaded steps at what they cost to compute (job.py)
    share_features: bool = True
    # a wall-clock budget for the whole run (--max-seconds): a job whose expected time here
    # does not fit what is left is not started, and one that runs past the end is stopped
    # (budget.py)
    max_seconds: float | None = None
    # the order jobs start in: a pipeline's priority (0 first; the --only pattern that chose
    # it), then longest first within a priority; names not given come last
    priorities: dict[str, int] = field(default_factory=dict)
    # the arithmetic of the deep pipelines whose precision is "auto" (all registered ones):
    # "auto" (bfloat16 on a GPU, float32 on a CPU), "float32" or "bfloat16"; each record says
    # which it trained in (model.dtype_policy)
    precision: str = "auto"


# what --evaluate can add to a stored record from its kept model (evaluate.py)
EVALUATIONS = ("robustness", "calibration")
EXECUTORS = ("auto", "serial", "process", "dask")
COLORS = ("gray", "rgb")
MAX_IMAGE_SIDE = 512  # ImageNet's networks train at 224; a larger side only exhausts memory
# far more parallel jobs, or threads per job, than any machine this runs on has cores: a
# larger count is a typo, and would start that many processes
MAX_PARALLEL = 1024

# how the command line spells each option in its one-line errors; the API passes its own
# keyword names (api.API_NAMES), so each error names what the caller wrote
CLI_NAMES = {"dataset": "--dataset", "image_size": "--image-size", "color": "--color",
             "split": "--split", "profile": "--profile", "seeds": "--seeds",
             "validation_fraction": "--validation-fraction", "executor": "--executor",
             "workers": "--workers", "threads": "--threads", "timeout": "--timeout",
             "max_seconds": "--max-seconds", "model_cache_gb": "--model-cache-gb",
             "evaluate": "--evaluate", "results_dir": "--results-dir",
             "data_dir": "--data-dir", "checkpoint_dir": "--checkpoint-dir",
             "model_cache_dir": "--model-cache", "scheduler": "--scheduler",
             "force": "--force", "refit": "--refit", "keep_models": "--no-model-cache",
             "share_features": "--no-shared-features", "precision": "--precision"}


def check_options(options: RunOptions, names: dict[str, str] | None = None) -> None:
    """One-line errors for options no run can use: an unknown dataset, split or profile name,
    a seed, worker or thread count out of range, a time that is not a positive number, a
    value of the wrong type. ``names``: how the caller spells each option (the command
    line's flags unless told)."""
    from pipelines.profiles import get_profile

    from ..data.datasets import get_dataset_entry, looks_like_a_path
    from ..data.splits import check_split_name

    names = CLI_NAMES | (names or {})
    _check_types(options, names)
    if isinstance(options.dataset, str) and not looks_like_a_path(options.dataset):
        get_dataset_entry(options.dataset)
    check_split_name(options.split)
    get_profile(options.profile)
    _check_data_options(options, names)
    _check_numbers(options, names)
    unknown = [name for name in options.evaluate if name not in EVALUATIONS]
    if unknown:
        raise FashionbenchError(f"{names['evaluate']} takes {' or '.join(EVALUATIONS)}, not "
                                f"{', '.join(map(repr, unknown))}")


def _check_types(options: RunOptions, names: dict[str, str]) -> None:
    """Names that must be text, folders that must be paths, switches that must be True or
    False: checked before any is used, so a wrong type is its own line, not a traceback."""
    from ..data.datasets import Dataset

    if not isinstance(options.dataset, str | Path | Dataset):
        raise FashionbenchError(f"{names['dataset']} must be a dataset name, a path to your "
                                f"own data or a Dataset (from_arrays), not "
                                f"{type(options.dataset).__name__}")
    for key in ("split", "profile", "color", "executor", "precision"):
        if not isinstance(getattr(options, key), str):
            raise FashionbenchError(f"{names[key]} must be a name (text), not "
                                    f"{getattr(options, key)!r}")
    for key in ("results_dir", "data_dir", "checkpoint_dir", "model_cache_dir"):
        value = getattr(options, key)
        if not (isinstance(value, str | Path) or value is None and key != "results_dir"):
            raise FashionbenchError(f"{names[key]} must be a folder path, not {value!r}")
    for key in ("force", "refit", "keep_models", "share_features"):
        if not isinstance(getattr(options, key), bool):
            raise FashionbenchError(f"{names[key]} must be True or False, not "
                                    f"{getattr(options, key)!r}")
    if options.scheduler is not None and not isinstance(options.scheduler, str):
        raise FashionbenchError(f"{names['scheduler']} must be an address such as "
                                f"tcp://HOST:PORT, not {options.scheduler!r}")


def _check_data_options(options: RunOptions, names: dict[str, str]) -> None:
    if options.color not in COLORS:
        raise FashionbenchError(f"{names['color']} must be {' or '.join(COLORS)}, not "
                                f"{options.color!r}")
    for key, choices in (("precision", PRECISIONS), ("executor", EXECUTORS)):
        if getattr(options, key) not in choices:
            raise FashionbenchError(f"{names[key]} must be one of {', '.join(choices)}, not "
                                    f"{getattr(options, key)!r}")
    size = options.image_size
    if size is not None and not (
            isinstance(size, tuple | list) and len(size) == 2
            and all(_whole(side) and 1 <= side <= MAX_IMAGE_SIDE for side in size)):
        raise FashionbenchError(f"{names['image_size']} must be (height, width), each a whole "
                                f"number from 1 to {MAX_IMAGE_SIDE}, not {size!r}")
    fraction = options.validation_fraction
    if fraction is not None and not (_number(fraction) and 0 < fraction < 1):
        raise FashionbenchError(f"{names['validation_fraction']} must be between 0 and 1 (the "
                                f"share of the training part held out), not {fraction!r}")


def _check_numbers(options: RunOptions, names: dict[str, str]) -> None:
    for key in ("timeout", "max_seconds"):
        value = getattr(options, key)
        if value is not None and not (_number(value) and 0 < value < math.inf):
            raise FashionbenchError(f"{names[key]} must be a positive number of seconds, not "
                                    f"{value!r}")
    cap = options.model_cache_gb
    if not (_number(cap) and 0 < cap < math.inf):
        raise FashionbenchError(f"{names['model_cache_gb']} must be a positive number of GiB, "
                                f"not {cap!r}")
    seeds = options.seeds
    bad = [seed for seed in seeds if not (_whole(seed) and 0 <= seed <= MAX_SEED)] \
        if isinstance(seeds, list | tuple) and seeds else [seeds]
    if bad:
        raise FashionbenchError(f"{names['seeds']} must be whole numbers from 0 to "
                                f"{MAX_SEED:,} (they seed numpy and the subsamples), at least "
                                f"one, not "
                                f"{', '.join(map(repr, bad))}")
    for key, what, hint in (("workers", "", ""),
                            ("threads", " (threads per job)",
                             "; leave it out for cores / --workers")):
        value = getattr(options, key)
        if value is not None and not (_whole(value) and value >= 1):
            raise FashionbenchError(f"{names[key]} must be at least 1{what}, not {value!r}{hint}")
        if value is not None and value > MAX_PARALLEL:
            raise FashionbenchError(f"{names[key]} must be at most {MAX_PARALLEL}{what}, more "
                                    f"than any machine's cores, not {value!r}{hint}")


def _whole(value) -> bool:
    """An int, not a bool (True is an int to Python, never a count here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def select_pipelines(only: Iterable[str] = (), exclude: Iterable[str] = (),
                     recipes: Iterable[str] = (), profile: str | None = None) -> list[str]:
    """The pipeline names to run, in registry order (``--only``/``--exclude``/``--recipe``).

    A pattern may name a recipe (``mcnn@modern``, ``cnn-*@modern``): the deep pipelines it
    matches, trained with it. ``recipes`` trains every selected deep pipeline with each recipe
    given; the classical ones have no recipe and are left out, and a line on stderr says so.
    With ``profile``, the pipelines not offered in it (``register_pipeline(left_out_of=...)``)
    are left out of a pattern's matches, with a line on stderr, and refused when named.
    """
    from pipelines.recipes import get_recipe, split_name, with_recipe
    from pipelines.registry import get_entry, list_pipelines, pipeline_entries

    only, exclude, recipes = list(only), list(exclude), list(recipes)
    known = list(pipeline_entries())

    def matching(pattern: str) -> list[str]:
        found = list_pipelines(pattern)
        if not found:
            raise unknown_name("pipeline", pattern, known) if not any(
                char in pattern for char in "*?[") else UnknownNameError(
                f"no pipeline matches {pattern!r}; see --list")
        return found

    def deep(name: str) -> bool:
        return get_entry(name).family == "deep"

    for pattern in exclude:
        matching(split_name(pattern)[0])
    for recipe in recipes:
        get_recipe(recipe)
    selected: list[str] = []
    for pattern in only or ["*"]:
        base, recipe = split_name(pattern)
        names = matching(base)
        if recipe is not None:
            get_recipe(recipe)
            names = [with_recipe(name, recipe) for name in names if deep(name)]
            if not names:
                raise UnknownNameError(f"{pattern!r}: recipes train deep pipelines, and no deep "
                                       f"pipeline matches {base!r}")
        selected += [name for name in names if name not in selected]
    if recipes:
        classical = [name for name in selected if not deep(split_name(name)[0])]
        if classical:
            print(f"note: --recipe trains deep pipelines; {len(classical)} classical "
                  f"pipeline(s) left out of this run", file=sys.stderr)
        bare = [split_name(name)[0] for name in selected if name not in classical]
        selected = list(dict.fromkeys(with_recipe(name, recipe)
                                      for name in bare for recipe in recipes))
    selected = [name for name in selected if not any(
        fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(split_name(name)[0], pattern)
        for pattern in exclude)]
    if profile is not None:
        selected = offered_in(selected, only, profile)
    if not selected:
        raise UnknownNameError("the --only/--exclude/--recipe choices leave no pipeline to run")
    return selected


def offered_in(selected: list[str], only: list[str], profile: str) -> list[str]:
    """``selected`` without the pipelines ``profile`` does not offer: one named by itself
    is refused in one line, those a pattern matched are left out with a note."""
    from pipelines.recipes import split_name
    from pipelines.registry import left_out

    named = {split_name(pattern)[0] for pattern in only}
    dropped = {}
    for name in selected:
        why = left_out(name, profile)
        if why is not None and split_name(name)[0] in named:
            raise FashionbenchError(f"{name} is left out of the {profile} profile: {why}; run "
                                    f"it with --profile full (or smoke, a wiring check)")
        if why is not None:
            dropped[name] = why
    for why in dict.fromkeys(dropped.values()):
        names = ", ".join(name for name, reason in dropped.items() if reason == why)
        print(f"note: left out of the {profile} profile: {names} ({why})", file=sys.stderr)
    return [name for name in selected if name not in dropped]


def priorities(selected: list[str], only: Iterable[str]) -> dict[str, int]:
    """Each selected name's priority: the position of the first ``--only`` that chose it
    (one ``--only`` may hold several patterns joined by commas). No ``--only``: none."""
    from pipelines.recipes import split_name

    found: dict[str, int] = {}
    for rank, group in enumerate(only):
        patterns = [pattern for pattern in group.split(",") if pattern]
        for name in selected:
            if name not in found and any(
                    fnmatch.fnmatchcase(name, pattern)
                    or fnmatch.fnmatchcase(split_name(name)[0], split_name(pattern)[0])
                    and split_name(name)[1] == split_name(pattern)[1]
                    for pattern in patterns):
                found[name] = rank
    return found

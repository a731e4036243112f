"""The Python API: run pipelines, or load stored results, and get DataFrames and figures back.

    from benchmarks.api import load, run

    results = run(["raw-svm", "pca-*"], dataset="fashion-mnist", profile="quick")
    results.leaderboard            # a pandas DataFrame: the markdown leaderboard's main table
    results.records                # the typed records behind it, newest per name
    results.figure("accuracy-vs-fit-time")   # a matplotlib Figure
    results                        # in Jupyter: the leaderboard as an HTML table

    load("results", dataset="fashion-mnist", profile="full").leaderboard.head()

``dataset`` is a registered name, a path to your own ``.npz`` file or folder of class folders,
or a Dataset made from arrays with ``from_arrays``. Runs go through the same runner and store
as ``python run_all.py``, which is a thin layer over this module; a run appends its records
to the store and, unless ``publish=False``, regenerates the reports as the command does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .data.datasets import Dataset
from .errors import FashionbenchError, unknown_name
from .records.record import Record
from .records.store import ResultsStore
from .run.options import RunOptions, check_options, select_pipelines
from .run.runner import RunSummary

if TYPE_CHECKING:
    from .reports.rows import Row

# the columns after the markdown's main table: robustness and calibration (reports/robustness)
BEYOND_ACCURACY = ("corrupted acc %", "relative robustness", "ECE", "Brier",
                   "acc % of most confident 90%")


def beyond_accuracy(row: Row) -> list[float | None]:
    """A row's robustness and calibration, as the columns of BEYOND_ACCURACY (None: none)."""
    def percent(value):
        return None if value is None else value * 100

    return [percent(row.mean_corrupted_accuracy), row.relative_robustness, row.ece,
            row.brier, percent(row.selective_accuracy)]


FIGURES = ("accuracy-vs-fit-time", "per-class", "confusion", "curves")


def from_arrays(x_train, y_train, x_test, y_test, *, class_names: list[str] | None = None,
                name: str = "arrays") -> Dataset:
    """Your own arrays as a dataset to ``run`` on (checked; see custom_data.py): images
    N x H x W or N x H x W x 3, uint8 / 0-255 integers / floats in [0, 1]; labels 0..K-1."""
    from .data.custom_data import dataset_from_arrays

    if not isinstance(name, str) or not name:
        raise FashionbenchError(f"name must be the dataset's name (non-empty text; its results "
                                f"are stored under it), not {name!r}")
    return dataset_from_arrays(x_train, y_train, x_test, y_test, class_names=class_names,
                               name=name, source=f"arrays {name!r}")


def run(pipelines: str | Iterable[str] | object = "*", *, exclude: Iterable[str] = (),
        recipes: Iterable[str] = (), dataset: str | Path | Dataset = "fashion-mnist",
        profile: str = "quick", split: str = "standard", seeds: Iterable[int] = (0,),
        results_dir: str | Path = "results", data_dir: str | Path | None = None,
        image_size: tuple[int, int] | None = None, color: str = "gray",
        executor: str = "serial", workers: int | None = None, threads: int | None = None,
        timeout: float | None = None, precision: str = "auto", force: bool = False,
        refit: bool = False, holdout: float | None = None, progress: bool | object = True,
        publish: bool = True) -> BenchmarkResults:
    """Train, time and score pipelines and return the store's results. ``pipelines``: names
    or shell patterns (as ``--only``); or scikit-learn estimators: one, a list (named from
    their class: ``logistic-regression``), or ``{"name": estimator}``; a ``Pipeline`` is one
    estimator. Each estimator runs on pixels / 255 as a classical pipeline registered for
    this call only, stored and ranked like any other (pipelines/estimators.py).

    ``holdout``: the share of the training part held out for validation (default 0.2; with
    your own data, the training images each pipeline loses to it; ``refit`` gives them back).
    Jobs already stored are not rerun unless ``force``. ``refit``:
    each pipeline is trained again on train + validation with what its validation run
    chose, and stored as ``NAME[refit]`` (benchmarks/refit.py). ``executor``
    defaults to serial here: a pipeline registered in this process (a notebook's) exists in
    no worker process. ``precision``: the deep pipelines' arithmetic, as ``--precision``
    ("auto", "float32" or "bfloat16"). ``progress``: True prints a line per job, False
    nothing, or a display from benchmarks.run.progress."""
    from pipelines.estimators import registered_for_now

    from .run.progress import LineProgress, QuietProgress

    seeds, exclude, recipes = checked_keywords(
        seeds=seeds, exclude=exclude, recipes=recipes, results_dir=results_dir,
        data_dir=data_dir, progress=progress, publish=publish)
    options = RunOptions(
        pipelines=[], dataset=dataset, data_dir=Path(data_dir) if data_dir else None,
        image_size=image_size, color=color, split=split, profile=profile,
        seeds=seeds, results_dir=Path(results_dir), force=force, executor=executor,
        workers=workers, threads=threads, timeout=timeout, precision=precision, refit=refit,
        validation_fraction=holdout)
    check_options(options, API_NAMES)  # every value, before a pattern selects anything
    patterns, estimators = split_patterns_and_estimators(pipelines)
    if progress is True:
        progress = LineProgress(lambda line: print(line, flush=True))
    elif progress is False or progress is None:
        progress = QuietProgress()
    with registered_for_now(estimators) as names:
        selected = select_pipelines(patterns, exclude, recipes, profile) if patterns else []
        options.pipelines = selected + [name for name in names if name not in selected]
        return run_options(options, progress=progress, publish=publish)


# how run()'s keywords are named in its one-line errors (run.options.check_options)
API_NAMES = {"validation_fraction": "holdout"} | {
    key: key for key in ("dataset", "image_size", "color", "split", "profile", "seeds",
                         "executor", "workers", "threads", "timeout", "precision",
                         "results_dir", "data_dir", "force", "refit")}


def checked_keywords(*, seeds, exclude, recipes, results_dir, data_dir, progress, publish
                     ) -> tuple[list, list[str], list[str]]:
    """run()'s keywords that are converted before ``check_options`` sees them: a wrong type
    is one FashionbenchError naming the keyword, not a TypeError from the conversion. A lone
    string is one pattern (``exclude="pca-*"``), never its letters."""
    def listed(value, keyword: str, what: str) -> list:
        if isinstance(value, str):
            return [value]
        if not isinstance(value, Iterable) or isinstance(value, bytes | Mapping):
            raise FashionbenchError(f"{keyword} must be a list of {what}, not {value!r}")
        return list(value)

    seeds = [int(seed) if isinstance(seed, np.integer) else seed
             for seed in listed(seeds, "seeds", "whole numbers (e.g. [0, 1, 2])")]
    exclude, recipes = (listed(exclude, "exclude", "name patterns"),
                        listed(recipes, "recipes", "recipe names"))
    for keyword, values in (("exclude", exclude), ("recipes", recipes)):
        if not all(isinstance(value, str) for value in values):
            raise FashionbenchError(f"{keyword} must be a list of names (text), not {values!r}")
    for keyword, value in (("results_dir", results_dir), ("data_dir", data_dir)):
        if not isinstance(value, str | Path) and not (value is None and keyword == "data_dir"):
            raise FashionbenchError(f"{keyword} must be a folder path, not {value!r}")
    if not (isinstance(progress, bool) or progress is None or hasattr(progress, "begin")):
        raise FashionbenchError(f"progress must be True, False or a display from "
                                f"benchmarks.run.progress, not {progress!r}")
    if not isinstance(publish, bool):
        raise FashionbenchError(f"publish must be True or False, not {publish!r}")
    return seeds, exclude, recipes


def split_patterns_and_estimators(given) -> tuple[list[str], dict[str, object]]:
    """``run``'s first argument as name patterns and ``{name: estimator}``."""
    from pipelines.estimators import is_estimator, named_estimators

    if isinstance(given, str):
        return [given], {}
    if isinstance(given, Mapping):
        return [], named_estimators(given)
    if is_estimator(given):
        return [], named_estimators([given])
    if not isinstance(given, Iterable):
        raise FashionbenchError(f"pipelines must be name patterns, scikit-learn estimators, a "
                                f"list of them or {{name: estimator}}, not {given!r}")
    items = list(given)
    patterns = [item for item in items if isinstance(item, str)]
    return patterns, named_estimators([item for item in items if not isinstance(item, str)])


def run_options(options: RunOptions, *, progress=None, publish: bool = True
                ) -> BenchmarkResults:
    """``run`` for options already made (the command line's way in)."""
    from .reports.publish import publish as publish_reports
    from .run import runner

    summary = runner.run(options, progress=progress)
    if publish:
        publish_reports(Path(options.results_dir), options.data_dir, lambda line: None,
                        stores=[summary.store.path] if summary.store else None)
    return BenchmarkResults(summary.store, summary)


def load(results_dir: str | Path = "results", dataset: str = "fashion-mnist",
         profile: str = "quick") -> BenchmarkResults:
    """The results stored under ``results_dir`` for a dataset and profile, without training."""
    from .records.layout import ResultsLayout

    if not isinstance(results_dir, str | Path):
        raise FashionbenchError(f"results_dir must be a folder path, not {results_dir!r}")
    for keyword, value in (("dataset", dataset), ("profile", profile)):
        if not isinstance(value, str):
            raise FashionbenchError(f"{keyword} must be a name (text), not {value!r}")
    location = ResultsLayout(results_dir).store(dataset, profile)
    if not location.runs.is_file():
        raise FashionbenchError(f"no results store at {location.runs}; run some pipelines "
                                f"first (run_all.py or benchmarks.api.run)")
    return BenchmarkResults(ResultsStore(results_dir, dataset, profile))


@dataclass
class BenchmarkResults:
    """One store's results: its leaderboard as a DataFrame, its records, its figures."""

    store: ResultsStore
    summary: RunSummary | None = None  # what the run that made this object did, if one did
    _rows: dict[str, list[Row]] | None = field(default=None, init=False, repr=False)

    @property
    def records(self) -> list[Record]:
        """The newest record of every stored name, in store order; each part's metrics
        with per-class precision, recall and F1 (from the confusion matrix where a record was
        stored before they were kept)."""
        from .records.scores import with_per_class_scores

        return [{**record, "metrics": {part: with_per_class_scores(values)
                                       for part, values in record["metrics"].items()}}
                if record.get("metrics") else record
                for record in self.store.latest().values()]

    def _split_rows(self) -> dict[str, list[Row]]:
        from .reports.leaderboard import splits_in_order
        from .reports.offered import offered
        from .reports.rows import summarise

        if self._rows is None:
            ranked = offered(self.records, self.store.location.profile)
            self._rows = {fingerprint: summarise(records)
                          for fingerprint, records in splits_in_order(ranked)}
        return self._rows

    @property
    def splits(self) -> list[str]:
        """The split fingerprints, in the leaderboard's order (the standard split first)."""
        return list(self._split_rows())

    def _rows_of(self, split: str | None) -> list[Row]:
        rows = self._split_rows()
        if not rows:
            raise FashionbenchError(f"{self.store.path} holds no records yet")
        if split is None:
            return next(iter(rows.values()))
        if split not in rows:
            raise unknown_name("split fingerprint", split, list(rows))
        return rows[split]

    @property
    def leaderboard(self):
        """The first split's main table: the markdown leaderboard's columns in its order,
        numbers as numbers (percentages in percent), one row per pipeline, ranked."""
        return self.table()

    def table(self, split: str | None = None):
        """The main table of one split (by fingerprint; default the leaderboard's first)."""
        import pandas as pd

        from .reports.leaderboard import shows_hardware
        from .reports.tables import main_columns

        rows = self._rows_of(split)
        columns = main_columns(with_family=True, with_hardware=shows_hardware(rows))
        data = []
        for rank, row in enumerate(rows, start=1):
            values = []
            for column in columns:
                if column.key is None or column.header == "95% CI":
                    values.append(column.cell(row, rank))  # text as printed
                    continue
                value = column.key(row, rank)
                if value is not None and column.header.endswith("%"):
                    value = value * 100
                values.append(np.nan if value is None else value)
            data.append(values + [np.nan if value is None else value
                                  for value in beyond_accuracy(row)])
        return pd.DataFrame(data, columns=[column.header for column in columns]
                            + list(BEYOND_ACCURACY))

    def figure(self, kind: str, pipeline: str | None = None, *, split: str | None = None):
        """A matplotlib Figure: ``accuracy-vs-fit-time``, ``per-class`` (the family leaders),
        ``confusion`` (a pipeline's, default the leader's) or ``curves`` (a deep pipeline's
        training curves)."""
        from .reports import figures
        from .reports.publish import PER_CLASS_TITLE
        from .reports.rows import family_leaders

        rows = self._rows_of(split)
        class_names = list(rows[0].runs[0]["class_names"])
        title = f"{self.store.location.dataset}, profile {self.store.location.profile}"
        if kind == "accuracy-vs-fit-time":
            return figures.draw_accuracy_vs_fit_time(rows, title)
        if kind == "per-class":
            return figures.draw_per_class_bars(family_leaders(rows, 2), class_names,
                                               PER_CLASS_TITLE)
        if kind not in FIGURES:
            raise unknown_name("figure", kind, list(FIGURES))
        by_name = {row.name: row for row in rows}
        name = pipeline or rows[0].name
        if name not in by_name:
            raise unknown_name("pipeline", name, list(by_name))
        run = by_name[name].runs[0]
        if kind == "confusion":
            return figures.draw_confusion_heatmap(run["metrics"]["test"]["confusion"],
                                                  class_names, f"{name}, test set")
        if not run.get("history"):
            raise FashionbenchError(f"{name} has no training history (curves are for deep "
                                    f"pipelines)")
        return figures.draw_training_curves(run["history"], f"{name} (seed {run['seed']})",
                                            held_out=not run.get("refit"))

    def to_markdown(self) -> str:
        """The whole markdown leaderboard, as LEADERBOARD.md has it (without figures)."""
        from .reports.leaderboard import leaderboard_markdown

        return leaderboard_markdown(self.store)

    def __repr__(self) -> str:
        return (f"BenchmarkResults({self.store.location.dataset}, profile "
                f"{self.store.location.profile}, {self._row_count()} rows, "
                f"store {self.store.path})")

    def _repr_html_(self) -> str:
        import html

        heading = (f"<p><b>fashionbench</b>: {html.escape(self.store.location.dataset)}, "
                   f"profile <code>{html.escape(self.store.location.profile)}</code>, "
                   f"{self._row_count()} rows; store "
                   f"<code>{html.escape(str(self.store.path))}</code></p>")
        if not self._split_rows():
            return heading
        return heading + self.leaderboard.to_html(index=False, na_rep="–",
                                                  float_format=lambda value: f"{value:,.2f}")

    def _row_count(self) -> int:
        """The leaderboard's rows (stored names ranked), not its records (seeds, history)."""
        return len(self._rows_of(None)) if self._split_rows() else 0

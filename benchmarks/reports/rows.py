"""A leaderboard's rows: what the stored records say about each stored name, computed once.

``summarise`` turns records into one typed ``Row`` per stored name (metrics averaged over its
ok seeds, best mean accuracy first); ``add_statistics`` gives each row its bootstrap
interval, McNemar's test against the leader and Pareto membership, as new rows
(``dataclasses.replace``: a row is never changed once made). Everything that computes from
records lives here, and the modules that format (``tables``, ``leaderboard``, ``html``,
``figures``, the studies' reports, the API's DataFrame) only read rows. Pure functions of the
records: no files, no clock.

Kept close to the records: this module imports the records' package, the seed documents'
figures and the statistics, never the pipelines' registry nor the runner.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from pipelines.seed_figures import SeedFigure, seed_figure

from ..records.hardware import hardware_label
from ..records.record import Record, stored_labels
from .significance import McNemar, bootstrap_accuracy_ci, mcnemar_exact

FAMILY_ORDER = ("classical", "deep")


@dataclass(frozen=True)
class Row:
    """One stored name's line of a leaderboard, from its ok records on one split.

    Keyed by ``name``, the name its records are stored and ranked under (``record["name"]``,
    e.g. ``mcnn[batch_size=32]`` or ``hog-svm[refit]``), which is not the registered
    pipeline that built it (``runs[0]["pipeline"]``).
    """

    name: str  # the stored name (record["name"]): what the tables print as "pipeline"
    family: str  # classical or deep, the first run's
    reducer: str  # the newest run's model's feature step, "–" for none
    runs: tuple[Record, ...]  # the ok records behind the row, lowest seed first
    accuracy: tuple[float, ...]  # test accuracy of each run, in the runs' order
    mean_accuracy: float  # their mean: what the row is ranked by
    macro_f1: tuple[float, ...]  # test macro-F1 of each run
    validation_accuracy: tuple[float, ...]  # of each run that has one (none for a refit)
    fit_seconds: float  # mean fit time over the runs
    shared_fit_seconds: float  # mean part of it computed by another job (pipelines/sharing)
    # runs scored with a network another row's run trained (benchmarks/run/twins.py)
    trained_elsewhere: int
    predict_ms_per_1k: float  # mean prediction time per 1,000 images
    peak_rss_mb: float  # the largest peak memory of the runs (0 where none was measured)
    n_parameters: int | None  # the newest run's model's, where it says
    train_size: int  # training images the first run used
    hardware: str  # what the first run ran on (records.hardware.hardware_label)
    per_class: tuple[float | None, ...]  # test accuracy per class, mean over the runs
    seed_figure: SeedFigure | None  # the seed document's own figure for this system, if any
    pareto: bool | None = None  # on the accuracy / fit-time frontier; None: not computed
    ci: tuple[float, float] | None = None  # bootstrap 95% interval of the test accuracy
    mcnemar: McNemar | None = None  # McNemar's test against the leader (None for it)
    # under the corruption suite (run/robustness.py), mean over the runs scored on it; None
    # for records made before it (or images it does not take)
    corrupted_accuracy: dict[str, float] | None = None  # test accuracy per corruption
    mean_corrupted_accuracy: float | None = None  # their mean
    clean_subset_accuracy: float | None = None  # the same images, uncorrupted
    relative_robustness: float | None = None  # mean corrupted / clean accuracy
    # calibration of the test probabilities (run/metrics.py), mean over the runs with them;
    # None without probabilities (an SVM without Platt scaling) or for older records
    ece: float | None = None  # expected calibration error, 15 equal-width bins
    brier: float | None = None  # multiclass Brier score, in [0, 2]
    log_loss: float | None = None
    selective_accuracy: float | None = None  # accuracy of the most confident 90%
    reliability: dict | None = None  # the first such run's reliability bins

    @property
    def seeds(self) -> int:
        """How many seeds (ok runs) the row averages."""
        return len(self.runs)


def summarise(records: list[Record], *, with_statistics: bool = True) -> list[Row]:
    """One row per stored name: metrics averaged over its ok seeds, best mean accuracy first;
    with ``with_statistics``, each row's bootstrap interval, McNemar test and Pareto membership
    (add_statistics: the costly part, which a ranking alone does not need)."""
    by_name: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        if record.get("status") == "ok":
            by_name[record["name"]].append(record)
    rows = sorted((_row(name, runs) for name, runs in by_name.items()),
                  key=lambda row: (-row.mean_accuracy, row.name))
    return add_statistics(rows) if with_statistics else rows


def _row(name: str, runs: list[Record]) -> Row:
    """The row of one stored name's ok records (any order)."""
    runs = sorted(runs, key=lambda record: record["seed"])
    model = runs[-1].get("model") or {}
    n_classes = len(runs[0]["metrics"]["test"]["per_class"])
    per_class = []
    for index in range(n_classes):
        values = [run["metrics"]["test"]["per_class"][index] for run in runs]
        values = [value for value in values if value is not None]
        per_class.append(statistics.fmean(values) if values else None)
    accuracy = tuple(run["metrics"]["test"]["accuracy"] for run in runs)
    return Row(
        name=name,
        family=runs[0]["family"],
        reducer=model.get("reducer") or "–",
        runs=tuple(runs),
        accuracy=accuracy,
        mean_accuracy=statistics.fmean(accuracy),
        macro_f1=tuple(run["metrics"]["test"]["macro_f1"] for run in runs),
        validation_accuracy=tuple(run["metrics"]["validation"]["accuracy"] for run in runs
                                  if run["metrics"]["validation"] is not None),
        fit_seconds=statistics.fmean(run["timing"]["fit_seconds"] for run in runs),
        shared_fit_seconds=statistics.fmean(shared_fit_seconds(run) for run in runs),
        trained_elsewhere=sum(bool(run.get("trained_by")) for run in runs),
        predict_ms_per_1k=statistics.fmean(run["timing"]["predict_ms_per_1k"] for run in runs),
        peak_rss_mb=max(run["timing"]["peak_rss_mb"] or 0 for run in runs),
        n_parameters=model.get("n_parameters"),
        train_size=runs[0]["sizes"]["train"],
        hardware=hardware_label(runs[0]["env"], runs[0].get("model")),
        per_class=tuple(per_class),
        seed_figure=seed_figure(runs[0]["pipeline"], runs[0].get("recipe"),
                                runs[0].get("overrides")),
        **robustness_fields(runs),
        **calibration_fields(runs),
    )


def _mean(values) -> float | None:
    values = [value for value in values if value is not None]
    return statistics.fmean(values) if values else None


def robustness_fields(runs: list[Record]) -> dict:
    """A row's robustness: each corruption's accuracy and the summaries, mean over the runs
    scored on the suite (all on the same one: its fingerprint is in every record)."""
    scored = [run["metrics"]["robustness"] for run in runs
              if (run["metrics"].get("robustness") or {}).get("accuracy")]
    if not scored:
        return {}
    names = list(scored[0]["accuracy"])
    return {
        "corrupted_accuracy": {name: _mean(one["accuracy"].get(name) for one in scored)
                               for name in names},
        "mean_corrupted_accuracy": _mean(one["mean_accuracy"] for one in scored),
        "clean_subset_accuracy": _mean(one["clean_accuracy"] for one in scored),
        "relative_robustness": _mean(one["relative"] for one in scored),
    }


def calibration_fields(runs: list[Record]) -> dict:
    """A row's calibration on the test set, mean over the runs that had probabilities."""
    tests = [run["metrics"]["test"] for run in runs]
    with_bins = [test for test in tests if test.get("reliability")]
    return {
        "ece": _mean(test.get("ece") for test in tests),
        "brier": _mean(test.get("brier") for test in tests),
        "log_loss": _mean(test.get("log_loss") for test in tests),
        "selective_accuracy": _mean(test.get("selective_accuracy_90") for test in tests),
        "reliability": with_bins[0]["reliability"] if with_bins else None,
    }


def shared_fit_seconds(run: Record) -> float:
    """Seconds of a run's fit that another job of its run computed (pipelines/sharing.py)."""
    return ((run.get("timing") or {}).get("shared_features") or {}).get("fit_seconds", 0.0)


def correctness(run: Record) -> np.ndarray | None:
    """Per test image, whether the run got it right; None where its record keeps no
    predictions of the test images or not their true labels."""
    labels = stored_labels(run.get("predictions"))
    return None if labels is None else labels[0] == labels[1]


def _on_frontier(row: Row, rows: list[Row]) -> bool:
    """No other row is both at least as fast and at least as accurate, and better in one."""
    return not any(
        other is not row and other.fit_seconds <= row.fit_seconds
        and other.mean_accuracy >= row.mean_accuracy
        and (other.fit_seconds < row.fit_seconds or other.mean_accuracy > row.mean_accuracy)
        for other in rows)


def add_statistics(rows: list[Row]) -> list[Row]:
    """The rows, in their order, with their bootstrap interval, McNemar's test against the
    leader (the first row) and Pareto membership.

    The statistics use each pipeline's lowest seed (the seed every pipeline shares when all
    ran the same seeds), on the same test images.
    """
    pareto = [_on_frontier(row, rows) for row in rows]
    if not rows:
        return []
    common_seed = min(set.intersection(*({run["seed"] for run in row.runs} for row in rows)),
                      default=None)
    answers: list[tuple[int, np.ndarray] | None] = []  # per row: (seed, right per image)
    for row in rows:
        run = next((run for run in row.runs if run["seed"] == common_seed), row.runs[0])
        correct = correctness(run)
        answers.append(None if correct is None else (run["seed"], correct))
    intervals = [None if found is None else bootstrap_accuracy_ci(found[1])
                 for found in answers]
    tests: list[McNemar | None] = [None] * len(rows)
    if answers[0] is not None:
        leader_seed, leader_correct = answers[0]
        for index, found in enumerate(answers[1:], start=1):
            if found is not None and found[0] == leader_seed \
                    and len(found[1]) == len(leader_correct):
                tests[index] = mcnemar_exact(leader_correct, found[1])
    return [dataclasses.replace(row, pareto=on_frontier, ci=interval, mcnemar=test)
            for row, on_frontier, interval, test in zip(rows, pareto, intervals, tests,
                                                        strict=True)]


def family_leaders(rows: list[Row], per_family: int) -> list[Row]:
    """The best ``per_family`` rows of each family, families in FAMILY_ORDER (the figures'
    leaders: rows come ranked)."""
    return [row for family in FAMILY_ORDER
            for row in [row for row in rows if row.family == family][:per_family]]

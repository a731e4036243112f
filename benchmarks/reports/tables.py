"""A leaderboard's tables, as markdown: public helpers that leaderboards, studies and
searches share (the HTML leaderboard reuses the main table's ``main_columns``).

Formatting: the rows come made (``rows.summarise`` computes every figure a table shows) and
each ``*_table`` prints them as a tabulate pipe table, each cell pre-formatted so numbers
print exactly as given (what a profile offers, which needs the registry, is offered.py).
Besides, ``seconds_to_reach``, which reads one record's epoch history for the
time-to-accuracy table (and perf/time_to_accuracy). Pure
functions of the rows and records: no files, no clock.
"""

from __future__ import annotations

import html
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tabulate import tabulate

from ..records.scores import PER_CLASS_SCORES, with_per_class_scores

if TYPE_CHECKING:  # only named: a table formats rows, it never makes them (rows.summarise)
    from ..records.record import Record
    from .rows import Row


def _mean_std(values: Sequence[float]) -> tuple[float, float | None]:
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


def percent(values: Sequence[float]) -> str:
    if not values:  # a refit's validation accuracy: there is none
        return "–"
    mean, std = _mean_std(values)
    return f"{mean * 100:.2f}" if std is None else f"{mean * 100:.2f} ± {std * 100:.2f}"


def number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


SHARED_MARK = "†"  # a fit time that counts feature steps shared by another pipeline
TWIN_MARK = "‡"  # the fit time of a network another row trained (benchmarks/run/twins.py)


def markdown_text(value: object) -> str:
    """Text from a record (a name, a hardware label, an error) fit for markdown: on one line,
    with ``&``, ``<`` and ``>`` as entities (a renderer that passes HTML through must not get
    markup from a merged store) and ``\\`` and ``|`` escaped (a ``|`` would split a table's
    cell). Code spans and links the report writes around it still work."""
    text = html.escape(" ".join(str(value).split()), quote=False)
    return text.replace("\\", "\\\\").replace("|", "\\|")


def markdown_table(table: list[list], headers: list[str], align: list[str] | None = None) -> str:
    """A pipe table; cells are pre-formatted strings so numbers print exactly as given, and
    every cell and heading goes through ``markdown_text``: one row per line, one cell per
    column, whatever a record holds."""
    align = align or ["left"] * len(headers)
    return tabulate([[markdown_text(value) for value in line] for line in table],
                    headers=[markdown_text(header) for header in headers], tablefmt="pipe",
                    colalign=align, disable_numparse=True)


def _interval(row: Row) -> str:
    return "–" if row.ci is None else f"{row.ci[0] * 100:.2f}–{row.ci[1] * 100:.2f}"


def _versus_leader(row: Row, rank: int) -> str:
    if rank == 1:
        return "leader"
    test = row.mcnemar
    if test is None:
        return "–"
    mark = "" if test.distinguishable else " ≈"
    value = f"{test.p_value:.3g}" if test.p_value >= 1e-300 else "<1e-300"  # below a double
    return f"{value}{mark}"


@dataclass(frozen=True)
class Column:
    """One column of the main table: what the markdown and the HTML leaderboard both show.

    ``cell`` gives the text printed (the markdown's, exactly); ``key`` the exact value a
    numeric column sorts by (None sorts last), so the HTML sorts on numbers, not on text.
    """

    header: str
    align: str  # left or right
    cell: Callable[[Row, int], object]  # (row, rank) -> the printed cell
    key: Callable[[Row, int], float | int | None] | None = None  # None: a text column


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def main_columns(*, with_family: bool, with_hardware: bool) -> list[Column]:
    """The main table's columns, in order."""
    return [
        Column("rank", "right", lambda row, rank: rank, lambda row, rank: rank),
        Column("pipeline", "left", lambda row, rank: row.name),
        *([Column("family", "left", lambda row, rank: row.family)] if with_family else []),
        Column("reducer", "left", lambda row, rank: row.reducer),
        Column("test acc %", "right", lambda row, rank: percent(row.accuracy),
               lambda row, rank: row.mean_accuracy),
        Column("seed reported %", "right", lambda row, rank: seed_reported(row),
               lambda row, rank: row.seed_figure and row.seed_figure.accuracy),
        Column("95% CI", "right", lambda row, rank: _interval(row),
               lambda row, rank: None if row.ci is None else row.ci[0]),
        Column("p vs leader", "right", _versus_leader,
               lambda row, rank: None if row.mcnemar is None else row.mcnemar.p_value),
        Column("macro-F1 %", "right", lambda row, rank: percent(row.macro_f1),
               lambda row, rank: _mean(row.macro_f1)),
        Column("val acc %", "right", lambda row, rank: percent(row.validation_accuracy),
               lambda row, rank: _mean(row.validation_accuracy)),
        Column("fit s", "right", lambda row, rank: number(row.fit_seconds)
               + (f" {SHARED_MARK}" if row.shared_fit_seconds else "")
               + (f" {TWIN_MARK}" if row.trained_elsewhere else ""),
               lambda row, rank: row.fit_seconds),
        Column("predict ms/1k", "right", lambda row, rank: number(row.predict_ms_per_1k),
               lambda row, rank: row.predict_ms_per_1k),
        Column("parameters", "right", lambda row, rank: count(row.n_parameters),
               lambda row, rank: row.n_parameters),
        Column("peak MB", "right", lambda row, rank: number(row.peak_rss_mb, 0),
               lambda row, rank: row.peak_rss_mb),
        Column("train images", "right", lambda row, rank: count(row.train_size),
               lambda row, rank: row.train_size),
        Column("seeds", "right", lambda row, rank: row.seeds, lambda row, rank: row.seeds),
        Column("Pareto", "left", lambda row, rank: "★" if row.pareto else ""),
        *([Column("hardware", "left", lambda row, rank: row.hardware)]
          if with_hardware else []),
    ]


def main_table(rows: list[Row], ranks: dict[str, int], *, with_family: bool,
               with_hardware: bool) -> str:
    columns = main_columns(with_family=with_family, with_hardware=with_hardware)
    table = [[column.cell(row, ranks[row.name]) for column in columns] for row in rows]
    return markdown_table(table, [column.header for column in columns],
                          [column.align for column in columns])


def seed_reported(row: Row) -> str:
    """The seed document's own figure for the system a row reproduces: "–" for none, marked
    where the document gives a validation figure only."""
    figure = row.seed_figure
    if figure is None:
        return "–"
    return f"{figure.accuracy * 100:.2f}" + (" (val)" if figure.measured_on != "test" else "")


def seed_figure_notes(rows: list[Row]) -> str | None:
    """Where each shown seed figure comes from and how its protocol differed."""
    notes = [f"- `{row.name}`: {row.seed_figure.source}, "
             f"{row.seed_figure.measured_on} accuracy; {row.seed_figure.protocol}."
             for row in rows if row.seed_figure is not None]
    if not notes:
        return None
    return "\n".join(["*Seed reported* is the seed document's own accuracy for the system the "
                      "row reproduces (– where none does; the seed recipe's runs only), on the "
                      "document's protocol, which differs from this table's:", "", *notes])


def per_class_scores_table(rows: list[Row], class_names: list[str]) -> str:
    """Per-class precision, recall and F1 (%) of the given rows, each averaged over the
    row's seeds: a column group per row, a line per class, as the seeds' classification
    reports have them."""
    headers, table = ["class"], [[name] for name in class_names]
    for row in rows:
        scores = [with_per_class_scores(run["metrics"]["test"]) for run in row.runs]
        for key, short in zip(PER_CLASS_SCORES, ("P", "R", "F1"), strict=True):
            headers.append(f"{row.name} {short}")
            for index, line in enumerate(table):
                values = [part[key][index] for part in scores if part and key in part]
                line.append(number(statistics.fmean(values) * 100 if values else None, 1))
    return markdown_table(table, headers, ["left"] + ["right"] * (len(headers) - 1))


def per_class_table(rows: list[Row], class_names: list[str]) -> str:
    table = [[row.name] + [number(None if value is None else value * 100, 1)
                           for value in row.per_class] for row in rows]
    headers = ["pipeline", *class_names]
    return markdown_table(table, headers, ["left"] + ["right"] * len(class_names))


RECIPE_NOTES = (
    "A deep pipeline's bare name is its network trained with the `seed` recipe (seed 000's "
    "protocol); `NAME@RECIPE` is the same network trained with another recipe "
    "(`python run_all.py --list` describes them). *Gain* is the recipe's test accuracy minus "
    "the `seed` recipe's, in points, and *fit ×* its fit time over the `seed` recipe's.")


def recipe_gain_table(rows: list[Row]) -> str | None:
    """Each network that ran under more than the seed recipe: one line per recipe."""
    from pipelines.recipes import DEFAULT_RECIPE, split_name

    by_network: dict[str, dict[str, Row]] = defaultdict(dict)
    for row in rows:
        if row.family == "deep":
            network, recipe = split_name(row.name)
            by_network[network][recipe or DEFAULT_RECIPE] = row
    table = []
    for network, recipes in sorted(by_network.items()):
        if set(recipes) == {DEFAULT_RECIPE}:
            continue
        baseline = recipes.get(DEFAULT_RECIPE)
        for recipe in sorted(recipes, key=lambda name: (name != DEFAULT_RECIPE, name)):
            row = recipes[recipe]
            gain = ratio = "–"
            if baseline is not None and row is not baseline:
                gain = f"{(row.mean_accuracy - baseline.mean_accuracy) * 100:+.2f}"
                ratio = f"{row.fit_seconds / baseline.fit_seconds:.2f}"
            table.append([network, recipe, percent(row.accuracy),
                          number(row.fit_seconds), gain, ratio, row.hardware])
    if not table:
        return None
    return markdown_table(table, ["network", "recipe", "test acc %", "fit s", "gain (points)",
                             "fit ×", "hardware"],
                     ["left", "left", "right", "right", "right", "right", "left"])


ACCURACY_TARGETS = (0.90, 0.92, 0.934, 0.95)
TIME_TO_ACCURACY_NOTES = (
    "For each deep run, the training seconds (epochs' training steps, without the validation "
    "passes) until its validation accuracy first reached each target, from the epoch history "
    "of its record (– where it never did), and the test accuracy of the model it ended with. "
    "93.4% is seed 000's MCNN.")


def seconds_to_reach(history: list[dict], target: float) -> float | None:
    """Training seconds until the validation accuracy first reached ``target``."""
    elapsed = 0.0
    for epoch in history:
        elapsed += epoch.get("train_seconds") or epoch.get("seconds") or 0.0
        if (epoch.get("val_accuracy") or 0.0) >= target:
            return elapsed
    return None


def time_to_accuracy_table(rows: list[Row]) -> str | None:
    table = []
    for row in rows:
        run = row.runs[0]
        history = run.get("history")
        if row.family != "deep" or not history:
            continue
        table.append([row.name, run["seed"]]
                     + [number(seconds_to_reach(history, target))
                        for target in ACCURACY_TARGETS]
                     + [len(history), percent([run["metrics"]["test"]["accuracy"]]),
                        row.hardware])
    if not table:
        return None
    headers = (["pipeline", "seed"] + [f"s to {target:.1%} val" for target in ACCURACY_TARGETS]
               + ["epochs", "final test acc %", "hardware"])
    return markdown_table(table, headers, ["left"] + ["right"] * (len(headers) - 2) + ["left"])


REDUCER_ORDER = ("raw", "pca", "fld", "hog")


def reducer_matrix(rows: list[Row]) -> str | None:
    """Test accuracy of each classifier (rows) with each reducer (columns), from pipelines
    named ``<reducer>-<classifier>``; None when fewer than two reducers are present."""
    cells: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows:
        reducer, _, classifier = row.name.partition("-")
        if row.family == "classical" and reducer == row.reducer and classifier:
            cells[classifier][reducer] = percent(row.accuracy)
    reducers = [r for r in REDUCER_ORDER if any(r in found for found in cells.values())]
    if len(reducers) < 2:
        return None
    best = {classifier: max(float(cell.split()[0]) for cell in found.values())
            for classifier, found in cells.items()}  # ties are all bold
    table = [[classifier] + [(f"**{found[r]}**" if float(found[r].split()[0])
                              == best[classifier] else found[r])
                             if r in found else "–" for r in reducers]
             for classifier, found in sorted(cells.items())]
    return markdown_table(table, ["classifier", *reducers], ["left"] + ["right"] * len(reducers))


def failures_table(records: list[Record]) -> str:
    table = [[record["name"], record["seed"], record["status"],
              cell(record.get("error") or "")]
             for record in sorted(records, key=lambda record: (record["name"], record["seed"]))]
    return markdown_table(table, ["pipeline", "seed", "status", "error"])


TABLE_NOTES = (
    "Test accuracy is the mean over seeds (± standard deviation when there are several). "
    "The 95% CI is a percentile bootstrap over the test images ({resamples:,} resamples) and "
    "*p vs leader* is McNemar's exact test against the first row on the same test images, both "
    "for the lowest seed every pipeline ran; ≈ marks a pipeline not distinguishable from the "
    "leader at the 5% level. ★ marks the Pareto frontier of accuracy against fit time: no "
    "other pipeline is both faster to fit and more accurate."
)


def cell(text: str, limit: int = 200) -> str:
    """Free text cut to fit one cell of a pipe table (markdown_table escapes it)."""
    return text[:limit]


def selection_table(rows: list[Row]) -> str | None:
    table = []
    for row in rows:
        model = row.runs[-1].get("model") or {}
        how = model.get("hyperparameter_selection") or model.get("notes")
        if how:
            table.append([row.name, str(how)])
    return markdown_table(table, ["pipeline", "settings and how they were chosen"],
                     ["left", "left"]) if table else None

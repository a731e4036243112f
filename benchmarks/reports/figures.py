"""Figures for a leaderboard, drawn with matplotlib from the rows and records, without
pyplot (a ``Figure`` of its own each: importing this module changes no backend).

Every figure is a pure function of the stored records (the misclassified grid also reads the
test images), saved without a timestamp, so ``--report-only`` redraws identical files.
``draw_*`` return the figure itself (the Python API's); the others save it and close it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.ticker
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from ..records.atomic import write_bytes
from .canvas import ShownFigure, png_bytes, text_as_written
from .labels import place_labels

if TYPE_CHECKING:
    from .rows import Row

FAMILY_COLOURS = {"classical": "#1f77b4", "deep": "#d62728"}
SOURCE_KEY = "Source"  # PNG text: the run a figure drawn from more than the records shows


def _subplots(*grid, figsize: tuple[float, float], **options):
    """A figure and its axes, as pyplot.subplots gives them, without pyplot: no backend is
    chosen and no figure is registered, so a notebook's own plots are left as they were
    and a figure returned to Jupyter is shown once (by its own repr)."""
    figure = ShownFigure(figsize=figsize)
    FigureCanvasAgg(figure)  # its own Agg canvas: text extents are measured to place labels
    return figure, figure.subplots(*grid, **options)


def _save(figure, path: Path, source: str | None = None) -> Path:  # source None: not written
    return write_bytes(path, png_bytes(figure, {SOURCE_KEY: source}))


def drawn_from(path: Path) -> str | None:
    """The run a saved figure says it shows (``source`` when it was saved), if any."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return image.info.get(SOURCE_KEY)
    except (OSError, SyntaxError):  # missing, or not a readable PNG
        return None


FAMILY_MARKERS = {"classical": "o", "deep": "^"}  # shape as well as colour
# fit-time ticks a person reads at a glance, in seconds
HUMAN_TIMES = (0.001, 0.01, 0.1, 1, 10, 60, 600, 3600, 6 * 3600, 86400)


def human_duration(seconds: float, _position=None) -> str:
    """1 ms, 10 s, 10 min, 6 h: the unit that reads best for a tick."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1), ("ms", 1e-3)):
        if seconds >= size or unit == "ms":
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def accuracy_vs_fit_time(rows: list[Row], path: Path, title: str) -> Path:
    return _save(draw_accuracy_vs_fit_time(rows, title), path)


@text_as_written
def draw_accuracy_vs_fit_time(rows: list[Row], title: str):
    """Every pipeline a point (fit time on a log axis in human units, test accuracy), the
    Pareto frontier drawn; labelled: the frontier and each family's best, without overlaps."""
    figure, axes = _subplots(figsize=(8, 5.5))
    seconds = {row.name: max(row.fit_seconds, 1e-3) for row in rows}
    for family, colour in FAMILY_COLOURS.items():
        members = [row for row in rows if row.family == family]
        if members:
            axes.scatter([seconds[row.name] for row in members],
                         [row.mean_accuracy * 100 for row in members], color=colour,
                         marker=FAMILY_MARKERS[family], label=family, s=36, zorder=3,
                         edgecolors="white", linewidths=0.5)
    frontier = sorted((row for row in rows if row.pareto), key=lambda row: row.fit_seconds)
    if frontier:
        axes.step([seconds[row.name] for row in frontier],
                  [row.mean_accuracy * 100 for row in frontier], where="post",
                  color="black", linewidth=1, linestyle="--", label="Pareto frontier", zorder=2)
    axes.set_xscale("log")
    axes.margins(x=0.15, y=0.12)
    low, high = axes.get_xlim()
    axes.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(
        [tick for tick in HUMAN_TIMES if low <= tick <= high]))
    axes.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(human_duration))
    axes.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_xlabel("fit time (log scale)")
    axes.set_ylabel("test accuracy (%)")
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.3)
    # matplotlib's "best": the corner that hides the fewest points (a fixed lower right hid
    # the quick profile's 52% vgg16)
    axes.legend(loc="best")
    leaders = [next(row for row in rows if row.family == family)
               for family in FAMILY_COLOURS if any(row.family == family for row in rows)]
    labelled = {row.name: row for row in leaders + frontier}  # each once, in order
    place_labels(figure, axes, [(name, seconds[name], row.mean_accuracy * 100)
                                for name, row in labelled.items()],
                 markers=[(seconds[row.name], row.mean_accuracy * 100)
                          for row in rows])
    return figure


def confusion_heatmap(confusion: list[list[int]], class_names: list[str], path: Path,
                      title: str) -> Path:
    return _save(draw_confusion_heatmap(confusion, class_names, title), path)


@text_as_written
def draw_confusion_heatmap(confusion: list[list[int]], class_names: list[str], title: str):
    matrix = np.asarray(confusion)
    figure, axes = _subplots(figsize=(7.5, 6.5))
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046)
    ticks = np.arange(len(class_names))
    axes.set_xticks(ticks, class_names, rotation=45, ha="right", fontsize=8)
    axes.set_yticks(ticks, class_names, fontsize=8)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, column), value in np.ndenumerate(matrix):
        axes.text(column, row, str(value), ha="center", va="center", fontsize=7,
                  color="white" if value > threshold else "black")
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    return figure


def per_class_bars(rows: list[Row], class_names: list[str], path: Path, title: str) -> Path:
    return _save(draw_per_class_bars(rows, class_names, title), path)


@text_as_written
def draw_per_class_bars(rows: list[Row], class_names: list[str], title: str):
    figure, axes = _subplots(figsize=(10, 4.5))
    width = 0.8 / max(len(rows), 1)
    positions = np.arange(len(class_names))
    for index, row in enumerate(rows):
        values = [np.nan if value is None else value * 100 for value in row.per_class]
        axes.bar(positions + (index - (len(rows) - 1) / 2) * width, values, width,
                 label=f"{row.name} ({row.family})")
    axes.set_xticks(positions, class_names, rotation=30, ha="right")
    axes.set_ylabel("test accuracy (%)")
    axes.set_ylim(0, 100)  # bars from zero: their lengths compare as the accuracies do
    axes.set_title(title, pad=24)  # room for the legend between title and plot
    # above the plot, not over the bars (the tall classes reach 100%)
    axes.legend(fontsize=8, ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                frameon=False)
    axes.grid(True, axis="y", alpha=0.3)
    return figure


def training_curves(history: list[dict], path: Path, title: str, *,
                    held_out: bool = True) -> Path:
    return _save(draw_training_curves(history, title, held_out=held_out), path)


LOSS_AXIS_TOP = 2.5  # cross-entropy of ten classes starts near ln 10 = 2.3


@text_as_written
def draw_training_curves(history: list[dict], title: str, *, held_out: bool = True):
    """Train and validation curves by epoch. A refit (``held_out=False``) trained on its
    validation images too: its curve on them is named so, never read as a hold-out score."""
    epochs = np.arange(1, len(history) + 1)
    figure, (accuracy_axes, loss_axes) = _subplots(1, 2, figsize=(10, 4))
    validation = "validation" if held_out else "validation images (trained on)"
    for key, label in (("accuracy", "train"), ("val_accuracy", validation)):
        values = [epoch.get(key) for epoch in history]
        if any(value is not None for value in values):
            accuracy_axes.plot(epochs, [np.nan if v is None else v * 100 for v in values],
                               marker=".", label=label)
    for key, label in (("loss", "train"), ("val_loss", validation)):
        values = [epoch.get(key) for epoch in history]
        if any(value is not None for value in values):
            loss_axes.plot(epochs, [np.nan if v is None else v for v in values], marker=".",
                           label=label)
    accuracy_axes.set_ylabel("accuracy (%)")
    loss_axes.set_ylabel("loss")
    # the same scales for every network, so two networks' curves compare at a glance (a
    # scale fitted to each made a label-smoothed loss, which cannot reach 0, look worse)
    lowest = min((e.get(k) for e in history for k in ("accuracy", "val_accuracy")
                  if e.get(k) is not None), default=1.0)
    accuracy_axes.set_ylim(50 if lowest >= 0.5 else 0, 100)
    highest = max((e.get(k) for e in history for k in ("loss", "val_loss")
                   if e.get(k) is not None), default=0.0)
    loss_axes.set_ylim(0, max(LOSS_AXIS_TOP, float(np.ceil(highest))))
    for axes in (accuracy_axes, loss_axes):
        # whole epochs only: a 2-epoch run (the quick vgg16) had ticks at 1.2, 1.4 ...
        axes.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        axes.set_xlabel("epoch")
        axes.grid(True, alpha=0.3)
        axes.legend()
    figure.suptitle(title)
    return figure


@text_as_written
def misclassified_grid(images: np.ndarray, true: np.ndarray, predicted: np.ndarray,
                       class_names: list[str], path: Path, title: str,
                       count: int = 32, source: str | None = None) -> Path:
    """The first ``count`` misclassified test images in test order, true -> predicted;
    ``source`` (the run's id) is saved in the PNG, so a report that cannot redraw the grid
    (no test images at hand) knows whether the file on disk still shows its best run."""
    wrong = np.flatnonzero(true != predicted)[:count]
    columns = 8
    rows = max(1, int(np.ceil(len(wrong) / columns)))
    figure, axes_grid = _subplots(rows, columns, figsize=(columns * 1.4, rows * 1.6))
    for axes in np.atleast_1d(axes_grid).ravel():
        axes.axis("off")
    for axes, index in zip(np.atleast_1d(axes_grid).ravel(), wrong, strict=False):
        axes.imshow(images[index], cmap="gray_r", vmin=0, vmax=255)
        axes.set_title(f"{class_names[true[index]]}\n→ {class_names[predicted[index]]}",
                       fontsize=7)
    figure.suptitle(title)
    return _save(figure, path, source=source)


def _numeric(text: object) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


@text_as_written
def _study_dots(plot_rows: list[dict], values: list, variable: str, title: str,
                path: Path) -> Path:
    """A study of named variants (an ablation): a dot per variant (a Cleveland dot plot: the
    axis need not start at zero, as a bar's would), its accuracy written beside it, the long
    names on the vertical axis where they stay readable; the series in colour."""
    # a variant without a result yet (one not run in this profile) gets no empty row: the
    # study's table lists it, the figure says how many there are
    answered = {row["value"] for row in plot_rows if row["row"]}
    missing = sum(value not in answered for value in values)
    values = [value for value in values if value in answered] or values
    series_names = list(dict.fromkeys(row["series"] for row in plot_rows))
    figure, axes = _subplots(figsize=(8, 1.4 + 0.34 * len(values)))
    scores = []
    for colour, series in enumerate(series_names):
        points = [(row["row"].mean_accuracy * 100, values.index(row["value"]))
                  for row in plot_rows if row["series"] == series and row["row"]]
        if points:
            axes.scatter(*zip(*points, strict=True), color=f"C{colour}", s=40, zorder=3,
                         label=f"{series} (ours)")
            scores += [x for x, _ in points]
            for x, y in points:
                axes.annotate(f"{x:.2f}", (x, y), xytext=(6, 0), textcoords="offset points",
                              va="center", fontsize=8)
    axes.set_yticks(range(len(values)), [str(value) if value in answered
                                         else f"{value} (no result yet)" for value in values],
                    fontsize=9)
    axes.set_ylim(len(values) - 0.5, -0.5)  # the first variant (the reference) on top
    if scores:
        axes.set_xlim(min(scores) - 1, max(scores) + 1.5)
    axes.set_xlabel("test accuracy (%)" + (f"\n{missing} more variant(s) without a result in "
                                           "this profile yet: see the study's table"
                                           if missing and answered else ""))
    axes.set_ylabel(variable)
    axes.set_title(title, fontsize=10, pad=18)  # room for the legend under the title
    axes.grid(True, alpha=0.3)
    # between the title and the plot, as per_class_bars has it: over the plot it can cover a
    # variant's dot, under it it met the axis label of a short (few-variant) figure
    axes.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
                frameon=False)
    return _save(figure, path)


@text_as_written
def study_plot(plot_rows: list[dict], variable: str, title: str, path: Path) -> Path:
    """Our test accuracy per study value (a line per series), the seed's figures as crosses;
    named variants (not numbers) as a dot plot with the names down the side. ``plot_rows``
    are ``studies.study_markdown``'s: dicts of a ``value``, its ``series``, the seed's figure
    (``seed``) and the variant's leaderboard ``Row`` (``row``, None without a result)."""
    values = list(dict.fromkeys(row["value"] for row in plot_rows))
    if not all(_numeric(value) for value in values) and not any(
            row["seed"] is not None for row in plot_rows):
        return _study_dots(plot_rows, values, variable, title, path)
    positions = {value: index for index, value in enumerate(values)}
    figure, axes = _subplots(figsize=(8, 4.5))
    for series in dict.fromkeys(row["series"] for row in plot_rows):
        points = [(positions[row["value"]], row["row"].mean_accuracy * 100)
                  for row in plot_rows if row["series"] == series and row["row"]]
        if points:
            axes.plot(*zip(*points, strict=True), marker="o", label=f"{series} (ours)")
    seed_points = [(positions[row["value"]], row["seed"]) for row in plot_rows
                   if row["seed"] is not None]
    if seed_points:
        axes.scatter(*zip(*dict(seed_points).items(), strict=True), marker="x", color="black",
                     s=60, label="seed's figure", zorder=3)
    axes.set_xticks(range(len(values)), values)
    axes.set_xlabel(variable)
    axes.set_ylabel("test accuracy (%)")
    axes.set_title(title, fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8)
    return _save(figure, path)


@text_as_written
def validation_curves(histories: dict[str, list[dict]], path: Path, title: str) -> Path:
    """Validation accuracy per epoch, a line per variant; the legend beside the plot (not on
    the lines) and a new line style after every ten colours, so no two lines look alike."""
    figure, axes = _subplots(figsize=(10.5, 4.5))
    for index, (label, history) in enumerate(histories.items()):
        values = [np.nan if epoch.get("val_accuracy") is None else epoch["val_accuracy"] * 100
                  for epoch in history]
        axes.plot(np.arange(1, len(values) + 1), values, marker=".", label=label,
                  color=f"C{index % 10}", linestyle=("-", "--", ":")[index // 10 % 3])
    axes.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation accuracy (%)")
    axes.set_title(title, fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return _save(figure, path)


@text_as_written
def search_plot(plot: dict, title: str, path: Path) -> Path:
    """A search study: validation accuracy of every trial (best in a darker colour), and
    against the learning rate, with the seed's best trials as crosses."""
    figure, (by_trial, by_rate) = _subplots(1, 2, figsize=(11, 4.2))
    trials = plot["trials"]
    if trials:
        numbers = [number for number, _, _ in trials]
        scores = [score * 100 for _, score, _ in trials]
        best = max(range(len(scores)), key=lambda index: (scores[index], -numbers[index]))
        colours = ["tab:blue"] * len(scores)
        colours[best] = "tab:red"
        by_trial.bar([str(number) for number in numbers], scores, color=colours)
        low = min(scores + [s * 100 for s in plot["seed_scores"]])
        by_trial.set_ylim(max(0.0, low - 5), 100)
        rated = [(rate, score * 100) for _, score, rate in trials if rate is not None]
        if rated:
            by_rate.scatter(*zip(*rated, strict=True), label="our trials")
    for score in plot["seed_scores"]:
        by_trial.axhline(score * 100, color="black", linewidth=0.6, linestyle=":")
    seed_points = [(rate, score * 100) for rate, score in
                   zip(plot.get("seed_rates", []), plot["seed_scores"], strict=False)]
    if seed_points:
        by_rate.scatter(*zip(*seed_points, strict=True), marker="x", color="black", s=60,
                        label="seed's best trials")
    by_trial.set_xlabel("trial (dotted: the seed's best five)")
    by_trial.set_ylabel("validation accuracy (%)")
    by_rate.set_xscale("log")
    by_rate.xaxis.set_major_formatter(  # plain numbers: the log default's are TeX (canvas.py)
        matplotlib.ticker.FuncFormatter(lambda rate, _: f"{rate:g}"))
    by_rate.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    by_rate.set_xlabel("Adam learning rate")
    by_rate.set_ylabel("validation accuracy (%)")
    if by_rate.get_legend_handles_labels()[0]:
        by_rate.legend(fontsize=8)
    else:
        by_rate.text(0.5, 0.5, "no learning rate in this search", ha="center",
                     transform=by_rate.transAxes)
    for axes in (by_trial, by_rate):
        axes.grid(True, alpha=0.3)
    figure.suptitle(title, fontsize=10)
    return _save(figure, path)

"""Beyond clean accuracy: how each pipeline holds up under corrupted images and how far its
probabilities can be believed, for classical and deep side by side.

The tables (markdown and the HTML page's sortable one) and the figures read rows only
(rows.py: ``corrupted_accuracy``, ``relative_robustness``, ``ece``, ...). A row whose records
were made before the corruption suite, or without probabilities, is listed as lacking them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..records.atomic import write_bytes
from .canvas import png_bytes, text_as_written
from .figures import FAMILY_COLOURS, FAMILY_MARKERS
from .labels import place_labels
from .tables import markdown_table, markdown_text, number

if TYPE_CHECKING:
    from .rows import Row


def best_of_each_family(rows: list[Row]) -> list[Row]:
    """The first (best-ranked) row of each family among ``rows``, families in a fixed order."""
    return [next(row for row in rows if row.family == family)
            for family in FAMILY_COLOURS if any(row.family == family for row in rows)]

# the table's headers: short, so 14 corruption columns stay readable
SHORT = {"gaussian_noise": "gauss", "shot_noise": "shot", "impulse_noise": "impulse",
         "gaussian_blur": "blur", "motion_blur": "motion", "rotate": "rotate",
         "shear": "shear", "scale": "scale", "translate": "shift", "brightness": "bright",
         "contrast": "contrast", "invert": "invert", "flip_horizontal": "flip-h",
         "flip_vertical": "flip-v"}

ROBUSTNESS_NOTES = (
    "Each pipeline predicts corrupted copies of a fixed stratified subset of its test "
    "images, one fixed severity per corruption, after MNIST-C (Mu and Gilmer, 2019) and "
    "Fashion-MNIST-C (Weiss and Tonella, 2022); nothing is retrained. `clean` is the "
    "accuracy on the same subset uncorrupted, `mean` the mean over the corruptions, "
    "`relative` = mean / clean. Sorted by `mean`.")
CALIBRATION_NOTES = (
    "On the clean test set, from the pipeline's own probabilities: expected calibration "
    "error (ECE, 15 equal-width confidence bins; 0 is perfect), the multiclass Brier score "
    "(0 to 2) and log-loss (lower is better), and the accuracy of its most confident 90% "
    "(what abstaining on the least sure 10% buys). Sorted by ECE.")


def percent_cell(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}"


def robust_rows(rows: list[Row]) -> list[Row]:
    return sorted((row for row in rows if row.corrupted_accuracy),
                  key=lambda row: (-row.mean_corrupted_accuracy, row.name))


def calibrated_rows(rows: list[Row]) -> list[Row]:
    return sorted((row for row in rows if row.ece is not None),
                  key=lambda row: (row.ece, row.name))


def lacking(rows: list[Row], shown: list[Row], what: str) -> list[str]:
    names = [row.name for row in rows if row not in shown]
    if not names:
        return []
    return [f"Without {what} ({len(names)}): "
            + ", ".join(f"`{markdown_text(name)}`" for name in names)
            + ": their records were made before it was measured, or the pipeline gives no "
              "probabilities; `run_all.py --evaluate robustness --evaluate calibration` adds "
              "it where the run kept the model, a rerun everywhere else.", ""]


def robustness_markdown(rows: list[Row]) -> list[str]:
    """The leaderboard's robustness section (nothing when no row was scored on the suite)."""
    shown = robust_rows(rows)
    if not shown:
        return []
    names = list(shown[0].corrupted_accuracy)
    table = [[f"`{row.name}`", row.family, percent_cell(row.clean_subset_accuracy),
              percent_cell(row.mean_corrupted_accuracy), number(row.relative_robustness, 3)]
             + [percent_cell(row.corrupted_accuracy.get(name)) for name in names]
             for row in shown]
    headers = ["pipeline", "family", "clean", "mean", "relative"] \
        + [SHORT.get(name, name) for name in names]
    return ["### Robustness: test accuracy (%) under corruption", "", ROBUSTNESS_NOTES, "",
            markdown_table(table, headers, ["left", "left"] + ["right"] * (len(headers) - 2)),
            "", *family_summary(shown), *lacking(rows, shown, "robustness")]


def family_summary(shown: list[Row]) -> list[str]:
    """One sentence per family: its median relative robustness, so the families compare."""
    parts = []
    for family in FAMILY_COLOURS:
        values = [row.relative_robustness for row in shown
                  if row.family == family and row.relative_robustness is not None]
        if values:
            parts.append(f"{family} pipelines keep a median {np.median(values) * 100:.1f}% "
                         f"of their clean accuracy under corruption ({len(values)} rows)")
    return ["; ".join(parts).capitalize() + ".", ""] if parts else []


def calibration_markdown(rows: list[Row]) -> list[str]:
    shown = calibrated_rows(rows)
    if not shown:
        return []
    table = [[f"`{row.name}`", row.family, percent_cell(row.mean_accuracy),
              number(row.ece, 4), number(row.brier, 4), number(row.log_loss, 4),
              percent_cell(row.selective_accuracy)] for row in shown]
    headers = ["pipeline", "family", "test acc %", "ECE", "Brier", "log-loss",
               "acc % of most confident 90%"]
    return ["### Calibration", "", CALIBRATION_NOTES, "",
            markdown_table(table, headers, ["left", "left"] + ["right"] * 5), "",
            *lacking(rows, shown, "calibration")]


def save_png(figure: Figure, path: Path) -> Path:
    return write_bytes(path, png_bytes(figure))


@text_as_written
def draw_corrupted_vs_clean(rows: list[Row], title: str) -> Figure | None:
    """Every scored pipeline a point: clean accuracy on the suite's images against its mean
    corrupted accuracy; the diagonal is 'loses nothing'."""
    shown = robust_rows(rows)
    if not shown:
        return None
    figure = Figure(figsize=(6.5, 6), layout="constrained")
    FigureCanvasAgg(figure)  # text extents are measured to place the labels
    axes = figure.subplots()
    for family, colour in FAMILY_COLOURS.items():
        members = [row for row in shown if row.family == family]
        if members:
            axes.scatter([row.clean_subset_accuracy * 100 for row in members],
                         [row.mean_corrupted_accuracy * 100 for row in members], color=colour,
                         marker=FAMILY_MARKERS[family], label=family, s=36, zorder=3)
    axes.plot([0, 100], [0, 100], "--", color="grey", linewidth=1,
              label="no loss under corruption")
    low = min(min(row.mean_corrupted_accuracy, row.clean_subset_accuracy) for row in shown)
    axes.set(xlim=(low * 100 - 5, 100), ylim=(low * 100 - 5, 100), aspect="equal",
             xlabel="clean accuracy on the suite's images (%)",
             ylabel="mean accuracy under corruption (%)", title=title)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left")  # above the diagonal: where no pipeline lies
    figure.draw_without_rendering()  # the layout settled first: the labels measure inside it
    point = {row.name: (row.clean_subset_accuracy * 100, row.mean_corrupted_accuracy * 100)
             for row in shown}
    labelled = dict.fromkeys(row.name for row in [shown[0], *best_of_each_family(shown)])
    place_labels(figure, axes, [(name, *point[name]) for name in labelled],
                 markers=list(point.values()))
    return figure


PANEL_NAME_CHARACTERS = 26  # what a reliability panel's title holds at 10 points


def panel_name(name: str, width: int = PANEL_NAME_CHARACTERS) -> str:
    """A pipeline's name in lines of at most ``width`` characters, broken before its marks
    (``[bfloat16][refit]``) and then at hyphens: a long name would run into the next
    panel's title."""
    if len(name) <= width:
        return name
    head, mark, marks = name.partition("[")
    lines = textwrap.wrap(head, width, break_on_hyphens=True)
    return "\n".join(lines + textwrap.wrap(mark + marks, width))


@text_as_written
def draw_reliability(rows: list[Row]) -> Figure | None:
    """Reliability diagrams of the most accurate pipeline that has them and of each family's
    best calibrated: accuracy per confidence bin against the diagonal (perfect calibration)."""
    with_bins = [row for row in rows if row.reliability]  # rows: best accuracy first
    chosen = with_bins[:1] + [row for row in best_of_each_family(calibrated_rows(rows))
                              if row.reliability]
    chosen = list({row.name: row for row in chosen}.values())
    if not chosen:
        return None
    figure = Figure(figsize=(3.4 * len(chosen), 3.6), layout="constrained")
    axes = figure.subplots(1, len(chosen), squeeze=False, sharey=True)[0]
    for ax, row in zip(axes, chosen, strict=True):
        bins = row.reliability
        width = 1 / len(bins["count"])
        centres = (np.arange(len(bins["count"])) + 0.5) * width
        accuracy = [value or 0.0 for value in bins["accuracy"]]
        ax.bar(centres, accuracy, width=width, edgecolor="black", linewidth=0.5,
               color=FAMILY_COLOURS.get(row.family, "grey"), label="accuracy")
        ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", aspect="equal")
        ax.set_title(f"{panel_name(row.name)}\nECE {row.ece:.3f}", fontsize=10)
    axes[0].set_ylabel("accuracy")
    # below the panels: inside one, it can hide a bar (an SVM's sparse bins reach any corner)
    figure.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2,
                  fontsize=8)
    return figure


@text_as_written
def draw_figures(rows: list[Row], figures_dir: Path, prefix: str,
                 title: str) -> list[tuple[str, Path]]:
    """The section's figures for one split, as (caption, path) of each drawn."""
    drawn = []
    scatter = draw_corrupted_vs_clean(rows, title)
    if scatter is not None:
        drawn.append(("Accuracy under corruption against clean accuracy (the diagonal: "
                      "nothing lost)", save_png(scatter, figures_dir /
                                             f"{prefix}-robustness.png")))
    diagrams = draw_reliability(rows)
    if diagrams is not None:
        drawn.append(("Reliability diagrams of the most accurate pipeline with probabilities "
                      "and of each family's best calibrated",
                      save_png(diagrams, figures_dir / f"{prefix}-reliability.png")))
    return drawn

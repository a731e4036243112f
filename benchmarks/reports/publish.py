"""Publishing: the leaderboards (markdown and HTML), the results index, the study reports and
README.md's excerpt written to disk, with the figures drawn beside them (and a stale one
removed). Every file is replaced whole (records/atomic.py): a full disk leaves the previous
page or figure as it was. One report at a time per results directory (a lock file in it), so
one never removes a figure another is embedding.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from pipelines.profiles import PROFILES

from ..records.atomic import TEMPORARY_SUFFIX, folder_lock, write_text
from ..records.layout import PROJECT_ROOT, ResultsLayout, run_figure
from ..records.record import Record, stored_labels
from ..records.store import find_stores, find_study_stores
from .html import SplitFigures, leaderboard_html
from .leaderboard import index_markdown, leaderboard_markdown
from .readme import (
    ANSWER_END,
    ANSWER_START,
    EXCERPT_END,
    EXCERPT_START,
    answer_markdown,
    excerpt_markdown,
)
from .rows import Row, family_leaders
from .studies import write_study_reports

PER_CLASS_TITLE = "Per-class test accuracy, family leaders"
REPORT_LOCK_NAME = ".report.lock"  # held by the report writing into a results directory

ImagesLoader = Callable[[Record], "np.ndarray | None"]


def draw_leaderboard_figures(rows: list[Row], class_names: list[str], figures_dir: Path,
                             prefix: str, title: str,
                             test_images: ImagesLoader | None) -> list[tuple[str, Path]]:
    """Draw the split's figures; returns (caption, path) for each file that exists."""
    from . import figures, robustness

    drawn = [("Test accuracy against fit time (labelled: the Pareto frontier and each "
              "family's best; every pipeline is in the tables above)",
              figures.accuracy_vs_fit_time(
        rows, figures_dir / f"{prefix}-accuracy-vs-fit-time.png", title))]
    for leader in family_leaders(rows, 1):
        run = leader.runs[0]
        drawn.append((f"Confusion matrix of the best {leader.family} pipeline, "
                      f"{leader.name}", figures.confusion_heatmap(
                          run["metrics"]["test"]["confusion"], class_names,
                          run_figure(figures_dir, prefix, "confusion", leader.name),
                          f"{leader.name} (seed {run['seed']}), test set")))
    drawn += robustness.draw_figures(rows, figures_dir, prefix, title)
    drawn.append(("Per-class test accuracy of the leaders of each family",
                  figures.per_class_bars(family_leaders(rows, 2), class_names,
                                         figures_dir / f"{prefix}-per-class.png",
                                         PER_CLASS_TITLE)))
    for row in rows:
        history = row.runs[0].get("history")
        if row.family == "deep" and history:
            drawn.append((f"Training curves of {row.name}", figures.training_curves(
                history, run_figure(figures_dir, prefix, "curves", row.name),
                f"{row.name} (seed {row.runs[0]['seed']})",
                held_out=not row.runs[0].get("refit"))))
    best_run = rows[0].runs[0]
    grid = run_figure(figures_dir, prefix, "misclassified", rows[0].name)
    images = test_images(best_run) if test_images else None
    labels = stored_labels(best_run.get("predictions"))
    if images is not None and labels is not None:
        figures.misclassified_grid(images, *labels, class_names, grid,
                                   f"Misclassified test images, {rows[0].name} "
                                   f"(true → predicted)", source=best_run["run_id"])
    elif grid.exists() and figures.drawn_from(grid) != best_run["run_id"]:
        # drawn from an earlier run (or by an older version that did not say): without the
        # test images it cannot be redrawn, and a stale grid must not stand for this run
        grid.unlink()
    if grid.exists():
        drawn.append((f"Misclassified test images of the best pipeline, {rows[0].name}",
                      grid))
    return drawn


def dataset_test_images(data_dir: Path | None = None) -> ImagesLoader:
    """A loader of the test images a record was scored on, when the dataset is at hand.

    It never downloads; a missing dataset, another split fingerprint or other labels give None.
    """
    from ..data.datasets import load_dataset
    from ..data.splits import make_split, subsample
    from ..errors import FashionbenchError

    cache: dict[tuple, tuple | None] = {}

    def load(run: dict) -> np.ndarray | None:
        key = (run["dataset"], run["split"]["name"])
        if key not in cache:
            try:
                dataset = load_dataset(run["dataset"], data_dir, download=False)
                cache[key] = (dataset, make_split(run["split"]["name"], dataset))
            except FashionbenchError:
                cache[key] = None
        if cache[key] is None:
            return None
        dataset, split = cache[key]
        profile = PROFILES.get(run["profile"])
        if split.fingerprint != run["split"]["fingerprint"] or profile is None:
            return None
        indices = subsample(split.test, dataset.labels, profile.test_size, run["seed"])
        stored = stored_labels(run.get("predictions"))
        if stored is None or not np.array_equal(dataset.labels[indices], stored[0]):
            return None
        return dataset.images[indices]

    return load


def write_reports(results_dir: Path | str, *, data_dir: Path | None = None,
                  stores: list[Path] | None = None) -> list[Path]:
    """Regenerate every leaderboard (markdown and HTML, with figures) under ``results_dir``,
    or those of the ``stores`` given (their ``runs.jsonl`` paths), and the index.

    Returns the paths written.
    """
    layout = ResultsLayout(results_dir)
    every_store = chosen = find_stores(layout.root)
    if stores is not None:
        chosen = [store for store in every_store if _one_of(store.path, stores)]
    written = []
    test_images = dataset_test_images(data_dir)
    for store in chosen:
        drawn: list[Path] = []
        by_split: dict[str, SplitFigures] = {}  # what the markdown drew, for the HTML too

        def draw(rows, class_names, prefix, title, figures_dir=store.location.figures,
                 drawn=drawn, by_split=by_split):
            figures = draw_leaderboard_figures(rows, class_names, figures_dir, prefix, title,
                                               test_images)
            drawn += [path for _, path in figures]
            curves = {row.name: run_figure(figures_dir, prefix, "curves", row.name)
                      for row in rows}
            curves = {name: path for name, path in curves.items() if path in drawn}
            by_split[rows[0].runs[0]["split"]["fingerprint"]] = SplitFigures(
                shown=[(caption, path) for caption, path in figures
                       if path not in curves.values()],  # those are in the detail views
                curves=curves)
            return figures

        path = store.location.leaderboard
        write_text(path, leaderboard_markdown(store, draw_figures=draw))
        written.append(path)
        # drawn above, once: the HTML embeds the same files (and lives outside figures/,
        # so remove_stale_figures never touches it)
        html_path = store.location.leaderboard_html
        write_text(html_path, leaderboard_html(store, figures=by_split))
        written.append(html_path)
        remove_stale_figures(store.location.figures, keep=drawn)
    study_stores = find_study_stores(layout.root)
    if every_store or study_stores:
        write_text(layout.index, index_markdown(layout.root, every_store, study_stores))
        written.append(layout.index)
    return written


def remove_stale_figures(figures_dir: Path, keep: list[Path]) -> list[Path]:
    """Delete the figures a leaderboard no longer shows (the confusion matrix of a pipeline
    that has lost the lead, say): the folder is the leaderboard's own, and a file left there
    would be committed beside a table that does not link it. Also what a killed report
    left half-written. Called under the report lock: no other report is drawing here."""
    kept = {path.resolve() for path in keep}
    stale = [path for path in sorted(figures_dir.glob("*.png")) if path.resolve() not in kept]
    stale += sorted(figures_dir.glob(f".*{TEMPORARY_SUFFIX}"))
    for path in stale:
        path.unlink()
    return stale


def between(text: str, start_marker: str, end_marker: str, content: str) -> str:
    """``text`` with what lies between the two markers replaced by ``content``."""
    start, end = text.find(start_marker), text.find(end_marker)
    return text[: start + len(start_marker)] + "\n" + content + "\n" + text[end:]


def update_readme_excerpt(readme: Path, results_dir: Path) -> bool:
    """Replace the text between the excerpt markers of ``readme``; False when it has none."""
    if not readme.is_file():
        return False
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(EXCERPT_START), text.find(EXCERPT_END)
    if start < 0 or end < start:
        return False
    updated = between(text, EXCERPT_START, EXCERPT_END, excerpt_markdown(results_dir))
    if ANSWER_START in updated:
        updated = between(updated, ANSWER_START, ANSWER_END, answer_markdown(results_dir))
    if updated != text:
        write_text(readme, updated)
    return True


def _one_of(path: Path, paths: list[Path]) -> bool:
    return any(Path(path).resolve() == Path(other).resolve() for other in paths)


def publish(results_dir: Path, data_dir: Path | None = None, say=print, *,
            stores: list[Path] | None = None) -> list[Path]:
    """Write every leaderboard, the index and the study reports and, for the project's own
    results/, README.md's excerpt. With ``stores`` (``runs.jsonl`` paths: what a run wrote
    to), only their leaderboards or study reports are redrawn; the index and the excerpt
    always are."""
    if not Path(results_dir).is_dir():
        return []  # no stores, nothing to report (and no folder made for a lock)
    with folder_lock(results_dir, REPORT_LOCK_NAME):
        written = write_reports(results_dir, data_dir=data_dir, stores=stores)
        written += write_study_reports(
            results_dir, only=None if stores is None else lambda path: _one_of(path, stores))
        readme = PROJECT_ROOT / "README.md"  # wherever the command runs from
        if written and Path(results_dir).resolve() == (PROJECT_ROOT / "results").resolve() \
                and update_readme_excerpt(readme, results_dir):
            written.append(readme)
    for path in written:
        say(f"wrote {path}")
    return written

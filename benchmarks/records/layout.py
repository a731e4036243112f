"""Where everything lives in a results directory; the one place that knows.

    results/
      README.md                                   the index of every store and study
      <dataset>/<profile>/runs.jsonl              a store: one record per line
      <dataset>/<profile>/LEADERBOARD.md          its leaderboard
      <dataset>/<profile>/LEADERBOARD.html        the same, sortable, one self-contained file
      <dataset>/<profile>/figures/                the leaderboard's figures, named
                                                  <split>-<fingerprint[:8]>-<kind>[-<name>].png
      studies/<study>/<dataset>/<profile>/        a study's store, STUDY.md and figures
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipelines.errors import UnsafeNameError
from pipelines.names import path_part_problem

# the checkout: the committed results/ a fresh run reads job times from, the paths reports show
PROJECT_ROOT = Path(__file__).resolve().parents[2]
STORE_NAME = "runs.jsonl"
LEADERBOARD_NAME = "LEADERBOARD.md"
LEADERBOARD_HTML_NAME = "LEADERBOARD.html"
STUDY_REPORT_NAME = "STUDY.md"
INDEX_NAME = "README.md"
FIGURES_NAME = "figures"
STUDIES_NAME = "studies"


def path_part(name: object, what: str) -> str:
    """``name``, when it may be one folder or file name under the results directory
    (pipelines/names.py); else UnsafeNameError naming it: records, plugins and merged
    stores name these files, and none may write elsewhere."""
    problem = path_part_problem(name)
    if problem is not None:
        raise UnsafeNameError(f"the {what} {name!r} {problem}, so it cannot name a file "
                                  f"under the results directory; rename it")
    return name  # type: ignore[return-value]


def inside(root: Path, path: Path) -> Path:
    """``path``, after proving that it lies inside ``root`` once ``..`` and links are
    resolved; else UnsafeNameError."""
    if not Path(path).resolve().is_relative_to(Path(root).resolve()):
        raise UnsafeNameError(f"{path} lies outside {root}: a results file is only ever "
                                  f"written inside its results directory")
    return path


def figure_prefix(split_name: str, fingerprint: str) -> str:
    """The file-name prefix of one split's figures in a store's figures/ folder."""
    return path_part(f"{path_part(split_name, 'split name')}-{fingerprint[:8]}",
                     "split fingerprint")


def run_figure(figures_dir: Path, prefix: str, kind: str, name: str) -> Path:
    """A figure of one pipeline's run: ``confusion``, ``curves`` or ``misclassified``."""
    file_name = f"{path_part(prefix, 'figure prefix')}-{kind}-{path_part(name, 'pipeline name')}"
    return inside(figures_dir, figures_dir / f"{path_part(file_name, 'figure')}.png")


@dataclass(frozen=True)
class StoreLocation:
    """One store's place: its dataset and profile, and the study it belongs to (or None)."""

    directory: Path
    dataset: str
    profile: str
    study: str | None = None

    @property
    def runs(self) -> Path:
        return self.directory / STORE_NAME

    @property
    def leaderboard(self) -> Path:
        return self.directory / LEADERBOARD_NAME

    @property
    def leaderboard_html(self) -> Path:
        return self.directory / LEADERBOARD_HTML_NAME

    @property
    def figures(self) -> Path:
        return self.directory / FIGURES_NAME

    @property
    def study_report(self) -> Path:
        return self.directory / STUDY_REPORT_NAME


class ResultsLayout:
    """The places under one results directory (``root``)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @property
    def index(self) -> Path:
        return self.root / INDEX_NAME

    def store(self, dataset: str, profile: str, study: str | None = None) -> StoreLocation:
        base = self.root if study is None else self.study_root(study)
        directory = base / path_part(dataset, "dataset name") / path_part(profile, "profile")
        return StoreLocation(inside(self.root, directory), dataset, profile, study)

    def study_root(self, study: str) -> Path:
        """The results root of a study: its stores sit below it as <dataset>/<profile>/."""
        return inside(self.root, self.root / STUDIES_NAME / path_part(study, "study name"))

    def locate(self, runs: Path) -> StoreLocation:
        """The place of a runs.jsonl under this root (a store or a study's store)."""
        relative = Path(runs).parent.relative_to(self.root)
        if relative.parts[:1] == (STUDIES_NAME,) and len(relative.parts) == 4:
            return self.store(relative.parts[2], relative.parts[3], relative.parts[1])
        if len(relative.parts) != 2:
            raise ValueError(f"{runs} is not <dataset>/<profile>/{STORE_NAME} nor "
                             f"{STUDIES_NAME}/<study>/<dataset>/<profile>/{STORE_NAME}")
        return self.store(relative.parts[0], relative.parts[1])

    def stores(self) -> list[StoreLocation]:
        """Every store of the main leaderboards, sorted."""
        return self._located(path for path in sorted(self.root.glob(f"*/*/{STORE_NAME}"))
                             if path.parent.parent.name != STUDIES_NAME)

    def study_stores(self) -> list[StoreLocation]:
        """Every study's store, sorted."""
        return self._located(sorted(self.root.glob(f"{STUDIES_NAME}/*/*/*/{STORE_NAME}")))

    def _located(self, paths: Iterable[Path]) -> list[StoreLocation]:
        """The places of ``paths``; a folder whose name is no path part (a newline in it) or
        that links outside the root is left out with a warning, so the other stores' reports
        are still written."""
        found = []
        for path in paths:
            try:
                found.append(self.locate(path))
            except UnsafeNameError as error:
                warnings.warn(f"{path} left out: {error}", stacklevel=3)
        return found

    def relative(self, path: Path) -> str:
        return Path(path).relative_to(self.root).as_posix()

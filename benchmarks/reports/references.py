"""Published figures shown beside a Fashion-MNIST leaderboard, never ranked with it: the one
place they are declared.

Two sources, each figure with where a reader finds it:
- the seed documents' own figures (``pipelines.seed_figures``, with their line numbers);
- the dataset authors' table of submitted results, the ``Benchmark`` section of
  github.com/zalandoresearch/fashion-mnist's README (read at commit 02cf067; the authors say
  they have not tested them), of which the rows below are those nearest to a pipeline here,
  the best in the table and the human baseline.

They are reference rows: other protocols, other hardware, not re-run here, so they take no
rank and enter no statistic (interval, McNemar, Pareto front, family medians).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.seed_figures import SEED_FIGURES

FASHION_MNIST = "fashion-mnist"  # the only dataset these figures are about

AUTHORS_TABLE = "the authors' table"
SOURCES = ("the seed documents' own figures (seed NNN, line L: the files in shared/seeds) and "
           "the dataset authors' table of submitted results (zalandoresearch/fashion-mnist, "
           "README, 'Benchmark'; untested by them)")


@dataclass(frozen=True)
class Reference:
    system: str  # as its source names it
    accuracy: float  # a fraction, on the official 10,000 test images unless ``protocol`` says
    source: str  # where a reader finds the figure
    protocol: str  # what the source did that a run here does not
    nearest: str | None = None  # the registered pipeline here that does the closest thing


PUBLISHED: tuple[Reference, ...] = (
    Reference("WRN40-4 (the table's best)", 0.967, AUTHORS_TABLE,
              "8.9M parameters; standardised, random crops and horizontal flips"),
    Reference("WRN-28-10 + Random Erasing", 0.963, AUTHORS_TABLE,
              "standardised, random crops and flips, random erasing"),
    Reference("ResNet18", 0.949, AUTHORS_TABLE,
              "random flips, translations and rotations", "resnet20"),
    Reference("VGG16", 0.935, AUTHORS_TABLE, "26M parameters; no preprocessing stated",
              "vgg16"),
    Reference("HOG+SVM", 0.926, AUTHORS_TABLE, "HOG features", "hog-svm"),
    Reference("MLP 256-128-64", 0.900, AUTHORS_TABLE, "none", "raw-mlp"),
    Reference("XGBoost", 0.898, AUTHORS_TABLE, "pixels scaled to mean 0, variance 1",
              "raw-xgboost"),
    Reference("Human performance", 0.835, AUTHORS_TABLE,
              "1,000 random test images, 3 crowd labels each, the majority label; no "
              "fashion expertise"),
)


def seed_references() -> list[Reference]:
    """Each seed document's figure for the system a pipeline here reproduces."""
    return [Reference(f"{name} (seed {figure.document})", figure.accuracy,
                      figure.source, ("validation figure; " if figure.measured_on != "test"
                                      else "") + figure.protocol, name)
            for name, figure in SEED_FIGURES.items()]


def references_for(dataset: str) -> list[Reference]:
    """The reference rows of a leaderboard of ``dataset``, best figure first (none but for
    Fashion-MNIST: the figures are about it)."""
    if dataset != FASHION_MNIST:
        return []
    return sorted([*PUBLISHED, *seed_references()],
                  key=lambda reference: (-reference.accuracy, reference.system))

"""The corruption suite's example grid (docs/corruptions.png): one row per corruption at its
fixed severity, one column per class. ``python -m benchmarks.reports.corruption_grid [PATH]``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..data.corruptions import CORRUPTIONS, corrupt, corruption_seed
from .robustness import save_png


def corruption_grid(images: np.ndarray, labels: np.ndarray, class_names: list[str],
                    seed: int = 0, columns: int = 10) -> Figure:
    """One row per corruption (the first row clean), one column per class's first image:
    what the suite does, at its fixed severities."""
    labels = np.asarray(labels)
    classes = np.unique(labels)[:columns]
    examples = np.asarray(images)[[np.flatnonzero(labels == c)[0] for c in classes]]
    grid = [("clean", examples)] + [(name, corrupt(examples, name, corruption_seed(seed, name)))
                                    for name in CORRUPTIONS]
    figure = Figure(figsize=(1.1 * len(classes) + 1.2, 1.1 * len(grid)), layout="constrained")
    axes = figure.subplots(len(grid), len(classes), squeeze=False)
    for r, (name, images_row) in enumerate(grid):
        for c, image in enumerate(images_row):
            # fixed limits: imshow would stretch each image's own range, hiding brightness,
            # contrast and invert
            axes[r, c].imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
            if r == 0:
                axes[r, c].set_title(class_names[classes[c]], fontsize=8)
        axes[r, 0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    return figure


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.reports.corruption_grid [PATH]``: draw the suite's example grid from
    the Fashion-MNIST test images (default docs/corruptions.png)."""
    import argparse

    from ..data.datasets import load_dataset

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=Path("docs/corruptions.png"))
    parser.add_argument("--dataset", default="fashion-mnist")
    args = parser.parse_args(argv)
    dataset = load_dataset(args.dataset)
    figure = corruption_grid(dataset.test_images, dataset.test_labels, dataset.class_names)
    print(save_png(figure, args.path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

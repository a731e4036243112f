"""Labels on a scatter plot: each beside its point where it hides no other label, marker or
legend, near if it can, else farther with a thin line to its point (figures.py and
robustness.py label their pipelines so)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.text import Text

# where a label may sit around its point (points offset), tried in this order
LABEL_OFFSETS = ((5, 4), (5, -11), (-5, 4), (-5, -11), (0, 9), (0, -15), (9, -3), (-9, -3))
# farther places, tried after those, ring by ring (eight directions each), each joined to
# its point by a thin line: a point amid others (a family's best in a crowd) keeps its label
FAR_OFFSETS = tuple((round(radius * math.cos(turn * math.pi / 4)),
                     round(radius * math.sin(turn * math.pi / 4)))
                    for radius in (24, 42) for turn in (2, 6, 1, 3, 7, 5, 0, 4))


def place_labels(figure, axes, points: list[tuple[str, float, float]],
                 markers: list[tuple[float, float]] | None = None) -> list:
    """Annotate each (text, x, y) where its label overlaps no earlier label, no marker
    (``markers``: every plotted (x, y), the unlabelled too; default the labelled points) and
    not the legend: every point tries the near places (LABEL_OFFSETS) in turn before any
    tries a far one (FAR_OFFSETS), so a far label never takes an earlier point's near place;
    a label with no free place is left out (the leaderboard's table lists every pipeline)."""
    renderer = figure.canvas.get_renderer()
    markers = [axes.transData.transform(point)
               for point in (markers or [(x, y) for _, x, y in points])]
    plot_area = axes.get_window_extent(renderer)
    legend = axes.get_legend()
    taken = [legend.get_window_extent(renderer)] if legend else []
    left = list(points)
    for offsets, far in ((LABEL_OFFSETS, False), (FAR_OFFSETS, True)):
        for point in list(left):
            box = next((box for offset in offsets
                        if (box := _label_if_free(axes, renderer, plot_area, point, offset,
                                                  far, taken, markers))), None)
            if box is not None:
                taken.append(box)
                left.remove(point)
    return taken[1:] if legend else taken


def _label_if_free(axes, renderer, plot_area, point: tuple[str, float, float],
                   offset: tuple[int, int], far: bool, taken: list, markers: list):
    """The box of ``point``'s label at ``offset`` (points), if it lies inside ``plot_area``
    and clear of ``taken`` boxes and ``markers``; else None, and the label is removed. A far
    label is joined to its point by a thin line."""
    text, x, y = point
    dx, dy = offset
    label = axes.annotate(text, (x, y), xytext=offset, textcoords="offset points",
                          fontsize=8, ha="left" if dx >= 0 else "right",
                          va="bottom" if dy >= 0 else "top",
                          # a line under a label (the frontier) stops short of it
                          bbox={"boxstyle": "square,pad=0.1", "facecolor": "white",
                                "edgecolor": "none", "alpha": 0.85},
                          arrowprops={"arrowstyle": "-", "color": "grey", "linewidth": 0.6,
                                      "shrinkB": 3} if far else None)
    # the text's own box: an annotation's extent would include its line to the point
    label.update_positions(renderer)
    box = Text.get_window_extent(label, renderer).expanded(1.05, 1.1)
    clear = not any(box.overlaps(other) for other in taken) and not any(
        box.x0 - 3 <= mx <= box.x1 + 3 and box.y0 - 3 <= my <= box.y1 + 3
        for mx, my in markers)
    if far and clear:  # nor may its line (point to the label's nearest edge) cross a label
        clear = _line_is_clear(axes.transData.transform((x, y)), box, taken, markers)
    if clear and plot_area.contains(box.x0, box.y0) and plot_area.contains(box.x1, box.y1):
        return box
    label.remove()
    return None


def _line_is_clear(start: np.ndarray, box, taken: list, markers: list) -> bool:
    """Whether the line from ``start`` (pixels) to ``box``'s nearest edge misses every
    ``taken`` box and passes no other marker closer than 5 pixels."""
    end = np.clip(start, [box.x0, box.y0], [box.x1, box.y1])
    along = start + (end - start) * np.linspace(0.05, 1, 20)[:, None]
    others = np.array([marker for marker in markers if np.hypot(*(marker - start)) > 1])
    if len(others) and (np.hypot(*(along[:, None] - others[None]).transpose(2, 0, 1))
                        < 5).any():
        return False
    return not any(other.contains(*point) for other in taken for point in along)

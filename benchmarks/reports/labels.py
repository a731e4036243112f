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
    """Annotate each (text, x, y) where its label overlaps no earlier label or line, no
    marker (``markers``: every plotted (x, y), the unlabelled too; default the labelled
    points) and not the legend: every point tries the near places (LABEL_OFFSETS) in turn
    before any tries a far one (FAR_OFFSETS), so a far label never takes an earlier point's
    near place; a label with no free place is left out (the leaderboard's table lists every
    pipeline)."""
    renderer = figure.canvas.get_renderer()
    legend = axes.get_legend()
    free = _FreeSpace(axes.get_window_extent(renderer),
                      [legend.get_window_extent(renderer)] if legend else [],
                      [axes.transData.transform(point)
                       for point in (markers or [(x, y) for _, x, y in points])])
    placed, left = [], list(points)
    for offsets, far in ((LABEL_OFFSETS, False), (FAR_OFFSETS, True)):
        for point in list(left):
            box = next((box for offset in offsets
                        if (box := _label_if_free(axes, renderer, free, point, offset, far))),
                       None)
            if box is not None:
                placed.append(box)
                left.remove(point)
    return placed


class _FreeSpace:
    """What a new label must keep clear of: the plot area's edges, the boxes taken (the
    legend, earlier labels), every marker, and the lines drawn to far labels."""

    def __init__(self, plot_area, taken: list, markers: list) -> None:
        self.plot_area, self.taken, self.markers = plot_area, taken, markers
        self.lines: list[np.ndarray] = []  # each far label's line, as points along it

    def holds(self, box) -> bool:
        inside = (self.plot_area.contains(box.x0, box.y0)
                  and self.plot_area.contains(box.x1, box.y1))
        return inside and not any(box.overlaps(other) for other in self.taken) and not any(
            box.x0 - 3 <= x <= box.x1 + 3 and box.y0 - 3 <= y <= box.y1 + 3
            for x, y in (*self.markers, *(point for line in self.lines for point in line)))

    def holds_line(self, line: np.ndarray) -> bool:
        """Whether ``line`` (points along it, from a marker) crosses no box taken and passes
        no other marker closer than 5 pixels."""
        start = line[0]
        others = np.array([marker for marker in self.markers
                           if np.hypot(*(marker - start)) > 1])
        if len(others) and (np.hypot(*(line[1:, None] - others[None]).transpose(2, 0, 1))
                            < 5).any():
            return False
        return not any(other.contains(*point) for other in self.taken for point in line[1:])


def _label_if_free(axes, renderer, free: _FreeSpace, point: tuple[str, float, float],
                   offset: tuple[int, int], far: bool):
    """The box of ``point``'s label at ``offset`` (points), if ``free`` holds it (and its
    line, for a far label, drawn from the text's corner nearest the point, where the text is
    anchored, to the point); else None, and the label is removed."""
    text, x, y = point
    dx, dy = offset
    corner = (0 if dx >= 0 else 1, 0 if dy >= 0 else 1)  # the anchored corner, as relpos
    label = axes.annotate(text, (x, y), xytext=offset, textcoords="offset points",
                          fontsize=8, ha="left" if dx >= 0 else "right",
                          va="bottom" if dy >= 0 else "top",
                          # a line under a label (the frontier) stops short of it
                          bbox={"boxstyle": "square,pad=0.1", "facecolor": "white",
                                "edgecolor": "none", "alpha": 0.85},
                          arrowprops={"arrowstyle": "-", "color": "grey", "linewidth": 0.6,
                                      "shrinkB": 3, "relpos": corner} if far else None)
    # the text's own box: an annotation's extent would include its line to the point
    label.update_positions(renderer)
    text_box = Text.get_window_extent(label, renderer)
    box = text_box.expanded(1.05, 1.1)
    clear = free.holds(box)
    if far and clear:
        start = axes.transData.transform((x, y))
        end = np.array([text_box.x1 if corner[0] else text_box.x0,
                        text_box.y1 if corner[1] else text_box.y0])
        line = start + (end - start) * np.linspace(0, 1, 21)[:, None]
        clear = free.holds_line(line)
        if clear:
            free.lines.append(line[1:])
    if clear:
        free.taken.append(box)
        return box
    label.remove()
    return None

"""The figure every report draws on: a matplotlib ``Figure`` that Jupyter shows once, and
whose text is written as it is, never read as TeX (the names on it come from records)."""

from __future__ import annotations

import functools
import io

import matplotlib
import matplotlib.text
from matplotlib.figure import Figure


class ShownFigure(Figure):
    """A Figure that Jupyter shows as its PNG, once: pyplot never manages it (so the inline
    backend does not show it a second time), and a notebook needs no backend chosen."""

    def savefig(self, *args, **kwargs):
        """As Figure's, with every text as written (``text_as_written``), tick labels made
        while saving included."""
        with matplotlib.rc_context({"text.parse_math": False}):
            for text in self.findobj(matplotlib.text.Text):
                text.set_parse_math(False)
            return super().savefig(*args, **kwargs)

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()


def text_as_written(draw):
    """``draw`` with matplotlib's mathtext off: the names, class names and titles come from
    records (a store merged from elsewhere), and one with ``$`` in it would be read as TeX
    and fail the whole report."""
    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        with matplotlib.rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)
    return drawn

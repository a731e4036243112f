"""The figure every report draws on: a matplotlib ``Figure`` that Jupyter shows once, and
whose text is written as it is, never read as TeX (the names on it come from records); and
the PNG every report saves of it, in a palette of 256 colours."""

from __future__ import annotations

import functools
import io

import matplotlib
import matplotlib.text
from matplotlib.figure import Figure
from PIL import Image
from PIL.PngImagePlugin import PngInfo

DPI = 100
PALETTE_COLOURS = 256


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
        return png_bytes(self)


def png_bytes(figure: Figure, text: dict[str, str | None] | None = None) -> bytes:
    """``figure`` as a PNG of at most 256 colours (Pillow's median cut, undithered), with
    ``text`` as its PNG text chunks (a None value: left out) and no software version, so
    that the same figure gives the same bytes. A report's flat colours and anti-aliased
    edges need no more, and the file takes about 40% of matplotlib's RGBA PNG: the
    committed figures, and the HTML pages that embed them, travel to the GPU machine with
    the data, 64 MiB in all."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    buffer.seek(0)
    with Image.open(buffer) as drawn:
        rgba = drawn.convert("RGBA")
    if rgba.getchannel("A").getextrema() == (255, 255):  # opaque: median cut on the colours
        reduced = rgba.convert("RGB").quantize(PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT,
                                               dither=Image.Dither.NONE)
    else:  # see-through parts kept (Pillow quantizes RGBA by octree only)
        reduced = rgba.quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE,
                                dither=Image.Dither.NONE)
    chunks = PngInfo()
    for key, value in (text or {}).items():
        if value is not None:
            chunks.add_text(key, value)
    saved = io.BytesIO()
    reduced.save(saved, format="PNG", optimize=True, pnginfo=chunks)
    return saved.getvalue()


def text_as_written(draw):
    """``draw`` with matplotlib's mathtext off: the names, class names and titles come from
    records (a store merged from elsewhere), and one with ``$`` in it would be read as TeX
    and fail the whole report."""
    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        with matplotlib.rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)
    return drawn

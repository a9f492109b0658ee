"""`Chart`: a figure with its one-line caption and alt text, shown inline as self-contained HTML."""

from __future__ import annotations

import hashlib
import html
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle


@dataclass(frozen=True)
class Chart:
    """A finished figure plus the sentence telling the reader what to look at.

    Every plotting function of the package returns a Chart. In a notebook it displays as an
    inline SVG with a caption (no external files, so exported HTML stays self-contained): text
    stays text (searchable, sharp when printed, and its labels can be checked for overlap in a
    browser), and the alt text is the SVG's accessible name.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
        The figure (titled, axes labelled with units).
    caption : str
        One line: what to look at.
    alt : str
        Alternative text for screen readers.
    omitted : int
        Points, bars or lines left out because they rested on fewer pupils than the
        disclosure threshold (already mentioned in the caption when positive).
    data : pandas.DataFrame or None
        What is drawn, one row per mark (``label``, ``series``, ``x``, and ``low``/``high``
        for intervals): the tests read the figure back and compare it with this and with
        the table shown beside it.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> chart = Chart(fig, "Nothing to see.", "An empty plot.")
    >>> "<figcaption>" in chart._repr_html_()
    True
    """

    figure: Figure
    caption: str
    alt: str
    omitted: int = 0
    data: pd.DataFrame | None = field(default=None, repr=False)

    def png(self, dpi: int = 110) -> bytes:
        """Return the figure as PNG bytes (deterministic: no timestamp metadata)."""
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=dpi, bbox_inches="tight",
                            metadata={"Software": None})
        return buf.getvalue()

    def svg(self) -> str:
        """Return the figure as an inline ``<svg>`` element, deterministic and id-safe.

        Text is kept as text; ids of clip paths and markers are salted with a hash of the
        caption and alt text (stable across runs, distinct between figures); group ids are
        dropped so that several figures on one page never share an id.

        The figure is drawn once, as laid out by its plotting function (every one ends with
        ``tight_layout``, which fits titles, labels and legends inside the figure): ``savefig``
        would draw it twice, once more to lay it out or to crop it (``bbox_inches="tight"``),
        which was a third of the reports' figure time.
        """
        import matplotlib as mpl
        from matplotlib.backends.backend_svg import FigureCanvasSVG

        salt = hashlib.sha256(f"{self.caption}|{self.alt}".encode()).hexdigest()[:12]
        buf = io.StringIO()
        with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
            FigureCanvasSVG(self.figure).print_svg(buf, metadata={"Date": None, "Creator": None})
        text = buf.getvalue()
        text = text[text.index("<svg"):]
        text = re.sub(r'<g id="[^"]*"', "<g", text)
        text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
        text = re.sub(r'<style type="text/css">.*?</style>', "", text, flags=re.S)
        text = re.sub(r">\s+<", "><", re.sub(r"\n\s*", " ", text))
        label = html.escape(self.alt)
        return text.replace("<svg ", f'<svg role="img" aria-label="{label}" '
                            'style="max-width:100%;height:auto" ', 1)

    def marks(self) -> pd.DataFrame:
        """Return what is drawn: ``data`` where the chart has it, else :func:`drawn_marks`."""
        return self.data if self.data is not None else drawn_marks(self.figure)

    def _repr_html_(self) -> str:
        return (f'<figure class="em-chart">{self.svg()}'
                f"<figcaption>{html.escape(self.caption)}</figcaption></figure>")


def drawn_marks(figure: Figure) -> pd.DataFrame:
    """Return every mark a figure draws, as numbers: the data behind it for an output checker.

    One row per point of each line, scatter, interval, band and bar (``axes``: its title;
    ``kind``: line, point, segment, band or bar; ``series``: the legend label, empty for
    unlabelled artists; ``x``, ``y``, and ``x2``, ``y2`` for a segment's other end or a bar's
    far corner). Reference lines across the axes (``axhline``) are lines too.

    Examples
    --------
    >>> fig = Figure()
    >>> ax = fig.subplots()
    >>> _ = ax.plot([1, 2], [3.5, 4.0], "o", label="EM")
    >>> _ = ax.bar([0], [2.0])
    >>> drawn_marks(fig)[["kind", "series", "x", "y"]].values.tolist()
    [['point', 'EM', 1.0, 3.5], ['point', 'EM', 2.0, 4.0], ['bar', '', -0.4, 0.0]]
    """
    rows = []

    def add(ax, kind, artist, x, y, x2=np.nan, y2=np.nan):
        label = artist.get_label()
        rows.append({"axes": ax.get_title(), "kind": kind,
                     "series": "" if label.startswith("_") else label, "x": float(x),
                     "y": float(y), "x2": float(x2), "y2": float(y2)})

    for ax in figure.axes:
        for line in ax.lines:
            kind = "point" if line.get_linestyle() in ("None", "", " ") else "line"
            xy = np.asarray(line.get_xydata(), dtype=float)
            if isinstance(line, Line2D) and line.get_transform() != ax.transData:
                kind = "line"            # axhline / axvline: one end in axes coordinates
            for x, y in xy:
                add(ax, kind, line, x, y)
        for coll in ax.collections:
            if isinstance(coll, PathCollection):
                for x, y in np.asarray(coll.get_offsets(), dtype=float):
                    add(ax, "point", coll, x, y)
            elif isinstance(coll, LineCollection):
                for seg in coll.get_segments():
                    seg = np.asarray(seg, dtype=float).reshape(-1, 2)
                    if len(seg):                  # an empty interval draws nothing
                        add(ax, "segment", coll, seg[0, 0], seg[0, 1], seg[-1, 0], seg[-1, 1])
            elif isinstance(coll, PolyCollection):
                for path in coll.get_paths():
                    for x, y in np.asarray(path.vertices, dtype=float):
                        add(ax, "band", coll, x, y)
        for patch in ax.patches:
            if isinstance(patch, Rectangle):
                add(ax, "bar", patch, patch.get_x(), patch.get_y(),
                    patch.get_x() + patch.get_width(), patch.get_y() + patch.get_height())
    return pd.DataFrame(rows, columns=["axes", "kind", "series", "x", "y", "x2", "y2"])

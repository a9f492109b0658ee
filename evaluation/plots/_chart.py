"""`Chart`: a figure with its one-line caption and alt text, shown inline as self-contained HTML."""

from __future__ import annotations

import hashlib
import html
import io
import re
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure


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
        """
        import matplotlib as mpl

        salt = hashlib.sha256(f"{self.caption}|{self.alt}".encode()).hexdigest()[:12]
        buf = io.StringIO()
        with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
            self.figure.savefig(buf, format="svg", bbox_inches="tight", dpi=110,
                                metadata={"Date": None, "Creator": None})
        text = buf.getvalue()
        text = text[text.index("<svg"):]
        text = re.sub(r'<g id="[^"]*"', "<g", text)
        text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
        text = re.sub(r'<style type="text/css">.*?</style>', "", text, flags=re.S)
        text = re.sub(r">\s+<", "><", re.sub(r"\n\s*", " ", text))
        label = html.escape(self.alt)
        return text.replace("<svg ", f'<svg role="img" aria-label="{label}" '
                            'style="max-width:100%;height:auto" ', 1)

    def _repr_html_(self) -> str:
        return (f'<figure class="em-chart">{self.svg()}'
                f"<figcaption>{html.escape(self.caption)}</figcaption></figure>")

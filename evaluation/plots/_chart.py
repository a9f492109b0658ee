"""`Chart`: a figure with its one-line caption and alt text, shown inline as self-contained HTML."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure


@dataclass(frozen=True)
class Chart:
    """A finished figure plus the sentence telling the reader what to look at.

    Every plotting function of the package returns a Chart. In a notebook it displays as an
    embedded PNG with a caption (no external files, so exported HTML stays self-contained).

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

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.png()).decode("ascii")
        return (
            '<figure class="em-chart">'
            f'<img src="data:image/png;base64,{data}" alt="{html.escape(self.alt)}" '
            'style="max-width:100%;height:auto"/>'
            f"<figcaption>{html.escape(self.caption)}</figcaption></figure>"
        )

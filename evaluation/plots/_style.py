"""One palette and one look for every figure, so FSM / EM colours mean the same everywhere."""

from __future__ import annotations

import textwrap

#: Colour per group, used by every figure.
COLOURS = {
    "FSM": "#d95f02",          # orange
    "non-FSM": "#1b9e77",      # teal
    "EM": "#7570b3",           # purple
    "comparison": "#7f7f7f",   # grey
    "national": "#222222",     # near black
    "all": "#1f78b4",          # blue
    "baseline": "#a6cee3",
    "follow_up": "#1f78b4",
}
FIGSIZE = (7.5, 4.5)


def apply_theme() -> None:
    """Set the seaborn theme used by all figures (called by each plotting function)."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    # Titles sit at the top of their axes. Left to matplotlib (None), every draw measures
    # every axes' tick labels to lift the title above any on top, which none of our figures
    # has: the same SVG, 20% less time for a report's figures (issue 17)
    mpl.rcParams["axes.titley"] = 1.0


def wrap_to(text: str, width_in: float, size: str | float | None = None) -> str:
    """Wrap ``text`` into lines that fit ``width_in`` inches at font ``size``.

    ``size`` defaults to the figure title's (``rcParams["figure.titlesize"]``).

    Figures are drawn at their laid-out size, not cropped to their content
    (:meth:`evaluation.plots.Chart.svg`): a title wider than its figure would be cut off, so
    long titles and labels are wrapped (at 0.6 em a character, DejaVu Sans' mean width for
    text; the figure tests check every chart's text lies inside its figure).

    Examples
    --------
    >>> apply_theme()
    >>> print(wrap_to("FSM and non-FSM pupils against national, by year", 2.5))
    FSM and non-FSM
    pupils against
    national, by year
    """
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties

    size = mpl.rcParams["figure.titlesize"] if size is None else size
    points = FontProperties(size=size).get_size_in_points()
    return textwrap.fill(text, max(12, int(width_in * 72 / (0.6 * points))))

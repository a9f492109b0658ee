"""Figures (seaborn / matplotlib): every plotting function returns a `Chart`.

A `Chart` holds the matplotlib Figure, a one-line caption saying what to look at, alt text,
and how many points were left out by the disclosure threshold; it displays in a notebook as an
inline SVG with its caption.
"""

from evaluation.plots._chart import Chart

__all__ = ["Chart"]

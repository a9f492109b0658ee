"""Read a chart's marks back from its matplotlib figure: what a reader sees, as numbers."""

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PathCollection


def _unwrap(text: str) -> str:
    """A tick label as written before wrapping, without a trailing '(...)' line."""
    lines = text.split("\n")
    if len(lines) > 1 and lines[-1].startswith("("):
        lines = lines[:-1]
    return " ".join(lines)


def same_name(label: str, name: str) -> bool:
    """Whether a chart's (wrapped) label shows ``name``: the same text but for whitespace.

    ``textwrap`` breaks a long name after a hyphen ("Stoke-on-" / "Trent") or inside a word
    longer than a line, and folds runs of spaces: joining the lines with a space would not
    give the name back.
    """
    return "".join(label.split()) == "".join(name.split())


def ytick_labels(ax) -> dict:
    """Map each y tick position to its label text (unwrapped)."""
    return {round(float(y), 6): _unwrap(t.get_text())
            for y, t in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)}


def scatter_points(ax) -> pd.DataFrame:
    """Every scatter mark: its series (legend label), the label of the row it sits on, and x."""
    labels = ytick_labels(ax)
    ticks = np.array(sorted(labels))
    rows = []
    for coll in ax.collections:
        if not isinstance(coll, PathCollection):
            continue
        for x, y in np.asarray(coll.get_offsets()):
            nearest = ticks[np.abs(ticks - y).argmin()]
            assert abs(nearest - y) < 0.25, f"a point at y={y} sits on no row"
            rows.append({"series": coll.get_label(), "label": labels[nearest], "x": float(x)})
    return pd.DataFrame(rows)


def errorbar_points(ax) -> pd.DataFrame:
    """Every errorbar: the row's label, the point and the drawn interval ends."""
    labels = ytick_labels(ax)
    point = next((line for line in ax.lines if line.get_marker() == "o"), None)
    if point is None or not len(point.get_xydata()):
        return pd.DataFrame(columns=["label", "x", "low", "high"])
    bars = next(c for c in ax.collections if isinstance(c, LineCollection))
    rows = []
    for (x, y), seg in zip(point.get_xydata(), bars.get_segments(), strict=True):
        rows.append({"label": labels[round(float(y), 6)], "x": float(x),
                     "low": float(seg[:, 0].min()), "high": float(seg[:, 0].max())})
    return pd.DataFrame(rows)

"""Tracking figures: class FSM gaps term by term, and the share of classes closing the gap."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evaluation.plots._chart import Chart
from evaluation.plots._style import COLOURS, apply_theme, wrap_to
from evaluation.plots.gaps import DECIMALS, omission_note
from evaluation.schema import TERMS


def class_gap_chart(table: pd.DataFrame, threshold: int,
                    hidden: pd.DataFrame | None = None) -> Chart:
    """Each class's FSM gap per term, one panel per subject.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`evaluation.tracking.class_gap_table`.
    threshold : int
        A class-term gap resting on fewer FSM pupils (or class pupils) is not drawn, nor the
        line segments touching it.
    hidden : pandas.DataFrame, optional
        True where the report's table hides a figure (``SafeTable.hidden``, indexed like
        ``table``): those are not drawn, whatever their size. Default: the ones resting on
        fewer than ``threshold`` pupils.

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.tracking import class_gap_table
    >>> t = pd.DataFrame({"school_id": "s", "class_id": "5A", "subject": "reading",
    ...                   "term": ["autumn"] * 4 + ["spring"] * 4, "fsm": [True, False] * 4,
    ...                   "aps": [18.0, 22.0] * 2 + [21.0, 23.0] * 2})
    >>> class_gap_chart(class_gap_table(t), threshold=2).omitted
    0
    """
    subjects = sorted(table["subject"].unique())
    keep = ((table["n_fsm"] >= threshold) & (table["n_class"] >= threshold) if hidden is None
            else ~hidden.loc[table.index, "gap"].astype(bool))
    omitted = int((~keep & table["gap"].notna()).sum())
    data = table.assign(shown=table["gap"].where(keep).round(DECIMALS),   # as the table shows
                        x=table["term"].map({t: i for i, t in enumerate(TERMS)}))
    terms = [t for t in TERMS if t in set(table["term"])]
    apply_theme()
    fig = Figure(figsize=(3.6 * len(subjects) + 1, 4.0))
    axes = fig.subplots(1, len(subjects), sharey=True, squeeze=False)
    for ax, subject in zip(axes[0], subjects, strict=True):
        sub = data[data["subject"] == subject]
        for _, g in sub.groupby(["school_id", "class_id"], sort=True):
            g = g.sort_values("x")
            ax.plot(g["x"], g["shown"], marker="o", color=COLOURS["FSM"], alpha=0.6, lw=1)
        ax.axhline(0, color=COLOURS["national"], lw=0.8)
        ax.set_xticks([TERMS.index(t) for t in terms], terms)
        ax.set_title(subject, fontsize="medium")
        ax.set_xlabel("term")
    label = table["comparison"].iloc[0] if len(table) else "class"
    axes[0][0].set_ylabel(f"FSM minus {label} (APS points)")
    fig.suptitle(wrap_to("FSM pupils' average point score against the class, by term",
                         fig.get_figwidth()))
    fig.tight_layout()
    caption = ("Lines rising towards zero are classes where FSM pupils are catching up." +
               omission_note(omitted, threshold))
    alt = (f"Line charts of the FSM gap in average point scores by term for "
           f"{table['class_id'].nunique()} classes in {', '.join(subjects)}.")
    return Chart(fig, caption, alt, omitted)


def closing_chart(summary: pd.DataFrame, threshold: int, start: str | None = None,
                  end: str | None = None, hidden: pd.DataFrame | None = None) -> Chart:
    """Share of classes and of schools closing the FSM gap per subject over one period.

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`evaluation.tracking.closing_summary`.
    threshold : int
        Bars resting on fewer FSM pupils than this are not drawn.
    start, end : str, optional
        The period; by default the longest one in ``summary`` (first to last term).
    hidden : pandas.DataFrame, optional
        True where the report's table hides a figure (``SafeTable.hidden``, indexed like
        ``summary``): those are not drawn, whatever their size. Default: the ones resting on
        fewer than ``threshold`` pupils.

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"subject": ["reading"], "start": ["autumn"], "end": ["spring"],
    ...                   "n_classes": [9], "share_classes_closing": [2 / 3], "n_schools": [9],
    ...                   "share_schools_closing": [2 / 3], "n_fsm": [40]})
    >>> closing_chart(s, threshold=10).omitted
    0
    """
    periods = summary[["start", "end"]].drop_duplicates()
    if start is None or end is None:
        span = periods["end"].map(TERMS.index) - periods["start"].map(TERMS.index)
        start, end = periods.loc[span.idxmax()].tolist()
    rows = summary[(summary["start"] == start) & (summary["end"] == end)]
    if rows.empty:
        raise ValueError(f"`start`/`end` should be one of {periods.values.tolist()}; "
                         f"got {[start, end]}")
    keep = {col: (rows["n_fsm"] >= threshold if hidden is None
                  else ~hidden.loc[rows.index, col].astype(bool))
            for col in ("share_classes_closing", "share_schools_closing")}
    apply_theme()
    fig = Figure(figsize=(6.5, 4.0))
    ax = fig.subplots()
    x = np.arange(len(rows))
    omitted = 0
    for i, (col, n, name, colour) in enumerate((
            ("share_classes_closing", "n_classes", "classes", COLOURS["FSM"]),
            ("share_schools_closing", "n_schools", "schools", COLOURS["all"]))):
        values = (100 * rows[col]).round(0).where(keep[col])   # as the summary table shows
        omitted += int((~keep[col] & rows[col].notna()).sum())
        bars = ax.bar(x + (i - 0.5) * 0.38, values.fillna(0), width=0.38, color=colour,
                      label=name)
        ax.bar_label(bars, labels=[f"n={k}" if ok else "" for k, ok in zip(rows[n], keep[col],
                                                                            strict=True)],
                     fontsize="x-small")
    ax.set_xticks(x, rows["subject"])
    ax.set_ylim(0, 105)
    ax.set_ylabel("closing the FSM gap (% of classes / schools)")
    ax.set_xlabel("subject")
    ax.set_title(f"Classes and schools closing the FSM gap, {start} to {end}")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    caption = ("Taller bars: more classes (orange) and schools (blue) where FSM pupils' gap "
               "shrank." + omission_note(omitted, threshold, "bars"))
    alt = f"Bar chart of the share of classes and schools closing the FSM gap, {start}-{end}."
    return Chart(fig, caption, alt, omitted)

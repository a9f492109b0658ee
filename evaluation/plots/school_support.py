"""Figures of the school-to-school support analysis: trends against national, event study."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from evaluation.plots._chart import Chart
from evaluation.plots._style import COLOURS, FIGSIZE, apply_theme
from evaluation.plots.gaps import DECIMALS, omission_note

_STYLE = {"supported": ("FSM", "-", "o"), "comparison": ("national", "--", "s"),
          "national": ("national", ":", "")}


def trend_chart(result, column: str = "rate_fsm", hidden: pd.DataFrame | None = None,
                threshold: int = 10) -> Chart:
    """Plot a column of ``result.trends`` per year: supported, comparison and all schools.

    Parameters
    ----------
    result : evaluation.school_support.SchoolSupportResult
    column : str
        ``rate_fsm``, ``rate_all`` or ``gap``.
    hidden : pandas.DataFrame, optional
        True where the report's table hides a figure (indexed like ``result.trends``):
        those are not drawn. Drawn values are the table's (one decimal).
    threshold : int
        The disclosure threshold, for the caption's note on points left out.

    Returns
    -------
    Chart
    """
    from evaluation.school_support import OUTCOMES

    apply_theme()
    fig = Figure(figsize=FIGSIZE)
    ax = fig.subplots()
    t = result.trends
    keep = t[column].notna()
    omitted = 0
    if hidden is not None:
        omitted = int((keep & hidden[column]).sum())
        keep &= ~hidden[column]
    t = t[keep]
    for group, d in t.groupby("group", sort=False):
        colour, ls, marker = _STYLE[group]
        ax.plot(d["year"], d[column].round(DECIMALS), ls=ls, marker=marker,
                color=COLOURS[colour], label=f"{group} ({int(d['schools'].max())} schools)")
    ax.axvline(result.support_year - 0.5, color="grey", lw=0.8)
    ax.set_xticks(sorted(result.trends["year"].unique()))
    ax.set_title(OUTCOMES[column].split(" (")[0])
    ax.set_xlabel("Exam year (support began before the grey line)")
    ax.set_ylabel(OUTCOMES[column].split("(")[-1].rstrip(")"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    caption = ("Pupil-weighted figures per year; national = every school in the panel. "
               "Years without the measure are not plotted."
               + omission_note(omitted, threshold))
    alt = f"Line chart of {OUTCOMES[column]} by year for the three groups."
    return Chart(fig, caption, alt, omitted)


def event_chart(study, support_year: int) -> Chart:
    """Event-study estimates per year with their 95% intervals (reference year at 0).

    Parameters
    ----------
    study : evaluation.did.EventStudy
    support_year : int

    Returns
    -------
    Chart
    """
    apply_theme()
    fig = Figure(figsize=FIGSIZE)
    ax = fig.subplots()
    # at the estimates table's two decimals: a figure shows what its table shows, no finer
    t = study.table.assign(**{c: study.table[c].round(2) for c in ("estimate", "lower",
                                                                   "upper")})
    ax.errorbar(t["year"], t["estimate"], yerr=[t["estimate"] - t["lower"],
                                                t["upper"] - t["estimate"]],
                fmt="o", color=COLOURS["FSM"], capsize=3)
    ax.plot([study.reference], [0], "o", color="grey")
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(support_year - 0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(sorted([*t["year"], study.reference]))
    ax.set_title(f"Supported minus comparison schools, against {study.reference}")
    ax.set_xlabel("Exam year")
    ax.set_ylabel("Difference in change (percentage points)")
    fig.tight_layout()
    caption = ("Before the dashed line the estimates are placebo checks (they should be near "
               "0); after it, the change attributed to support. Intervals are 95%, clustered by "
               "school.")
    alt = "Event-study coefficients with 95% intervals by year."
    return Chart(fig, caption, alt)

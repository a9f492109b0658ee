"""Figures of FSM gaps: attainment by group, trends against national, gap against FSM share."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evaluation.gaps.pupils import FSM_BANDS, THRESHOLDS, GapShare, GapTrends
from evaluation.numbers import signed
from evaluation.plots._chart import Chart
from evaluation.plots._style import COLOURS, FIGSIZE, apply_theme, wrap_to

_UNITS = {"percent": "% of pupils", "points": "points"}
_GROUPS = (("fsm_value", "n_fsm", "FSM"), ("non_fsm_value", "n_non_fsm", "non-FSM"))


def omission_note(omitted: int, threshold: int, what: str = "points",
                  unit: str = "pupils", one: str | None = None) -> str:
    """Return the caption sentence saying what the disclosure threshold left out.

    Parameters
    ----------
    omitted : int
        How many elements were left out.
    threshold : int
        The disclosure threshold.
    what : str
        What the elements are, plural (``"points"``, ``"bars"``, ...).
    unit : str
        What the threshold counts (``"pupils"``, ``"respondents"``).
    one : str, optional
        ``what`` in the singular (default: without its last "s").

    Returns
    -------
    str
        Empty when nothing was left out.

    Examples
    --------
    >>> print(omission_note(2, 10))  # doctest: +NORMALIZE_WHITESPACE
     2 points are not shown: each rests on fewer than 10 pupils or would let a reader work
    out such a count.
    >>> omission_note(1, 10, "bars")[:50]
    ' 1 bar is not shown: it rests on fewer than 10 pup'
    >>> omission_note(1, 10, "local authorities", one="local authority")[:40]
    ' 1 local authority is not shown: it rest'

    One sentence for both reasons: which hidden figure is small and which protects it is
    not said (that would narrow the small one).
    """
    if not omitted:
        return ""
    noun, verb, who = ((one or what.removesuffix("s"), "is", "it") if omitted == 1
                       else (what, "are", "each"))
    return (f" {omitted} {noun} {verb} not shown: {who} rests on fewer than {threshold} {unit} "
            "or would let a reader work out such a count.")


#: Decimals of the gaps tables (``evaluation.report.gaps``): the charts draw what they show.
DECIMALS = 1


def _masked(values: pd.Series, counts: pd.Series, threshold: int,
            hidden: pd.Series | None = None) -> tuple[np.ndarray, int]:
    """Return the values drawn (NaN where left out) and how many present ones were left out.

    Left out: those ``hidden`` flags (the report's table hides them), else those resting on
    fewer than ``threshold`` pupils. Drawn at the table's precision (``DECIMALS``): a rate
    drawn finer, with its pupils, gives the pupils reaching the measure exactly where the
    table gives them only to within its rounding.
    """
    keep = (counts.fillna(0) >= threshold if hidden is None
            else ~pd.Series(np.asarray(hidden, dtype=bool), index=values.index))
    shown = values.where(keep).round(DECIMALS).to_numpy(dtype=float)
    return shown, int((~keep & values.notna()).sum())


def hidden_rows(hidden: pd.DataFrame | None, rows: pd.Index) -> pd.DataFrame | None:
    """Return the flags of ``hidden`` (indexed like the chart's table) for ``rows``."""
    return None if hidden is None else hidden.loc[rows]


def attainment_chart(table: pd.DataFrame, outcome: str, threshold: int,
                     label: str | None = None, measure_name: str | None = None,
                     hidden: pd.DataFrame | None = None) -> Chart:
    """FSM and non-FSM attainment side by side per group, national figures as lines.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`evaluation.gaps.fsm_attainment`.
    outcome : str
        The outcome to draw.
    threshold : int
        Bars resting on fewer pupils are not drawn.
    label : str, optional
        Column naming the groups; the first column of ``table`` by default.
    measure_name : str, optional
        What readers call the outcome (the plan's label); the column name by default.
    hidden : pandas.DataFrame, optional
        True where the report's table hides a figure (``SafeTable.hidden``, indexed like
        ``table``): those are not drawn, whatever their size (a figure hidden to protect
        another gives it away when drawn). Default: the ones resting on fewer than
        ``threshold`` pupils.

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.gaps.pupils import fsm_attainment
    >>> p = pd.DataFrame({"school_id": "a", "cohort": 2010, "phase": "primary",
    ...                   "fsm": [True] * 10 + [False] * 10, "ks2_l4_em": [1.0, 0.0] * 10})
    >>> attainment_chart(fsm_attainment(p), "ks2_l4_em", threshold=10).omitted
    0
    """
    rows = table[table["outcome"] == outcome]
    flags = hidden_rows(hidden, rows.index)
    rows = rows.reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"`outcome` should be one of {sorted(table['outcome'].unique())}; "
                         f"got {outcome!r}")
    label = label or table.columns[0]
    title = measure_name or outcome
    apply_theme()
    # the figure is drawn at its laid-out size, not cropped (Chart.svg): a school's name is
    # wrapped to at most 2.4 inches (the national KS4 file's longest has 83 characters), and
    # each group is given the height of its most lines
    names = [wrap_to(v, 2.4, 9) for v in rows[label].astype(str).fillna("(none)")]
    lines = max((v.count("\n") + 1 for v in names), default=1)
    n = len(rows)
    # one row per group, horizontal bars: long school names stay legible however many there are
    fig = Figure(figsize=(7.5, max(3.0, max(0.36, 0.16 * lines + 0.04) * n + 1.8)))
    ax = fig.subplots()
    y = np.arange(n)
    omitted = 0
    for i, (col, count, name) in enumerate(_GROUPS):
        shown, dropped = _masked(rows[col], rows[count], threshold,
                                 None if flags is None else flags[col])
        omitted += dropped
        ax.barh(y + (i - 0.5) * 0.4, np.nan_to_num(shown), height=0.4, color=COLOURS[name],
                label=name)
    for col, style, name in (("national_fsm", "--", "FSM"), ("national_non_fsm", ":",
                                                              "non-FSM")):
        if col in rows and rows[col].notna().any():
            ax.axvline(rows[col].dropna().iloc[0], color=COLOURS["national"], ls=style,
                       lw=1.2, label=f"national {name}")
    units = _UNITS[rows["units"].iloc[0]]
    ax.set_yticks(y, names, fontsize=9)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_ylabel(label.replace("_", " "))
    ax.set_xlabel(f"{title} ({units})")
    ax.set_title(f"{title}: FSM and non-FSM pupils by {label.replace('_', ' ')}", fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    caption = ("Compare the orange (FSM) and teal (non-FSM) bars: the distance between them is "
               "the gap; dashed lines show the national figures." + omission_note(
                   omitted, threshold, "bars"))
    alt = (f"Bar chart of {title} for FSM and non-FSM pupils in {len(rows)} groups, "
           f"in {units}.")
    return Chart(fig, caption, alt, omitted)


def gap_trend_chart(trends: GapTrends, threshold: int, measure_name: str | None = None,
                    hidden: pd.DataFrame | None = None) -> Chart:
    """FSM and non-FSM lines per year for each group, against the national lines.

    Parameters
    ----------
    trends : GapTrends
        Output of :func:`evaluation.gaps.gap_trends`.
    threshold : int
        Points resting on fewer pupils are not drawn (nor the line segments touching them).
    measure_name : str, optional
        What readers call the measure (the plan's label).
    hidden : pandas.DataFrame, optional
        True where the report's table hides a figure (``SafeTable.hidden``, indexed like
        ``trends.table``): those are not drawn, whatever their size (a figure hidden to protect
        another gives it away when drawn). Default: the ones resting on fewer than
        ``threshold`` pupils.

    Returns
    -------
    Chart
        One panel per group; national lines (black, dashed FSM, dotted non-FSM) in each.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.gaps.pupils import gap_trends
    >>> p = pd.DataFrame({"school_id": "a", "cohort": [2008] * 4 + [2010] * 4,
    ...                   "phase": "primary", "fsm": [True, False] * 4,
    ...                   "ks2_l4_em": [0.0, 1.0] * 4})
    >>> s = pd.DataFrame({"school_id": ["a"], "cluster": ["X"], "role": ["trial"]})
    >>> gap_trend_chart(gap_trends(p, s, "X", "ks2_l4_em"), threshold=2).omitted
    0
    """
    table = trends.table
    national = table[table["group"] == "National"].sort_values("year")
    groups = [g for g in dict.fromkeys(table["group"]) if g != "National"]
    apply_theme()
    fig = Figure(figsize=(max(4.0 * len(groups), 6.0), 4.2))
    axes = fig.subplots(1, len(groups), sharey=True, squeeze=False)
    omitted = 0
    for ax, name in zip(axes[0], groups, strict=True):
        g = table[table["group"] == name].sort_values("year")
        flags = hidden_rows(hidden, g.index)
        for col, n, label in _GROUPS:
            shown, dropped = _masked(g[col], g[n], threshold,
                                     None if flags is None else flags[col])
            omitted += dropped
            ax.plot(g["year"], shown, marker="o", color=COLOURS[label], label=label)
        for col, style, label in (("fsm_value", "--", "FSM"), ("non_fsm_value", ":",
                                                               "non-FSM")):
            if not national.empty:
                ax.plot(national["year"], national[col], ls=style, color=COLOURS["national"],
                        label=f"national {label}")
        ax.set_title(wrap_to(name, fig.get_figwidth() / len(groups) - 0.4, "medium"),
                     fontsize="medium")        # a long cluster name: within its panel
        ax.set_xlabel("year of assessment")
        ax.set_xticks(sorted(table["year"].unique()))
    units = "% of pupils" if trends.measure in THRESHOLDS else "points"
    title = measure_name or trends.measure
    axes[0][0].set_ylabel(textwrap.fill(f"{title} ({units})", 32))
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.suptitle(wrap_to(f"{title}: FSM and non-FSM pupils against national, by year",
                         fig.get_figwidth()))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize="small", frameon=False)
    caption = ("Follow the gap between the orange (FSM) and teal (non-FSM) lines from year to "
               "year, against the black national lines." + omission_note(omitted, threshold))
    alt = (f"Line charts of {title} by year for FSM and non-FSM pupils in "
           f"{', '.join(groups)}, with national lines.")
    return Chart(fig, caption, alt, omitted)


def gap_share_chart(result: GapShare, threshold: int, measure_name: str | None = None,
                    hidden: pd.Series | None = None) -> Chart:
    """Each school's FSM gap against its FSM share, with the fitted line and the bands shaded.

    Parameters
    ----------
    result : GapShare
        Output of :func:`evaluation.gaps.gap_vs_fsm_share`.
    threshold : int
        Schools whose gap rests on fewer FSM or non-FSM pupils are not drawn (the fitted line
        uses every school and is drawn).
    measure_name : str, optional
        What readers call the measure (the plan's label).
    hidden : pandas.Series of bool, optional
        Schools (indexed like ``result.schools``) the report withholds besides (a rate
        giving fewer than ``threshold`` pupils reaching the measure, or not): not drawn.

    Returns
    -------
    Chart

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.gaps.pupils import gap_vs_fsm_share
    >>> rows = [(s, f) for s in "abcd" for f in [True, False] * 10]
    >>> p = pd.DataFrame(rows, columns=["school_id", "fsm"]).assign(
    ...     phase="primary", cohort=2010, ks2_aps=lambda d: 30.0 - 3 * d["fsm"])
    >>> s = pd.DataFrame({"school_id": list("abcd"), "fsm_pct": [2.0, 3.0, 20.0, 30.0]})
    >>> gap_share_chart(gap_vs_fsm_share(p, s, "ks2_aps"), threshold=10).omitted
    0
    """
    t = result.schools
    keep = (t["n_fsm"] >= threshold) & (t["n_non_fsm"] >= threshold)
    if hidden is not None:
        keep &= ~hidden.reindex(t.index).fillna(False).astype(bool)
    omitted = int((~keep).sum())
    apply_theme()
    fig = Figure(figsize=FIGSIZE)
    ax = fig.subplots()
    for label, (low, high) in FSM_BANDS.items():
        if label != "5-18%":
            ax.axvspan(max(low, 0), min(high, max(t["fsm_pct"].max(), 20) + 5),
                       color=COLOURS["comparison"], alpha=0.12, lw=0)
    sizes = 15 + 60 * t.loc[keep, "weight"] / max(t["weight"].max(), 1)
    ax.scatter(t.loc[keep, "fsm_pct"], t.loc[keep, "gap"], s=sizes, color=COLOURS["FSM"],
               alpha=0.45, edgecolor="none", label="school (size: pupils)",
               rasterized=True)  # hundreds of points: an image inside the SVG, text stays text
    xs = np.linspace(0, t["fsm_pct"].max(), 50)
    ax.plot(xs, result.intercept + result.slope * xs, color=COLOURS["national"], lw=2,
            label=f"weighted fit: {signed(result.slope, 2)} points per FSM % point")
    ax.axhline(0, color=COLOURS["comparison"], lw=0.8)
    units = "percentage points" if result.measure in THRESHOLDS else "points"
    ax.set_xlabel("pupils eligible for FSM in the school (%)")
    ax.set_ylabel(f"gap, non-FSM minus FSM ({units})")
    title = measure_name or result.measure
    ax.set_title(f"{title}: school FSM gap against FSM share")
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2,
              frameon=False)
    fig.tight_layout()
    caption = (f"Does the gap shrink as the FSM share rises? Schools over 18% FSM (right band) "
               f"differ from schools under 5% (left band) by {signed(result.difference, 1)} "
               f"{units}." + omission_note(omitted, threshold, "schools"))
    alt = (f"Scatter plot of {len(t) - omitted} schools' FSM gap in {title} against their FSM "
           f"share, with a fitted line of slope {result.slope:z.2f}.")
    return Chart(fig, caption, alt, omitted)

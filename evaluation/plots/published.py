"""Figures of gaps on published DfE files: the gap per school / LA, and gap against share."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evaluation.numbers import signed
from evaluation.plots._chart import Chart
from evaluation.plots._style import COLOURS, FIGSIZE, apply_theme, wrap_to
from evaluation.plots.gaps import omission_note

#: Above this many schools or LAs, the points of a chart are drawn as an image inside the SVG
#: (axes, labels and legend stay text): thousands of SVG points weigh megabytes.
DENSE = 300


def dense(points) -> bool:
    """Whether a chart of these points is drawn as an image (more than ``DENSE`` of them).

    Examples
    --------
    >>> dense(range(10)), dense(range(3000))
    (False, True)
    """
    return len(points) > DENSE


def reference_lines(gaps, most: int = 3):
    """Aggregate rows drawn as reference lines: national rows, and LA / regional rows when few.

    These rows are references, never data: they are not in the school-level summary.
    """
    ref = gaps.reference.dropna(subset=["gap"])
    national = ref[ref["level"] == "national"]
    local = ref[ref["level"] != "national"]
    parts = [local] if len(local) <= most - min(len(national), 1) else []
    out = national.drop_duplicates("gap").head(most - sum(len(p) for p in parts))
    return pd.concat([out, *parts]) if parts else out


def _shown(d: pd.DataFrame, hidden: pd.DataFrame | None, columns) -> pd.DataFrame:
    """Return the rows of ``d`` whose ``columns`` the report's table shows."""
    if hidden is None:
        return d
    flags = hidden.reindex(d.index)[[c for c in columns if c in hidden]]
    return d[~flags.fillna(False).astype(bool).any(axis=1).to_numpy()]


def gap_distribution_chart(gaps, hidden: pd.DataFrame | None = None,
                           threshold: int | None = None) -> Chart:
    """Each unit's gap with its 95% interval, sorted, with the reference rows as lines.

    Parameters
    ----------
    gaps : evaluation.gaps.published.UnitGaps
        Gaps per school or LA.
    hidden : pandas.DataFrame, optional
        True where the report's table hides a figure (``SafeTable.hidden``, indexed like
        ``gaps.table``): a unit whose gap is hidden is not drawn.
    threshold : int, optional
        The disclosure threshold the caption names, with ``hidden``.

    Returns
    -------
    Chart

    Examples
    --------
    >>> from evaluation.gaps.published import unit_gaps
    >>> from evaluation.io.dfe import FIXTURES, read_performance_tables
    >>> g = unit_gaps(read_performance_tables(FIXTURES / "2021-2022_999_ks2final.csv"))
    >>> gap_distribution_chart(g).caption[:8]
    'Each dot'
    """
    apply_theme()
    shown = _shown(gaps.estimable, hidden, ["gap", "gap_lower", "gap_upper"])
    d = shown.sort_values("gap").reset_index(drop=True)
    fig = Figure(figsize=FIGSIZE)
    ax = fig.subplots()
    x = np.arange(len(d))
    unit = getattr(gaps, "unit", "pp")
    if d["gap_lower"].notna().any():
        ax.vlines(x, d["gap_lower"], d["gap_upper"], color=COLOURS["FSM"], alpha=0.35, lw=1,
                  rasterized=dense(d))
    ax.plot(x, d["gap"], "o", ms=3, color=COLOURS["FSM"], label=f"{gaps.unit_label} gap",
            rasterized=dense(d))
    ax.axhline(0, color="grey", lw=0.8)
    styles = iter(["--", ":", "-.", (0, (5, 1))])
    for _, row in reference_lines(gaps).iterrows():
        ax.axhline(row["gap"], color=COLOURS["national"], ls=next(styles), lw=1,
                   label=f"{row['name']}: {row['gap']:z.0f} {unit}")
    ax.set_title(f"Gap between {gaps.group} and other pupils, per {gaps.unit_label}", pad=12)
    ax.set_xlabel(f"{gaps.unit_plural.capitalize()}, sorted by gap (n = {len(d)})")
    ax.set_ylabel(f"Gap ({gaps.unit_words}, other minus group)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    n_out = len(gaps.table) - len(gaps.estimable)
    interval = " with its 95% interval" if d["gap_lower"].notna().any() else ""
    caption = (f"Each dot is one {gaps.unit_label}'s published gap{interval}; "
               f"{n_out} {gaps.unit_plural} without both rates published are not plotted."
               + omission_note(len(gaps.estimable) - len(d), threshold, gaps.unit_plural,
                             one=gaps.unit_label))
    alt = (f"Sorted gaps of {len(d)} {gaps.unit_plural}, from {d['gap'].min():z.0f} to "
           f"{d['gap'].max():z.0f} {gaps.unit_words}, median {d['gap'].median():z.0f}.")
    return Chart(fig, caption, alt)


def gap_share_chart(gaps, slope, hidden: pd.DataFrame | None = None,
                    threshold: int | None = None) -> Chart:
    """Gap against the share of the group, with the weighted fitted line and its 95% band.

    Parameters
    ----------
    gaps : evaluation.gaps.published.UnitGaps
        Gaps per school or LA.
    slope : evaluation.gaps.published.GapSlope
        The fitted weighted regression (on every unit: a model of thousands, not a figure
        of one).
    hidden : pandas.DataFrame, optional
        As in :func:`gap_distribution_chart`: a unit whose gap, share or group count is
        hidden is not drawn (its dot's size would give the count).
    threshold : int, optional
        As in :func:`gap_distribution_chart`.

    Returns
    -------
    Chart

    Examples
    --------
    >>> from evaluation.gaps.published import gap_vs_share, unit_gaps
    >>> from evaluation.io.dfe import FIXTURES, read_performance_tables
    >>> g = unit_gaps(read_performance_tables(FIXTURES / "2021-2022_999_ks2final.csv"))
    >>> gap_share_chart(g, gap_vs_share(g)).figure.axes[0].get_xlabel()[:5]
    'Share'
    """
    apply_theme()
    every = gaps.estimable.dropna(subset=["share"])
    d = _shown(every, hidden, ["gap", "share", "n_group"])
    fig = Figure(figsize=FIGSIZE)
    ax = fig.subplots()
    counts = d["n_group"].astype("float64")
    sized = counts.notna().all()
    size = 8 + 60 * np.sqrt(counts / counts.max()) if sized else 12
    ax.scatter(d["share"], d["gap"], s=size, color=COLOURS["FSM"], alpha=0.5,
               edgecolor="white", lw=0.5, rasterized=dense(d),
               label=f"{gaps.unit_label} (size: {gaps.group} pupils)" if sized
               else gaps.unit_label)
    grid = np.linspace(d["share"].min(), d["share"].max(), 50)
    pred = slope.results.get_prediction(np.column_stack([np.ones_like(grid), grid]))
    band = pred.conf_int()
    ax.plot(grid, pred.predicted_mean, color=COLOURS["national"], lw=1.5,
            label=f"fit: {signed(slope.slope, 1)} {gaps.unit} per 10 pp share")
    ax.fill_between(grid, band[:, 0], band[:, 1], color=COLOURS["national"], alpha=0.15)
    ax.axhline(0, color="grey", lw=0.8)
    shares = gaps.reference[(gaps.reference["level"] == "national") & gaps.reference["gap"].isna()
                            & gaps.reference["share"].notna()]
    for _, row in shares.head(2).iterrows():  # a share-only reference (e.g. the census's)
        ax.axvline(row["share"], color=COLOURS["national"], ls="--", lw=1,
                   label=f"{row['name'].split(' (')[0]}: {row['share']:z.1f}%")
    ax.set_title(f"Gap against share of {gaps.group} pupils, per {gaps.unit_label}")
    # beside the legend, the axes has a little over half the figure's width
    ax.set_xlabel(wrap_to(getattr(gaps, "share_label", "") or f"Share of {gaps.group} pupils "
                          "(%)", 0.55 * FIGSIZE[0], mpl.rcParams["axes.labelsize"]))
    ax.set_ylabel(f"Gap ({gaps.unit_words})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    caption = (f"A downward line means smaller gaps where more pupils are {gaps.group}: "
               f"{signed(slope.slope, 1)} {gaps.unit} per 10 points (95% CI "
               f"{signed(slope.lower, 1)} to {signed(slope.upper, 1)}), n = {slope.n}."
               + omission_note(len(every) - len(d), threshold, gaps.unit_plural,
                             one=gaps.unit_label))
    alt = (f"Scatter of {len(d)} {gaps.unit_plural}' gaps (of {slope.n} fitted) against their "
           f"{gaps.group} share "
           f"with a fitted line of slope {signed(slope.slope, 1)} points per 10 points of share.")
    return Chart(fig, caption, alt)


def gap_trend_chart(trend: pd.DataFrame, unit: str = "pp", group: str = "disadvantaged") -> Chart:
    """Draw the national gap and the mean school gap (with its 95% interval) by year.

    Parameters
    ----------
    trend : pandas.DataFrame
        :func:`evaluation.gaps.published.gap_trend`.
    unit : str
        ``pp`` or ``points``.
    group : str
        The group's name, for labels.

    Returns
    -------
    Chart

    Examples
    --------
    >>> t = pd.DataFrame({"year": ["2017", "2018"], "units": [10, 11], "mean": [6.0, 5.0],
    ...                   "mean_lower": [5.0, 4.0], "mean_upper": [7.0, 6.0],
    ...                   "national_gap": [8.0, 7.0]})
    >>> gap_trend_chart(t).alt[:14]
    'Gap by year, 2'
    """
    apply_theme()
    fig = Figure(figsize=FIGSIZE)
    ax = fig.subplots()
    x = np.arange(len(trend))
    ax.errorbar(x, trend["mean"], yerr=[trend["mean"] - trend["mean_lower"],
                                        trend["mean_upper"] - trend["mean"]],
                fmt="o-", color=COLOURS["FSM"], capsize=3, label="mean gap across schools")
    if trend["national_gap"].notna().any():
        ax.plot(x, trend["national_gap"], "s--", color=COLOURS["national"],
                label="national row of the file")
    ax.set_xticks(x, trend["year"].astype(str))
    ax.set_ylim(bottom=0)
    ax.set_title(f"Gap between {group} and other pupils, by year")
    ax.set_ylabel(f"Gap ({'percentage points' if unit == 'pp' else 'points'})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    caption = ("Dots: the mean gap across schools with its 95% interval (schools only); "
               "squares: the national row the Department publishes in each year's file.")
    first, last = trend.iloc[0], trend.iloc[-1]
    alt = (f"Gap by year, {first['year']} to {last['year']}: mean school gap from "
           f"{first['mean']:z.1f} to {last['mean']:z.1f} {unit}.")
    return Chart(fig, caption, alt)

"""Forest plot of impact estimates: effect sizes with 95% CIs per outcome."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evaluation.numbers import signed
from evaluation.plots._chart import Chart
from evaluation.plots._style import COLOURS, FIGSIZE, apply_theme
from evaluation.plots.gaps import omission_note

#: Effect sizes beyond this many SD are cut at the plot's edge (marked; the table has them).
AXIS_LIMIT = 2.0


#: Decimals of effect sizes wherever a reader sees them (tables, text): the plot draws the same.
DECIMALS = 2


def forest_plot(table: pd.DataFrame, title: str = "Impact of Extra Mile on each outcome",
                threshold: int = 10, mdes: float | None = None,
                hidden: pd.Series | None = None) -> Chart:
    """Forest plot: effect size and 95% CI of every row of an impact table, and a zero line.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows of ``ImpactResult.table()`` (or rows of the same columns, such as the clusters'
        headline rows): ``label``, ``effect_size``, ``es_ci_low``, ``es_ci_high``,
        ``es_type``, ``months``, ``n_em``, ``n_comparison`` and ``informative``.
    title : str
        Figure title.
    threshold : int
        Disclosure threshold: rows resting on fewer EM or comparison pupils are left out
        (and counted in ``Chart.omitted``); rows not estimable or not informative are named
        in the caption instead of drawn. Intervals reaching beyond +/-``AXIS_LIMIT`` SD are
        cut at the edge of the plot with an arrow, so that the other rows stay readable.
    mdes : float, optional
        The minimum detectable effect size to shade around zero (the headline outcome's).
    hidden : pandas.Series of bool, optional
        Rows (indexed like ``table``) whose table row the report hides: not drawn, counted
        with the small ones. Every value is drawn at the table's two decimals.

    Returns
    -------
    evaluation.plots.Chart

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["KS2 APS"], "effect_size": [0.1], "es_ci_low": [-0.1],
    ...     "es_ci_high": [0.3], "es_type": ["Hedges' g"], "n_em": [50], "n_comparison": [400],
    ...     "months": [1], "informative": [True]})
    >>> forest_plot(t).data[["label", "x", "low", "high"]].values.tolist()
    [['KS2 APS', 0.1, -0.1, 0.3]]
    """
    small = (table["n_em"].fillna(0) < threshold) | (table["n_comparison"].fillna(0) < threshold)
    if hidden is not None:
        small |= hidden.reindex(table.index).fillna(False).astype(bool)
    table = table.assign(**{c: table[c].round(DECIMALS)
                            for c in ("effect_size", "es_ci_low", "es_ci_high")})
    mdes = None if mdes is None else round(float(mdes), DECIMALS)
    useless = ~table["informative"].fillna(False).astype(bool)
    missing = (table["effect_size"].isna() | useless) & ~small
    shown = table[~small & ~missing].iloc[::-1]
    apply_theme()
    fig = Figure(figsize=(FIGSIZE[0], max(2.5, 0.75 * len(shown) + 1.5)))
    ax = fig.subplots()
    y = np.arange(len(shown))
    lim = AXIS_LIMIT
    raw = shown["effect_size"].to_numpy(float)
    lo, hi = shown["es_ci_low"].to_numpy(float), shown["es_ci_high"].to_numpy(float)
    est = np.clip(raw, -lim, lim)
    cut_lo, cut_hi = lo < -lim, hi > lim
    err = np.vstack([est - np.clip(lo, -lim, lim), np.clip(hi, -lim, lim) - est])
    ax.errorbar(est, y, xerr=err, fmt="o", color=COLOURS["EM"], ecolor=COLOURS["EM"], capsize=3,
                label="effect size, 95% CI")
    ax.axvline(0, color=COLOURS["national"], linewidth=1)
    cut = cut_lo | cut_hi
    if cut.any():
        ax.plot(np.full(cut_lo.sum(), -lim), y[cut_lo], marker="<", linestyle="none",
                color=COLOURS["EM"])
        ax.plot(np.full(cut_hi.sum(), lim), y[cut_hi], marker=">", linestyle="none",
                color=COLOURS["EM"])
        ax.set_xlim(-lim * 1.05, lim * 1.05)
    if mdes is not None and np.isfinite(mdes):
        ax.axvspan(-mdes, mdes, color=COLOURS["comparison"], alpha=0.12,
                   label=f"within \u00b1MDES of the headline outcome ({mdes:z.2f})")
    labels = [textwrap.fill(str(r["label"]), 30) + f"\n({r['es_type']}"
              + (f", {signed(r['months'], 0)} months)" if pd.notna(r.get("months")) else ")")
              for _, r in shown.iterrows()]
    ax.set_yticks(y, labels)
    ax.set_xlabel("Effect size (standard deviations; Hedges' g or Cox index)")
    ax.set_ylabel("")
    ax.set_title(title)
    ax.set_ylim(-0.6, len(shown) - 0.4)
    # one column: two entries side by side are wider than the axes beside long row labels,
    # and would reach beyond the figure (it is drawn at its laid-out size, not cropped)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=1, fontsize="small",
              frameon=False)
    fig.tight_layout()
    caption = ("Points right of the zero line favour EM pupils; intervals crossing zero are "
               "compatible with no effect.")
    if mdes is not None and np.isfinite(mdes):
        caption += (" Effects inside the shaded band are below what this sample can reliably "
                    "detect.")
    if cut.any():
        caption += (f" {int(cut.sum())} interval(s) reach beyond \u00b1{lim:g} SD and are cut "
                    "at the edge (arrows); the table gives them in full.")
    if missing.any():
        caption += (" Not estimable or not informative, so not drawn: "
                    + ", ".join(table.loc[missing, "label"].astype(str)) + ".")
    caption += omission_note(int(small.sum()), threshold, "rows")
    alt = "Forest plot of effect sizes with 95% confidence intervals: " + "; ".join(
        f"{r['label']} {r['effect_size']:z.2f} ({r['es_ci_low']:z.2f} to {r['es_ci_high']:z.2f})"
        for _, r in shown.iloc[::-1].iterrows())
    data = pd.DataFrame({"label": shown["label"].astype(str).to_numpy()[::-1],
                         "series": "effect size", "x": raw[::-1], "low": lo[::-1],
                         "high": hi[::-1]})
    return Chart(fig, caption, alt, omitted=int(small.sum()), data=data)

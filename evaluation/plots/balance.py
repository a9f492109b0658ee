"""Love plot: absolute standardised mean differences before and after matching."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from evaluation.plots._chart import Chart
from evaluation.plots._style import COLOURS, apply_theme

THRESHOLDS = (0.05, 0.1)


def love_plot(balance_summary) -> Chart:
    """Love plot of |SMD| per covariate (and categorical level), before and after matching.

    Open grey circles are the unmatched sample, filled purple the matched one; dashed lines
    at 0.05 (What Works Clearinghouse: equivalent) and 0.1 (a common rule of thumb), as
    MatchIt's ``plot(summary(m))`` draws them. Covariates are sorted by their imbalance
    before matching.

    Parameters
    ----------
    balance_summary : BalanceSummary
        From :func:`evaluation.balance.balance`.

    Returns
    -------
    Chart
        The figure with caption and alt text (nothing is omitted: balance statistics are
        not counts of pupils).

    Examples
    --------
    >>> love_plot(balance(result))  # doctest: +SKIP
    """
    import seaborn as sns

    apply_theme()
    tab = balance_summary.table.copy()
    tab["label"] = [v if lv is None or pd.isna(lv) else f"{v}: {lv}"
                    for v, lv in zip(tab["variable"], tab["level"], strict=True)]
    tab["abs_smd"] = tab["smd"].abs()
    tab["Sample"] = tab["stage"].map({"before": "before matching", "after": "after matching"})
    order = (tab[tab["stage"] == "before"].sort_values("abs_smd", ascending=False)["label"]
             .tolist())
    fig = Figure(figsize=(7.5, max(2.5, 0.32 * len(order) + 1.5)))
    ax = fig.subplots()
    palette = {"before matching": COLOURS["comparison"], "after matching": COLOURS["EM"]}
    sns.scatterplot(data=tab, x="abs_smd", y="label", hue="Sample", style="Sample",
                    markers={"before matching": "o", "after matching": "D"},
                    palette=palette, s=60, ax=ax, hue_order=list(palette))
    for x, style in zip(THRESHOLDS, (":", "--"), strict=True):
        ax.axvline(x, color=COLOURS["national"], linestyle=style, linewidth=1)
    ax.set_yticks(range(len(order)), order) if order else None
    ax.set_xlabel("Absolute standardised mean difference (treated-group SD units)")
    ax.set_ylabel("Characteristic")
    ax.set_xlim(left=0)
    ax.set_title("Covariate balance before and after matching")
    after = tab[tab["stage"] == "after"]
    worst = after.loc[after["abs_smd"].idxmax()] if after["abs_smd"].notna().any() else None
    n_ok = int((after["abs_smd"] <= 0.05).sum())
    caption = (f"After matching {n_ok} of {len(after)} characteristics are within 0.05 SD "
               "(left of the dotted line)")
    caption += (f"; the largest difference is {worst['label']} ({worst['abs_smd']:.2f} SD)."
                if worst is not None else ".")
    alt = ("Dot plot of the absolute standardised mean difference of each characteristic "
           "between EM and comparison pupils, before and after matching, with reference "
           "lines at 0.05 and 0.1. " + caption)
    return Chart(fig, caption, alt, omitted=0)

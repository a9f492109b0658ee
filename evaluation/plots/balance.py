"""Love plot: absolute standardised mean differences before and after matching."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evaluation.balance import SMD_DECIMALS, WWC_BANDS
from evaluation.plots._chart import Chart
from evaluation.plots._style import COLOURS, apply_theme

#: The reference lines: the What Works Clearinghouse limits of the balance table's bands
#: (``evaluation.balance.WWC_BANDS``), one source for the lines, the caption and the alt text.
THRESHOLDS = tuple(bound for bound, _ in WWC_BANDS if np.isfinite(bound))
#: How each stage is drawn: hollow grey circles before matching, filled purple diamonds after.
STAGES = {"before": ("before matching", "o", "none", COLOURS["comparison"], 0.15),
          "after": ("after matching", "D", COLOURS["EM"], COLOURS["EM"], -0.15)}


def love_plot(table: pd.DataFrame) -> Chart:
    """Love plot of |SMD| per characteristic (and categorical level), before and after matching.

    Hollow grey circles are the unmatched sample, filled purple diamonds the matched one, each
    a little above and below its characteristic's row so that neither hides the other;
    dotted and dashed lines at the What Works Clearinghouse limits the balance table uses
    (``THRESHOLDS``: 0.05, equivalent; 0.25, above which a comparison fails the standard).
    Characteristics are sorted by their imbalance before matching, the largest at the top.
    Each point is placed at the row of its own label (``Chart.data`` holds what is drawn),
    at the table's precision (``SMD_DECIMALS``).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per characteristic: ``label``, ``smd_before``, ``smd_after`` (as the balance
        table shown beside the plot).

    Returns
    -------
    Chart

    Examples
    --------
    >>> t = pd.DataFrame({"label": ["Prior attainment", "FSM"], "smd_before": [-0.83, 1.61],
    ...                   "smd_after": [-0.05, 0.02]})
    >>> love_plot(t).data.query("series == 'before matching'")["label"].tolist()
    ['FSM', 'Prior attainment']
    """
    apply_theme()
    order = table.assign(key=table["smd_before"].abs()).sort_values("key", ascending=False,
                                                                      kind="stable")
    labels = order["label"].tolist()
    fig = Figure(figsize=(7.5, max(2.5, 0.32 * len(labels) + 1.5)))
    ax = fig.subplots()
    y = np.arange(len(labels))[::-1]   # the first (largest) at the top
    drawn = []
    for stage, (series, mark, face, edge, shift) in STAGES.items():
        # drawn as the table shows them: finer positions would give the shares back
        x = order[f"smd_{stage}"].abs().round(SMD_DECIMALS).to_numpy(float)
        ax.scatter(x, y + shift, marker=mark, s=50, facecolors=face, edgecolors=edge,
                   linewidths=1.4, label=series, zorder=3)
        drawn.append(pd.DataFrame({"label": labels, "series": series, "x": x}))
    for x, style in zip(THRESHOLDS, (":", "--"), strict=True):
        ax.axvline(x, color=COLOURS["national"], linestyle=style, linewidth=1)
    ax.set_yticks(y, labels)
    ax.set_xlabel("Absolute standardised mean difference (treated-group SD units)")
    ax.set_ylabel("Characteristic")
    ax.set_xlim(left=0)
    ax.set_title("Covariate balance before and after matching")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    after = order["smd_after"].abs().round(SMD_DECIMALS)
    low, high = THRESHOLDS
    n_ok = int((after <= low).sum())
    n_fail = int((after > high).sum())
    caption = (f"After matching {n_ok} of {len(after)} characteristics are within {low:g} SD "
               f"(left of the dotted line) and {n_fail} {'is' if n_fail == 1 else 'are'} "
               "above the What Works "
               f"Clearinghouse limit of {high:g} SD (right of the dashed line)")
    if after.notna().any():
        worst = order.loc[after.idxmax()]
        caption += (f"; the largest difference is {worst['label']} "
                    f"({abs(worst['smd_after']):z.2f} SD).")
    else:
        caption += "."
    alt = ("Dot plot of the absolute standardised mean difference of each characteristic "
           "between EM and comparison pupils, before and after matching, with reference "
           f"lines at the What Works Clearinghouse limits, {low:g} (dotted) and {high:g} "
           "(dashed). " + caption)
    return Chart(fig, caption, alt, omitted=0, data=pd.concat(drawn, ignore_index=True))

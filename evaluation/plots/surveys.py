"""Survey figure: baseline and follow-up mean per item, items down the side (a dumbbell plot)."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from evaluation.plots._chart import Chart
from evaluation.plots._style import COLOURS, apply_theme
from evaluation.plots.gaps import omission_note
from evaluation.surveys import SurveyResult

_WAVES = (("baseline", "baseline"), ("follow_up", "follow-up"))


def survey_dumbbell(result: SurveyResult, threshold: int, group=None,
                    hidden: pd.DataFrame | None = None) -> Chart:
    """Baseline and follow-up means per item joined by a line, items down the side.

    Parameters
    ----------
    result : SurveyResult
        Output of :func:`evaluation.surveys.survey_change`.
    threshold : int
        A mean resting on fewer respondents is not drawn, nor the line joining it.
    group : optional
        Which group to draw when the result is grouped (``result.by``); required then.
    hidden : pandas.DataFrame, optional
        True where the report's table hides a figure (``SafeTable.hidden``, indexed like
        ``result.table``): those means are not drawn and a hidden p-value marks no item,
        whatever their size. Default: means resting on fewer than ``threshold`` respondents.

    Returns
    -------
    Chart
        Items marked ``*`` have a Holm-adjusted p-value below ``result.alpha``.

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.surveys import survey_change
    >>> s = pd.DataFrame({"respondent_id": [str(i) for i in range(12)] * 2, "school_id": "x",
    ...                   "instrument": "pupil", "wave": ["baseline"] * 12 + ["follow_up"] * 12,
    ...                   "item": "p01", "score": [5.0, 6.0] * 6 + [7.0, 8.0] * 6})
    >>> survey_dumbbell(survey_change(s, "pupil"), threshold=10).omitted
    0
    """
    t = result.table
    if result.by is not None:
        groups = sorted(t[result.by].unique().tolist())
        if group not in groups:
            raise ValueError(f"`group` should be one of {groups} (result grouped by "
                             f"{result.by!r}); got {group!r}")
        t = t[t[result.by] == group]
    flags = (pd.DataFrame(False, index=t.index, columns=t.columns) if hidden is None
             else hidden.loc[t.index]).iloc[::-1].reset_index(drop=True)
    t = t.iloc[::-1].reset_index(drop=True)  # first item at the top
    y = np.arange(len(t))
    shown = {}
    omitted = 0
    for wave, _ in _WAVES:
        keep = (t[f"n_{wave}"] >= threshold if hidden is None
                else ~flags[f"mean_{wave}"].astype(bool))
        shown[wave] = t[f"mean_{wave}"].where(keep).round(2)   # as the table shows them
        omitted += int((~keep & t[f"mean_{wave}"].notna()).sum())
    apply_theme()
    fig = Figure(figsize=(8.0, 0.45 * len(t) + 1.6))
    ax = fig.subplots()
    ax.hlines(y, shown["baseline"], shown["follow_up"], color=COLOURS["comparison"], lw=2,
              zorder=1)
    for wave, label in _WAVES:
        ax.scatter(shown[wave], y, s=55, color=COLOURS[wave], label=label, zorder=2)
    star = np.where((t["p_holm"] < result.alpha) & ~flags["p_holm"].astype(bool), " *", "")
    labels = [textwrap.shorten(f"{w}{s}", 60) for w, s in zip(t["wording"], star, strict=True)]
    ax.set_yticks(y, labels)
    ax.set_xlim(1, 10)
    ax.set_xlabel("mean score, 1-10 (10 = agree completely)")
    where = f" ({group})" if group is not None else ""
    ax.set_title(f"{result.instrument.capitalize()} survey{where}: baseline and follow-up")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    fig.tight_layout()
    caption = ("Read each row from the light (baseline) to the dark (follow-up) dot: rightwards "
               "means stronger agreement; * marks a change significant after Holm adjustment."
               + omission_note(omitted, threshold, "means", "respondents"))
    alt = (f"Dumbbell chart of {len(t)} {result.instrument} survey items: mean score at "
           f"baseline and follow-up on a 1 to 10 scale.")
    return Chart(fig, caption, alt, omitted)

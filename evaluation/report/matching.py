"""The matched comparison: sample sizes, balance before and after (one row each), love plot."""

from __future__ import annotations

import pandas as pd

from evaluation.balance import SMD_DECIMALS, BalanceSummary
from evaluation.plan import Plan
from evaluation.plots.balance import love_plot
from evaluation.report.comparison import describe_spec
from evaluation.report.display import Notice, Section
from evaluation.report.tables import (
    balance_hidden_text,
    count_withheld,
    safe_table,
    scope_name,
    threshold,
    withheld,
)
from evaluation.results import EvaluationResult


def balance_rows(bal: BalanceSummary, plan: Plan) -> pd.DataFrame:
    """One row per characteristic (or level of a categorical one): SMD before and after.

    Returns
    -------
    pandas.DataFrame
        ``label`` (the plan's label, with the level after a colon), ``smd_before``,
        ``smd_after``, ``wwc_band`` (after matching), in the balance table's order.

    Examples
    --------
    >>> balance_rows(res.phases["secondary"].balance, res.plan)  # doctest: +SKIP
    """
    tab = bal.table.assign(level=bal.table["level"].fillna(""))
    keys = ["variable", "level"]
    before = tab[tab["stage"] == "before"].set_index(keys)
    after = tab[tab["stage"] == "after"].set_index(keys)
    wide = pd.DataFrame({"smd_before": before["smd"], "smd_after": after["smd"],
                         "wwc_band": after["wwc_band"]}).reset_index()
    wide.insert(0, "label", [plan.covariate_label(v) + (f": {lv}" if lv else "")
                             for v, lv in zip(wide["variable"], wide["level"], strict=True)])
    return wide.drop(columns=keys)


def _cell_hidden(res: EvaluationResult, phase: str, who: str, row: str) -> bool:
    """Whether a cell of the matching table is hidden.

    The "All" row as the phase's count; the others as the linked counts hide them (a zero is
    shown: hiding it would tell a reader it is at least 1), as the data-quality table and the
    flow diagram do (seventh review of issue 14: "Unmatched c" here beside "not matched: 20"
    there); without linked counts, as the phase's count.
    """
    if row == "All":
        return count_withheld(res, phase, who)
    key = (f"{who}_{str(row).lower()}", scope_name(res), phase)
    if res.linked is not None and key in res.linked.values:
        return res.linked.hidden(key)
    return withheld(res, phase, who)


def matched_comparison(res: EvaluationResult) -> Section:
    """Who was compared with whom: sample sizes, balance before and after, love plot."""
    words = describe_spec(res.plan.main_spec(), res.plan)
    weights = (f"Comparison pupils are {words.weights} (MatchIt's weights for the effect on EM "
               "pupils)." if words.weights else "Comparison pupils are not weighted: each "
               "counts once.")
    parts = [f"Main analysis: {words.label}. {words.matching} {weights} Balance is the "
             "standardised mean difference (SMD) of each characteristic; the What Works "
             "Clearinghouse asks for at most 0.05 SD, or at most 0.25 SD with adjustment in the "
             "outcome model (which we do)."]
    if res.scope == "overall":   # a caliper's width, for one, follows the pupils matched
        parts.append("This report matches all programme schools' pupils together; each "
                     "cluster's report matches its own schools' pupils, so the clusters' "
                     "matched and unmatched pupils need not add up to the ones here.")
    t = threshold(res.plan)
    for phase, pe in res.phases.items():
        parts.append(f"{phase.capitalize()} phase.")
        if not pe.estimable:
            parts.append(Notice(f"No matched comparison: {pe.not_estimable}", "not estimable"))
            continue
        counts = pe.match.counts.reset_index(names="Sample")
        who = {"Treated": "em", "Control": "comparison"}
        # each cell as the linked counts hide it (evaluation.linked: matched + unmatched +
        # discarded = all, in every report), the "All" row as the phase's count
        # a zero stays shown even in a withheld phase (hiding it would tell a reader it is at
        # least 1, and so that the phase's withheld count is at least 2)
        hide = {c: [_cell_hidden(res, phase, who[c], row) and not (row != "All" and v == 0)
                    for row, v in zip(counts["Sample"], counts[c], strict=True)]
                for c in counts.columns if c in who}
        parts.append(safe_table(res.plan, counts, {c: c for c in counts.columns
                                                   if c != "Sample"}, hide=hide))
        hidden = balance_hidden_text(res, pe)
        if hidden:
            parts.append(Notice(hidden, "note"))
            continue
        rows = balance_rows(pe.balance, res.plan)
        small = pe.balance_withheld
        shown = rows.rename(columns={"label": "Characteristic", "smd_before": "SMD before",
                                     "smd_after": "SMD after", "wwc_band": "WWC band (after)"})
        parts.append(safe_table(res.plan, shown, decimals=SMD_DECIMALS,   # as text quotes them
                                hide={c: list(small) for c in ("SMD before", "SMD after",
                                                               "WWC band (after)")}))
        parts.append(love_plot(rows[~small]))
        if small.any():
            where = (", here or in the report of a cluster whose pupils these include,"
                     if res.scope == "overall" else "")
            parts.append(Notice(f"{int(small.sum())} characteristic(s) shared by fewer than "
                                f"{t} pupils of a group (or lacked by fewer than {t}){where} "
                                "are not shown: their balance would tell how many pupils have "
                                "them.", "note"))
    return Section("The matched comparison", "matching", parts)

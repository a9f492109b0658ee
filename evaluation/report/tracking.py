"""Termly class tracking: FSM pupils' average point score against the class."""

from __future__ import annotations

import pandas as pd

from evaluation.plots.tracking import class_gap_chart, closing_chart
from evaluation.report.display import Notice, Section
from evaluation.report.tables import hidden_flags, safe_table, scope_name, threshold
from evaluation.results import EvaluationResult
from evaluation.tracking import COUNTS, SUMMARY_COUNTS

LABELS = {"school": "School", "class_id": "Class", "subject": "Subject", "term": "Term",
          "fsm_aps": "FSM pupils' APS", "class_aps": "Whole class APS", "gap": "Gap",
          "closing": "Gap closing", "n_fsm": "FSM pupils", "n_class": "Pupils in class"}
SUMMARY_LABELS = {"subject": "Subject", "start": "From", "end": "To", "n_classes": "Classes",
                  "n_classes_closing": "Classes closing the gap",
                  "share_classes_closing": "Share of classes closing (%)",
                  "n_classes_excluded": "Classes without a gap at both ends",
                  "n_schools": "Schools", "n_schools_closing": "Schools closing the gap",
                  "share_schools_closing": "Share of schools closing (%)",
                  "n_fsm": "FSM pupils"}


def _dominance(res: EvaluationResult, table) -> dict:
    """Return the APS means' pupil scores, for the N-K and p-ratio rules (issue 14)."""
    from evaluation.disclosure_cells import cell_contributions

    d = res.data.tracking
    keys = table[["school_id", "class_id", "subject", "term"]]
    fsm = d["fsm"].astype(bool)
    rest = None if res.tracking.comparison == "whole_class" else ~fsm
    return {"contributions": {"fsm_aps": cell_contributions(d, keys, "aps", fsm),
                              "class_aps": cell_contributions(d, keys, "aps", rest)},
            "together": {"fsm_aps": ["gap", "closing"], "class_aps": ["gap", "closing"]}}


def _class_table(res: EvaluationResult) -> tuple:
    """Return the class table as shown and, per row, whether its gap is hidden."""
    table = res.tracking.table
    names = dict(zip(res.data.schools["school_id"], res.data.schools["school_name"],
                     strict=True))
    shown = table.assign(school=table["school_id"].map(names))   # schools name classes alike
    cols = [c for c in LABELS if c in shown.columns]
    cells = list(zip(table["school_id"], table["class_id"], table["subject"], table["term"],
                     strict=True))
    hide = {"n_fsm": [res.hidden(("class_fsm", *k)) for k in cells],
            "n_class": [res.hidden(("class_n", *k)) for k in cells]}
    safe = safe_table(res.plan, shown[cols], COUNTS, labels=LABELS, hide=hide,
                      **_dominance(res, table))
    # "closing" compares a term's gap with the term before's: beside a hidden gap, it
    # bounds that gap by the shown one (issue 14)
    gap_hidden = pd.Series(hidden_flags(safe, table)["gap"].to_numpy(), index=table.index)
    before = gap_hidden.groupby([table["school_id"], table["class_id"], table["subject"]],
                                sort=False).shift(1, fill_value=False)
    if before.any():
        safe = safe_table(res.plan, shown[cols], COUNTS, labels=LABELS,
                          hide={**hide, "closing": before.to_numpy(dtype=bool)},
                          **_dominance(res, table))
    return safe, gap_hidden


def _any_hidden_counted(table, gap_hidden, subject, start, end) -> bool:
    """Whether a class counted over the period (a gap at both ends) has either gap hidden."""
    rows = table[(table["subject"] == subject) & table["term"].isin([start, end])
                 & table["gap"].notna()]
    ends = rows.groupby(["school_id", "class_id"])["term"].transform("nunique") == 2
    return bool(gap_hidden[rows.index[ends.to_numpy()]].any())


def tracking(res: EvaluationResult) -> Section:
    """Termly class tracking: FSM pupils' average point score against the class."""
    parts = ["Termly average point scores of FSM pupils against their whole class (the 2013 "
             "National College layout). The gap is the FSM figure minus the class figure; "
             "'closing' means smaller than the term before."]
    if res.tracking is None:
        return Section("Termly tracking", "tracking",
                       parts + [Notice("No termly tracking data for these schools.")])
    t = threshold(res.plan)
    classes, gap_hidden = _class_table(res)
    if res.tracking.summary.empty:      # one term tracked: no period to close a gap over
        return Section("Termly tracking", "tracking", parts + [
            Notice("Only one term is tracked, so no period over which a gap could close.",
                   "note"), classes,
            class_gap_chart(res.tracking.table, t,
                            hidden=hidden_flags(classes, res.tracking.table))])
    summary = res.tracking.summary.assign(
        share_classes_closing=100 * res.tracking.summary["share_classes_closing"],
        share_schools_closing=100 * res.tracking.summary["share_schools_closing"])
    scope = scope_name(res)   # counts another report or table would give away stay hidden
    periods = list(zip(summary["subject"], summary["start"], summary["end"], strict=True))
    # a period's classes (or schools: one class each, often) closing the gap, less the classes
    # a reader sees closing, would tell whether those whose gap is hidden closed it (fourth
    # and fifth reviews of issue 14)
    unknown = [_any_hidden_counted(res.tracking.table, gap_hidden, *k) for k in periods]
    safe = safe_table(res.plan, summary, SUMMARY_COUNTS, labels=SUMMARY_LABELS, decimals=0,
                      hide={"n_fsm": [res.hidden(("track_fsm", scope, *k)) for k in periods],
                            **dict.fromkeys(["n_classes_closing", "share_classes_closing",
                                             "n_schools_closing", "share_schools_closing"],
                                            unknown)})
    parts.append(safe)
    shares = hidden_flags(safe, summary)[["share_classes_closing", "share_schools_closing"]]
    if shares.to_numpy().all():      # an empty chart tells a reader nothing: say why instead
        parts.append(Notice("No share closing the gap is shown: each would let a reader work "
                            "out whether a class whose gap is withheld closed it.", "note"))
    else:
        parts.append(closing_chart(res.tracking.summary, t, hidden=hidden_flags(safe, summary)))
    parts.append(classes)
    parts.append(class_gap_chart(res.tracking.table, t,
                                 hidden=hidden_flags(classes, res.tracking.table)))
    return Section("Termly tracking", "tracking", parts)

"""FSM gaps by school (latest year, national alongside), trends 2008-2010, gap vs FSM share."""

from __future__ import annotations

import pandas as pd

from evaluation.disclosure import rates_revealing_counts
from evaluation.disclosure_cells import rate_contributions
from evaluation.gaps.pupils import COUNTS, THRESHOLDS
from evaluation.plots.gaps import attainment_chart, gap_share_chart, gap_trend_chart
from evaluation.report.display import Notice, Section
from evaluation.report.tables import (
    hidden_flags,
    plain,
    safe_table,
    threshold,
)
from evaluation.results import EvaluationResult

LABELS = {"school_name": "School", "cohort": "Year", "group": "Schools", "year": "Year",
          "fsm_value": "FSM", "non_fsm_value": "Non-FSM", "overall_value": "All",
          "gap": "Gap", "n_fsm": "FSM pupils", "n_non_fsm": "Non-FSM pupils",
          "n": "Pupils", "national_fsm": "National FSM", "national_non_fsm":
          "National non-FSM", "national_gap": "National gap"}
SCHOOL_COLUMNS = ["school_name", "fsm_value", "non_fsm_value", "gap", "n_fsm", "n_non_fsm",
                  "national_fsm", "national_non_fsm", "national_gap"]
TREND_COLUMNS = ["group", "year", "overall_value", "non_fsm_value", "fsm_value", "gap", "n",
                 "n_fsm", "n_non_fsm"]


#: Rates and their group sizes in the gaps and trends tables; a row's statistics go together
#: (any two of FSM, non-FSM and all, with the counts, give the third; the gap gives either
#: rate from the other).
RATE_SIZES = (("fsm_value", "n_fsm"), ("non_fsm_value", "n_non_fsm"), ("overall_value", "n"))
ROW_STATISTICS = ("fsm_value", "non_fsm_value", "overall_value", "gap")


def _rates_revealing_counts(table, t: int) -> dict[str, list[bool]]:
    """Hide a row's rates and gap where a rate and its size give a count below ``t``."""
    return rates_revealing_counts(table, RATE_SIZES, ROW_STATISTICS, t)


def _with_linked(flags: dict, res, table: str, phase: str, names, years) -> dict:
    """Return ``flags`` also hiding a row's rates where a count they give is hidden.

    The counts are the pupils reaching the measure or not, hidden across the report set
    (:func:`evaluation.linked._rate_counts`).
    """
    keys = [f"{table}_{o}_{v}" for o in ("pass", "fail")
            for v in (("n", "fsm", "non_fsm") if table == "trend" else ("fsm", "non_fsm"))]
    linked = [any(res.hidden((k, phase, n, str(y))) for k in keys)
              for n, y in zip(names, years, strict=True)]
    return {c: [a or b for a, b in zip(f, linked, strict=True)] for c, f in flags.items()}


def gaps(res: EvaluationResult) -> Section:
    """FSM gaps by school and over time against national; overall: gap against FSM share."""
    t = threshold(res.plan)
    parts = ["The gap is the non-FSM figure minus the FSM figure, in percentage points: "
             "positive when FSM pupils are behind. National figures are the published ones for "
             "England."]
    for phase, g in res.gaps.items():
        label = res.plan.label(g.measure)
        parts.append(f"{phase.capitalize()} schools, {g.latest}: {label}.")
        schools = g.schools
        safe = safe_table(res.plan, schools[SCHOOL_COLUMNS], COUNTS, labels=LABELS, hide={
            f"n_{v}": [res.hidden((f"school_{v}", phase, n, str(c))) for n, c in
                       zip(schools["school_name"], schools["cohort"], strict=True)]
            for v in ("fsm", "non_fsm")} | _with_linked(
                _rates_revealing_counts(schools[SCHOOL_COLUMNS], t), res, "school", phase,
                schools["school_name"], schools["cohort"]),
            **rate_contributions(schools[SCHOOL_COLUMNS]))
        parts.append(safe)
        parts.append(attainment_chart(schools, g.measure, t, measure_name=label,
                                      hidden=hidden_flags(safe, schools)))
        parts.append(f"Trends 2008-2010 against national ({label}).")
        if g.groups_without_pupils:
            parts.append(Notice(f"No {phase} pupils in the data for the schools of "
                                f"{', '.join(g.groups_without_pupils)}: no trend for "
                                f"{'it' if len(g.groups_without_pupils) == 1 else 'them'}.",
                                "note"))
        trends = g.trends.table
        safe = safe_table(res.plan, trends[TREND_COLUMNS], COUNTS, labels=LABELS, hide={
            col: [res.hidden((f"trend_{v}", phase, grp, str(y))) for grp, y in
                  zip(trends["group"], trends["year"], strict=True)]
            for col, v in (("n", "n"), ("n_fsm", "fsm"), ("n_non_fsm", "non_fsm"))}
            | _with_linked(_rates_revealing_counts(trends[TREND_COLUMNS], t), res, "trend",
                           phase, trends["group"], trends["year"]),
            **rate_contributions(trends[TREND_COLUMNS]))
        parts.append(safe)
        parts.append(gap_trend_chart(g.trends, t, measure_name=label,
                                     hidden=hidden_flags(safe, trends)))
    for phase, g in res.gaps.items():
        if g.share is None:
            if g.share_not_estimable:
                parts.append(Notice(f"{phase.capitalize()} schools: the gap against the share "
                                    "of FSM pupils cannot be estimated: "
                                    f"{plain(g.share_not_estimable, res.plan)}.",
                                    "not estimable"))
            continue
        lo, hi = g.share.difference_ci
        diff = g.share.difference
        than = ("the same FSM gap, to 0.1 points, as" if round(diff, 1) == 0 else
                f"an FSM gap {abs(diff):z.1f} points {'smaller' if diff < 0 else 'larger'} than")
        parts.append(
            f"All {phase} schools, 2008-2010 pooled: schools with more than 18% FSM pupils have "
            f"{than} schools with under 5% (95% CI {lo:z.1f} to {hi:z.1f}); the published "
            "pattern is about 10 points smaller.")
        # a school's pooled rates follow the tables' rule (a rate giving fewer than t pupils
        # reaching the measure, or not, none included, is withheld): such a school is not drawn
        hidden = None
        if g.measure in THRESHOLDS:
            pooled = rates_revealing_counts(g.share.schools, RATE_SIZES[:2], ["gap"], t)
            hidden = pd.Series(pooled["gap"], index=g.share.schools.index)
        parts.append(gap_share_chart(g.share, t, measure_name=res.plan.label(g.measure),
                                     hidden=hidden))
    return Section("FSM gaps and trends", "gaps", parts)

"""Presentation of the school-to-school support analysis: result -> displayable sections."""

from __future__ import annotations

import pandas as pd

from evaluation.disclosure import suppress
from evaluation.display import Notice, Section, p_text
from evaluation.school_support import OUTCOMES, SchoolSupportResult

#: Smallest number of pupils a shown rate may rest on (``analysis.yml`` disclosure threshold).
THRESHOLD = 10


def findings(result: SchoolSupportResult) -> Section:
    """Plain-English findings generated from the result."""
    t = result.trends.set_index(["group", "year"])
    years = sorted(result.trends["year"].unique())
    first, last = years[0], years[-1]
    es = result.estimates.get("rate_fsm")
    text = (f"{result.n_supported} {result.label} were followed from {first} to {last} "
            f"against {result.n_comparison} comparison schools matched on the years before "
            f"support ({', '.join(str(y) for y in years if y < result.support_year)}). Their "
            f"FSM pupils' rate went from {t.loc[('supported', first), 'rate_fsm']:.0f}% to "
            f"{t.loc[('supported', last), 'rate_fsm']:.0f}% (comparison schools "
            f"{t.loc[('comparison', first), 'rate_fsm']:.0f}% to "
            f"{t.loc[('comparison', last), 'rate_fsm']:.0f}%; all schools "
            f"{t.loc[('national', first), 'rate_fsm']:.0f}% to "
            f"{t.loc[('national', last), 'rate_fsm']:.0f}%).")
    if es is not None:
        d = es.did
        pre = es.table[es.table["year"] < result.support_year]
        failed = pre[(pre["lower"] > 0) | (pre["upper"] < 0)]
        text += (f" The difference-in-differences estimate for FSM pupils is "
                 f"{d['estimate']:+.1f} points (95% CI {d['lower']:+.1f} to {d['upper']:+.1f}).")
        if len(failed):
            text += (" The placebo check before support fails (the groups already moved "
                     "apart before support began): treat the estimate as not credible.")
    return Section("Findings", "findings", [Notice(text, "findings")])


def trends(result: SchoolSupportResult) -> Section:
    """FSM and all-pupil attainment and the gap per year, against national."""
    from evaluation.plots.school_support import trend_chart

    t = result.trends.rename(columns={"fsm_pupils": "FSM pupils", "pupils": "pupils"})
    t = t.astype({"year": str})  # years are labels, not quantities
    table = suppress(t, {"rate_fsm": "FSM pupils", "rate_all": "pupils",
                         "rate_other": "pupils", "gap": ["FSM pupils", "pupils"]},
                     threshold=THRESHOLD, labels={
                         "rate_fsm": "FSM rate (%)", "rate_all": "all pupils (%)",
                         "rate_other": "other pupils (%)", "gap": "gap (points)"})
    return Section("Attainment and FSM gap over time", "trends",
                   [trend_chart(result, "rate_fsm"), trend_chart(result, "gap"), table])


def estimates(result: SchoolSupportResult) -> Section:
    """Event-study and difference-in-differences estimates per outcome."""
    from evaluation.plots.school_support import event_chart

    rows = []
    for outcome, es in result.estimates.items():
        s = es.summary().assign(outcome=OUTCOMES[outcome].split(" (")[0],
                                n=es.n_schools)
        rows.append(s)
    t = pd.concat(rows, ignore_index=True)
    t["p"] = p_text(t["p"])
    t["year"] = t["year"].map(lambda y: "" if pd.isna(y) else str(int(y)))
    table = suppress(t[["outcome", "term", "year", "estimate", "lower", "upper", "p", "n"]],
                     {}, threshold=THRESHOLD, decimals=2)
    parts = [table]
    if "rate_fsm" in result.estimates:
        parts.insert(0, event_chart(result.estimates["rate_fsm"], result.support_year))
    return Section("Change against matched comparison schools", "estimates", parts)


def matching(result: SchoolSupportResult) -> Section:
    """Balance of the matching variables and the schools left out."""
    b = result.balance[["stage", "variable", "mean_treated", "mean_control", "smd",
                        "wwc_band"]]
    return Section("Matched comparison schools", "matching", [
        suppress(b, {}, threshold=THRESHOLD, decimals=2),
        suppress(result.exclusions, {}, threshold=THRESHOLD)])


#: The report's sections, in order.
SECTIONS = (findings, trends, estimates, matching)


def sections(result: SchoolSupportResult) -> list[Section]:
    """Every section of the school-to-school support report, in order."""
    return [make(result) for make in SECTIONS]

"""Presentation of the school-to-school support analysis: result -> displayable sections."""

from __future__ import annotations

import pandas as pd

from evaluation.plots.school_support import event_chart, trend_chart
from evaluation.report.display import Notice, Section, p_text
from evaluation.report.tables import safe_table
from evaluation.results import SupportResult
from evaluation.school_support import OUTCOMES


def header(res: SupportResult) -> Section:
    """Title and what the report is."""
    return Section(res.title, "top", [
        "FSM pupils' attainment and the FSM gap over time against national, and the change "
        "against comparison schools matched on the years before support, from published "
        "school-level data."], level=1)


def findings(res: SupportResult) -> Section:
    """Plain-English findings generated from the result."""
    result = res.result
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


def trends(res: SupportResult) -> Section:
    """FSM and all-pupil attainment and the gap per year, against national."""
    result = res.result
    t = result.trends.rename(columns={"fsm_pupils": "FSM pupils", "pupils": "pupils"})
    t = t.astype({"year": str})  # years are labels, not quantities
    table = safe_table(res.plan, t, {"rate_fsm": "FSM pupils", "rate_all": "pupils",
                                     "rate_other": "pupils", "gap": ["FSM pupils", "pupils"]},
                       labels={
                         "rate_fsm": "FSM rate (%)", "rate_all": "all pupils (%)",
                         "rate_other": "other pupils (%)", "gap": "gap (points)"})
    return Section("Attainment and FSM gap over time", "trends",
                   [trend_chart(result, "rate_fsm"), trend_chart(result, "gap"), table])


#: Words for the balance table's columns (the glossary explains SMD and the WWC bands).
BALANCE_LABELS = {"stage": "matching", "variable": "matched on",
                  "mean_treated": "supported schools (mean)",
                  "mean_control": "comparison schools (mean)",
                  "smd": "standardised mean difference (SMD)",
                  "wwc_band": "WWC baseline-equivalence band"}
_MATCH_WORDS = {"rate_fsm": "FSM pupils with 5+ A*-C incl. English and maths (%)",
                "rate_all": "all pupils with 5+ A*-C incl. English and maths (%)",
                "gap": "FSM gap (percentage points)",
                "share_fsm": "FSM (ever-6) share of the KS4 cohort (%)",
                "school_size": "pupils on roll"}


def variable_label(name: str) -> str:
    """Words for a matching variable named ``<panel column>_<year>``.

    Examples
    --------
    >>> variable_label("share_fsm_2014")
    'FSM (ever-6) share of the KS4 cohort (%), 2014'
    >>> variable_label("other")
    'other'
    """
    base, _, year = name.rpartition("_")
    if base in _MATCH_WORDS and year.isdigit():
        return f"{_MATCH_WORDS[base]}, {year}"
    return name


def estimates(res: SupportResult) -> Section:
    """Event-study and difference-in-differences estimates per outcome."""
    result = res.result
    rows = []
    for outcome, es in result.estimates.items():
        s = es.summary().assign(outcome=OUTCOMES[outcome].removesuffix(" (%)"),
                                n=es.n_schools)
        rows.append(s)
    t = pd.concat(rows, ignore_index=True)
    t["p"] = p_text(t["p"])
    t["year"] = t["year"].map(lambda y: "" if pd.isna(y) else str(int(y)))
    table = safe_table(res.plan, t[["outcome", "term", "year", "estimate", "lower", "upper",
                                    "p", "n"]], decimals=2)
    parts = [table]
    if "rate_fsm" in result.estimates:
        parts.insert(0, event_chart(result.estimates["rate_fsm"], result.support_year))
    return Section("Change against matched comparison schools", "estimates", parts)


def matching(res: SupportResult) -> Section:
    """Balance of the matching variables and the schools left out."""
    result = res.result
    b = result.balance[["stage", "variable", "mean_treated", "mean_control", "smd",
                        "wwc_band"]].copy()
    b["variable"] = b["variable"].map(variable_label)
    return Section("Matched comparison schools", "matching", [
        safe_table(res.plan, b, decimals=2, labels=BALANCE_LABELS),
        safe_table(res.plan, result.exclusions)])


def source(res: SupportResult) -> Section:
    """Source, provenance, licence and the reader's notes on the file."""
    src = res.source
    return Section("Appendix: source and licence", "source", [
        f"Source: {src.title}.", f"Provenance: {src.provenance}.", f"Licence: {src.licence}",
        f"Reader notes: {' '.join(res.notes) or 'none'}."])


def index_record(res: SupportResult) -> dict:
    """Return the index page's entry: the FSM-rate difference-in-differences."""
    result = res.result
    fsm = result.estimates["rate_fsm"].did
    return {"title": res.title, "kind": "published", "phase": res.source.phase,
            "n_schools": result.n_supported + result.n_comparison,
            "headline": (f"{result.n_supported} {result.label.split(' (')[0]} vs "
                         f"{result.n_comparison} matched: FSM rate DiD {fsm['estimate']:+.1f} pp "
                         f"({fsm['lower']:+.1f} to {fsm['upper']:+.1f})"),
            "status": "ok"}

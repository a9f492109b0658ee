"""Presentation of the school-to-school support analysis: result -> displayable sections."""

from __future__ import annotations

import pandas as pd

from evaluation.disclosure import rates_revealing_counts
from evaluation.numbers import signed
from evaluation.plots.school_support import event_chart, trend_chart
from evaluation.report.display import Notice, Section, p_text
from evaluation.report.tables import hidden_flags, safe_table, threshold
from evaluation.results import SupportResult
from evaluation.school_support import OUTCOMES


def header(res: SupportResult) -> Section:
    """Title and what the report is."""
    return Section(res.title, "top", [
        "FSM pupils' attainment and the FSM gap over time against national, and the change "
        "against comparison schools matched on the years before support, from published "
        "school-level data."], level=1)


#: Each rate of the trends table with the pupils it rests on (``SchoolSupportResult.trends``).
RATE_BASES = (("rate_fsm", "base_fsm"), ("rate_all", "base_all"), ("rate_other", "base_other"))
#: A row's figures that give each other back (the gap is other minus FSM).
ROW_FIGURES = ("rate_fsm", "rate_all", "rate_other", "gap")


def trend_hidden(res: SupportResult) -> pd.DataFrame:
    """Which figures of the trends table are hidden, indexed like ``result.trends``.

    A rate resting on fewer pupils than the threshold is hidden, and a row's rates and gap
    together where a rate with its pupils gives fewer than the threshold reaching the measure
    or not, none included (0% of 34 FSM pupils; 15.5% of 6 other pupils is 1 pupil): the
    rule of every other report (:func:`evaluation.disclosure.rates_revealing_counts`). The
    table, the charts and the findings all ask this one function (eighth review of issue 14).
    """
    t = res.result.trends
    thr = threshold(res.plan)
    flags = rates_revealing_counts(t, [(r, b) for r, b in RATE_BASES], ROW_FIGURES, thr)
    out = pd.DataFrame(flags, index=t.index)
    for rate, base in RATE_BASES:
        out[rate] |= (t[base] > 0) & (t[base] < thr)
    out["gap"] |= out["rate_fsm"] | out["rate_other"]
    return out


def support_withheld(res: SupportResult, column: str, year: int | None = None) -> bool:
    """Whether figures resting on a trends column (of one year, or any) are withheld.

    The estimates of an outcome, and the balance of a matching variable, are made from the
    same schools' figures as the trends table's supported and comparison rows: where the
    table withholds one of those figures (a rate resting on, or giving, fewer than the
    threshold's pupils, 0% or 100% included), they would give it back (tenth review of
    issue 14: with two supported schools, a balance mean of 0.00 gave the 0 of 42 FSM pupils
    behind a withheld 0% rate). Columns the trends table does not have are never withheld.
    """
    t = res.result.trends
    if column not in t:
        return False
    rows = t["group"].isin(["supported", "comparison"]) & t[column].notna()
    if year is not None:
        rows &= t["year"] == year
    return bool(trend_hidden(res).loc[rows, column].any())


def _rate_words(t, hidden, group, year) -> str:
    row = t.index[(t["group"] == group) & (t["year"] == year)]
    if not len(row) or hidden.loc[row[0], "rate_fsm"] or pd.isna(t.loc[row[0], "rate_fsm"]):
        return "a withheld figure"
    return f"{t.loc[row[0], 'rate_fsm']:z.0f}%"


def findings(res: SupportResult) -> Section:
    """Plain-English findings generated from the result."""
    result = res.result
    t, hidden = result.trends, trend_hidden(res)
    years = sorted(result.trends["year"].unique())
    first, last = years[0], years[-1]
    es = result.estimates.get("rate_fsm")

    def went(group):
        return (f"{_rate_words(t, hidden, group, first)} to "
                f"{_rate_words(t, hidden, group, last)}")

    text = (f"{result.n_supported} {result.label} were followed from {first} to {last} "
            f"against {result.n_comparison} comparison schools matched on the years before "
            f"support ({', '.join(str(y) for y in years if y < result.support_year)}). Their "
            f"FSM pupils' rate went from {went('supported')} (comparison schools "
            f"{went('comparison')}; all schools {went('national')}).")
    if es is not None and support_withheld(res, "rate_fsm"):
        text += (" The difference-in-differences estimate for FSM pupils is withheld: it "
                 "would give away a figure resting on fewer pupils than the disclosure "
                 "threshold.")
    elif es is not None:
        d = es.did
        pre = es.table[es.table["year"] < result.support_year]
        failed = pre[(pre["lower"] > 0) | (pre["upper"] < 0)]
        text += (f" The difference-in-differences estimate for FSM pupils is "
                 f"{signed(d['estimate'], 1)} percentage points (95% CI "
                 f"{signed(d['lower'], 1)} to "
                 f"{signed(d['upper'], 1)}).")
        if len(failed):
            text += (" The placebo check before support fails (the groups already moved "
                     "apart before support began): treat the estimate as not credible.")
    return Section("Findings", "findings", [Notice(text, "findings")])


def trends(res: SupportResult) -> Section:
    """FSM and all-pupil attainment and the gap per year, against national."""
    result = res.result
    hidden = trend_hidden(res)
    t = result.trends.drop(columns=[b for _, b in RATE_BASES])
    t = t.astype({"year": str})  # years are labels, not quantities
    table = safe_table(res.plan, t, {"rate_fsm": "fsm_pupils", "rate_all": "pupils",
                                     "rate_other": "other_pupils",
                                     "gap": ["fsm_pupils", "other_pupils"]},
                       labels={
                         "fsm_pupils": "FSM pupils", "other_pupils": "other pupils",
                         "rate_fsm": "FSM rate (%)", "rate_all": "all pupils (%)",
                         "rate_other": "other pupils (%)", "gap": "gap (points)"},
                       hide={c: hidden[c].tolist() for c in ROW_FIGURES})
    shown = hidden_flags(table, t)
    return Section("Attainment and FSM gap over time", "trends",
                   [trend_chart(result, "rate_fsm", hidden=shown, threshold=threshold(res.plan)),
                    trend_chart(result, "gap", hidden=shown, threshold=threshold(res.plan)),
                    table])


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
    withheld = []
    for outcome, es in result.estimates.items():
        s = es.summary().assign(outcome=OUTCOMES[outcome].removesuffix(" (%)"),
                                n=es.n_schools)
        rows.append(s)
        withheld += [support_withheld(res, outcome)] * len(s)   # named as its trends column
    t = pd.concat(rows, ignore_index=True)
    t["p"] = p_text(t["p"])
    t["year"] = t["year"].map(lambda y: "" if pd.isna(y) else str(int(y)))
    table = safe_table(res.plan, t[["outcome", "term", "year", "estimate", "lower", "upper",
                                    "p", "n"]], decimals=2,
                       hide=dict.fromkeys(("estimate", "lower", "upper", "p"), withheld))
    parts = [table]
    if "rate_fsm" in result.estimates and not support_withheld(res, "rate_fsm"):
        parts.insert(0, event_chart(result.estimates["rate_fsm"], result.support_year))
    return Section("Change against matched comparison schools", "estimates", parts)


def matching(res: SupportResult) -> Section:
    """Balance of the matching variables and the schools left out."""
    result = res.result
    b = result.balance[["stage", "variable", "mean_treated", "mean_control", "smd",
                        "wwc_band"]].copy()
    # a mean over fewer schools than the threshold, with its SD (in the SMD), gives each
    # school's figure back (eleventh review: two schools' FSM shares, with the trends
    # table's pupils, gave 8 FSM pupils of 148): the minimum count applies to the schools
    few = min(result.n_supported, result.n_comparison) < threshold(res.plan)
    withheld = [few or _variable_withheld(res, v) for v in b["variable"]]
    b["variable"] = b["variable"].map(variable_label)
    parts = [safe_table(res.plan, b, decimals=2, labels=BALANCE_LABELS,
                        hide=dict.fromkeys(("mean_treated", "mean_control", "smd", "wwc_band"),
                                           withheld)),
             safe_table(res.plan, result.exclusions)]
    if few:
        parts.insert(0, Notice(f"Balance is not shown: the groups have fewer than "
                               f"{threshold(res.plan)} schools, and a mean over so few, with "
                               "its spread, gives each school's figures back.", "note"))
    return Section("Matched comparison schools", "matching", parts)


def _variable_withheld(res: SupportResult, name: str) -> bool:
    """Whether a matching variable ``<trends column>_<year>`` rests on a withheld figure."""
    base, _, year = name.rpartition("_")
    return year.isdigit() and base in OUTCOMES and support_withheld(res, base, int(year))


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
    did = ("FSM rate DiD withheld (small groups)" if support_withheld(res, "rate_fsm") else
           f"FSM rate DiD {signed(fsm['estimate'], 1)} pp ({signed(fsm['lower'], 1)} to "
           f"{signed(fsm['upper'], 1)})")
    return {"title": res.title, "kind": "published", "phase": res.source.phase,
            "n_schools": result.n_supported + result.n_comparison,
            "headline": (f"{result.n_supported} {result.label.split(' (')[0]} vs "
                         f"{result.n_comparison} matched: {did}"),
            "status": "ok"}

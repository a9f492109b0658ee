"""The summary page, in the EEF's form: impact in months and in the outcome's terms, padlocks, cost.

Every number comes from the phase's result objects (``impact.table()``, ``security``, ``cost``,
``confounding``); this module only puts them in words. The padlock rule and the cost scale are
documented in :mod:`evaluation.security`.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import pandas as pd

from evaluation.disclosure import SafeTable
from evaluation.effects import months_progress
from evaluation.report.comparison import describe_spec
from evaluation.report.display import Section
from evaluation.report.matching import balance_rows
from evaluation.report.tables import (
    balance_hidden_text,
    effect_text,
    group_withheld,
    informative,
    matched_counts,
    scope_name,
    threshold,
)
from evaluation.results import EvaluationResult, PhaseResult
from evaluation.security import attrition_band, attrition_padlocks

#: Point scores put in the outcome's own terms: (points per unit, unit, units, how to read it).
#: QCA GCSE points step 6 a grade; KS2 points step 6 a level, 2 a sub-level
#: (reference/standards.md section 2).
OWN_TERMS = {
    "gcse_capped_points": (6.0, "GCSE grade", "GCSE grades",
                           "added up over a pupil's best eight GCSEs (6 points are one grade in "
                           "one subject)"),
    "ks2_aps": (2.0, "sub-level", "sub-levels",
                "in a pupil's average KS2 points (2 points are one sub-level, 6 one level)"),
}

PADLOCK_WORDS = {5: "very high", 4: "high", 3: "moderate to high", 2: "moderate to low",
                 1: "low", 0: "very low"}


class _Html:
    """Already-escaped HTML for a section part."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text


def _months(m: float) -> str:
    m = int(m)
    return f"{'+' if m > 0 else ''}{m} month{'s' if abs(m) != 1 else ''}"


def own_terms(row) -> str:
    """Return the estimate and its CI in the outcome's own terms (grades, sub-levels), or "".

    Examples
    --------
    >>> own_terms({"outcome": "gcse_capped_points", "estimate": 21.6, "ci_low": 9.6,
    ...            "ci_high": 33.6})[:47]
    'about 3.6 GCSE grades more (95% CI 1.6 to 5.6),'
    """
    terms = OWN_TERMS.get(row["outcome"])
    if terms is None:
        return ""
    per, _, units, how = terms
    est, lo, hi = (row[k] / per for k in ("estimate", "ci_low", "ci_high"))
    size = (f"no more or fewer {units}" if round(est, 1) == 0 else
            f"about {abs(est):z.1f} {units} {'more' if est > 0 else 'fewer'}")
    return f"{size} (95% CI {lo:z.1f} to {hi:z.1f}), {how}"


def headline_text(row, plan) -> str:
    """Return the headline sentence: months of progress and the outcome's own terms."""
    label = row["label"]
    if not informative(row):
        return (f"{label}: the estimate is not informative here (too few schools or pupils "
                "for a reliable interval), so no months of progress are given.")
    lo_m, hi_m = months_progress(row["es_ci_low"]), months_progress(row["es_ci_high"])
    parts = [f"{label}: EM pupils made {_months(row['months'])} of additional progress "
             f"(95% CI {_months(lo_m)} to {_months(hi_m)}) compared with "
             f"{describe_spec(plan.main_spec(), plan).compared_with()}"]
    if row["family"] == "gaussian":
        units = row.get("units") or "points"
        est, ci = effect_text(row).split(" ", 1)
        parts.append(f"that is {est} {units} {ci.replace('(', '(95% CI ')}")
        terms = own_terms(row)
        if terms:
            parts.append(terms)
    else:
        est, ci = effect_text(row).split(" ", 1)
        parts.append(f"that is {est} percentage points reaching it "
                     f"{ci.replace('(', '(95% CI ')}")
    return "; ".join(parts) + "."


def padlocks_html(n: int) -> str:
    """Draw the rating as five marks, one filled per padlock, with words for readers."""
    marks = "&#9679;" * n + "&#9675;" * (5 - n)
    return (f'<span class="em-padlocks" role="img" aria-label="{n} of 5 padlocks">'
            f'<span aria-hidden="true">{marks}</span></span> <strong>{n} of 5 padlocks</strong> '
            f"({PADLOCK_WORDS[n]} security)")


def lost_in_bands(kept: int, padlocks: set, limit: int) -> list[int]:
    """Return each number of pupils lost, below ``limit``, whose attrition has ``padlocks``.

    Attrition, ``lost / (lost + kept)``, grows with the number lost, and its padlocks fall
    band by band: each band's numbers are one run, found by bisection (testing every number
    up to ``limit``, three times the pupils analysed, took 0.8 s of a report set).

    Examples
    --------
    >>> lost_in_bands(87, {5}, 400)[-1], lost_in_bands(87, {4}, 400)[:2]
    (10, [11, 12])
    >>> lost_in_bands(0, {0}, 3)
    [0, 1, 2]
    """
    def band(x: int) -> int:
        return attrition_padlocks(x / (x + kept) if x + kept else 1.0)

    out: list[int] = []
    start = 0
    while start < limit:
        here, lo, hi = band(start), start, limit - 1
        while lo < hi:                # the last number of this band's run
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if band(mid) == here else (lo, mid - 1)
        if here in padlocks:
            out.extend(range(start, lo + 1))
        start = lo + 1
    return out


def _narrows(res: EvaluationResult, phase: str, pe: PhaseResult, padlocks: set) -> bool:
    """Whether knowing the attrition padlocks are among ``padlocks`` narrows a withheld count.

    Attrition is the pupils lost for missing data over those plus the analysed ones; the EEF
    band (one band per padlock count) bounds the pupils lost ("10% or less" of 87 analysed is
    at most 10 lost; sixth review of issue 14: each withheld count behind it then lay between
    1 and 9). Every number lost whose padlocks are among ``padlocks`` is one a reader cannot
    rule out; the withheld counts (each at least 1) share what is left after the shown ones.
    True when that leaves one of them less than the threshold's width.
    """
    scope = scope_name(res)
    ex = pe.sample.exclusions
    ex = ex[ex["reason"].str.contains("missing")]
    shown, hidden = 0, 0
    for r in ex.itertuples(index=False):
        for who in ("em", "comparison"):
            if res.hidden(("excluded", scope, phase, r.reason, who)):
                hidden += 1
            else:
                shown += int(getattr(r, who))
    if not hidden:
        return False
    kept = pe.sample.n_em + pe.sample.n_comparison
    lost = lost_in_bands(kept, padlocks, 3 * kept + 100)
    sums = [x - shown for x in lost if x - shown >= hidden]
    if not sums:
        return True
    widest = max(sums) - min(sums) if hidden == 1 else max(sums) - hidden
    return widest < threshold(res.plan)


def _attrition_withheld(res: EvaluationResult, phase: str, pe: PhaseResult) -> bool:
    """Whether the attrition band would narrow a withheld exclusion count below the threshold."""
    return _narrows(res, phase, pe, {pe.security.attrition_padlocks})


def _rating_withheld(res: EvaluationResult, phase: str, pe: PhaseResult) -> bool:
    """Whether the rating, with the design, MDES and threats shown, would give the band back.

    The rating is the lowest of the three criteria less one per threat: where attrition is
    the lowest, the rating shows its padlocks, so its band (seventh review of issue 14). It
    is withheld where the padlock counts it leaves possible narrow a withheld count.
    """
    s = pe.security
    if not _attrition_withheld(res, phase, pe):
        return False
    possible = {p for p in range(6)
                if max(0, min(s.design, s.mdes_padlocks, p) - len(s.threats)) == s.padlocks}
    return _narrows(res, phase, pe, possible)


WITHHELD = "withheld: it rests on counts of fewer than the threshold's pupils"


RULE_CAPTION = ("How the security rating was worked out (EEF 2019 criteria: the rating is the "
                "lowest of design, MDES and attrition, then one padlock less for each threat)")
#: The rule table's columns and the class of their cells.
RULE_COLUMNS = {"Criterion": "txt", "Value": "txt", "Padlocks": "num"}


@dataclass(frozen=True)
class RuleTable(SafeTable):
    """The table of the security rating's rule, in its own markup (``em-rule``).

    A :class:`evaluation.disclosure.SafeTable`, so the output checker's log holds it as a
    table (:func:`evaluation.output_log.build`): a cell withheld because it would narrow a
    withheld count is hidden and logged as ``SecondarySuppression``.

    Examples
    --------
    >>> t = RuleTable.of([("Design", "matched", "3"), ("Rating", "lowest", "-")], [(1, 2)])
    >>> t.checks["Padlocks"].tolist(), t.n_suppressed
    (['ok', 'SecondarySuppression; '], 1)
    >>> t._repr_html_().startswith('<table class="em-table em-rule"><caption>How the')
    True
    """

    @classmethod
    def of(cls, rows: list[tuple[str, str, str]], withheld: list[tuple[int, int]] = ()
           ) -> RuleTable:
        """Return the table of ``rows``; ``withheld`` (row, column) cells are hidden ones."""
        frame = pd.DataFrame(rows, columns=list(RULE_COLUMNS), dtype=object)
        hidden = pd.DataFrame(False, index=frame.index, columns=frame.columns)
        for i, j in withheld:
            hidden.iat[i, j] = True
        checks = hidden.replace({True: "SecondarySuppression; ", False: "ok"})
        return cls(frame, int(hidden.to_numpy().sum()), "", frame.copy(), hidden, checks,
                   RULE_CAPTION)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.frame.columns)
        body = "".join(
            "<tr>" + "".join(f'<td class="{css}">{html.escape(str(v))}</td>'
                             for v, css in zip(row, RULE_COLUMNS.values(), strict=True))
            + "</tr>" for row in self.frame.itertuples(index=False))
        return (f'<table class="em-table em-rule"><caption>{html.escape(self.caption)}'
                f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _rule_table(pe: PhaseResult, attrition_withheld: bool = False,
                rating_withheld: bool = False) -> RuleTable:
    s = pe.security
    attrition = ((WITHHELD, "-") if attrition_withheld else
                 (attrition_band(s.attrition), str(s.attrition_padlocks)))
    rows = [("Design", s.design_words, str(s.design)),
            ("Smallest effect the sample could detect (MDES, standard deviations)",
             f"{s.mdes:z.2f}" if math.isfinite(s.mdes) else "cannot be worked out",
             str(s.mdes_padlocks)),
            ("Pupils lost for missing data (attrition)", *attrition)]
    rows += [("Threat to validity found", t, "minus 1") for t in s.threats]
    rows.append(("Rating", "lowest of the first three, minus one per threat",
                 "-" if rating_withheld else str(s.padlocks)))
    withheld = [(2, 1), (2, 2)] if attrition_withheld else []
    withheld += [(len(rows) - 1, 2)] if rating_withheld else []
    return RuleTable.of(rows, withheld)


def _balance_text(res: EvaluationResult, pe: PhaseResult) -> str:
    if not pe.security.balance_fails:
        return ("The groups were alike at baseline: no characteristic differs by more than the "
                "What Works Clearinghouse limit of 0.25 standard deviations.")
    rows = balance_rows(pe.balance, res.plan)
    rows = rows[~pe.balance_withheld]   # as the balance table shows them
    after = rows["smd_after"].abs()
    worst = rows.loc[after.idxmax()] if after.notna().any() else None
    said = (f"{worst['label']} differs by {abs(worst['smd_after']):z.2f} standard deviations "
            "between EM and comparison pupils" if worst is not None
            and abs(worst["smd_after"]) >= pe.security.max_smd - 1e-12 else
            "a characteristic withheld to protect small groups of pupils differs")
    return (f"The groups were not alike before the programme: {said}, above the What Works "
            "Clearinghouse limit of 0.25, so this comparison does not meet its "
            "baseline-equivalence standard. The model adjusts for these characteristics, and "
            "the result depends on that adjustment.")


def _cost_text(res: EvaluationResult, phase: str, pe: PhaseResult) -> str:
    c = pe.cost
    if c is None:
        return ""
    if not c.schools:
        return ("Cost per pupil cannot be worked out: no trial school's EM pupils are "
                "identified in the data.")
    if group_withheld(res, phase) or not math.isfinite(c.per_pupil) \
            or c.pupils < threshold(res.plan):
        return (f"Programme funding for the {c.schools} trial "
                f"school{'s' if c.schools != 1 else ''} with identified EM pupils was "
                f"£{c.total:z,.0f}; the cost per pupil is not shown because it would reveal a "
                "withheld number of pupils.")
    return (f"Cost: about £{c.per_pupil:z,.0f} per EM pupil per year ({c.symbol}, "
            f"{c.rating} on the EEF's cost scale), from £{c.total:z,.0f} of programme funding "
            f"to the {c.schools} trial school{'s' if c.schools != 1 else ''} whose EM pupils "
            "are identified, with their share of the partner-school and local authority grants "
            "(analysis.yml, funding).")


def phase_summary(res: EvaluationResult, phase: str, pe: PhaseResult) -> list:
    """Summarise one phase: headline, padlocks with their rule, numbers, cost, balance.

    The parts open and close one box; the rule table is a part of its own (a table).
    """
    name = phase.capitalize()
    if not pe.estimable:
        return [_Html(f'<div class="em-summary"><h3>{name} phase</h3><p>The impact cannot be '
                      f"estimated: {html.escape(pe.not_estimable)}</p>"
                      f"<p>{html.escape(_cost_text(res, phase, pe))}</p></div>")]
    plan = res.plan
    em, comp = matched_counts(res, pe)
    who = (f"{em} EM pupils and {comp} comparison pupils in {pe.sample.n_schools} "
           f"school{'s' if pe.sample.n_schools != 1 else ''}.")
    head = pe.headline()
    out = [f'<div class="em-summary"><h3>{name} phase</h3>']
    if group_withheld(res, phase) or min(pe.sample.n_em, pe.sample.n_comparison) < threshold(plan):
        out.append("<p>The size of one group is withheld, so no estimate is shown here.</p>")
    else:
        out.append(f'<p class="em-headline">{html.escape(headline_text(head, plan))}</p>')
        conf = pe.confounding.get(head["outcome"])
        if conf is not None and informative(head):
            out.append("<p>" + html.escape(
                "A difference between the groups that the data do not record could explain "
                "this result " + ("fairly easily" if conf.fragile else "only if it were strong")
                + f" (E-value for the interval: {conf.e_value_ci:z.2f}; see 'Sensitivity to "
                "hidden differences').") + "</p>")
    rating_withheld = _rating_withheld(res, phase, pe)
    out.append("<p>Evidence security: withheld: the rating would give away how many pupils "
               "were lost for missing data, a withheld number.</p>" if rating_withheld else
               f"<p>Evidence security: {padlocks_html(pe.security.padlocks)}.</p>")
    out.append(f"<p>Pupils analysed: {html.escape(who)}</p>")
    hidden = balance_hidden_text(res, pe)
    if hidden:
        out.append(f"<p>{html.escape(hidden)}</p>")
    else:
        out.append(f"<p>{html.escape(_balance_text(res, pe))}</p>")
    out.append(f"<p>{html.escape(_cost_text(res, phase, pe))}</p>")
    parts = [_Html("".join(out))]
    if not group_withheld(res, phase) and min(pe.sample.n_em,
                                              pe.sample.n_comparison) >= threshold(plan):
        # a part of its own, inside the box: the output checker's log holds it as a table
        parts.append(_rule_table(pe, _attrition_withheld(res, phase, pe), rating_withheld))
    return [*parts, _Html("</div>")]


def summary(res: EvaluationResult) -> Section:
    """Build the summary page: one box per phase, in the EEF's form."""
    parts = ["The headline result of each phase, how secure it is on the Education Endowment "
             "Foundation's (EEF) five-padlock scale, how many pupils it rests on and what the "
             "programme cost per pupil. Months of additional progress use the EEF's conversion "
             "of the effect size."]
    for phase, pe in res.phases.items():
        parts += phase_summary(res, phase, pe)
    if not res.phases:
        parts.append("There are no pupil records for the schools of this report.")
    return Section("Summary", "summary", parts)

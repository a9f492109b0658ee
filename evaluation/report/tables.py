"""Formatting shared by every section: suppressed tables and one text per estimate."""

from __future__ import annotations

import math
import re

import pandas as pd

from evaluation.disclosure import SafeTable, suppress
from evaluation.numbers import signed
from evaluation.plan import Plan

NOT_INFORMATIVE = "not informative"
NOT_ESTIMABLE = "not estimable"


def threshold(plan: Plan) -> int:
    """Return the disclosure threshold of the plan."""
    return plan.threshold


def marker(plan: Plan) -> str:
    """Return the marker that replaces a suppressed cell."""
    return str(plan.raw["disclosure"]["marker"])


def safe_table(plan: Plan, df: pd.DataFrame, counts=None, **kw) -> SafeTable:
    """Suppress and format a table with the plan's disclosure settings.

    ``counts`` entries for statistics not shown are ignored; ``year`` and ``cohort`` columns
    are labels (no thousands separator).

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> t = safe_table(load_plan(), pd.DataFrame({"n": [3, 40], "rate": [50.0, 61.2]}),
    ...                {"rate": "n"})
    >>> t.frame["rate"].tolist()
    ['c', '61.2']
    """
    counts = {k: v for k, v in (counts or {}).items() if k in df.columns}
    years = [c for c in df.columns if c in ("year", "cohort")]
    if years:
        df = df.astype({c: str for c in years})
    if kw.get("contributions"):      # the plan's dominance rules (N-K, p-ratio) for means
        from evaluation.sdc_rules import Rules
        kw.setdefault("rules", Rules.from_plan(plan))
    return suppress(df, counts, threshold=threshold(plan), marker=marker(plan), **kw)


def hidden_flags(safe: SafeTable, table: pd.DataFrame) -> pd.DataFrame:
    """Return which cells ``safe`` (made from ``table``) hides, indexed like ``table``.

    A chart of the same figures takes them (``hidden=``) and draws none of them: a figure
    hidden only to protect another, when drawn, gives that one away (issue 14).
    """
    return safe.hidden.set_axis(table.index)


def scale(family: str) -> float:
    """Display scale of an outcome family: points as they are, proportions in percentage points.

    Examples
    --------
    >>> scale("gaussian"), scale("binomial")
    (1.0, 100.0)
    """
    return 1.0 if family == "gaussian" else 100.0


def _finite(*values) -> bool:
    return all(v is not None and not pd.isna(v) and math.isfinite(float(v)) for v in values)


def informative(row) -> bool:
    """Whether a result row's interval says something (``informative`` of the result tables).

    A row without an estimate (``informative`` missing) is not informative.
    """
    flag = row["informative"]
    return bool(flag) if not pd.isna(flag) else False


def informative_mask(table: pd.DataFrame) -> pd.Series:
    """Row-wise :func:`informative` of a result table, aligned to its index."""
    return pd.Series([informative(r) for r in table.to_dict("records")], index=table.index,
                     dtype=bool)


def effect_text(row) -> str:
    """Return the one text of an estimate and its 95% CI, wherever it is shown.

    Point scores in points, thresholds in percentage points, one decimal; ``not estimable``
    when there is no estimate; ``not informative`` when the interval says nothing (wider
    than the outcome's possible range, or too few schools for the inference method).

    Examples
    --------
    >>> row = {"family": "gaussian", "estimate": 21.64, "ci_low": 9.6, "ci_high": 33.61,
    ...        "informative": True}
    >>> effect_text(row)
    '+21.6 (9.6 to 33.6)'
    >>> effect_text({**row, "family": "binomial", "estimate": 0.052, "ci_low": -0.01,
    ...              "ci_high": 0.11})
    '+5.2 (-1.0 to 11.0)'
    >>> effect_text({**row, "informative": False})
    'not informative'

    An estimate or bound that rounds to zero reads 0.0, never -0.0:

    >>> effect_text({**row, "estimate": -0.0004, "ci_low": -0.04, "ci_high": 0.9})
    '0.0 (0.0 to 0.9)'
    """
    est, lo, hi = row.get("estimate"), row.get("ci_low"), row.get("ci_high")
    if not _finite(est, lo, hi):
        return NOT_ESTIMABLE
    if not informative(row):
        return NOT_INFORMATIVE
    s = scale(row["family"])
    return f"{signed(est * s, 1)} ({lo * s:z.1f} to {hi * s:z.1f})"


def p_value(p) -> str:
    """Return the one text of a p-value: three decimals, ``<0.001`` below that.

    Examples
    --------
    >>> p_value(0.0004), p_value(0.03491), p_value(float("nan"))
    ('<0.001', '0.035', '')
    """
    if p is None or pd.isna(p):
        return ""
    return "<0.001" if p < 0.0005 else f"{p:z.3f}"


def months_value(row):
    """Months of additional progress, or NaN when the estimate is not informative."""
    return row.get("months") if informative(row) else float("nan")


def effect_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Return the shown columns of estimates: effect (95% CI), p and months, from one formatter.

    Examples
    --------
    >>> t = pd.DataFrame([{"family": "gaussian", "estimate": 2.0, "ci_low": 1.0,
    ...                    "ci_high": 3.0, "p": 0.01, "months": 2, "informative": True}])
    >>> effect_columns(t).iloc[0, :2].tolist()
    ['+2.0 (1.0 to 3.0)', '0.010']
    """
    rows = table.to_dict("records")
    return pd.DataFrame({
        "Effect (95% CI)": [effect_text(r) for r in rows],
        "p": [p_value(r.get("p")) if informative(r) else "" for r in rows],
        "Months' progress": [months_value(r) for r in rows],
    }, index=table.index)


#: Warning classes as readers should read them (the raw text stays in the render log).
WARNING_WORDS = {
    # no claim about the pupils: separation may come from the covariates, and "every pupil of
    # a group had the same result" would be an attribute disclosure when true
    "PerfectSeparationWarning": "The model could not fully separate the effects of its terms "
                                "(perfect or quasi-perfect separation), so treat its figures "
                                "with care",
    "ConvergenceWarning": "The model's calculations did not fully settle, so treat its figures "
                          "with care",
    "RuntimeWarning": "A calculation met extreme numbers",
}

#: Statistical phrases of model and matching messages, in readers' words.
PHRASES = {
    "too few for reliable cluster-robust inference; read the interval as descriptive":
        "too few to measure how much results vary between schools, so the interval describes "
        "these pupils but is not a reliable guide beyond them",
    "one school only, so standard errors cannot be clustered; using HC1":
        "one school only, so differences between schools cannot be allowed for in the "
        "interval",
    "the wild cluster bootstrap failed numerically; using CR1 with t(G-1)":
        "the preferred method for few schools failed, so a standard method for clustered "
        "data was used instead",
}


def plain(text: str, plan: Plan) -> str:
    """Return a model or data note in readers' words: column names as labels, no class names.

    Counts of units in matching notes are dropped (a small one would be a small cell, and
    beside a table's totals it gives one away).


    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> plain("ModelWarning: 'ks2_l4_em': only 2 schools", load_plan())
    'Level 4+ in English and maths at KS2: only 2 schools'
    >>> plain("headline outcome missing (gcse_capped_points)", load_plan())
    'headline outcome missing (GCSE capped point score (best 8, QCA points))'
    >>> plain("7 of 18 treated units have no control within the caliper", load_plan())
    'some treated units have no control within the caliper'
    >>> plain("every EM pupil analysed has the value 1 (perfect separation)", load_plan())
    'the outcome takes one value in one of the groups compared (perfect separation)'
    """
    for kind, words in WARNING_WORDS.items():
        text = text.replace(f"{kind}: ", f"{words}: ")
    for phrase, words in PHRASES.items():
        text = text.replace(phrase, words)
    text = re.sub(r"\b[A-Z][A-Za-z]*Warning: ", "", text)
    text = re.sub(r"\b\d+ of \d+ (treated|control) units", r"some \1 units", text)
    # "every EM pupil analysed has the value 1" tells each pupil's outcome (issue 14)
    text = re.sub(r"every (?:\w+ )?pupil analysed has the value \S+ \(perfect separation\)",
                  "the outcome takes one value in one of the groups compared (perfect "
                  "separation)", text)
    text = text.replace("warnings: ", "")
    outcomes = {o["name"] for phase in plan.raw["outcomes"].values() for o in phase}
    names = outcomes | set(plan.raw.get("labels", {})) | set(plan.raw.get("covariates", []))
    for name in sorted(names, key=len, reverse=True):
        label = plan.label(name) if name in outcomes else plan.covariate_label(name)
        text = re.sub(rf"'{re.escape(name)}'|\b{re.escape(name)}\b", label, text)
    return text


def scope_name(res) -> str:
    """Return the scope of a result as the linked counts name it: the cluster, or ``overall``."""
    return res.cluster if res.cluster is not None else "overall"


def withheld(res, phase: str, who: str = "em", cluster: str | None = None) -> bool:
    """Whether a phase's EM (``who="em"``) or comparison pupils are withheld in every report.

    True when the count is below the threshold or hidden so that no other count can be worked
    out from it (:class:`evaluation.linked.LinkedCounts`); ``cluster`` looks up a cluster's
    count from the overall result.
    """
    scope = cluster if cluster is not None else scope_name(res)
    if res.hidden((who, scope, phase)):
        return True
    pe = (res.clusters[cluster] if cluster is not None else res).phases.get(phase)
    n = 0 if pe is None else (pe.sample.n_em if who == "em" else pe.sample.n_comparison)
    return 0 < n < threshold(res.plan)


def group_withheld(res, phase: str, cluster: str | None = None) -> bool:
    """Whether either group compared in a phase is withheld (:func:`withheld`)."""
    return (withheld(res, phase, "em", cluster=cluster)
            or withheld(res, phase, "comparison", cluster=cluster))


def outcome_withheld(res, phase: str, outcome: str) -> bool:
    """Whether how many pupils of a group reached a threshold outcome is withheld.

    The "Outcomes before adjustment" shares rest on these counts
    (:func:`evaluation.linked._descriptive_counts`); a model message on the outcome (say,
    perfect separation) could tell them apart (all reached it, or none), so it is withheld
    too, wherever it would be shown.
    """
    scope = scope_name(res)
    return any(res.hidden((f"desc_{k}", scope, phase, outcome, who))
               for k in ("pass", "fail") for who in ("em", "comparison"))


def count_withheld(res, phase: str, who: str, cluster: str | None = None) -> bool:
    """Whether a phase's EM or comparison count is withheld: one rule for every section.

    Both counts are withheld when either is (:func:`group_withheld`): the two groups make up
    the pupils of the same schools and year groups, whose totals other tables publish, so
    showing one would give the other away. The summary, the findings, the flow diagram and
    the matching table all ask this function, so a number withheld in one is withheld in all;
    the overall report asks it for each cluster's row (``cluster``), so a count a cluster's own
    report withholds is withheld there too.
    """
    return group_withheld(res, phase, cluster)


#: The matching table's rows that leave pupils out of the analysis, as the exclusions read them.
MATCHING_EXCLUSIONS = {"Unmatched": "not matched (no comparison pupil close enough, or no "
                                    "EM pupil to compare with)",
                       "Discarded": "discarded (outside the common support)"}


def exclusion_rows(res, pe) -> tuple[pd.DataFrame, dict[str, list[bool]]]:
    """Return every pupil left out of a phase's analysis, by reason, and which cells hide.

    The analysis sample's exclusions (:attr:`evaluation.sample.AnalysisSample.exclusions`)
    and then the matching's: unmatched and discarded pupils (issue 14: EM pupils left
    without a control within a caliper were in no table). Each cell hides as the linked
    counts hide it (the data-quality table, the flow diagram and the matching table agree).

    Returns
    -------
    (pandas.DataFrame, dict)
        ``reason, EM, Comparison`` and, per count column, one flag per row.
    """
    scope = scope_name(res)
    ex = pe.sample.exclusions
    rows = [(plain(r, res.plan), int(e), int(c),
             [("excluded", scope, pe.phase, r, "em"), ("excluded", scope, pe.phase, r,
                                                        "comparison")])
            for r, e, c in zip(ex["reason"], ex["em"], ex["comparison"], strict=True)]
    counts = pe.match.counts if pe.match is not None else None
    for row, reason in MATCHING_EXCLUSIONS.items():
        if counts is not None and row in counts.index:
            rows.append((reason, int(counts.loc[row, "Treated"]),
                         int(counts.loc[row, "Control"]),
                         [(f"em_{row.lower()}", scope, pe.phase),
                          (f"comparison_{row.lower()}", scope, pe.phase)]))
    frame = pd.DataFrame([r[:3] for r in rows], columns=["reason", "EM", "Comparison"])
    hide = {col: [res.hidden(r[3][i]) for r in rows]
            for i, col in enumerate(("EM", "Comparison"))}
    return frame, hide


def analysed_counts(res, pe) -> tuple[tuple[int, bool], tuple[int, bool]]:
    """Return a phase's matched (analysed) EM and comparison pupils, each with its hidden flag.

    The pupils the main match keeps, not the sample it starts from: with a caliper some EM
    pupils are left unmatched, and a nearest-neighbour match keeps only the comparison pupils
    it pairs. A count is withheld where the phase's counts are, or where the linked counts
    hide it. The summary, the findings and the flow diagram all ask this function.

    Returns
    -------
    ((int, bool), (int, bool))
        ``(n, hidden)`` for the EM and for the comparison pupils.

    Examples
    --------
    >>> (n_em, hidden), _ = analysed_counts(res, res.phases["secondary"])  # doctest: +SKIP
    """
    out = []
    for who, col in (("em", "Treated"), ("comparison", "Control")):
        n = int(pe.match.counts.loc["Matched", col])
        hidden = count_withheld(res, pe.phase, who) or res.hidden(
            (f"{who}_matched", scope_name(res), pe.phase))
        out.append((n, hidden))
    return out[0], out[1]


def matched_counts(res, pe) -> tuple[str, str]:
    """Return a phase's matched EM and comparison pupils as running text (the analysed).

    Withheld as :func:`analysed_counts` says.
    """
    (em, em_hidden), (comp, comp_hidden) = analysed_counts(res, pe)
    return count_text(em, em_hidden, res.plan), count_text(comp, comp_hidden, res.plan)


def balance_hidden_text(res, pe) -> str:
    """Return why a phase's balance is not shown, or "" when it is (one rule, one wording).

    Balance is not shown when either group's count is withheld (:func:`group_withheld`: it
    may be large but hidden so that a small count elsewhere cannot be worked out), or when the
    sample or the matched sample has fewer EM or comparison pupils than the threshold. Either
    way the count is withheld, so the words say so and give no bound ("fewer than 5 pupils in
    one group" was printed beside 183 EM pupils whose count was withheld). A
    characteristic few pupils of a group have (or lack) withholds that row only
    (``PhaseResult.balance_withheld``), not the phase's balance.

    Examples
    --------
    >>> balance_hidden_text(res, res.phases["secondary"])  # doctest: +SKIP
    ''
    """
    t = threshold(res.plan)
    (em, _), (comp, _) = analysed_counts(res, pe)
    if group_withheld(res, pe.phase) or min(pe.sample.n_em, pe.sample.n_comparison, em,
                                            comp) < t:
        # one wording for both: a small count is withheld too, and "fewer than" would bound it
        return ("Balance between the groups is not shown: it rests on a withheld number of "
                "pupils.")
    return ""


def count_text(n: int, hidden: bool, plan: Plan) -> str:
    """Return a count for running text, or words saying it is withheld (never a bound).

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> count_text(7, True, load_plan()), count_text(1234, False, load_plan())
    ('a withheld number of', '1,234')
    """
    return "a withheld number of" if hidden or 0 < n < threshold(plan) else f"{int(n):,}"

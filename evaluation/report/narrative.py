"""Plain-English findings generated from the results (what a headteacher reads first)."""

from __future__ import annotations

import math

import pandas as pd

from evaluation.plan import Plan
from evaluation.report.comparison import describe_spec
from evaluation.report.tables import (
    count_text,
    informative,
    informative_mask,
    months_value,
    p_value,
    plain,
    scale,
)

PHASE_WORDS = {"secondary": "secondary (GCSE, 2009-2010)", "primary": "primary (KS2, 2010)"}


def _p(p: float) -> str:
    text = p_value(p)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


def _finite(v) -> bool:
    return v is not None and not pd.isna(v) and math.isfinite(float(v))


def describe_effect(row: pd.Series | dict, plan: Plan) -> str:
    """One sentence on one outcome: the effect in its own units, its CI, months, and certainty.

    The numbers are those of the impact table (:func:`evaluation.report.tables.effect_text`
    and ``p_value``): one decimal, the same interval and p-value. An estimate that is not
    informative is said to be so, with the reason, and is not read as a finding.

    Parameters
    ----------
    row : mapping
        A row of ``ImpactResult.table()``.
    plan : Plan
        The plan (significance level; labels for notes).

    Returns
    -------
    str

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> text = describe_effect({"label": "GCSE capped point score", "family": "gaussian",
    ...     "estimate": 18.44, "ci_low": 8.1, "ci_high": 28.7, "p": 0.003, "p_holm": 0.015,
    ...     "months": 2, "effect_size": 0.2, "es_type": "Hedges' g", "units": "points",
    ...     "informative": True}, load_plan())
    >>> text.split(" than ")[0]
    'GCSE capped point score: EM pupils scored 18.4 points more'
    """
    r = dict(row)
    alpha = float(plan.section("inference")["alpha"])
    if not _finite(r.get("estimate")):
        return f"{r['label']}: not estimable. {plain(str(r.get('note') or ''), plan)}".strip()
    if not informative(r):
        why = plain(str(r.get("not_informative") or ""), plan)
        return (f"{r['label']}: the estimate is not informative ({why}), "
                "so it is not read as a finding either way.")
    gaussian = r["family"] == "gaussian"
    s = scale(r["family"])
    units = r.get("units") or ("points" if gaussian else "percentage points")
    est, lo, hi = (round(r[k] * s, 1) for k in ("estimate", "ci_low", "ci_high"))
    if est == 0:        # as shown, to one decimal: no direction to give
        what = (f"EM pupils scored the same as the comparison pupils, to 0.1 {units}"
                if gaussian else f"the share of EM pupils reaching it was the same as for the "
                f"comparison pupils, to 0.1 {units}")
    elif gaussian:
        what = (f"EM pupils scored {abs(est):z.1f} {units} {'more' if est > 0 else 'less'} "
                "than the comparison pupils")
    else:
        what = (f"the share of EM pupils reaching it was {abs(est):z.1f} {units} "
                f"{'higher' if est > 0 else 'lower'} than for the comparison pupils")
    extra = [f"95% CI {lo:z.1f} to {hi:z.1f}"]
    months = months_value(r)
    if _finite(months):
        m = int(months)
        extra.append(f"about {abs(m)} month{'s' if abs(m) != 1 else ''} of "
                     f"{'additional' if m >= 0 else 'less'} progress")
    if _finite(r.get("effect_size")):
        extra.append(f"{r.get('es_type', 'effect size')} {r['effect_size']:z.2f}")
    if r["p"] < alpha:
        verdict = (f"This is statistically significant ({_p(r['p'])}; "
                   f"{_p(r['p_holm'])} after Holm adjustment for the number of outcomes).")
        if r["p_holm"] >= alpha:
            verdict = (f"This would be statistically significant alone ({_p(r['p'])}) but not "
                       f"after Holm adjustment for the number of outcomes "
                       f"({_p(r['p_holm'])}).")
    else:
        verdict = f"This difference could well be chance ({_p(r['p'])})."
    within = describe_spec(plan.main_spec(), plan).within
    return f"{r['label']}: {what}{' ' + within if within else ''} ({'; '.join(extra)}). {verdict}"


def phase_findings(phase: str, table: pd.DataFrame, n_em: int, n_comparison: int,
                   n_schools: int, plan: Plan,
                   withheld: tuple[bool, bool] = (False, False)) -> list[str]:
    """Paragraphs for one estimable phase: who was compared, the headline, the rest, the caveat.

    ``n_em`` and ``n_comparison`` are the pupils analysed (the main match's matched pupils,
    :func:`evaluation.report.tables.analysed_counts`); how they were compared is the plan's
    main specification in words (:func:`evaluation.report.comparison.describe_spec`).
    ``withheld`` flags the EM and the comparison count as hidden in every report (they are
    then not printed, and no estimate is shown), whatever their size.

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> t = pd.DataFrame([{"outcome": "ks2_aps", "label": "KS2 APS", "family": "gaussian",
    ...     "estimate": 0.3, "ci_low": -0.5, "ci_high": 1.1, "p": 0.4, "p_holm": 0.8,
    ...     "months": 1, "effect_size": 0.05, "es_type": "Hedges' g", "mdes": 0.6,
    ...     "indicative": True, "primary": True, "informative": True}])
    >>> phase_findings("primary", t, 46, 300, 2, load_plan())[0][:40]
    'In the primary (KS2, 2010) phase, 46 EM '
    """
    alpha = float(plan.section("inference")["alpha"])
    covariates = [plan.covariate_label(c) for c in plan.covariates(phase)]
    words = describe_spec(plan.main_spec(), plan)
    how = "".join(f" {w}," for w in (words.within, words.weights) if w)
    paras = [
        f"In the {PHASE_WORDS.get(phase, phase)} phase, {count_text(n_em, withheld[0], plan)} "
        f"EM pupils in {n_schools} school{'s' if n_schools != 1 else ''} were compared with "
        f"{count_text(n_comparison, withheld[1], plan)} comparison pupils{how} and adjusted "
        f"for {', '.join(covariates[:-1])} and {covariates[-1]}. {words.matching}"
    ]
    if any(withheld) or min(n_em, n_comparison) < plan.threshold:
        paras.append("The size of one of the groups compared is withheld, so no estimate is "
                     "shown: a figure resting on very few pupils, or one that would let such a "
                     "number be worked out, could identify them. The overall report includes "
                     "these pupils.")
        return paras
    primary = table[table["primary"].astype(bool)]
    head = primary.iloc[0] if len(primary) else table.iloc[0]
    paras.append(describe_effect(head, plan))
    rest = table.drop(head.name)
    judged = rest[informative_mask(rest)]
    findings = judged[judged["p_holm"] < alpha]
    if len(findings):
        paras.append("Other outcomes with a statistically significant difference after "
                     "adjustment: " + "; ".join(describe_effect(r, plan)
                                                 for _, r in findings.iterrows()))
    elif len(judged):
        paras.append(f"None of the other {len(judged)} pre-specified outcomes with an "
                     "informative estimate differed significantly after Holm adjustment.")
    unjudged = len(rest) - len(judged)
    if unjudged:
        paras.append(f"{unjudged} other pre-specified outcome{'s' if unjudged > 1 else ''} "
                     f"{'have' if unjudged > 1 else 'has'} no informative estimate here (see "
                     "the impact table for why), so nothing is concluded about "
                     f"{'them' if unjudged > 1 else 'it'}.")
    if bool(head["indicative"]):
        mdes = float(head["mdes"])
        size = (f"is about {mdes:z.2f} standard deviations (80% power), larger than the effects "
                "programmes like this usually have" if math.isfinite(mdes) else
                "cannot even be worked out, because there are too few schools")
        paras.append(
            f"How sure can we be? With the {phase} sample the smallest effect on "
            f"{head['label']} we could reliably detect {size}, so these results are indicative "
            "only, as the original evaluators warned. Pupils were not randomly assigned: "
            "differences the data do not record could explain part of any difference."
        )
    return paras

"""Plain-English findings generated from the results (what a headteacher reads first)."""

from __future__ import annotations

import math

import pandas as pd

from evaluation.disclosure import safe_count

PHASE_WORDS = {"secondary": "secondary (GCSE, 2009-2010)", "primary": "primary (KS2, 2010)"}


def _num(x: float, decimals: int = 1) -> str:
    return f"{x:+.{decimals}f}".replace("+-", "-")


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _count_words(n: int, threshold: int) -> str:
    """Format a count for running text: 'fewer than 10' when it must be suppressed."""
    return f"fewer than {threshold}" if safe_count(n, threshold) != f"{int(n):,}" else f"{n:,}"


def describe_effect(row: pd.Series | dict, alpha: float = 0.05) -> str:
    """One sentence on one outcome: the effect in its own units, its CI, months, and certainty.

    Parameters
    ----------
    row : mapping
        A row of ``ImpactResult.table()``: ``label``, ``family``, ``estimate``, ``ci_low``,
        ``ci_high``, ``p``, ``p_holm``, ``months``, ``effect_size``, ``es_type``.
    alpha : float
        Significance level.

    Returns
    -------
    str

    Examples
    --------
    >>> text = describe_effect({"label": "GCSE capped point score", "family": "gaussian",
    ...     "estimate": 18.44, "ci_low": 8.1, "ci_high": 28.7, "p": 0.003, "p_holm": 0.015,
    ...     "months": 2, "effect_size": 0.2, "es_type": "Hedges' g", "units": "points"})
    >>> text.split(" than ")[0]
    'GCSE capped point score: EM pupils scored 18.4 points more'
    """
    r = dict(row)
    gaussian = r["family"] == "gaussian"
    scale = 1.0 if gaussian else 100.0
    units = r.get("units") or ("points" if gaussian else "percentage points")
    est, lo, hi = (r[k] * scale for k in ("estimate", "ci_low", "ci_high"))
    more = "more" if est >= 0 else "less"
    if gaussian:
        what = f"EM pupils scored {abs(est):.1f} {units} {more} than comparable pupils"
    else:
        what = (f"the share of EM pupils reaching it was {abs(est):.1f} {units} "
                f"{'higher' if est >= 0 else 'lower'} than for comparable pupils")
    months = r.get("months")
    extra = []
    if months is not None and not (isinstance(months, float) and math.isnan(months)):
        m = int(months)
        extra.append(f"about {abs(m)} month{'s' if abs(m) != 1 else ''} of "
                     f"{'additional' if m >= 0 else 'less'} progress")
    if r.get("effect_size") is not None and not pd.isna(r.get("effect_size")):
        extra.append(f"{r.get('es_type', 'effect size')} {r['effect_size']:.2f}")
    tail = "; ".join([f"95% CI {lo:.1f} to {hi:.1f}", *extra])
    if r["p"] < alpha:
        verdict = (f"This is statistically significant ({_p(r['p'])}; "
                   f"{_p(r['p_holm'])} after Holm adjustment for the number of outcomes).")
        if r["p_holm"] >= alpha:
            verdict = (f"This would be statistically significant alone ({_p(r['p'])}) but not "
                       f"after Holm adjustment for the number of outcomes "
                       f"({_p(r['p_holm'])}).")
    else:
        verdict = f"This difference could well be chance ({_p(r['p'])})."
    return f"{r['label']}: {what} in the same schools ({tail}). {verdict}"


def phase_findings(phase: str, table: pd.DataFrame, n_em: int, n_comparison: int,
                   n_schools: int, threshold: int, alpha: float = 0.05) -> list[str]:
    """Paragraphs for one estimable phase: who was compared, the headline, the rest, the caveat.

    Examples
    --------
    >>> t = pd.DataFrame([{"outcome": "ks2_aps", "label": "KS2 APS", "family": "gaussian",
    ...     "estimate": 0.3, "ci_low": -0.5, "ci_high": 1.1, "p": 0.4, "p_holm": 0.8,
    ...     "months": 1, "effect_size": 0.05, "es_type": "Hedges' g", "mdes": 0.6,
    ...     "indicative": True, "primary": True}])
    >>> phase_findings("primary", t, 46, 300, 2, 10)[0][:40]
    'In the primary (KS2, 2010) phase, 46 EM '
    """
    paras = [
        f"In the {PHASE_WORDS.get(phase, phase)} phase, {_count_words(n_em, threshold)} EM "
        f"pupils in {n_schools} school{'s' if n_schools != 1 else ''} were compared with "
        f"{_count_words(n_comparison, threshold)} pupils from the same schools and year groups, "
        "weighted so that each school and year counts as much as its EM pupils, and adjusted "
        "for prior attainment, FSM, gender, SEN, EAL and ethnicity."
    ]
    if min(n_em, n_comparison) < threshold:
        paras.append(f"Fewer than {threshold} pupils are in one of the groups compared, so no "
                     "estimate is shown: a figure resting on so few pupils could identify them. "
                     "The overall report includes these pupils.")
        return paras
    head = table[table["primary"].astype(bool)] if "primary" in table else table.iloc[:1]
    head = head if len(head) else table.iloc[:1]
    paras.append(describe_effect(head.iloc[0], alpha))
    rest = table.drop(head.index)
    sig = rest[rest["p_holm"] < alpha]
    if len(rest):
        if len(sig):
            paras.append("Other outcomes with a statistically significant difference after "
                         "adjustment: " + "; ".join(describe_effect(r, alpha)
                                                     for _, r in sig.iterrows()))
        else:
            paras.append(f"None of the other {len(rest)} pre-specified outcomes differed "
                         "significantly after Holm adjustment.")
    if table["indicative"].astype(bool).any():
        mdes = float(table["mdes"].max())
        size = (f"is about {mdes:.2f} standard deviations (80% power), larger than the effects "
                "programmes like this usually have" if math.isfinite(mdes) else
                "cannot even be worked out, because there are too few schools")
        paras.append(
            f"How sure can we be? With the {phase} sample the smallest effect we could reliably "
            f"detect {size}, so these results are indicative only, as the original evaluators "
            "warned. Pupils were not randomly assigned: differences the data do not record could "
            "explain part of any difference."
        )
    return paras

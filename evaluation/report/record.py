"""The numbers a report contributes to the index page, formatted as the report shows them."""

from __future__ import annotations

from evaluation.disclosure import safe_count
from evaluation.report.tables import effect_text, group_withheld, marker, threshold, withheld
from evaluation.results import EvaluationResult


def index_record(res: EvaluationResult) -> dict:
    """Return the index page's entry for a report: phase, schools, EM pupils, headline, status.

    The headline is the headline outcome's row of each estimable phase, in the impact table's
    own format (:func:`evaluation.report.tables.effect_text`).

    Examples
    --------
    >>> index_record(res)["status"]  # doctest: +SKIP
    'ok'
    """
    t = threshold(res.plan)
    texts = []
    for pe in res.phases.values():
        if not pe.estimable:
            continue
        if group_withheld(res, pe.phase) or min(pe.sample.n_em, pe.sample.n_comparison) < t:
            texts.append(f"{pe.phase}: a group's size is withheld (suppressed)")
            continue
        row = pe.headline()
        texts.append(f"{row['label']}: {effect_text(row)}")
    return {
        "title": res.title,
        "phase": ", ".join(res.phases),
        "n_schools": int(len(res.schools)),
        "n_em": (marker(res.plan) if any(withheld(res, p) for p in res.phases)
                 else safe_count(res.n_em, t) if res.n_em else "0"),
        "headline": "; ".join(texts) if texts else "not estimable",
        "status": "ok" if res.estimable else "not estimable",
    }

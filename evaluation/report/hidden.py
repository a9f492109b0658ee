"""Sensitivity to hidden differences: E-values and Rosenbaum bounds, one sentence per outcome."""

from __future__ import annotations

import math

from evaluation.confounding import FRAGILE_E_VALUE, FRAGILE_GAMMA, OutcomeConfounding
from evaluation.report.display import Notice, Section
from evaluation.report.tables import group_withheld, informative, threshold
from evaluation.results import EvaluationResult

#: How the main design's strata are described, by matching method (``analysis.yml``).
GROUP_WORDS = {"exact": "each school and cohort"}


def groups_words(plan) -> str:
    """Words for the main design's matched groups (the strata Rosenbaum's bound uses).

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> groups_words(load_plan())
    'each school and cohort'
    """
    return GROUP_WORDS.get(plan.main_spec().get("method"),
                           "each matched set of EM pupils and their comparison pupils")


def confounding_sentence(label: str, c: OutcomeConfounding,
                         groups: str = "each school and cohort",
                         benchmark_label: str | None = None) -> str:
    """One plain sentence on how strong a hidden difference would have to be.

    ``benchmark_label`` is what readers call the measured characteristic of ``c.benchmark``
    (default: its column name).

    Examples
    --------
    >>> from evaluation.confounding import outcome_confounding
    >>> c = outcome_confounding({"outcome": "y", "family": "gaussian", "estimate": 2.0,
    ...                          "effect_size": 0.5, "es_ci_low": 0.3, "es_ci_high": 0.7})
    >>> confounding_sentence("Maths score", c)[:59]
    'Maths score: to explain this result away, a characteristic '
    """
    if not math.isfinite(c.e_value):
        return f"{label}: not assessed (no estimate on a ratio scale)."
    better = "do better" if c.rr >= 1 else "do worse"
    if c.e_value_ci <= 1.0:
        text = (f"{label}: the interval already includes no effect, so no hidden difference "
                "is needed to explain it; explaining away the estimate itself would take a "
                f"characteristic that made pupils {c.e_value:z.2f} times as likely both to be "
                "in the EM group and to " + better + ".")
    else:
        text = (f"{label}: to explain this result away, a characteristic the data do not "
                f"record would have to make pupils {c.e_value:z.2f} times as likely both to be "
                f"in the EM group and to {better}, over and above the characteristics "
                f"adjusted for; {c.e_value_ci:z.2f} times would be enough to make the interval "
                "include no effect.")
    if math.isfinite(c.gamma_critical) and c.e_value_ci > 1.0:
        if c.gamma_critical <= 1.0:
            text += (" Compared in one-to-one matched pairs instead, the difference is not "
                     "statistically significant even with no hidden difference.")
        else:
            text += (" In one-to-one matched pairs, the difference stays statistically "
                     "significant until the odds of being chosen for EM differ "
                     f"{c.gamma_critical:z.2f}-fold within a pair.")
    if math.isfinite(c.gamma_strata):
        where = f"within {groups} ({c.n_strata} group{'s' if c.n_strata != 1 else ''} " \
                "with both EM and comparison pupils), allowing for the characteristics adjusted for"
        if c.gamma_strata <= 1.0:
            text += (f" Compared {where}, the difference is not statistically significant even "
                     "with no hidden difference.")
        else:
            text += (f" Compared {where}, the difference stays statistically significant until "
                     f"the odds of being chosen for EM differ {c.gamma_strata:z.2f}-fold between "
                     "two pupils of the same group.")
    if math.isfinite(c.benchmark) and c.e_value_ci > 1.0:
        measured = benchmark_label or c.benchmark_covariate
        text += (f" For comparison, leaving {measured} out of the model moves the interval as "
                 f"far as a hidden characteristic with an E-value of {c.benchmark:z.2f} would.")
    verdict = ("fragile: a hidden difference of modest strength could account for it"
               if c.fragile else "not fragile by this rule")
    return f"{text} Judged {verdict}."


def hidden_differences(res: EvaluationResult) -> Section:
    """Show E-values and Rosenbaum's Gamma for every estimated outcome, in words."""
    parts = [
        "Pupils were not assigned to EM at random, so a difference between the groups that the "
        "data do not record (for example motivation or family support) could explain part of "
        "any result. The E-value (VanderWeele and Ding, 2017) is how strongly such a "
        "characteristic would have to be linked, as a risk ratio, both with being in the EM "
        "group and with the outcome to explain the result away; Rosenbaum's Gamma is how far "
        "the odds of being chosen for EM could differ between two matched pupils before the "
        "result stops being statistically significant, worked out both for one-to-one matched "
        "pairs and for the main comparison within each matched group, where several EM pupils "
        "are compared with several others (Rosenbaum's method for strata, as the R package "
        "senstrat computes it). Values near 1 mean fragile. The rule: "
        "a result is fragile when its interval includes no effect, when its interval's "
        f"E-value is below {FRAGILE_E_VALUE} or below that of the strongest characteristic the "
        "data do record (how far leaving that characteristic out of the model moves the "
        "interval, as an E-value: McGowan and Greevy, 2020), or when either Gamma is below "
        f"{FRAGILE_GAMMA}."]
    for phase, pe in res.phases.items():
        parts.append(f"{phase.capitalize()} phase.")
        if not pe.estimable:
            parts.append(Notice(f"Not assessed: {pe.not_estimable}", "not estimable"))
            continue
        if group_withheld(res, phase) or min(pe.sample.n_em,
                                             pe.sample.n_comparison) < threshold(res.plan):
            parts.append(Notice("Not shown: one group's size is withheld.", "note"))
            continue
        for row in pe.impact.table().to_dict("records"):
            c = pe.confounding.get(row["outcome"])
            if c is None:
                continue
            if not informative(row):
                parts.append(f"{row['label']}: not assessed, because the estimate is not "
                             "informative.")
                continue
            parts.append(confounding_sentence(
                row["label"], c, groups_words(res.plan),
                res.plan.covariate_label(c.benchmark_covariate)
                if c.benchmark_covariate else None))
    return Section("Sensitivity to hidden differences", "hidden", parts)

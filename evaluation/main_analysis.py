"""The plan's main analysis of a sample: its matching, balance and impact estimates, once."""

from __future__ import annotations

import warnings
from collections import OrderedDict

from evaluation.balance import balance
from evaluation.matching import match
from evaluation.memo import kept
from evaluation.models import estimate_impacts
from evaluation.plan import Plan
from evaluation.sample import AnalysisSample
from evaluation.sensitivity import match_args

#: Main analyses by content (the scope's data digest, the plan, the phase and the seed), kept
#: for the process's later reports: a cluster's is asked for by the overall evaluation's
#: clusters and again by the cluster's own report (issue 17: a report set built in one
#: process, as the tests and a notebook session build it, computed 10 for 6 distinct). The
#: most recently used are kept: a phase's impacts with their fits and bootstrap draws take
#: tens of MB.
_DONE: OrderedDict[str, tuple] = OrderedDict()
_KEPT = 16


def warning_lines(caught) -> tuple[str, ...]:
    """Each caught warning once, as ``"Category: message"`` (in the order first raised).

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("no control within the caliper", UserWarning)
    ...     warnings.warn("no control within the caliper", UserWarning)
    >>> warning_lines(caught)
    ('UserWarning: no control within the caliper',)
    """
    return tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))


def main_analysis(sample: AnalysisSample, plan: Plan, phase: str, seed: int,
                  data_key: str | None = None) -> tuple:
    """Return the main specification's matching, balance and impacts, and their warnings.

    The same sample gives the same results to every report that asks: a cluster's to its
    own report and to the overall report's clusters' table, the whole evaluation's to the
    overall report and to the design-value report's 2011 design.

    Parameters
    ----------
    sample : AnalysisSample
        The phase's analysis sample (:func:`evaluation.sample.analysis_sample`).
    plan : Plan
        The plan (its main matching specification, covariates and outcomes).
    phase : str
        ``"primary"`` or ``"secondary"``.
    seed : int
        Seed of the matching's tie-breaking and of bootstrap inference.
    data_key : str, optional
        What the sample was drawn from (the scope's data digest): with it, the result is
        computed once per process (and kept for its later reports) and once per build,
        shared by its workers (:func:`evaluation.shared.computed_once`).

    Returns
    -------
    tuple
        ``(MatchResult, BalanceSummary, ImpactResult, warnings)``, the warnings as
        :func:`warning_lines`.

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> from evaluation.sample import analysis_sample
    >>> from evaluation.synthetic import generate
    >>> ds = generate(seed=1, include_population=False)
    >>> plan = load_plan()
    >>> sample = analysis_sample(ds.pupils, "secondary", plan)
    >>> matched, bal, impact, warned = main_analysis(sample, plan, "secondary", seed=1)
    >>> int(matched.counts.loc["Matched", "Treated"]) == sample.n_em
    True
    """
    if data_key is not None:
        return kept(_DONE, f"{data_key}{plan.digest()}{phase}{seed}",
                    lambda: main_analysis(sample, plan, phase, seed), _KEPT, shared_as="phase")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        matched = match(sample.data, treatment="em", **match_args(plan.main_spec(), plan, phase),
                        random_state=seed)
        bal = balance(matched, covariates=plan.covariates(phase))
        impact = estimate_impacts(
            matched.matched_data(), plan.outcomes(phase), plan.model_covariates(phase), plan=plan,
            exclusions=sample.exclusion_counts(), random_state=seed,
        )
    return matched, bal, impact, warning_lines(caught)

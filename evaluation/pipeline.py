"""Evaluate one cluster (or all EM schools): sample, matching, balance, impact, per phase."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd

from evaluation.io import Dataset
from evaluation.plan import Plan
from evaluation.sample import AnalysisSample, analysis_sample
from evaluation.schema import PHASES

MAIN_SPEC = "manchester"


@dataclass(frozen=True)
class PhaseEvaluation:
    """Everything estimated for one phase of a cluster.

    ``not_estimable`` is empty when the impact could be estimated; otherwise it says why in
    plain words, and ``match``, ``balance`` and ``impact`` are None.
    """

    phase: str
    sample: AnalysisSample
    match: object | None = None
    balance: object | None = None
    impact: object | None = None
    not_estimable: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def estimable(self) -> bool:
        """Whether the impact section has estimates."""
        return not self.not_estimable


@dataclass(frozen=True)
class Evaluation:
    """One report's worth of results: the scope's data, plan, and a PhaseEvaluation per phase.

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> from evaluation.synthetic import generate
    >>> ev = evaluate(generate(seed=1), load_plan())  # doctest: +SKIP
    >>> ev.n_em  # doctest: +SKIP
    196
    """

    title: str
    scope: str
    cluster: str | None
    data: Dataset
    plan: Plan
    seed: int
    phases: dict[str, PhaseEvaluation] = field(default_factory=dict)
    population: Dataset | None = field(default=None, repr=False)

    @property
    def n_em(self) -> int:
        """Analysable EM pupils over all phases."""
        return sum(p.sample.n_em for p in self.phases.values())

    @property
    def n_comparison(self) -> int:
        """Analysable comparison pupils over all phases."""
        return sum(p.sample.n_comparison for p in self.phases.values())

    @property
    def n_em_schools(self) -> int:
        """Schools contributing analysable EM pupils."""
        return sum(p.sample.n_schools for p in self.phases.values())

    @property
    def schools(self) -> pd.DataFrame:
        """The schools in scope."""
        return self.data.schools


def _why_not_estimable(sample: AnalysisSample, schools: pd.DataFrame) -> str:
    phase_schools = schools[schools["phase"] == sample.phase]
    em_schools = phase_schools[phase_schools["role"] == "trial"]
    if sample.n_em == 0:
        if len(em_schools) and not em_schools["em_linked"].any():
            return (f"pupil-level EM data for this {sample.phase} phase could not be linked to "
                    "attainment records for any of its schools, so EM pupils cannot be told "
                    "apart from their classmates.")
        return (f"no EM pupil in the {sample.phase} phase has both prior attainment and the "
                "outcome recorded.")
    if sample.n_comparison == 0:
        return (f"the {sample.phase} EM pupils have no classmates in the same school and cohort "
                "to compare them with.")
    return ""


def _phase(ds: Dataset, plan: Plan, phase: str, seed: int) -> PhaseEvaluation:
    from evaluation.balance import balance
    from evaluation.matching import match
    from evaluation.models import estimate_impacts

    sample = analysis_sample(ds.pupils, phase, plan)
    reason = _why_not_estimable(sample, ds.schools)
    if reason:
        return PhaseEvaluation(phase, sample, not_estimable=reason)
    spec = plan.matching_spec(MAIN_SPEC)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        matched = match(sample.data, treatment="em", **match_args(spec, plan, phase),
                        random_state=seed)
        bal = balance(matched, covariates=plan.covariates(phase))
        impact = estimate_impacts(
            matched.matched_data(), plan.outcomes(phase), plan.model_covariates(phase), plan=plan,
            exclusions=sample.exclusion_counts(), random_state=seed,
        )
    notes = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return PhaseEvaluation(phase, sample, matched, bal, impact, warnings=notes)


def match_args(spec: dict, plan: Plan, phase: str) -> dict:
    """Turn a plan matching spec into `match()` arguments.

    ``prior`` in a spec's covariates is the phase's prior attainment. A spec without
    covariates matches on the phase's model covariates, except exact matching, which matches
    on its ``exact`` variables only (balance is still checked on every covariate).

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> plan = load_plan()
    >>> match_args(plan.matching_spec("nearest_ps"), plan, "primary")["covariates"][0]
    'ks1_aps'
    """
    args = {k: v for k, v in spec.items() if k not in ("name", "label", "covariates")}
    covariates = spec.get("covariates")
    if covariates is None and spec.get("method") != "exact":
        covariates = plan.covariates(phase)
    if covariates is not None:
        args["covariates"] = [plan.prior(phase) if c == "prior" else c for c in covariates]
    return args


def scope_schools(schools: pd.DataFrame, cluster: str | None) -> pd.DataFrame:
    """Schools of a cluster, or every EM programme school (trial or partner) when None.

    Raises
    ------
    ValueError
        If the cluster is not in ``schools.cluster`` (the message lists the clusters).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"cluster": ["A", None], "role": ["trial", "comparison"]})
    >>> len(scope_schools(s, "A")), len(scope_schools(s, None))
    (1, 1)
    """
    if cluster is None:
        return schools[schools["role"].isin(["trial", "partner"])]
    known = sorted(schools["cluster"].dropna().unique())
    if cluster not in known:
        raise ValueError(f"`cluster` should be one of {known}; got {cluster!r}")
    return schools[schools["cluster"] == cluster]


def evaluate(ds: Dataset, plan: Plan, cluster: str | None = None, seed: int = 0) -> Evaluation:
    """Evaluate a cluster (or, with ``cluster=None``, every EM school): the report's results.

    For each phase present: the analysis sample with exclusions counted, the main matching
    specification of the plan (the Manchester design), balance before and after, and the
    impact on every pre-specified outcome; or, when that cannot be done, the reason.

    Parameters
    ----------
    ds : Dataset
        All data (national comparison schools included: the gap analyses use them).
    plan : Plan
        The analysis plan.
    cluster : str, optional
        A value of ``schools.cluster``; None for the overall evaluation.
    seed : int
        Seed for bootstrap inference and random tie-breaking.

    Returns
    -------
    Evaluation

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> from evaluation.synthetic import generate
    >>> ev = evaluate(generate(seed=1), load_plan(), cluster=None)  # doctest: +SKIP
    """
    schools = scope_schools(ds.schools, cluster)
    scoped = ds.for_schools(schools["school_id"])
    title = cluster if cluster is not None else "All Extra Mile schools"
    phases = {
        phase: _phase(scoped, plan, phase, seed)
        for phase in sorted(PHASES, key=lambda p: p != "secondary")
        if (scoped.pupils["phase"] == phase).any()
    }
    return Evaluation(title, "overall" if cluster is None else "cluster", cluster, scoped, plan,
                      seed, phases, population=ds)

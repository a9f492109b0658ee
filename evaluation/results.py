"""Results layer: one call evaluates a scope; a frozen tree of everything reports show."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.balance import BalanceSummary, balance_row_keys, small_group_rows
from evaluation.config import DEFAULT_SEED
from evaluation.confounding import (
    FRAGILE_E_VALUE,
    OutcomeConfounding,
    is_common,
    outcome_confounding,
)
from evaluation.confounding_benchmark import covariate_benchmarks, strongest
from evaluation.descriptives import outcome_descriptives
from evaluation.effects import outcome_range
from evaluation.exceptions import NotEstimableError
from evaluation.gaps.published import PublishedGapReport, published_report
from evaluation.gaps.pupils import (
    GAP_MEASURE,
    GapShare,
    GapTrends,
    cluster_groups,
    fsm_attainment,
    gap_trends,
    gap_vs_fsm_share,
    phase_pupils,
)
from evaluation.io import Dataset
from evaluation.io.dfe import PublishedSource, published_sources, read_published
from evaluation.linked import LinkedCounts, linked_counts
from evaluation.main_analysis import main_analysis
from evaluation.matching import MatchResult, match
from evaluation.matching.pairing import one_to_one
from evaluation.models import ImpactResult, model_arguments
from evaluation.plan import Plan
from evaluation.provenance import provenance_table
from evaluation.recovery import truth_check
from evaluation.sample import AnalysisSample, analysis_sample
from evaluation.schema import PHASES
from evaluation.school_support import (
    SchoolSupportResult,
    placebo_group,
    read_school_list,
    school_support,
)
from evaluation.security import CostEstimate, SecurityRating, programme_cost, security_rating
from evaluation.sensitivity import match_args, sensitivity_table
from evaluation.subgroups import effects_by
from evaluation.surveys import SurveyResult, survey_change
from evaluation.tracking import TrackingResult, track


@dataclass(frozen=True)
class PhaseResult:
    """Everything estimated for one phase of a scope.

    ``not_estimable`` is empty when the impact could be estimated; otherwise it says why in
    plain words, and ``match``, ``balance`` and ``impact`` are None.

    Attributes
    ----------
    phase : str
        ``primary`` or ``secondary``.
    sample : AnalysisSample
        The analysis sample with its exclusions.
    match : MatchResult or None
        The plan's main matching specification.
    balance : BalanceSummary or None
        Balance before and after matching on every model covariate.
    impact : ImpactResult or None
        Every pre-specified outcome (with the FSM-gap interaction).
    not_estimable : str
        Why the impact could not be estimated (empty when it could).
    warnings : tuple of str
        Matching and model warnings, one line each (they are findings).
    sensitivity : pandas.DataFrame or None
        Overall scope only: every matching specification and a multilevel model
        (:func:`evaluation.sensitivity.sensitivity_table`).
    by_activity : pandas.DataFrame or None
        Overall scope only: the headline outcome within each EM activity.
    confounding : dict of str to OutcomeConfounding
        Per estimated outcome: E-values, Rosenbaum's critical Gamma from the plan's 1:1
        nearest-neighbour pairs and from the main design's strata, and the ``fragile`` flag
        (:class:`evaluation.confounding.OutcomeConfounding` documents the rule).
    security : SecurityRating or None
        The headline finding's EEF padlock rating with its inputs.
    cost : CostEstimate or None
        Programme funding per EM pupil (``analysis.yml: funding``) on the EEF cost scale.
    descriptives : pandas.DataFrame or None
        Unadjusted outcomes by group (:func:`evaluation.descriptives.outcome_descriptives`).
    balance_withheld : numpy.ndarray or None
        Per balance row (the "before" rows' order): withheld because a group having or
        lacking the characteristic is small (:func:`evaluation.balance.small_group_rows`),
        and in the overall result also where a cluster's report withholds the row (the
        phase's shares less the shown clusters' would give the cluster's back).
    """

    phase: str
    sample: AnalysisSample
    match: MatchResult | None = None
    balance: BalanceSummary | None = None
    impact: ImpactResult | None = None
    not_estimable: str = ""
    warnings: tuple[str, ...] = ()
    sensitivity: pd.DataFrame | None = field(default=None, repr=False)
    by_activity: pd.DataFrame | None = field(default=None, repr=False)
    confounding: dict[str, OutcomeConfounding] = field(default_factory=dict, repr=False)
    security: SecurityRating | None = field(default=None, repr=False)
    cost: CostEstimate | None = field(default=None, repr=False)
    descriptives: pd.DataFrame | None = field(default=None, repr=False)
    balance_withheld: np.ndarray | None = field(default=None, repr=False)

    @property
    def estimable(self) -> bool:
        """Whether the impact section has estimates."""
        return not self.not_estimable

    def headline(self) -> pd.Series:
        """Return the headline outcome's row of ``impact.table()``.

        Raises
        ------
        ValueError
            When the phase is not estimable.
        """
        if self.impact is None:
            raise ValueError(f"the {self.phase} phase is not estimable: {self.not_estimable}")
        table = self.impact.table()
        primary = table[table["primary"].astype(bool)]
        return (primary if len(primary) else table).iloc[0]


@dataclass(frozen=True)
class PhaseGaps:
    """FSM gaps of one phase: by school in the latest year, trends, and (overall) gap vs share.

    Attributes
    ----------
    measure : str
        The threshold outcome the gaps are measured on (``GAP_MEASURE``).
    latest : int
        The latest cohort of the scope's pupils.
    schools : pandas.DataFrame
        :func:`evaluation.gaps.pupils.fsm_attainment` by school in ``latest``.
    trends : GapTrends
        Gaps per group of schools and year against national.
    share : GapShare or None
        Overall scope only: all schools' gap against their FSM share.
    share_not_estimable : str or None
        Overall scope only: why ``share`` could not be estimated (too few schools with a gap).
    groups_without_pupils : tuple of str
        Groups of schools (e.g. a cluster's partner schools) with no pupils of the phase in
        the data: not in the trends, and named in the report.
    """

    measure: str
    latest: int
    schools: pd.DataFrame = field(repr=False)
    trends: GapTrends = field(repr=False)
    share: GapShare | None = field(default=None, repr=False)
    share_not_estimable: str | None = None
    groups_without_pupils: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvaluationResult:
    """One scope's results: a cluster, or (``cluster=None``) every EM school.

    The overall result holds each cluster's result in ``clusters``: the overall report's
    cluster comparison shows those results, not refits.

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> from evaluation.synthetic import generate
    >>> res = evaluate(generate(seed=1, include_population=False), load_plan(),
    ...                cluster="Secondary phase 1", seed=1)
    >>> res.scope, sorted(res.phases)
    ('cluster', ['secondary'])
    """

    title: str
    scope: str
    cluster: str | None
    data: Dataset = field(repr=False)
    plan: Plan = field(repr=False)
    seed: int
    phases: dict[str, PhaseResult] = field(default_factory=dict, repr=False)
    gaps: dict[str, PhaseGaps] = field(default_factory=dict, repr=False)
    surveys: dict[str, SurveyResult] = field(default_factory=dict, repr=False)
    tracking: TrackingResult | None = field(default=None, repr=False)
    clusters: dict[str, EvaluationResult] = field(default_factory=dict, repr=False)
    truth: pd.DataFrame | None = field(default=None, repr=False)
    provenance: pd.DataFrame | None = field(default=None, repr=False)
    linked: LinkedCounts | None = field(default=None, repr=False)

    def hidden(self, key) -> bool:
        """Whether a count shared with other tables or reports is hidden in every report."""
        return self.linked is not None and self.linked.hidden(key)

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

    @property
    def estimable(self) -> bool:
        """Whether any phase has impact estimates."""
        return any(p.estimable for p in self.phases.values())

    def heterogeneity(self) -> pd.DataFrame:
        """Return the headline row of each cluster's own result, per phase (overall scope).

        Returns
        -------
        pandas.DataFrame
            ``cluster``, ``phase``, then the columns of ``ImpactResult.table()``; a cluster
            phase that is not estimable has its reason in ``note``.
        """
        rows = []
        for name, res in self.clusters.items():
            for phase, pe in res.phases.items():
                if pe.estimable:
                    row = pe.headline().to_dict()
                else:
                    head = self.plan.headline(phase)
                    row = {"outcome": head["name"], "label": head["label"],
                           "family": head["family"], "n_em": pe.sample.n_em,
                           "n_comparison": pe.sample.n_comparison,
                           "n_schools": pe.sample.n_schools, "informative": False,
                           "not_informative": "not estimable", "note": pe.not_estimable}
                rows.append({"cluster": name, "phase": phase, **row})
        return pd.DataFrame(rows)


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


def _pairs(sample: AnalysisSample, plan: Plan, phase: str, seed: int) -> pd.DataFrame | None:
    """1:1 pairs of the plan's first 1:1 nearest-neighbour spec without replacement, if any.

    Its matching warnings belong to the sensitivity analysis, not to the main estimates,
    and are not added to the phase's warnings.
    """
    # pairs as MatchIt makes them: reuse_max, when given, overrides replace (one_to_one)
    spec = next((s for s in plan.raw["matching"] if s.get("method") == "nearest"
                 and one_to_one(s)), None)
    if spec is None:
        return None
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            pairs = match(sample.data, treatment="em", **match_args(spec, plan, phase),
                          random_state=seed)
        except (ValueError, NotEstimableError):
            return None
    return pairs.matched_data()


def _confounding(impact: ImpactResult, data: pd.DataFrame, matched: pd.DataFrame, pairs,
                 plan: Plan, phase: str) -> dict:
    """Return E-values, Gammas (pairs, strata) and the measured covariates' benchmark.

    The benchmark's fits are spent only where it can change the verdict: on intervals whose
    E-value reaches the fixed floor (below it a finding is fragile whatever the benchmark).
    """
    alpha = float(plan.section("inference")["alpha"])
    args = model_arguments(plan)
    specs = {s["name"]: s for s in plan.outcomes(phase)}
    strata = {"strata": matched, "covariates": plan.covariates(phase)}
    out = {}
    for r in impact.table().to_dict("records"):
        name = r["outcome"]
        if name not in impact.outcomes:
            continue
        conf = outcome_confounding(r, data, pairs, alpha=alpha, **strata)
        if math.isfinite(conf.e_value_ci) and conf.e_value_ci >= FRAGILE_E_VALUE:
            spec = specs[name]
            bench = covariate_benchmarks(
                matched, name, spec["family"], plan.model_covariates(phase),
                treatment=args["treatment"], weights=args["weights"], cluster=args["cluster"],
                alpha=alpha, common=is_common(data, name),
                outcome_range=spec.get("range") or outcome_range(name, spec["family"]))
            conf = outcome_confounding(r, data, pairs, alpha=alpha, **strata,
                                       benchmark=strongest(bench))
        out[name] = conf
    return out


def _security(sample: AnalysisSample, bal: BalanceSummary, impact: ImpactResult,
              confounding: dict, schools: pd.DataFrame, withheld: np.ndarray) -> SecurityRating:
    ex = sample.exclusions
    lost = ex[ex["reason"].str.contains("missing")][["em", "comparison"]].to_numpy().sum()
    kept = sample.n_em + sample.n_comparison
    after = bal.table[bal.table["stage"] == "after"]["smd"].abs()
    # quoted in words: the largest of the rows a report may show (PhaseResult.balance_withheld)
    shown = after.to_numpy()[~withheld] if len(withheld) == len(after) else after.to_numpy()
    head = impact.table()
    head = head[head["primary"].astype(bool)].iloc[0]
    threats = []
    conf = confounding.get(head["outcome"])
    if conf is not None and conf.fragile:
        threats.append("an unmeasured difference between the groups of modest strength could "
                       "explain the headline result (it is fragile to confounding)")
    trial = schools[(schools["phase"] == sample.phase) & (schools["role"] == "trial")]
    unlinked = int((~trial["em_linked"].astype(bool)).sum())
    if unlinked:
        threats.append(f"EM pupils of {unlinked} trial school{'s' if unlinked > 1 else ''} "
                       "could not be identified in the attainment data (missing data)")
    return security_rating("matched", float(head["mdes"]), lost / (lost + kept) if kept else 1.0,
                           float(after.max()) if after.notna().any() else float("nan"),
                           threats, float(np.nanmax(shown)) if np.isfinite(shown).any()
                           else float("nan"))


#: Phase results by content (data digest, plan hash, phase, seed, scope): a cluster's phase is
#: the same whether the overall evaluation or the cluster's report asks for it.
_PHASES: dict[tuple, PhaseResult] = {}
_PHASES_KEPT = 32


def _phase(ds: Dataset, plan: Plan, phase: str, seed: int, overall: bool,
           impact_only: bool = False, withhold: frozenset = frozenset()) -> PhaseResult:
    full = (ds.digest(), plan.digest(), phase, seed, overall, withhold)
    key = (*full, "impact") if impact_only else full
    if impact_only and full in _PHASES:     # a full result has the impact too
        return _PHASES[full]
    if key in _PHASES:
        return _PHASES[key]
    if len(_PHASES) >= _PHASES_KEPT:
        _PHASES.pop(next(iter(_PHASES)))
    _PHASES[key] = _compute_phase(ds, plan, phase, seed, overall, impact_only, withhold)
    return _PHASES[key]


def _compute_phase(ds: Dataset, plan: Plan, phase: str, seed: int, overall: bool,
                   impact_only: bool = False, withhold: frozenset = frozenset()) -> PhaseResult:
    sample = analysis_sample(ds.pupils, phase, plan)
    reason = _why_not_estimable(sample, ds.schools)
    cost = (programme_cost(ds.schools, sample.data, phase, plan.raw["funding"])
            if "funding" in plan.raw else None)
    if reason:
        return PhaseResult(phase, sample, not_estimable=reason, cost=cost)
    # a cluster's matching and impact are asked for by its own report and by the overall
    # report (its clusters' table), the whole evaluation's by the overall report and the
    # design-value report: in a build, one process computes them for both
    matched, bal, impact, warned = main_analysis(sample, plan, phase, seed, ds.digest())
    # balance rows resting on small groups: withheld by the table, the plot and every sentence;
    # and, in the overall report, every row a cluster's report withholds (``withhold``): the
    # shares of the phase's pupils less those of the clusters shown would give it back
    keys = balance_row_keys(bal.table)
    withheld = small_group_rows(bal.table, sample.data, matched.matched_data(), plan.threshold)
    withheld |= np.array([k in withhold for k in keys], dtype=bool)
    if impact_only:    # the same matching and impact; confounding and the rest skipped
        return PhaseResult(phase, sample, matched, bal, impact, warnings=warned,
                           cost=cost, balance_withheld=withheld)
    extra = {}
    if overall:
        extra["sensitivity"] = sensitivity_table(sample, matched, impact, plan, seed)
        extra["by_activity"] = effects_by(matched.matched_data(), ds.schools, "em_activity",
                                          plan, phase, seed)
    with warnings.catch_warnings(record=True):   # the sensitivity analysis's own fits: their
        warnings.simplefilter("always")         # notes are not the main estimates' warnings
        conf = _confounding(impact, sample.data, matched.matched_data(),
                            _pairs(sample, plan, phase, seed), plan, phase)
    return PhaseResult(phase, sample, matched, bal, impact, warnings=warned, **extra,
                       confounding=conf,
                       security=_security(sample, bal, impact, conf, ds.schools, withheld),
                       balance_withheld=withheld,
                       cost=cost,
                       descriptives=outcome_descriptives(matched.matched_data(),
                                                         plan.outcomes(phase)))


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


def _gaps(scoped: Dataset, population: Dataset, cluster: str | None,
          phase: str) -> PhaseGaps:
    measure = GAP_MEASURE[phase]
    pupils = scoped.pupils[scoped.pupils["phase"] == phase]
    latest = int(pupils["cohort"].max())
    by_school = fsm_attainment(pupils[pupils["cohort"] == latest], by=("school_name", "cohort"),
                               outcomes=measure, schools=scoped.schools)
    in_phase = set(population.schools.loc[population.schools["phase"] == phase, "school_id"])
    taught, in_phase_pupils = phase_pupils(population, phase, measure)
    groups = {k: v for k, v in cluster_groups(population.schools, cluster).items()
              if in_phase.intersection(v)}
    # a group whose schools have no pupils of the phase has no trend: said, not dropped
    empty = tuple(k for k, v in groups.items() if not taught.intersection(v))
    groups = {k: v for k, v in groups.items() if k not in empty}
    trends = gap_trends(in_phase_pupils, population.schools, groups, measure)
    share, why = None, None
    if cluster is None:
        try:
            share = gap_vs_fsm_share(population.pupils[population.pupils["phase"] == phase],
                                     population.schools, measure, cohort=None)
        except NotEstimableError as err:   # a small data set: this part only is not estimable
            why = str(err)
    return PhaseGaps(measure, latest, by_school, trends, share, why, empty)


def _truth(data: Dataset, phases: dict[str, PhaseResult]) -> pd.DataFrame | None:
    if data.truth is None:
        return None
    checks = []
    for phase, pe in phases.items():
        if pe.estimable:
            table = pe.impact.table()
            check = truth_check(table, data.truth, phase)
            rest = table.drop(columns=[c for c in check.columns if c in table and c != "outcome"])
            checks.append(check.join(rest.set_index("outcome"), on="outcome"))
    return pd.concat(checks, ignore_index=True) if checks else None


def evaluate(ds: Dataset, plan: Plan, cluster: str | None = None, seed: int = DEFAULT_SEED,
             describe: bool = True) -> EvaluationResult:
    """Evaluate a cluster (or, with ``cluster=None``, every EM school): every report's results.

    For each phase present: the analysis sample with exclusions counted, the plan's main
    matching specification, balance before and after, the impact on every pre-specified
    outcome (or, when that cannot be done, the reason) and FSM gaps; the surveys and termly
    tracking of the scope's schools; on synthetic data, each estimate against the truth. The
    overall evaluation adds sensitivity to the matching specification, effects by activity,
    the gap against FSM share and each cluster's own result.

    Parameters
    ----------
    ds : Dataset
        All data (national comparison schools included: the gap analyses use them).
    plan : Plan
        The analysis plan.
    cluster : str, optional
        A value of ``schools.cluster``; None for the overall evaluation.
    seed : int
        Seed for bootstrap inference and random tie-breaking (default: the project's, as the
        reports use it).
    describe : bool
        Also compute the descriptive parts (gaps, surveys, tracking) and, per phase, the
        balance rating, confounding and descriptive tables. The overall result's clusters
        are evaluated without them: the overall report shows only their samples and impacts,
        which are identical to those of the cluster's own report.

    Returns
    -------
    EvaluationResult

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> from evaluation.synthetic import generate
    >>> res = evaluate(generate(seed=1, include_population=False), load_plan(),
    ...                cluster="Secondary phase 1", seed=1)
    >>> res.n_em > 0
    True
    """
    overall = cluster is None
    # In a build, the first report to ask for the linked counts (4-5 s) computes them for
    # every worker while any other that asks waits. The overall report, started first and
    # with the most else to compute, asks last; a cluster report asks first: by the time the
    # overall report asks, another worker's cluster report has computed them (asked first
    # everywhere, a worker's first cluster report waited 2.3 s for the overall report's)
    linked = linked_counts(ds, plan, seed) if describe and not overall else None
    schools = scope_schools(ds.schools, cluster)
    scoped = ds.for_schools(schools["school_id"])
    present = [p for p in sorted(PHASES, key=lambda p: p != "secondary")
               if (scoped.pupils["phase"] == p).any()]
    clusters, withhold = {}, {}
    if overall:    # first: the overall report withholds every balance row a cluster's does
        names = sorted(schools["cluster"].dropna().unique())
        clusters = {name: evaluate(ds, plan, cluster=name, seed=seed, describe=False)
                    for name in names}
        for cres in clusters.values():
            for p, pr in cres.phases.items():
                if pr.balance_withheld is not None:
                    keys = balance_row_keys(pr.balance.table)
                    withhold.setdefault(p, set()).update(
                        k for k, w in zip(keys, pr.balance_withheld, strict=True) if w)
    phases = {p: _phase(scoped, plan, p, seed, overall, impact_only=not describe,
                        withhold=frozenset(withhold.get(p, ())))
              for p in present}
    gaps, surveys, tracking = {}, {}, None
    if describe:
        gaps = {p: _gaps(scoped, ds, cluster, p) for p in present if p in GAP_MEASURE}
        answered = scoped.surveys[scoped.surveys["score"].notna()]   # blank: non-response
        surveys = {i: survey_change(scoped.surveys[scoped.surveys["instrument"] == i], i)
                   for i in ("pupil", "staff") if (answered["instrument"] == i).any()}
        tracking = track(scoped.tracking) if len(scoped.tracking) else None
    if describe and overall:
        linked = linked_counts(ds, plan, seed)
    parameters = {"cluster": cluster if cluster is not None else "(all EM schools)",
                  "data_dir": ds.meta.get("directory") or "(in memory)",
                  "plan_path": plan.path, "seed": seed}
    return EvaluationResult(
        cluster if cluster is not None else "All Extra Mile schools",
        "overall" if overall else "cluster", cluster, scoped, plan, seed, phases, gaps,
        surveys, tracking, clusters, _truth(scoped, phases),
        provenance_table(plan, parameters, ds.meta.get("file_hashes")) if describe else None,
        linked)


@dataclass(frozen=True)
class PublishedResult:
    """A published-data gap analysis with the plan whose disclosure rules its report applies.

    Attributes
    ----------
    report : PublishedGapReport
        :func:`evaluation.gaps.published.published_report`.
    plan : Plan
        The analysis plan (disclosure threshold and marker).
    """

    report: PublishedGapReport = field(repr=False)
    plan: Plan = field(repr=False)

    scope = "published"

    @property
    def title(self) -> str:
        """The source's title."""
        return self.report.source.title


def evaluate_published(source: str, plan: Plan, directory=None) -> PublishedResult:
    """Analyse one published DfE source: school (or LA) gaps, their spread and slope.

    Parameters
    ----------
    source : str
        A source's slug (``evaluation.io.dfe.published_sources``).
    plan : Plan
        The analysis plan.
    directory : path, optional
        The published-data folder (default: the setting, ``config.published_dir()``).

    Returns
    -------
    PublishedResult

    Examples
    --------
    >>> evaluate_published("dfe-ks2-2019-la850", load_plan())  # doctest: +SKIP
    """
    return PublishedResult(published_report(source, directory, plan.threshold), plan)


@dataclass(frozen=True)
class SupportResult:
    """A school-to-school support analysis with its source and the plan's disclosure rules.

    Attributes
    ----------
    result : SchoolSupportResult
        :func:`evaluation.school_support.school_support`.
    source : PublishedSource
        The school panel's source (title, provenance, licence).
    notes : tuple of str
        What the panel's reader noted about the file.
    plan : Plan
        The analysis plan.
    """

    result: SchoolSupportResult = field(repr=False)
    source: PublishedSource = field(repr=False)
    notes: tuple[str, ...]
    plan: Plan = field(repr=False)

    scope = "school_support"

    @property
    def title(self) -> str:
        """The report's title."""
        return f"School-to-school support: {self.source.title}"


def evaluate_school_support(source: str, plan: Plan, directory=None, schools_file=None,
                            support_year: int = 2015, group_size: int = 105,
                            seed: int = 2011) -> SupportResult:
    """Follow a group of schools against matched comparison schools in a published panel.

    Parameters
    ----------
    source : str
        The slug of a school panel (``research-ks4-2013-2015-national``).
    plan : Plan
        The analysis plan.
    directory : path, optional
        The published-data folder (default: the setting).
    schools_file : path, optional
        The supported schools (URNs, one per line or a CSV column). Without one, a placebo
        group of ``group_size`` schools drawn at random (``seed``): no support, true effect 0.
    support_year : int
        First year of support; earlier years are the matching and placebo years.
    group_size, seed : int
        Size and seed of the placebo group.

    Returns
    -------
    SupportResult

    Examples
    --------
    >>> evaluate_school_support("research-ks4-2013-2015-national", load_plan())  # doctest: +SKIP
    """
    info = published_sources(directory)[source]
    panel = read_published(info)
    if schools_file:
        schools, label = read_school_list(schools_file, panel), "supported schools"
    else:
        schools = placebo_group(panel, group_size, seed)
        label = f"placebo schools (drawn at random, seed {seed}: no support, true effect zero)"
    return SupportResult(school_support(panel, schools, support_year, label=label), info,
                         tuple(panel.notes), plan)

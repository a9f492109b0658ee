"""The analysis sample of a phase: who is treated, who compares, who is excluded and why."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evaluation.plan import Plan

STRATA = ["school_id", "cohort"]


@dataclass(frozen=True)
class AnalysisSample:
    """Analysable pupils of one phase, with every exclusion counted.

    Attributes
    ----------
    data : pandas.DataFrame
        EM pupils with prior attainment, covariates and the headline outcome observed, and the
        non-EM pupils of the same school and cohort with the same observed (DESIGN section 4).
    exclusions : pandas.DataFrame
        One row per reason, in the order applied: ``reason``, ``em``, ``comparison``.
    phase, prior, headline : str
        Phase, its prior-attainment column and its headline outcome.

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> from evaluation.synthetic import generate
    >>> s = analysis_sample(generate(seed=1).pupils, "secondary", load_plan())  # doctest: +SKIP
    """

    data: pd.DataFrame
    exclusions: pd.DataFrame
    phase: str
    prior: str
    headline: str

    @property
    def n_em(self) -> int:
        """Analysable EM pupils."""
        return int(self.data["em"].sum())

    @property
    def n_comparison(self) -> int:
        """Analysable comparison pupils."""
        return int((~self.data["em"]).sum())

    @property
    def n_schools(self) -> int:
        """Schools with analysable EM pupils."""
        return int(self.data.loc[self.data["em"], "school_id"].nunique())

    def exclusion_counts(self) -> dict[str, int]:
        """Pupils excluded per reason (EM and comparison together)."""
        return {r.reason: int(r.em + r.comparison) for r in self.exclusions.itertuples()}


def _count(df: pd.DataFrame, mask: pd.Series) -> tuple[int, int]:
    hit = df[mask]
    return int(hit["em"].sum()), int((~hit["em"]).sum())


def _em_strata(df: pd.DataFrame) -> pd.Series:
    has_em = df.groupby(STRATA, sort=False)["em"].transform("any")
    return has_em.astype(bool)


def analysis_sample(pupils: pd.DataFrame, phase: str, plan: Plan) -> AnalysisSample:
    """Select the analysable pupils of a phase and count every exclusion by reason.

    Rules, applied in order and counted separately for EM and comparison pupils:
    comparison pupils outside any school-cohort with an EM pupil are out of scope; then
    pupils missing prior attainment, missing a model covariate, or missing the phase's
    headline outcome are excluded; finally comparison pupils left in a school-cohort whose EM
    pupils were all excluded are excluded too (nobody to compare them with).

    Parameters
    ----------
    pupils : pandas.DataFrame
        The validated pupils table (any subset of schools). Not modified.
    phase : {"primary", "secondary"}
        Phase.
    plan : Plan
        The analysis plan (prior attainment, covariates, headline outcome).

    Returns
    -------
    AnalysisSample

    Examples
    --------
    >>> import pandas as pd
    >>> from evaluation.plan import load_plan
    >>> df = pd.DataFrame({"school_id": ["a"] * 3, "cohort": [2010] * 3,
    ...     "phase": ["primary"] * 3, "em": [True, False, False],
    ...     "ks1_aps": [15.0, None, 17.0], "ks2_aps": [27.0, 26.0, 29.0], "fsm": [True] * 3,
    ...     "female": [True] * 3, "sen": ["none"] * 3, "eal": [False] * 3,
    ...     "ethnicity": ["white"] * 3})
    >>> s = analysis_sample(df, "primary", load_plan())
    >>> s.n_em, s.n_comparison, s.exclusion_counts()["prior attainment missing"]
    (1, 1, 1)
    """
    prior = plan.prior(phase)
    headline = next((o["name"] for o in plan.outcomes(phase) if o.get("primary")),
                    plan.outcomes(phase)[0]["name"])
    covariates = [c for c in plan.covariates(phase) if c != prior]
    df = pupils[pupils["phase"] == phase]
    rows = []
    in_scope = _em_strata(df)
    rows.append(("outside school-cohorts with EM pupils (not comparators)",
                 *_count(df, ~in_scope)))
    df = df[in_scope]
    checks = [("prior attainment missing", df[prior].isna())]
    checks.append(("covariate missing (" + ", ".join(covariates) + ")",
                   df[covariates].isna().any(axis=1)))
    checks.append((f"headline outcome missing ({headline})", df[headline].isna()))
    for reason, mask in checks:
        mask = mask.reindex(df.index)
        rows.append((reason, *_count(df, mask)))
        df = df[~mask]
    orphan = ~_em_strata(df) if len(df) else pd.Series(False, index=df.index)
    rows.append(("school-cohort has no analysable EM pupil", *_count(df, orphan)))
    df = df[~orphan]
    exclusions = pd.DataFrame(rows, columns=["reason", "em", "comparison"])
    return AnalysisSample(df.copy(), exclusions, phase, prior, headline)

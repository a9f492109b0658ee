"""The headline effect re-estimated within groups of schools (e.g. the EM activity chosen)."""

from __future__ import annotations

import warnings

import pandas as pd

from evaluation import effects
from evaluation.exceptions import NotEstimableError
from evaluation.models import fit_outcome, model_arguments
from evaluation.plan import Plan
from evaluation.sensitivity import caught_lines

COLUMNS = ["phase", "group", "outcome", "label", "family", "n_schools", "n_em", "n_comparison",
           "estimate", "ci_low", "ci_high", "p", "effect_size", "es_ci_low", "es_ci_high",
           "es_type", "inference", "informative", "not_informative", "note", "df_resid"]
#: The columns taken from the fitted model's summary.
_FROM_SUMMARY = COLUMNS[8:-2]
#: The group of a trial school whose value is blank: shown as a group of its own, so that no
#: EM pupil leaves a table that splits the programme's pupils by school (issue 14 review).
NOT_RECORDED = "(not recorded)"


def school_groups(schools: pd.DataFrame, column: str) -> pd.Series:
    """Give each school's group by a schools column, naming a trial school's blank value.

    Parameters
    ----------
    schools : pandas.DataFrame
        The schools table (``school_id``, ``role`` and ``column``).
    column : str
        A column of the schools table, e.g. ``em_activity``.

    Returns
    -------
    pandas.Series
        Indexed by ``school_id``: the school's value; ``NOT_RECORDED`` for a trial school
        whose value is blank; blank for other schools whose value is blank (partner and
        comparison schools have no EM pupils and join no group).

    Examples
    --------
    >>> s = pd.DataFrame({"school_id": ["a", "b", "c"], "role": ["trial", "trial", "partner"],
    ...                   "em_activity": ["Mentoring", None, None]})
    >>> school_groups(s, "em_activity").tolist()
    ['Mentoring', '(not recorded)', nan]
    """
    s = schools.set_index("school_id")
    blank_trial = s["role"].eq("trial") & s[column].isna()
    return s[column].astype(object).mask(blank_trial, NOT_RECORDED)


def effects_by(matched: pd.DataFrame, schools: pd.DataFrame, column: str, plan: Plan,
               phase: str, seed: int) -> pd.DataFrame:
    """Estimate the headline effect within each value of a school column (e.g. activity).

    The main matched sample of a phase is split by the school's value of ``column`` and the
    headline outcome model refitted in each part. Parts without both EM and comparison pupils
    get a note instead of an estimate. A trial school without a value is in the group
    ``NOT_RECORDED`` (:func:`school_groups`).

    Parameters
    ----------
    matched : pandas.DataFrame
        The phase's main matched data (``MatchResult.matched_data()``).
    schools : pandas.DataFrame
        The schools table (``school_id`` and ``column``).
    column : str
        A column of the schools table, e.g. ``em_activity``.
    plan : Plan
        The plan (the headline outcome and covariates of ``phase``).
    phase : str
        The phase of ``matched``.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        ``COLUMNS``: one row per group.

    Examples
    --------
    >>> effects_by(matched, schools, "em_activity", plan, "secondary", 4)  # doctest: +SKIP
    """
    head = plan.headline(phase)
    groups = matched["school_id"].map(school_groups(schools, column))
    rows = []
    for group, part in matched.groupby(groups, sort=True):
        row = {"phase": phase, "group": group, "outcome": head["name"], "label": head["label"],
               "family": head["family"],
               "n_schools": int(part.loc[part["em"], "school_id"].nunique()),
               "n_em": int(part["em"].sum()), "n_comparison": int((~part["em"]).sum())}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                rng = head.get("range") or effects.outcome_range(head["name"], head["family"])
                res = fit_outcome(part, head["name"], head["family"],
                                  plan.model_covariates(phase), random_state=seed,
                                  outcome_range=rng, **model_arguments(plan))
                row.update(res.summary().iloc[0][_FROM_SUMMARY].to_dict())
                row["df_resid"] = float(res.glm.df_resid)   # the output log's, never shown
                row["note"] = caught_lines(caught)
            except (ValueError, NotEstimableError) as err:
                row["note"] = str(err)
        rows.append(row)
    return pd.DataFrame(rows).reindex(columns=COLUMNS)

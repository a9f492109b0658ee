"""Sensitivity of a phase's impacts to the matching specification, and a multilevel model."""

from __future__ import annotations

import warnings

import pandas as pd

from evaluation.exceptions import ModelWarning, NotEstimableError
from evaluation.matching import MatchResult, match
from evaluation.models import ImpactResult, estimate_impacts, model_arguments
from evaluation.multilevel import multilevel_impacts, specification_table
from evaluation.plan import Plan
from evaluation.sample import AnalysisSample

MULTILEVEL_LABEL = "Multilevel model on the main matched sample"


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


def caught_lines(caught) -> str:
    """Return recorded warnings as one note: the distinct first lines, at most three.

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("too few schools")
    >>> caught_lines(w)
    'warnings: UserWarning: too few schools'
    """
    kinds = list(dict.fromkeys(f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
                               for w in caught))
    if not kinds:
        return ""
    more = f" (+{len(kinds) - 3} more)" if len(kinds) > 3 else ""
    return "warnings: " + "; ".join(kinds[:3]) + more


def sensitivity_table(sample: AnalysisSample, main: MatchResult, impact: ImpactResult,
                      plan: Plan, seed: int) -> pd.DataFrame:
    """Fit the phase's outcome models under every matching spec, plus a multilevel model.

    The main specification's impacts are passed in (they are the phase's impact results, not
    a refit); each other spec re-matches the same analysis sample and fits the same outcome
    models; the multilevel alternative (random school intercept for point scores, GEE with
    exchangeable correlation within school for thresholds) is fitted on the main matched
    sample.

    Parameters
    ----------
    sample : AnalysisSample
        The phase's analysis sample.
    main : MatchResult
        The main specification's match.
    impact : ImpactResult
        The main specification's impacts.
    plan : Plan
        The plan (its ``matching`` specs, outcomes and covariates).
    seed : int
        Seed for matching ties and bootstrap inference.

    Returns
    -------
    pandas.DataFrame
        :func:`evaluation.multilevel.specification_table` with a ``label`` column naming each
        specification and a ``note`` column (warnings, or why a specification could not be
        run): the model's own note (``model_note``) and the specification's warnings
        (``spec_note``) together.

    Examples
    --------
    >>> sensitivity_table(sample, matched, impact, plan, 4)  # doctest: +SKIP
    """
    phase = sample.phase
    covs, outcomes = plan.model_covariates(phase), plan.outcomes(phase)
    main_name = plan.main_spec()["name"]
    results, notes = {main_name: impact}, {}
    for spec in plan.matching_specs()[1:]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                m = match(sample.data, treatment="em", **match_args(spec, plan, phase),
                          random_state=seed)
                results[spec["name"]] = estimate_impacts(
                    m.matched_data(), outcomes, covs, plan=plan, random_state=seed, gap=None)
                notes[spec["name"]] = caught_lines(caught)
            except (ValueError, NotEstimableError) as err:
                notes[spec["name"]] = str(err)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        args = model_arguments(plan, treatment="em", weights="weights")
        results["multilevel"] = multilevel_impacts(
            main.matched_data(), outcomes, covs, treatment=args["treatment"],
            group=args["cluster"], weights=args["weights"], alpha=args["alpha"])
    # the model's own notices (not converged, singular) are on its outcome's row already: as
    # the specification's note they would show on every outcome's row, and twice on its own
    notes["multilevel"] = caught_lines([w for w in caught
                                        if not issubclass(w.category, ModelWarning)])
    table = specification_table(results)
    labels = {s["name"]: s["label"] for s in plan.matching_specs()}
    labels["multilevel"] = MULTILEVEL_LABEL
    table.insert(1, "label", table["specification"].map(labels))
    spec_notes = table["specification"].map(notes).fillna("")
    # each message apart too: a report withholds one naming no outcome while another is withheld
    table["model_note"] = table["note"].fillna("")
    table["spec_note"] = spec_notes
    table["note"] = [" ".join(n for n in (own, spec) if isinstance(n, str) and n)
                     for own, spec in zip(table["note"], spec_notes, strict=True)]
    failed = pd.DataFrame([{"specification": k, "label": labels[k], "outcome": o["name"],
                            "informative": False, "not_informative": "not estimable",
                            "note": notes[k], "model_note": "", "spec_note": notes[k]}
                           for k in labels if k not in results for o in outcomes])
    return pd.concat([table, failed], ignore_index=True) if len(failed) else table

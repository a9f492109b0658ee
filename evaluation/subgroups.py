"""Overall-report analyses: sensitivity across matching specs; effects by activity, cluster."""

from __future__ import annotations

import warnings

import pandas as pd

from evaluation.exceptions import NotEstimableError
from evaluation.pipeline import Evaluation, match_args


def sensitivity(ev: Evaluation, phase: str) -> pd.DataFrame:
    """Fit the phase's outcome models under every matching spec, plus a multilevel model.

    Each spec re-matches the same analysis sample (``analysis.yml`` ``matching``) and fits the
    same outcome models; the multilevel alternative (random school intercept for point scores,
    GEE with exchangeable correlation within school for thresholds) is fitted on the main
    matched sample.

    Parameters
    ----------
    ev : Evaluation
        The overall (or a cluster) evaluation.
    phase : str
        An estimable phase of ``ev``.

    Returns
    -------
    pandas.DataFrame
        :func:`evaluation.multilevel.specification_table` with a ``label`` column naming each
        specification, and a ``note`` column saying why a specification could not be run.

    Examples
    --------
    >>> sensitivity(ev, "secondary")  # doctest: +SKIP
    """
    from evaluation.matching import match
    from evaluation.models import estimate_impacts
    from evaluation.multilevel import multilevel_impacts, specification_table

    pe = ev.phases[phase]
    if not pe.estimable:
        raise NotEstimableError(f"`phase` {phase!r} is not estimable here: {pe.not_estimable}")
    plan, covs, outcomes = ev.plan, ev.plan.model_covariates(phase), ev.plan.outcomes(phase)
    results, notes, caught = {}, {}, {}
    for spec in plan.matching_specs():
        if spec["name"] == "manchester":
            results[spec["name"]] = pe.impact
            continue
        try:
            with _recorded(caught, spec["name"]):
                m = match(pe.sample.data, treatment="em", **match_args(spec, plan, phase),
                          random_state=ev.seed)
                results[spec["name"]] = estimate_impacts(
                    m.matched_data(), outcomes, covs, plan=plan, random_state=ev.seed, gap=None)
        except (ValueError, NotEstimableError) as err:
            notes[spec["name"]] = str(err).splitlines()[0]
    with _recorded(caught, "multilevel"):
        results["multilevel"] = multilevel_impacts(pe.match.matched_data(), outcomes, covs)
    table = specification_table(results)
    labels = {s["name"]: s["label"] for s in plan.matching_specs()}
    labels["multilevel"] = "Multilevel model on the main matched sample"
    table.insert(1, "label", table["specification"].map(labels))
    table["note"] = table["specification"].map(caught).fillna("")
    missing = pd.DataFrame([{"specification": k, "label": labels.get(k, k), "note": v}
                            for k, v in notes.items()])
    return pd.concat([table, missing], ignore_index=True) if len(missing) else table


class _recorded:
    """Record warnings raised in a block as one note per key (they are findings: shown)."""

    def __init__(self, notes: dict, key: str):
        self.notes, self.key = notes, key
        self._cm = warnings.catch_warnings(record=True)

    def __enter__(self):
        self.caught = self._cm.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)
        kinds = dict.fromkeys(f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
                              for w in self.caught)
        if kinds:
            self.notes[self.key] = "warnings: " + "; ".join(list(kinds)[:3]) + (
                f" (+{len(kinds) - 3} more)" if len(kinds) > 3 else "")
        return False


def _headline(ev: Evaluation, phase: str) -> dict:
    return next((o for o in ev.plan.outcomes(phase) if o.get("primary")),
                ev.plan.outcomes(phase)[0])


def effects_by(ev: Evaluation, column: str) -> pd.DataFrame:
    """Estimate the headline effect within each value of a school column (activity, cluster).

    The main matched sample of each phase is split by the school's value of ``column`` and the
    headline outcome model refitted in each part. Parts without both EM and comparison pupils
    get a note instead of an estimate.

    Parameters
    ----------
    ev : Evaluation
        Usually the overall evaluation.
    column : str
        A column of the schools table, e.g. ``em_activity`` or ``cluster``.

    Returns
    -------
    pandas.DataFrame
        ``phase, group, outcome, label, family, n_schools, n_em, n_comparison, estimate,
        ci_low, ci_high, p, effect_size, es_type, inference, note``.

    Examples
    --------
    >>> effects_by(ev, "em_activity")  # doctest: +SKIP
    """
    from evaluation.models import fit_outcome

    rows = []
    lookup = ev.schools.set_index("school_id")[column]
    for phase, pe in ev.phases.items():
        if not pe.estimable:
            continue
        head = _headline(ev, phase)
        matched = pe.match.matched_data()
        groups = matched["school_id"].map(lookup)
        for group, part in matched.groupby(groups, sort=True):
            row = {"phase": phase, "group": group, "outcome": head["name"],
                   "label": head["label"], "family": head["family"],
                   "n_schools": int(part.loc[part["em"], "school_id"].nunique()),
                   "n_em": int(part["em"].sum()), "n_comparison": int((~part["em"]).sum()),
                   "note": ""}
            caught = {}
            try:
                with _recorded(caught, "fit"):
                    res = fit_outcome(part, head["name"], head["family"],
                                      ev.plan.model_covariates(phase), random_state=ev.seed)
                row.update(res.summary().iloc[0][["estimate", "ci_low", "ci_high", "p",
                                                  "effect_size", "es_type",
                                                  "inference"]].to_dict())
                row["note"] = caught.get("fit", "")
            except (ValueError, NotEstimableError) as err:
                row["note"] = str(err).splitlines()[0]
            rows.append(row)
    cols = ["phase", "group", "outcome", "label", "family", "n_schools", "n_em", "n_comparison",
            "estimate", "ci_low", "ci_high", "p", "effect_size", "es_type", "inference", "note"]
    return pd.DataFrame(rows).reindex(columns=cols)


__all__ = ["effects_by", "sensitivity"]

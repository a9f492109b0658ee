"""How pupils were compared, in words, from a matching specification (one source for all text).

Every sentence of a report that says whom EM pupils were compared with, how they were paired
and how the comparison pupils were weighted asks :func:`describe_spec` for the plan's main
specification, so that the words follow ``analysis.yml`` whatever its first matching
specification is (a hostile review of issue 13 found the Manchester design described under a
2:1 nearest-neighbour match with replacement and a caliper).
"""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.matching.pairing import reuses_controls
from evaluation.plan import Plan

#: What readers see for the matching's own variable names.
_VARIABLE_WORDS = {"school_id": "school", "cohort": "year group", "prior": "prior attainment"}


@dataclass(frozen=True)
class SpecWords:
    """Plain words for one matching specification.

    Attributes
    ----------
    label : str
        The specification's label in the plan (else its name).
    matching : str
        One or two sentences: how EM pupils were paired with comparison pupils.
    weights : str
        A clause: how the comparison pupils were weighted (empty when they were not).
    within : str
        Where comparison pupils come from, such as "in the same school and year group"
        (empty when the match does not keep pupils within exact groups).
    """

    label: str
    matching: str
    weights: str
    within: str

    def compared_with(self) -> str:
        """Return "the comparison pupils" with where they come from, for running text.

        Examples
        --------
        >>> from evaluation.plan import load_plan
        >>> plan = load_plan()
        >>> describe_spec(plan.main_spec(), plan).compared_with()
        'the comparison pupils in the same school and year group'
        """
        return f"the comparison pupils {self.within}".strip()


def _words(names, plan: Plan) -> str:
    names = [_VARIABLE_WORDS.get(n) or plan.covariate_label(n) for n in names]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _distance(spec: dict, plan: Plan) -> str:
    covs = _words(spec.get("covariates") or ["prior"], plan)
    dist = str(spec.get("distance", "glm"))
    if dist in ("glm", "gam", "gbm", "lasso", "ridge", "elasticnet", "rpart", "randomforest",
                "nnet", "cbps", "bart"):
        return f"the propensity score (the estimated chance of being an EM pupil given {covs})"
    if dist in ("mahalanobis", "robust_mahalanobis", "euclidean", "scaled_euclidean"):
        return f"{covs} ({dist.replace('_', ' ').replace('mahalanobis', 'Mahalanobis')} distance)"
    return f"the distance {dist!r} on {covs}"


def _caliper(spec: dict) -> str:
    cal = spec.get("caliper")
    if cal is None:
        return ""
    if isinstance(cal, dict):
        return (", and only within the plan's calipers on "
                f"{', '.join(_VARIABLE_WORDS.get(k, k) for k in cal)}")
    units = " standard deviations of it" if spec.get("std_caliper", True) is True else ""
    if cal < 0:
        return f", and only with comparison pupils more than {abs(cal)}{units} away"
    return f", and no further apart than {cal}{units}"


def describe_spec(spec: dict, plan: Plan) -> SpecWords:
    """Describe a matching specification in plain words.

    The method, ratio, replacement, caliper and discard, the exact variables and the weights,
    as MatchIt reads them (``analysis.yml``'s arguments are MatchIt's).

    Parameters
    ----------
    spec : dict
        A matching specification of the plan (``Plan.main_spec()`` for the main analysis).
    plan : Plan
        The plan (the words readers see for covariates).

    Returns
    -------
    SpecWords

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> plan = load_plan()
    >>> words = describe_spec(plan.main_spec(), plan)
    >>> words.weights
    'weighted so that each school and year group counts as much as its EM pupils'
    >>> nn = describe_spec({"name": "nn", "method": "nearest", "ratio": 2, "replace": True,
    ...                     "caliper": 0.1, "exact": ["school_id", "cohort"]}, plan)
    >>> nn.matching.split(";")[0].split("), ")[1]
    'and no further apart than 0.1 standard deviations of it'
    """
    method = spec.get("method", "nearest")
    exact = list(spec.get("exact") or [])
    group = _words(exact, plan) if exact else ""
    within = f"in the same {group}" if group else ""
    label = str(spec.get("label") or spec.get("name"))
    caliper, discard = _caliper(spec), spec.get("discard", "none") != "none"
    dropped = ""
    if caliper or discard:
        dropped = ("; EM pupils without such a comparison pupil are left out of the analysis"
                   if caliper else "")
        if discard:
            dropped += ("; pupils outside the range of propensity scores the other group "
                        "shares are left out")
    if method == "exact":
        of = f"of the same {group}" if group else "with the same values of every variable"
        return SpecWords(label, f"Every EM pupil is compared with all the non-EM pupils {of}.",
                         f"weighted so that each {group or 'group'} counts as much as its EM "
                         "pupils", within)
    if method in ("nearest", "optimal"):
        ratio = spec.get("ratio", 1)
        whom = (f"up to {ratio:g} non-EM pupils" if ratio != 1 else "the non-EM pupil")
        of = f" of the same {group}" if group else ""
        how = "closest to it on" if method == "nearest" else ("so that the total distance is "
                                                              "smallest (optimal pairing) on")
        text = f"Each EM pupil is matched with {whom}{of} {how} {_distance(spec, plan)}"
        text += caliper + dropped
        reuse = method == "nearest" and reuses_controls(spec)
        if reuse:
            text += ("; matching is with replacement, so one comparison pupil can be matched "
                     "with several EM pupils")
        text += "."
        weights = ("weighted so that the comparison pupils of each EM pupil together count as "
                   "much as that EM pupil" + (", a pupil matched with several EM pupils "
                                              "counting for each" if reuse else ""))
        if ratio == 1 and not reuse and not spec.get("max_controls"):
            weights = ""
        return SpecWords(label, text, weights, within)
    if method == "full":
        text = (f"Every EM pupil and comparison pupil{' of the same ' + group if group else ''}"
                f" is placed in a matched set on {_distance(spec, plan)}, so that the total "
                f"distance within sets is smallest{caliper}{dropped}.")
        return SpecWords(label, text, "weighted so that each matched set counts as much as its "
                         "EM pupils", within)
    if method == "cem":
        text = (f"EM and non-EM pupils are grouped by {_words(spec.get('covariates') or [], plan)}"
                " (numbers coarsened into bands); groups without both EM and non-EM pupils are "
                "left out.")
        if spec.get("k2k"):
            text = text[:-1] + ("; within each group every EM pupil is paired with one "
                                "non-EM pupil, and pupils left without a pair are left out.")
            return SpecWords(label, text, "", within)
        return SpecWords(label, text, "weighted so that each group counts as much as its EM "
                         "pupils", within)
    if method == "subclass":
        n = spec.get("subclass", 6)
        n_words = f"{n} subclasses" if isinstance(n, int) else "subclasses"
        text = (f"Pupils are divided into {n_words} of {_distance(spec, plan)}{caliper}"
                f"{dropped}.")
        return SpecWords(label, text, "weighted so that each subclass counts as much as its "
                         "EM pupils", within)
    return SpecWords(label, f"Pupils are matched as the plan's specification says: {label}.",
                     "weighted by the matching's weights", within)

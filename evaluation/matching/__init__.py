"""Matching in the manner of R's MatchIt 4.7: one `match()` entry point, one file per method.

The methods sit behind a registry (``METHODS``), as MatchIt dispatches ``matchit2<method>``.
Arguments are MatchIt's, in snake_case (``m_order`` for ``m.order``, ``std_caliper`` for
``std.caliper``). Exact matching accepts both MatchIt's form (``method="exact"`` with the
exact variables as ``covariates``) and the analysis plan's form (``method="exact",
exact=["school_id", "cohort"]``); with both, ``exact`` gives the strata and ``covariates``
are kept for the balance checks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from evaluation.exceptions import MatchingWarning
from evaluation.factors import is_categorical
from evaluation.matching import _cem, _exact, _nearest, _optimal, _subclass
from evaluation.matching._args import (
    as_columns,
    caliper_input,
    checked_signature,
    distance_input,
    flag,
    formula_input,
    r_pmatch,
    s_weights_input,
)
from evaluation.matching._checks import (
    DISCARDS,
    ESTIMANDS,
    M_ORDERS,
    METHOD_ESTIMANDS,
    Prepared,
    one_of,
    require_columns,
    require_complete,
    strata_codes,
    treatment_array,
    warn_ignored,
)
from evaluation.matching._result import MatchResult
from evaluation.matching._unit_id import unit_codes
from evaluation.matching.distance import (
    LINKS,
    TRANSFORMS,
    model_matrix,
    propensity_score,
    transform_covariates,
)

__all__ = ["METHODS", "MatchResult", "match"]

#: Method name -> implementation (MatchIt's matchit2<method>).
METHODS = {
    "nearest": _nearest.match,
    "exact": _exact.match,
    "cem": _cem.match,
    "subclass": _subclass.match,
    "optimal": _optimal.match,
    "full": _optimal.match,
}
#: Methods that need a vector distance (propensity score or a user column).
_NEEDS_DISTANCE = {"nearest", "subclass", "optimal", "full"}
#: Methods that pair units on a distance (MatchIt: mahvars, antiexact, Mahalanobis).
_PAIRING = {"nearest", "optimal", "full"}


def _discard(option: str, treat: np.ndarray, d: np.ndarray | None) -> np.ndarray:
    """MatchIt's ``discard``: units outside the other group's range of the distance."""
    if option == "none":
        return np.zeros(len(treat), bool)
    if d is None:
        raise ValueError(f"`discard`={option!r} needs a propensity score or a distance column "
                         "(not Mahalanobis); use discard='none'")
    lo0, hi0, lo1, hi1 = d[~treat].min(), d[~treat].max(), d[treat].min(), d[treat].max()
    if option == "both":
        return (d < max(lo0, lo1)) | (d > min(hi0, hi1))
    if option == "control":
        return ~treat & ((d < lo1) | (d > hi1))
    return treat & ((d < lo0) | (d > hi0))


def _calipers(data, caliper, std_caliper, d, discarded, args):
    """Split ``caliper`` into the distance caliper and per-covariate calipers (in units)."""
    spec, std = caliper_input(caliper, std_caliper)
    if spec is None:
        return None, None
    covs, widths = [], []
    for name, width in spec.items():
        if not np.isfinite(width):
            continue
        if name == "distance":
            if d is None:
                raise ValueError("a caliper on the distance needs a propensity score or a "
                                 "distance column; with distance='mahalanobis' name covariates "
                                 "in `caliper`, e.g. {'ks2_aps': 0.2}")
            args["caliper_distance"] = width * (np.std(d[~discarded], ddof=1)
                                                if std[name] else 1.0)
            continue
        require_columns(data, [name], "caliper")
        if is_categorical(data[name]) or pd.api.types.is_bool_dtype(data[name]):
            raise ValueError(f"`caliper` cannot be used on categorical or boolean variable "
                             f"{name!r}")
        x = data[name].to_numpy(float)
        covs.append(x)
        widths.append(width * (np.std(x[~discarded], ddof=1) if std[name] else 1.0))
    if not covs:
        return None, None
    return np.column_stack(covs), np.asarray(widths)


def _dist_matrix(data: pd.DataFrame, covariates: list[str]) -> np.ndarray:
    """MatchIt's ``get_covs_matrix_for_dist``: every level of a factor, divided by sqrt(2)."""
    parts = []
    for c in covariates:
        x = model_matrix(data, [c], full_dummies=True).to_numpy()
        parts.append(x / np.sqrt(2) if is_categorical(data[c]) else x)
    return np.column_stack(parts)


def _exclusions(treat, weights, discarded, method_excl) -> dict:
    excl = {"treated: discarded (outside common support)": int((treat & discarded).sum()),
            "control: discarded (outside common support)": int((~treat & discarded).sum())}
    excl.update(method_excl)
    unmatched = {"treated": int((treat & ~discarded & (weights == 0)).sum()),
                 "control": int((~treat & ~discarded & (weights == 0)).sum())}
    for group, n in unmatched.items():
        counted = sum(v for k, v in method_excl.items() if k.startswith(group))
        if n > counted:
            excl[f"{group}: unmatched"] = n - counted
    return {k: v for k, v in excl.items() if v}


def _counts(treat, weights, discarded) -> pd.DataFrame:
    rows = {
        "All": [(~treat).sum(), treat.sum()],
        "Matched": [(~treat & (weights > 0)).sum(), (treat & (weights > 0)).sum()],
        "Unmatched": [(~treat & (weights == 0) & ~discarded).sum(),
                      (treat & (weights == 0) & ~discarded).sum()],
        "Discarded": [(~treat & discarded).sum(), (treat & discarded).sum()],
    }
    return pd.DataFrame(rows, index=["Control", "Treated"]).T.astype(int)


def _check_ratio(method: str, ratio, min_controls, max_controls) -> None:
    """MatchIt's ``process.ratio``: ratio, min.controls and max.controls by method."""
    number = (int, float, np.integer, np.floating)
    if isinstance(ratio, bool) or not isinstance(ratio, number) or ratio < 1:
        raise ValueError(f"`ratio` should be a number >= 1; got {ratio!r}")
    for name, v in (("min_controls", min_controls), ("max_controls", max_controls)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, number)
                              or np.isnan(v) or v < 0):
            raise ValueError(f"`{name}` should be None or a single non-negative number "
                             f"(method={method!r}); got {v!r}")
        if v is not None and np.isinf(v) and method != "full":
            raise ValueError(f"`{name}` should be a finite number for method={method!r} "
                             f"(infinity is allowed with method='full' only); got {v!r}")
    variable = method == "optimal" and max_controls is not None
    if not variable and ratio != int(ratio):
        raise ValueError(f"`ratio` must be a whole number when `max_controls` is not given "
                         f"(method={method!r}); got {ratio!r}")
    if variable:
        if ratio == 1:
            raise ValueError("`ratio` must be greater than 1 for variable ratio matching "
                             "(`max_controls` given)")
        if max_controls <= ratio or max_controls != int(max_controls):
            raise ValueError(f"`max_controls` must be a whole number greater than `ratio` "
                             f"({ratio}) for variable ratio matching; got {max_controls!r}")
        mn = 1 if min_controls is None else min_controls
        if mn < 1 or mn >= ratio or mn != int(mn):
            raise ValueError(f"`min_controls` must be a whole number >= 1 and less than "
                             f"`ratio` ({ratio}); got {min_controls!r}")
    for name, v in (("min_controls", min_controls), ("max_controls", max_controls)):
        if method == "full" and v is not None and not v > 0:
            raise ValueError(f"`{name}` should be a number > 0; got {v!r}")


def _glm_control(options: dict | None) -> dict | None:
    """``distance_options`` as R's glm.control (epsilon, maxit); errors name unknown keys."""
    if options is None:
        return None
    if not isinstance(options, dict):
        raise TypeError(f"`distance_options` should be a dict such as {{'epsilon': 1e-8, "
                        f"'maxit': 25}}; got {type(options).__name__}")
    opts = options.get("control", options) if set(options) == {"control"} else options
    unknown = sorted(set(opts) - {"epsilon", "maxit"})
    if unknown:
        raise ValueError(f"`distance_options` has unsupported key(s) {unknown}; supported: "
                         "'epsilon', 'maxit' (R's glm.control), optionally under 'control'")
    eps, maxit = opts.get("epsilon", 1e-8), opts.get("maxit", 25)
    if not (isinstance(eps, (int, float)) and eps > 0):
        raise ValueError(f"`distance_options` epsilon should be a number > 0; got {eps!r}")
    if isinstance(maxit, bool) or not isinstance(maxit, (int, np.integer)) or maxit < 1:
        raise ValueError(f"`distance_options` maxit should be a whole number >= 1; got "
                         f"{maxit!r}")
    return {"epsilon": float(eps), "maxit": int(maxit)}


def _antiexact_codes(data: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Integer codes of each ``antiexact`` variable (MatchIt: ``unclass(as.factor(x))``)."""
    return np.column_stack([pd.factorize(data[c])[0] for c in columns])


@checked_signature
def match(data: pd.DataFrame, treatment: str, covariates: list[str] | None = None,
          method: str = "nearest", distance="glm", exact: list[str] | None = None,
          ratio: int = 1, replace: bool = False, caliper: float | dict | None = None,
          std_caliper: bool = True, m_order: str | None = None, discard: str = "none",
          estimand: str = "ATT", cutpoints: dict | None = None, subclass: int = 6,
          random_state: int | None = None, *, link: str = "logit",
          mahvars: list[str] | None = None, antiexact: list[str] | None = None,
          reuse_max: int | None = None, grouping: dict | None = None, k2k: bool = False,
          s_weights=None,
          min_controls: float | None = None, max_controls: float | None = None,
          tol: float = 0.001, distance_options: dict | None = None,
          unit_id: list[str] | None = None, k2k_method: str | None = "mahalanobis",
          mpower: float = 2) -> MatchResult:
    """Match treated units to controls as R's ``MatchIt::matchit`` does.

    Arguments are MatchIt's in snake_case. Where MatchIt takes a formula or a character
    vector of variables (``covariates``, ``exact``, ``mahvars``, ``antiexact``), a list of
    column names or a single name (``exact="married"``) is accepted. An argument this
    function does not have raises a TypeError naming it and the supported ones.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit; not modified.
    treatment : str
        Boolean (or 0/1) treatment column; required (no default). Or MatchIt's formula as a
        string, ``"treat ~ x1 + x2"``: the treatment column on the left, covariate columns
        joined by ``+`` on the right (then ``covariates`` is not given); other formula terms
        (interactions, ``I()``, ``factor()``) are refused: make them columns first.
    covariates : str or list of str, optional
        Right-hand side of MatchIt's formula. Strings / categoricals enter the propensity
        model as dummies with the first level (alphabetical, or the category order) as
        reference, as R's ``model.matrix``; booleans as 0/1.
    method : {"nearest", "exact", "cem", "subclass", "optimal", "full"}, default "nearest"
        Matching method (see ``METHODS``). ``"optimal"`` (optimal pair matching) and
        ``"full"`` (optimal full matching) solve the minimum-cost flow problem R's optmatch
        solves for MatchIt, on distances rounded as optmatch rounds them (``tol``).
    distance : str or array-like, default "glm"
        ``"glm"`` (propensity score from a binomial GLM with ``link``; matching on the
        fitted probability), one of MatchIt's distances on the covariates (nearest,
        optimal and full matching): ``"mahalanobis"`` (pooled within-group covariance),
        ``"robust_mahalanobis"`` (on the ranks, Rosenbaum 2010), ``"euclidean"``,
        ``"scaled_euclidean"`` (each covariate over its pooled within-group standard
        deviation), read in any case as MatchIt; the name of a numeric column of ``data``
        holding a distance, or the values themselves (a Series aligned to ``data.index`` or
        an array of its length), as MatchIt's numeric ``distance``. MatchIt's deprecated
        ``distance="probit"`` (any ``link`` value) means ``"glm"`` with that link, with
        MatchIt's warning. Other MatchIt propensity models (``"gam"``, ``"cbps"``, ...) are
        not supported.
    exact : str or list of str, optional
        Exact-matching variables: strata within which nearest matching happens; the strata
        themselves for ``method="exact"``. Ignored with an IgnoredArgumentWarning for
        ``"cem"``, as MatchIt ignores it (give such variables to CEM as categorical
        covariates).
    ratio : int, default 1
        Controls per focal unit (nearest, optimal; with ``max_controls``, optimal's average
        number of controls, which may be fractional).
    replace : bool, default False
        Match with replacement (nearest).
    caliper : float or dict, optional
        Caliper on the distance (a number, or the ``"distance"`` key of a dict) and/or on
        numeric covariates (other dict keys). Units are standard deviations of the variable
        over the non-discarded units when ``std_caliper`` is True. As in MatchIt 4.7.2, with
        a Mahalanobis distance and ``exact`` strata a caliper on a Mahalanobis variable
        narrows from stratum to stratum (MatchIt's C++ rescales it in place). A negative
        caliper is a least distance (MatchIt's semantics, methods ``"nearest"`` and
        ``"full"``): paired units must be more than its absolute value apart (nearest
        neighbour) or at least that far apart (full matching, optmatch's ``caliper`` with
        ``compare = ">="``); e.g. ``caliper={"distance": 0.5, "age": -0.2}``.
    std_caliper : bool, list of bool or dict, default True
        Calipers in standard deviations (True) or in the variables' own units; one value, or
        one per caliper (a list in the order of ``caliper``'s keys, or a dict by name), as
        MatchIt's ``std.caliper`` vector.
    m_order : {"largest", "smallest", "random", "data", "closest", "farthest"}, optional
        Order in which focal units choose: default ``"largest"`` distance first with a
        propensity score or distance column (``"smallest"`` for the ATC), ``"data"`` for
        Mahalanobis (MatchIt's defaults); with replacement the order cannot matter and
        ``"data"`` is used. ``"closest"`` / ``"farthest"`` match the closest (farthest)
        pairs first. ``"random"`` uses
        ``numpy.random.default_rng(random_state)`` (R's RNG is not reproduced). With
        ``k2k``: ``"data"`` (default), ``"random"``, ``"closest"`` or ``"farthest"``
        (MatchIt's do_k2k; the last two not with the ATC, where MatchIt fails); ignored by
        CEM without ``k2k``, as in MatchIt.
    discard : {"none", "treated", "control", "both"}, default "none"
        Common-support discard on the distance, as MatchIt.
    estimand : {"ATT", "ATC", "ATE"}, default "ATT"
        In any case (``"atc"``), as MatchIt upper-cases it. Nearest: ATT or ATC (controls
        are matched to treated units); exact, cem and subclass: ATT, ATC or ATE (MatchIt's
        subclass weights).
    cutpoints : dict or one entry, optional
        CEM: column -> ``"sturges"`` (default), ``"fd"``, ``"scott"``, ``"q<k>"``
        (k-quantile bins), a number of equal-width bins (0 or NaN: no binning, 1: the
        column is left out) or two or more cut points (bins closed on the left); a single
        entry (not a dict) applies to every numeric covariate. As MatchIt's ``cutpoints``.
    grouping : dict, optional
        CEM: column -> list of groups of values to merge, e.g. ``{"race": [["white",
        "hispan"], ["black"]]}``; the column is then matched exactly on the merged values
        (MatchIt's ``grouping``).
    subclass : int, default 6
        Number of subclasses (``method="subclass"``).
    min_controls, max_controls : float, optional
        Optimal: variable-ratio matching (``max_controls`` > ``ratio``, ``min_controls``
        default 1). Full: bounds on the controls per treated unit in a matched set (as
        optmatch, ``min_controls`` 1/2 allows sets of up to 2 treated units per control);
        defaults 0 and unlimited.
    tol : float, default 0.001
        Optimal and full: optmatch's ``tol``. Distances are rounded to multiples of about
        ``tol`` (precisely ``tol * n / (n_rows + n_cols - 2)`` per exact stratum) before
        the optimum is found, so the result is optimal for the rounded distances, as R's;
        a smaller ``tol`` (e.g. 1e-7) solves the problem on the distances themselves. The
        resolution used in each exact stratum is in ``spec["resolution"]``.
    distance_options : dict, optional
        As MatchIt's ``distance.options = list(control = glm.control(...))``: R's
        ``{"epsilon": 1e-8, "maxit": 25}`` (or ``{"control": {...}}``). When given, the
        propensity model follows R's ``glm`` iterations exactly, stopping where R stops, so
        the scores (and, where two controls are nearly tied, the matches) are R's. Without
        it the logit fit converges further and warm-starts on large data (faster; scores
        within about 1e-9 of R's).
    random_state : int, optional
        Seed for ``m_order="random"``.
    link : str, default "logit"
        Link of the propensity model (``distance="glm"``, R's ``binomial(link)``):
        ``"logit"``, ``"probit"``, ``"cloglog"``, or ``"linear.<link>"`` to match on the
        linear predictor. Fitted probabilities are R's
        (the logit's clamped at ``2.2e-16`` and ``1 - 2.2e-16`` beyond a linear predictor
        of 30, so such units tie as in R), and linear predictors are computed in R's order
        (rows with the same covariates get the same score).
    mahvars : str or list of str, optional
        Nearest: match on the Mahalanobis distance of these variables, with the caliper
        (and ``m_order``) on the propensity score ``distance``.
    antiexact : str or list of str, optional
        Nearest: a match must differ from its focal unit on each of these variables.
    reuse_max : int, optional
        Nearest: times a control may be used (default 1, or unlimited with ``replace``);
        above 1 matching is with replacement.
    unit_id : str or list of str, optional
        Nearest, without replacement (MatchIt's ``unit.id``): rows sharing these values are
        one unit (a pupil in two cohorts, say); once one of them is matched, the others with
        the same ``unit_id`` as either member of the pair are used up too.
    k2k : bool, default False
        CEM: pair units 1:1 within the strata, on the distance ``k2k_method`` between the
        uncoarsened covariates; order set by ``m_order``.
    k2k_method : str or None, default "mahalanobis"
        CEM with ``k2k`` (MatchIt's ``k2k.method``): ``"mahalanobis"``,
        ``"robust_mahalanobis"``, ``"euclidean"``, ``"scaled_euclidean"`` (MatchIt's
        ``transform_covariates``), or a ``stats::dist`` method, ``"maximum"``,
        ``"manhattan"``, ``"canberra"``, ``"binary"``, ``"minkowski"`` (any case, or a
        unique beginning, as MatchIt reads it); None pairs on no distance (the nearest unit
        in the data's order). ``stats::dist`` methods fail in MatchIt 4.7.2 with the ATC and
        are refused here too.
    mpower : float, default 2
        CEM with ``k2k`` and ``k2k_method="minkowski"`` (MatchIt's ``mpower``): the power
        ``p`` of the Minkowski distance ``(sum |x - y|^p)^(1/p)``, a finite number > 0; 2 is
        the Euclidean distance.
    s_weights : str or array-like, optional
        Sampling weights (a column name or one value per row), as MatchIt's ``s.weights``:
        they weight the propensity model and the Mahalanobis covariance, the balance
        summary and effective sample sizes, and multiply the weights of ``matched_data()``;
        the matching weights themselves exclude them.

    Returns
    -------
    MatchResult

    Raises
    ------
    DataError
        Missing columns, missing covariate values (the message names each column and the
        number of rows), a treatment that is not binary.
    ValueError
        An argument outside its allowed values (the message lists them).
    TypeError
        An argument ``match`` does not have (the message lists the supported ones).
    NotEstimableError
        No stratum with both groups, or a caliper that leaves every treated unit unmatched.

    Examples
    --------
    >>> df = pd.DataFrame({"em": [True, False, False, True, False, False],
    ...                    "x": [3.0, 2.5, 1.0, 1.2, 0.8, 3.3]})
    >>> m = match(df, "em", ["x"], distance="x")
    >>> m.counts.loc["Matched"].tolist()
    [2, 2]
    >>> match(df, "em", "x", distance="x", m_order="closest").match_matrix.ravel().tolist()
    [5, 2]
    >>> cem = match(df, "em", "x", method="cem", cutpoints={"x": 2}, k2k=True,
    ...             k2k_method="minkowski", mpower=1)
    >>> cem.match_matrix.ravel().tolist()
    [5, 2]
    """
    treatment, covariates = formula_input(treatment, covariates)
    if isinstance(method, str):      # MatchIt: tolower(method), then match_arg
        method = r_pmatch(method.lower(), tuple(METHODS)) or method
    one_of("method", method, METHODS)
    if isinstance(estimand, str):    # MatchIt: toupper(estimand), then match_arg
        estimand = r_pmatch(estimand.upper(), METHOD_ESTIMANDS[method]) or estimand.upper()
    one_of("estimand", estimand, ESTIMANDS)
    if estimand not in METHOD_ESTIMANDS[method]:
        raise ValueError(f"`estimand`={estimand!r} is not available with method={method!r} "
                         f"(as in MatchIt); allowed: {list(METHOD_ESTIMANDS[method])}")
    one_of("discard", discard, DISCARDS)
    one_of("link", link, LINKS)
    if m_order is not None:
        one_of("m_order", m_order, M_ORDERS)
    _check_ratio(method, ratio, min_controls, max_controls)
    if float(ratio).is_integer():      # R's ratio = 2 is a double: 2.0 means 2 controls
        ratio = int(ratio)
    replace, k2k = flag("replace", replace), flag("k2k", k2k)
    caliper_input(caliper, std_caliper)          # a malformed caliper is refused up front
    control = _glm_control(distance_options)
    if not (isinstance(tol, (int, float)) and tol >= 0):
        raise ValueError(f"`tol` should be a number >= 0; got {tol!r}")
    if reuse_max is not None and (not isinstance(reuse_max, (int, np.integer))
                                  or isinstance(reuse_max, bool) or reuse_max < 1):
        raise ValueError(f"`reuse_max` should be a whole number >= 1; got {reuse_max!r}")
    covariates, exact = as_columns("covariates", covariates), as_columns("exact", exact)
    mahvars, antiexact = as_columns("mahvars", mahvars), as_columns("antiexact", antiexact)
    unit_id = as_columns("unit_id", unit_id)
    both = sorted(set(exact or []) & set(antiexact or []))
    if both and method in _PAIRING:
        raise ValueError(f"`exact` and `antiexact` both name {both}: no pair can agree and "
                         "differ on a variable; give it to one of them")
    if (method in _NEEDS_DISTANCE and isinstance(distance, str)
            and distance.lower() in LINKS and distance not in data.columns):
        warnings.warn(f"`distance`={distance!r} will be deprecated (MatchIt's warning); "
                      f"please use distance='glm', link={distance.lower()!r}",
                      MatchingWarning, stacklevel=3)
        distance, link = "glm", distance.lower()
    dist_name, dist_values = distance_input(data, distance, method in _NEEDS_DISTANCE)
    sw = s_weights_input(data, s_weights)
    given = dict(distance=dist_name, exact=exact, ratio=ratio, replace=replace,
                 caliper=caliper, std_caliper=std_caliper, m_order=m_order, discard=discard,
                 cutpoints=cutpoints, subclass=subclass, link=link, mahvars=mahvars,
                 antiexact=antiexact, reuse_max=reuse_max, k2k=k2k,
                 min_controls=min_controls, max_controls=max_controls, tol=tol,
                 distance_options=control, unit_id=unit_id, grouping=grouping,
                 k2k_method=k2k_method, mpower=mpower)
    warn_ignored(method, given)
    treat = treatment_array(data, treatment)
    if method == "exact":
        strata_vars = list(exact or covariates or [])
        covariates = list(covariates or strata_vars)
        if not strata_vars:
            raise ValueError("method='exact' needs exact-matching variables: give `exact` "
                             "(e.g. ['school_id', 'cohort']) or `covariates`")
    else:
        strata_vars = (list(exact or []) if method in _PAIRING else [])
        if method == "cem":
            _cem.ignore_exact(exact)
        if not covariates:
            raise ValueError(f"method={method!r} needs `covariates`; got {covariates!r}")
    nearest = method == "nearest"
    pairing = method in _PAIRING
    mahvars = mahvars if pairing else None
    antiexact = antiexact if pairing else None
    require_columns(data, covariates, "covariates")
    require_columns(data, strata_vars, "exact")
    require_columns(data, mahvars or [], "mahvars")
    require_columns(data, antiexact or [], "antiexact")
    unit_id = unit_id if nearest else None
    require_columns(data, unit_id or [], "unit_id")
    uses_distance = method in _NEEDS_DISTANCE
    transform = dist_name if dist_name in TRANSFORMS else None   # MatchIt's is.full.mahalanobis
    is_column = uses_distance and dist_name != "glm" and transform is None
    if is_column and dist_values is None:
        require_columns(data, [dist_name], "distance")
    if method == "subclass" and transform:
        raise ValueError(f"`distance` cannot be {transform!r} with method='subclass'; use "
                         "'glm' or a distance column")
    if mahvars and transform:
        raise ValueError(f"`mahvars` needs a propensity score or a distance column in "
                         f"`distance`, not {transform!r} (list the variables in "
                         "`covariates` instead)")
    col = [dist_name] if is_column and dist_values is None else []
    for argument, names in (("covariates", covariates), ("exact", strata_vars),
                            ("mahvars", mahvars or []), ("antiexact", antiexact or []),
                            ("unit_id", unit_id or []), ("distance", col)):
        require_complete(data, names, argument)
    focal_is_control = estimand == "ATC" and (pairing or (method == "cem" and bool(k2k)))
    reuse = (reuse_max if reuse_max is not None else (2**62 if replace else 1)
             ) if nearest else None
    args = {"method": method, "treatment": treatment, "covariates": covariates,
            "exact": strata_vars or None, "estimand": estimand, "random_state": random_state,
            **{k: v for k, v in given.items() if k != "exact"},
            "s_weights": (s_weights if isinstance(s_weights, str) or s_weights is None
                          else "<values>"),
            "replace": bool(replace or (reuse is not None and reuse > 1)), "reuse_max": reuse,
            "focal": "control" if focal_is_control else "treated",
            "other": "treated" if focal_is_control else "control"}
    if method == "cem":
        args["k2k_method"] = _cem.k2k_distance(k2k_method, mpower, k2k)
    d = fit = design = None
    if uses_distance and dist_name == "glm":
        ps, fit, design = propensity_score(data, treatment, covariates, link, sw, control)
        d = ps.to_numpy()
    elif is_column:
        d = dist_values if dist_values is not None else data[dist_name].to_numpy(float)
    default_order = "smallest" if focal_is_control else "largest"
    if method == "cem":
        args["m_order"] = m_order or "data"
    elif d is None:
        args["m_order"] = m_order or "data"
    elif nearest and reuse >= (~treat if focal_is_control else treat).sum():
        args["m_order"] = "data"
    else:
        args["m_order"] = m_order or default_order
    if d is None and method != "cem" and args["m_order"] in ("largest", "smallest"):
        raise ValueError(f"`m_order`={m_order!r} needs a distance; with Mahalanobis use "
                         "'data', 'random', 'closest' or 'farthest'")
    discarded = _discard(discard, treat, d) if uses_distance else np.zeros(len(treat), bool)
    mahal = None
    if pairing and (transform or mahvars):   # MatchIt's transform_covariates
        mahal = transform_covariates(_dist_matrix(data, mahvars or covariates), treat,
                                     transform or "mahalanobis", sw, discarded)
    elif method == "cem" and k2k and args["k2k_method"] is not None:
        mahal = transform_covariates(_dist_matrix(data, covariates + strata_vars), treat,
                                     "euclidean" if args["k2k_method"] in _cem.DIST_METHODS
                                     else args["k2k_method"], sw)
    cal_covs, cal_widths = (_calipers(data, caliper, std_caliper, d, discarded, args)
                            if method in ("nearest", "full") else (None, None))
    codes = labels = None
    if strata_vars and method in ("exact", *_PAIRING):
        codes, labels = strata_codes(data, strata_vars)
    focal = ~treat if focal_is_control else treat
    prep = Prepared(focal if nearest else treat, codes, labels, d, discarded, args, data,
                    mahal, cal_covs, cal_widths,
                    _antiexact_codes(data, antiexact) if antiexact else None,
                    unit_codes(data, unit_id, focal, reuse) if unit_id else None)
    out = METHODS[method](prep)
    idx = data.index
    return MatchResult(
        method=method, spec=args, data=data, treatment=treatment, covariates=covariates,
        weights=pd.Series(out.weights, index=idx, name="weights"),
        subclass=pd.Series(out.subclass, index=idx, name="subclass").astype("Int64"),
        distance=None if d is None else pd.Series(d, index=idx, name="distance"),
        discarded=pd.Series(discarded, index=idx, name="discarded"),
        counts=_counts(treat, out.weights, discarded),
        exclusions=_exclusions(treat, out.weights, discarded, out.exclusions),
        match_matrix=out.match_matrix, _design=design,
        s_weights=None if sw is None else pd.Series(sw, index=idx, name="s_weights"),
    )

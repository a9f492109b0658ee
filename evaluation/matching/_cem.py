"""Coarsened exact matching (MatchIt 4.7 ``method = "cem"``: ``cem_matchit``, ``do_k2k``).

MatchIt's own implementation, step by step: ``grouping`` merges values of categorical
variables, ``cutpoints`` bins numeric ones (``findInterval`` on breaks closed on the left,
so a value on a boundary goes to the higher bin), every combination of the coarsened values
is a stratum, and strata holding both groups are the subclasses, numbered in order of first
appearance among the units of the first row's group (R's ``intersect`` over
``unique(treat)``). With ``k2k`` the strata are then paired 1:1 (``do_k2k``).
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from evaluation.exceptions import IgnoredArgumentWarning, NotEstimableError
from evaluation.factors import is_categorical
from evaluation.matching._args import r_pmatch
from evaluation.matching._checks import (
    MethodOutput,
    Prepared,
    both_groups,
    normalize,
    r_subclass_ids,
    subclass_weights,
)
from evaluation.matching._r_arithmetic import (
    DIST_METHODS,
    quantile7,
    r_dist,
    r_var,
    seq_by,
    seq_length,
    signif,
)
from evaluation.matching.distance import TRANSFORMS

#: Named binning rules of ``cutpoints`` (grDevices' ``nclass.*``), partially matched.
BIN_METHODS = ("sturges", "fd", "scott")
#: ``m_order`` values MatchIt's ``do_k2k`` accepts.
K2K_ORDERS = ("data", "random", "closest", "farthest")
#: ``k2k_method`` values (MatchIt's ``do_k2k``: ``matchit_distances()`` and ``stats::dist``'s).
K2K_METHODS = TRANSFORMS + DIST_METHODS
_ALLOWED = ("None or 'sturges', 'fd', 'scott' (or a unique prefix), 'q<k>' (k-quantile "
            "bins, k >= 2), a whole number of bins >= 0 (0 or NaN: no binning, 1: the "
            "variable is dropped), or two or more cut points")


def ignore_exact(exact) -> None:
    """Warn that ``exact`` is ignored with ``method="cem"``, as MatchIt 4.7 ignores it.

    MatchIt's ``check.inputs`` drops ``exact`` for CEM ("The argument `exact` is not used
    with `method = "cem"` and will be ignored."); give exact-matching variables to CEM as
    categorical covariates (or ``cutpoints`` 0) instead.

    Parameters
    ----------
    exact : str, list of str or None
        The ``exact`` argument of :func:`evaluation.matching.match`.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     ignore_exact("school")
    >>> "`exact`" in str(w[0].message)
    True
    """
    if exact is None or (not isinstance(exact, str) and len(exact) == 0):
        return
    warnings.warn(f"the argument `exact` (got {exact!r}) is not used with method='cem' and "
                  "is ignored, as in MatchIt; give exact-matching variables to CEM as "
                  "categorical covariates (or with `cutpoints` 0)", IgnoredArgumentWarning,
                  stacklevel=4)


def k2k_distance(k2k_method, mpower, k2k: bool) -> str | None:
    """Resolve ``k2k_method`` and ``mpower`` as MatchIt's ``do_k2k`` does.

    ``k2k_method`` is None (pairs on a distance of 0: within a stratum the nearest unit in
    the data's order) or a string, compared in lower case and matched partially (R's
    ``pmatch``) against :data:`K2K_METHODS`; ``"minkowski"`` needs ``mpower``, a finite
    number > 0, and with ``mpower`` 2 is ``"euclidean"``. Both arguments are checked only
    with ``k2k`` (MatchIt ignores them otherwise; here with an IgnoredArgumentWarning, as
    ``mpower`` away from 2 with another method).

    Parameters
    ----------
    k2k_method : str or None
        The distance of CEM's ``k2k`` pairing.
    mpower : float
        The power of the Minkowski distance.
    k2k : bool
        Whether CEM pairs units.

    Returns
    -------
    str or None
        The distance ``do_k2k`` uses.

    Examples
    --------
    >>> k2k_distance("Eucl", 2, True), k2k_distance("minkowski", 2, True)
    ('euclidean', 'euclidean')
    >>> k2k_distance("minkowski", 0, True)
    Traceback (most recent call last):
    ...
    ValueError: `mpower` should be a finite number > 0 (the power of k2k_method='minkowski'); got 0
    """
    changed = [name for name, v, default in (("k2k_method", k2k_method, "mahalanobis"),
                                              ("mpower", mpower, 2))
               if not (isinstance(v, (str, numbers.Real)) and v == default)]
    if not k2k:
        if changed:
            warnings.warn(f"argument(s) {changed} are used only with k2k=True (method='cem') "
                          "and are ignored", IgnoredArgumentWarning, stacklevel=4)
        return "mahalanobis"
    if k2k_method is None:
        name = None
    else:
        name = r_pmatch(k2k_method.lower(), K2K_METHODS) if isinstance(k2k_method, str) else None
        if name is None:
            raise ValueError(f"`k2k_method` should be None or one of {list(K2K_METHODS)} (in "
                             f"any case, or a unique beginning of one); got {k2k_method!r}")
    if name != "minkowski":
        if "mpower" in changed:
            warnings.warn(f"`mpower` (got {mpower!r}) is used only with "
                          "k2k_method='minkowski' and is ignored", IgnoredArgumentWarning,
                          stacklevel=4)
        return name
    if not _is_number(mpower) or not math.isfinite(mpower) or mpower <= 0:
        raise ValueError("`mpower` should be a finite number > 0 (the power of "
                         f"k2k_method='minkowski'); got {mpower!r}")
    return "euclidean" if mpower == 2 else name


def sturges(x: np.ndarray) -> int:
    """R's ``nclass.Sturges``: ``ceiling(log2(n) + 1)`` bins.

    Parameters
    ----------
    x : numpy.ndarray
        The values (only their number matters).

    Returns
    -------
    int
        The number of bins.

    Examples
    --------
    >>> sturges(np.arange(100.0))
    8
    """
    return int(np.ceil(np.log2(len(x)) + 1))


def _nclass_fd(x: np.ndarray) -> int:
    """R's ``nclass.FD`` (Freedman-Diaconis), R 4.2."""
    xr = signif(x, 5)
    h = 2 * float(np.diff(quantile7(xr, [0.25, 0.75]))[0])
    if h == 0:
        al = 1 / 4
        while h == 0:
            al = al / 2
            if al < 1 / 512:
                break
            h = float(np.diff(quantile7(xr, [al, 1 - al]))[0]) / (1 - 2 * al)
    if h == 0:
        h = 3.5 * math.sqrt(r_var(x))
    if h > 0:
        return int(math.ceil((float(np.max(x)) - float(np.min(x))) / h * len(x) ** (1 / 3)))
    return 1


def _nclass_scott(x: np.ndarray) -> int:
    """R's ``nclass.scott``."""
    h = 3.5 * math.sqrt(r_var(x)) * len(x) ** (-1 / 3)
    if h > 0:
        return max(1, int(math.ceil((float(np.max(x)) - float(np.min(x))) / h)))
    return 1


# --- the cutpoints and grouping arguments ---------------------------------------------------

def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _bin_rule(name: str, cut):
    """Check one ``cutpoints`` entry as MatchIt's ``cem_matchit`` does.

    Returns ``("bins", k)``, ``("quantiles", q)``, ``("cuts", array)``, ``("none", None)``
    (no binning: 0 or NaN) or ``("drop", None)`` (1: the variable is not matched on).
    """
    bad = ValueError(f"`cutpoints` entry for {name!r} should be {_ALLOWED}; got {cut!r}")
    if cut is None:
        return "bins", "sturges"
    if isinstance(cut, str):
        if cut[:1] == "q":
            try:
                q = float(cut[1:])
            except ValueError:
                q = np.nan
            if np.isfinite(q):
                if q < 2:   # R: seq(1/q, 1 - 1/q, by = 1/q) fails ("wrong sign in 'by'")
                    raise ValueError(f"`cutpoints` entry for {name!r}: quantile bins 'q<k>' "
                                     f"need k >= 2; got {cut!r}")
                return "quantiles", q
        rule = r_pmatch(cut, BIN_METHODS)
        if rule is None:
            raise bad
        return "bins", rule
    if _is_number(cut):
        v = float(cut)
        if np.isnan(v):
            return "none", None
        if not np.isfinite(v) or v < 0:
            raise bad
        if v != int(v):   # R fails in findInterval ("'vec' must be sorted")
            raise ValueError(f"`cutpoints` entry for {name!r}: a number of bins must be a "
                             f"whole number; got {cut!r}")
        return ("none", None) if v == 0 else ("drop", None) if v == 1 else ("bins", int(v))
    if isinstance(cut, (list, tuple, np.ndarray, pd.Series, pd.Index)):
        values = list(np.asarray(cut).ravel())
        if len(values) == 0:
            return "bins", "sturges"
        if not all(_is_number(v) for v in values):
            raise bad
        if len(values) == 1:
            raise ValueError(f"`cutpoints` entry for {name!r}: give two or more cut points; "
                             f"MatchIt reads a single number as a number of bins (give "
                             f"{values[0]!r} itself for that); got {cut!r}")
        return "cuts", np.asarray(values, float)
    raise bad


def coarsen(x: np.ndarray, cut) -> np.ndarray:
    """Bin numbers of ``x`` as MatchIt's ``cem_matchit`` (``findInterval`` on its breaks).

    Parameters
    ----------
    x : numpy.ndarray
        Values of one numeric covariate.
    cut : None, str, int or sequence of float
        A ``cutpoints`` entry that bins: None or ``"sturges"`` (default), ``"fd"``,
        ``"scott"`` (R's ``nclass.*`` number of equal-width bins), ``"q<k>"`` (bins at the
        1/k, ..., (k-1)/k quantiles, R's type 7), a number of equal-width bins between the
        minimum and the maximum (the outer breaks made infinite), or two or more cut points.
        Bins are closed on the left (a value on a cut point goes to the higher bin).

    Returns
    -------
    numpy.ndarray
        Bin numbers (``findInterval``; only their equality matters).

    Examples
    --------
    >>> coarsen(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist()
    [1, 1, 2, 2]
    >>> coarsen(np.array([1.0, 2.0, 3.0, 4.0]), [2, 3]).tolist()
    [1, 2, 3, 3]
    """
    kind, value = _bin_rule("x", cut)
    if kind not in ("bins", "quantiles", "cuts"):
        raise ValueError(f"coarsen() bins a variable; got the entry {cut!r}, which does not")
    x = np.asarray(x, float)
    if kind == "quantiles":
        probs = seq_by(1 / value, 1 - 1 / value, 1 / value)
        kind, value = "cuts", quantile7(x, probs)
    if kind == "bins" and isinstance(value, str):
        value = {"sturges": sturges, "fd": _nclass_fd, "scott": _nclass_scott}[value](x)
    if kind == "bins" or len(value) == 1:   # R: a single quantile is a number of bins
        bins = int(value) if kind == "bins" else float(value[0])
        if bins != int(bins):
            raise ValueError(f"coarsen(): a number of bins must be whole; got {bins}")
        bins = int(bins)
        breaks = seq_length(float(np.min(x)), float(np.max(x)), bins + 1)
        breaks[0] = -np.inf
        breaks[bins] = np.inf   # R: breaks[c(1, bins + 1)] <- c(-Inf, Inf)
        return np.searchsorted(breaks, x, side="right")
    cuts = np.unique(value[~np.isnan(value)])
    breaks = np.concatenate([[-np.inf], cuts, [np.inf]])
    return np.searchsorted(breaks, x, side="right")


def _r_character(values) -> np.ndarray:
    """Values as R's ``as.character`` would compare them (numbers to 15 significant digits)."""
    def one(v):
        if isinstance(v, (bool, np.bool_)):
            return "TRUE" if v else "FALSE"
        if _is_number(v):
            return "%.15g" % (float(v) + 0.0)
        return str(v)
    return np.array([one(v) for v in values], dtype=object)


def _check_grouping(grouping, covariates: list[str]) -> dict:
    """Validate ``grouping`` (MatchIt's checks); names not among the covariates warn."""
    if grouping is None:
        return {}
    if not isinstance(grouping, dict) or not all(isinstance(k, str) for k in grouping):
        raise ValueError("`grouping` should be a dict: covariate name -> list of groups, each "
                         "a list of values to merge, e.g. {'race': [['white', 'hispan'], "
                         f"['black']]}}; got {type(grouping).__name__} {grouping!r}")
    unknown = [k for k in grouping if k not in covariates]
    if unknown:
        warnings.warn(f"`grouping` names {unknown}, which are not among the covariates "
                      f"{covariates}; they are ignored (as in MatchIt)", IgnoredArgumentWarning,
                      stacklevel=6)
    out = {}
    for name, groups in grouping.items():
        if name in unknown:
            continue
        ok = isinstance(groups, (list, tuple)) and all(
            isinstance(g, (list, tuple, np.ndarray, pd.Index))
            and all(isinstance(v, (str, numbers.Real, np.bool_)) for v in g) for g in groups)
        if not ok:
            raise ValueError(f"`grouping` entry for {name!r} should be a list of groups, each "
                             f"a list of values of {name!r} to merge (e.g. [['a', 'b'], "
                             f"['c']]); got {groups!r}")
        out[name] = [list(g) for g in groups]
    return out


def _grouped(values, groups: list[list]) -> np.ndarray:
    """MatchIt's grouping of one variable: as character, each group's values -> its first."""
    x = _r_character(values)
    for g in groups:
        if len(g) == 0:
            continue
        members = _r_character(g)
        x[np.isin(x, members)] = members[0]
    return x


def _cutpoint_spec(cutpoints, numeric: dict[str, bool], covariates: list[str],
                   grouped: set[str]) -> dict:
    """Per-variable cutpoints as MatchIt resolves them (with its warnings)."""
    if cutpoints is None:
        return {}
    if not isinstance(cutpoints, dict):   # one rule for every numeric variable
        return {c: cutpoints for c in covariates if numeric[c]}
    unknown = [k for k in cutpoints if k not in covariates]
    if unknown:
        warnings.warn(f"`cutpoints` names {unknown}, which are not among the covariates "
                      f"{covariates}; they are ignored (as in MatchIt)", IgnoredArgumentWarning,
                      stacklevel=6)
    both = [k for k in cutpoints if k in grouped]
    if both:
        warnings.warn(f"{both} named in both `grouping` and `cutpoints`; their `cutpoints` "
                      "entries are ignored (as in MatchIt)", IgnoredArgumentWarning,
                      stacklevel=6)
    spec = {k: v for k, v in cutpoints.items() if k in covariates and k not in grouped}
    non_numeric = [k for k in spec if not numeric[k]]
    if non_numeric:
        warnings.warn(f"`cutpoints` names {non_numeric}, which are not numeric: their cut "
                      "points are not applied (use `grouping` for categorical variables; as "
                      "in MatchIt)", IgnoredArgumentWarning, stacklevel=6)
    return spec


def _is_numeric(s: pd.Series) -> bool:
    """R's ``is.numeric`` after ``cem_matchit`` unclasses ordered factors."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return bool(s.cat.ordered)
    return not is_categorical(s) and not pd.api.types.is_bool_dtype(s)


def _numeric_values(s: pd.Series) -> np.ndarray:
    if isinstance(s.dtype, pd.CategoricalDtype):   # ordered factor: its level numbers
        return s.cat.codes.to_numpy(float) + 1
    return s.to_numpy(float)


def strata(data: pd.DataFrame, covariates: list[str], cutpoints=None, grouping=None
           ) -> np.ndarray:
    """CEM stratum codes of the rows, as MatchIt's ``cem_matchit`` coarsens.

    Parameters
    ----------
    data : pandas.DataFrame
        The data.
    covariates : list of str
        Variables matched on. Numeric ones (an ordered categorical counts as its level
        numbers, as R's unclassed ordered factor) are binned; booleans, strings and
        unordered categoricals are matched exactly.
    cutpoints : dict or a single entry, optional
        Variable -> binning rule (see :func:`coarsen`; also 0 or NaN: no binning, 1: the
        variable is left out). A single entry (not a dict) applies to every numeric
        variable. Default: Sturges' rule.
    grouping : dict, optional
        Variable -> list of groups of values; each group's values become one value (the
        variable is then matched exactly, never binned).

    Returns
    -------
    numpy.ndarray
        Integer stratum code per row (order of first appearance).

    Examples
    --------
    >>> d = pd.DataFrame({"x": [1.0, 1.1, 5.0, 5.2], "g": ["a", "b", "c", "c"]})
    >>> strata(d, ["x", "g"], {"x": 2}, {"g": [["a", "b"]]}).tolist()
    [0, 0, 1, 1]
    """
    groups = _check_grouping(grouping, covariates)
    numeric = {c: _is_numeric(data[c]) for c in covariates}
    spec = _cutpoint_spec(cutpoints, {c: numeric[c] and c not in groups for c in covariates},
                          covariates, set(groups))
    rules = {c: _bin_rule(c, v)[0] for c, v in spec.items() if numeric[c] and c not in groups}
    cols = {}
    for c in covariates:
        s = data[c]
        if c in groups:
            cols[c] = _grouped(s.to_numpy(), groups[c])
        elif not numeric[c]:
            cols[c] = s.to_numpy()
        elif rules.get(c) == "none":
            cols[c] = _r_character(_numeric_values(s))
        elif rules.get(c) != "drop":
            cols[c] = coarsen(_numeric_values(s), spec.get(c))
    if not cols:   # MatchIt: every unit in one stratum
        return np.zeros(len(data), np.int64)
    frame = pd.DataFrame(cols)
    return frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()


# --- matching -------------------------------------------------------------------------------

def match(prep: Prepared) -> MethodOutput:
    """CEM: covariates coarsened, then exact matching on the coarsened values (MatchIt).

    Numeric covariates are cut into equal-width bins between their minimum and maximum by
    Sturges' rule unless ``cutpoints`` says otherwise (see :func:`strata`); categorical
    ones are matched exactly, after ``grouping`` merges values. ``exact`` is ignored with
    an IgnoredArgumentWarning, as in MatchIt. Subclasses are the strata with both groups,
    numbered as MatchIt numbers them (first appearance among units of the first row's
    group); weights from the subclasses (ATT, ATC, ATE). With ``k2k`` see :func:`_k2k`.

    Parameters
    ----------
    prep : Prepared
        The prepared input of :func:`evaluation.matching.match`.

    Returns
    -------
    MethodOutput

    Examples
    --------
    >>> from evaluation.matching import match as m
    >>> d = pd.DataFrame({"t": [1, 0, 0, 1, 0], "x": [1.0, 1.2, 9.0, 9.5, 9.1]})
    >>> m(d, "t", ["x"], method="cem", cutpoints={"x": 2}).subclass.tolist()
    [1, 1, 2, 2, 2]
    """
    a = prep.args
    k2k = a.get("k2k")
    if not isinstance(k2k, (bool, np.bool_)):
        raise ValueError(f"`k2k` should be True or False; got {k2k!r}")
    if k2k and a["m_order"] not in K2K_ORDERS:
        raise ValueError(f"`m_order` with k2k=True should be one of {list(K2K_ORDERS)} "
                         f"(MatchIt's do_k2k); got {a['m_order']!r}")
    codes = strata(prep.data, a["covariates"], a.get("cutpoints"), a.get("grouping"))
    treat = prep.treat
    keep = both_groups(codes, treat)
    if not keep.any():
        raise NotEstimableError(
            "no units were matched: no coarsened stratum holds both treated and control "
            f"units ({int(treat.sum())} treated, {int((~treat).sum())} control units in "
            f"{len(np.unique(codes))} strata); coarsen further (`cutpoints`, `grouping`) or "
            "match on fewer variables")
    if k2k:
        return _k2k(prep, codes)
    sub = r_subclass_ids(codes, treat, bool(treat[0]))
    w = subclass_weights(sub, treat, a.get("estimand", "ATT"))
    excl = {"treated: no control in its stratum": int((treat & ~keep).sum()),
            "control: stratum without treated units": int((~treat & ~keep).sum())}
    return MethodOutput(w, sub, None, excl)


def _global_finder(Z: np.ndarray, treat: np.ndarray, eligible: np.ndarray,
                   codes: np.ndarray):
    """``find_control_mahcovs`` of one call over all units with the strata as ``exact``.

    ``_closest.mahalanobis_finder`` with the walk over the sort of all units by the first
    transformed covariate (``do_k2k`` passes the strata to a single call).
    """
    from evaluation.matching._closest import mahalanobis_finder

    pos = np.empty(len(treat), np.int64)
    pos[np.argsort(Z[:, 0], kind="stable")] = np.arange(len(treat))
    return mahalanobis_finder(Z, treat, eligible, codes,
                              lambda t, c: np.ones(len(c), dtype=bool), pos=pos)


def _k2k(prep: Prepared, codes: np.ndarray) -> MethodOutput:
    """MatchIt's ``do_k2k``: 1:1 matching within the CEM strata, without replacement.

    The distance is ``k2k_method`` (see :func:`k2k_distance`) on the original (not
    coarsened) covariates, factors as one column per level over ``sqrt(2)``. Units in strata
    lacking a group cannot match; each focal unit (treated; controls for the ATC) takes the
    nearest available unit of the other group in its stratum. ``m_order``: "data" (default;
    data order), "random" (numpy's generator, not R's), "closest" / "farthest" (the closest /
    farthest of the current best pairs first, re-searching pairs whose control was taken).

    - ``transform_covariates`` methods (default Mahalanobis, with the pooled within-group
      covariance of all units, ``s_weights`` weighting it): MatchIt passes the strata to one
      search, so its walk runs over the sort of all units by the first transformed column
      and ties go as that walk meets them (see :mod:`evaluation.matching._walk`).
    - ``stats::dist`` methods: ``dist`` within each stratum (:func:`r_dist`) and one search
      per stratum, ties to the first control in the data's order.
    - None: a distance of 0 for all, MatchIt's vector search (the walk over the data order).

    Weights come from the pairs; subclasses are the pairs (numbered by the focal unit's
    data order). MatchIt 4.7.2 fails for the ATC with ``m_order`` "closest" / "farthest"
    and with the ``stats::dist`` methods; so does this function, with a ValueError.
    """
    from evaluation.matching import _closest, _nearest

    a = prep.args
    treat = prep.treat
    keep = both_groups(codes, treat)
    n = len(treat)
    method = a["k2k_method"]
    closest = a["m_order"] in ("closest", "farthest")
    if a["estimand"] == "ATC" and closest:
        # MatchIt 4.7.2's closest-first routines take the treated as focal while
        # do_k2k weights the controls as focal: matchit() stops "No treated units
        # were matched" (or "index error") for every data set.
        raise ValueError(f"`m_order`={a['m_order']!r} with k2k=True and "
                         "estimand='ATC' fails in MatchIt 4.7.2 ('No treated units "
                         "were matched'); use m_order 'data' or 'random' for the ATC")
    if a["estimand"] == "ATC" and method in DIST_METHODS:
        raise ValueError(f"`k2k_method`={method!r} with estimand='ATC' fails in MatchIt "
                         "4.7.2 ('subscript out of bounds': do_k2k files the pairs of its "
                         "stats::dist methods by treated unit); use one of "
                         f"{list(TRANSFORMS)} or None for the ATC")
    focal = treat if a["estimand"] != "ATC" else ~treat
    rng = np.random.default_rng(a["random_state"])
    if method in DIST_METHODS:
        mm = _k2k_dist(prep.mahalanobis, treat, codes, keep, method, a["mpower"],
                       a["m_order"], rng)
    elif closest:
        eligible = keep.copy()
        if method is None:
            mm = _closest.closest_match(treat, np.zeros(n), eligible, codes, 1, 1, None,
                                        lambda t, k: True, a["m_order"] == "closest")
        else:
            find, gap = _global_finder(prep.mahalanobis, treat, eligible, codes)
            mm = _closest.pair_first(treat, eligible, 1, 1, find, gap,
                                     a["m_order"] == "closest")
    else:
        k2k_prep = replace(prep, treat=focal, strata=codes, discarded=~keep,
                           distance=np.zeros(n), args={**a, "reuse_max": 1, "ratio": 1})
        positions = np.flatnonzero(focal)
        if a["m_order"] == "random":
            positions = positions[rng.permutation(len(positions))]
        mm = (_nearest._vector_match(k2k_prep, np.zeros(n), positions, 1, None)
              if method is None else
              _nearest.mahalanobis_match(k2k_prep, positions, 1, global_walk=True))
    w = normalize(_nearest.weights_from_matrix(mm, np.flatnonzero(focal), n), treat)
    sub = _nearest.subclass_from_matrix(mm, np.flatnonzero(focal), n)
    unmatched = (w == 0)
    excl = {"treated: no control in its stratum": int((treat & ~keep).sum()),
            "control: stratum without treated units": int((~treat & ~keep).sum()),
            "treated: not paired (k2k)": int((treat & keep & unmatched).sum()),
            "control: not paired (k2k)": int((~treat & keep & unmatched).sum())}
    return MethodOutput(w, sub, mm, excl)


def _k2k_dist(X: np.ndarray, treat: np.ndarray, codes: np.ndarray, keep: np.ndarray,
              method: str, mpower: float, m_order: str, rng) -> np.ndarray:
    """``do_k2k`` with a ``stats::dist`` method: ``nn_matchC_distmat`` per stratum.

    Within each stratum the treated x control matrix of :func:`r_dist` on ``X``; a treated
    unit takes the available control at the smallest finite distance, the first in the data
    order on ties (``find_control_mat``: ``std::partial_sort`` of one keeps the first
    minimum). ``m_order`` "data" / "random" go through the treated units in that order;
    "closest" / "farthest" pair the closest (farthest) current best pairs first
    (``nn_matchC_distmat_closest``, :func:`_closest.pair_first`).
    """
    from evaluation.matching._closest import pair_first

    treated = np.flatnonzero(treat)
    row_of = np.full(len(treat), -1, np.int64)
    row_of[treated] = np.arange(len(treated))
    mm = np.full((len(treated), 1), -1, np.int64)
    for s in np.unique(codes[keep]).tolist():
        e = np.flatnonzero(codes == s)
        t_e = treat[e]
        D = r_dist(X[e[t_e]], X[e[~t_e]], method, mpower)
        rank = np.cumsum(t_e) - 1
        rank[~t_e] = np.cumsum(~t_e)[~t_e] - 1
        if m_order in ("closest", "farthest"):
            eligible = np.ones(len(e), bool)
            others = np.flatnonzero(~t_e)

            def find(t, r, row, prev=-1, D=D, rank=rank, eligible=eligible, others=others):
                c = others[eligible[others]]
                d = D[rank[t], rank[c]]
                ok = np.isfinite(d)
                return int(c[ok][np.argmin(d[ok])]) if ok.any() else -1

            local = pair_first(t_e.astype(np.int64), eligible, 1, 1, find,
                               lambda t, c, D=D, rank=rank: float(D[rank[t], rank[c]]),
                               m_order == "closest")
            rows = local[:, 0] >= 0
            mm[row_of[e[t_e][rows]], 0] = e[local[rows, 0]]
            continue
        order = np.arange(int(t_e.sum()))
        if m_order == "random":
            order = rng.permutation(order)
        free = np.ones(D.shape[1], bool)
        for i in order.tolist():
            ok = free & np.isfinite(D[i])
            if ok.any():
                j = int(np.flatnonzero(ok)[np.argmin(D[i][ok])])
                free[j] = False
                mm[row_of[e[t_e][i]], 0] = e[~t_e][j]
    return mm

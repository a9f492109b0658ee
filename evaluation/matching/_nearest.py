"""Greedy nearest-neighbour matching with MatchIt 4.7's ordering, tie-breaking and calipers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from evaluation.exceptions import MatchingWarning, NotEstimableError
from evaluation.matching import _closest, _walk
from evaluation.matching._checks import (
    MethodOutput,
    Prepared,
    normalize,
    warn_shortfall,
    warn_strata_without,
)
from evaluation.matching._unit_id import UnitGroups


def _allowed(prep: Prepared, caliper_distance, t: int, cand: np.ndarray,
             space: _CaliperSpace | None = None) -> np.ndarray:
    """Return which controls ``cand`` unit ``t`` may take (calipers and ``antiexact``).

    With ``space`` (covariate calipers) they are those MatchIt applies in ``t``'s call (see
    :class:`_CaliperSpace`); a negative caliper is a least distance (``within_caliper``).
    """
    ok = np.ones(len(cand), bool)
    if space is not None:
        ok &= space.ok(t, cand)
    if caliper_distance is not None and prep.distance is not None:
        ok &= _walk.within_caliper(np.abs(prep.distance[cand] - prep.distance[t]),
                                   caliper_distance)
    if prep.antiexact is not None:
        ok &= np.all(prep.antiexact[cand] != prep.antiexact[t], axis=1)
    return ok


def _r_mean(x: np.ndarray) -> float:
    """Rcpp sugar's ``mean``: a long double sum, then a second pass correcting it."""
    xl = x.astype(np.longdouble)
    s = np.cumsum(xl)[-1] / len(x)
    if np.isfinite(s):
        s = s + np.cumsum(xl - s)[-1] / len(x)
    return float(s)


def affine_slope(x: np.ndarray, y: np.ndarray, tol: float = 1e-9) -> float:
    """MatchIt's ``get_affine_transformation``: ``a`` if ``y == a * x + b`` (else 0).

    Computed as the C++ does (sums in data order), since ``a`` rescales a caliper: the
    least-squares slope, 0 when ``x`` or the covariance is within ``tol`` of 0 or when some
    ``a * x + b`` misses ``y`` by more than ``tol``.
    """
    n = len(x)
    if n < 2 or len(y) != n:
        return 0.0
    mx, my = _r_mean(x), _r_mean(y)
    xd = x - mx
    num = float(np.cumsum(xd * (y - my))[-1])
    den = float(np.cumsum(xd * xd)[-1])
    if abs(den) < tol or abs(num) < tol:
        return 0.0
    a = num / den
    b = my - a * mx
    return 0.0 if np.any(np.abs(a * x + b - y) > tol) else a


def _gap_codes(covs: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """MatchIt's caliper strata (``get_splitsC`` and ``cut``): one column per covariate.

    The distinct values of a covariate, sorted, split wherever two neighbours are more than
    its caliper apart; a unit's code is the number of such gaps below its value.
    """
    codes = np.zeros(covs.shape, np.int64)
    for k in range(covs.shape[1]):
        u = np.unique(covs[:, k])
        if len(u) > 1 and widths[k] >= 0:
            cuts = np.concatenate([[0], np.cumsum(np.diff(u) > widths[k])])
            codes[:, k] = cuts[np.searchsorted(u, covs[:, k])]
    return codes


class _CaliperSpace:
    """Covariate calipers as MatchIt's ``nn_matchC_mahcovs`` applies them, call by call.

    MatchIt places units by the first Mahalanobis column that is an affine function
    ``a * x + b`` of a covariate with a (nonnegative) caliper, in that call's units, else by
    the first column; it then checks that caliper on the column, against ``a`` times the
    caliper. The C++ multiplies the caliper vector it shares with R in place, so with exact
    strata (one call per stratum, in the order of R's levels) the caliper of stratum ``k`` is
    the original times the ``a`` of every earlier stratum where it was taken: it shrinks
    stratum after stratum. All calls also require the same caliper stratum
    (:func:`_gap_codes`) on every caliper covariate, on the original scale.
    """

    def __init__(self, prep: Prepared):
        self.covs = prep.caliper_covs.copy()
        self.widths = np.broadcast_to(prep.caliper_widths, self.covs.shape).copy()
        self.gaps = _gap_codes(prep.caliper_covs, prep.caliper_widths)
        self.state = prep.caliper_widths.astype(float).copy()
        self.original = prep.caliper_covs
        self.Z = prep.mahalanobis

    def _affine_pair(self, rows: np.ndarray) -> tuple[int, int, float] | None:
        """First (column, covariate, ``a``), columns outermost, as the C++ loops."""
        for m in range(self.Z.shape[1]):
            for k in range(self.original.shape[1]):
                if self.state[k] >= 0:
                    a = affine_slope(self.original[rows, k], self.Z[rows, m])
                    if abs(a) > 1e-10:
                        return m, k, a
        return None

    def enter(self, rows: np.ndarray) -> int:
        """Set up the call over ``rows``; return the column the walk sorts by."""
        col = 0
        pair = self._affine_pair(rows)
        if pair is not None:
            col, k, a = pair
            self.state[k] *= a
            self.covs[rows, k] = self.Z[rows, col]
        self.widths[rows] = self.state
        return col

    def ok(self, t: int, cand: np.ndarray) -> np.ndarray:
        """Which of ``cand`` are within every caliper of ``t`` (and its caliper strata)."""
        inside = _walk.within_caliper(np.abs(self.covs[cand] - self.covs[t]), self.widths[t])
        return np.all(inside & (self.gaps[cand] == self.gaps[t]), axis=1)


def _r_level_order(prep: Prepared, codes: np.ndarray) -> np.ndarray:
    """``codes`` (exact strata) in the order of MatchIt's ``exactify`` levels.

    Levels sort by the first ``exact`` variable, then the next (``lex.order``); numbers by
    value, strings as R sorts them in C.UTF-8 (ICU root collation, see ``_optimal``).
    """
    from evaluation.matching._optimal import _icu_key

    first = np.full(int(prep.strata.max()) + 1, -1, np.int64)
    first[prep.strata[::-1]] = np.arange(len(prep.strata))[::-1]
    keys = []
    for name in prep.args.get("exact") or []:
        col = prep.data[name]
        if isinstance(col.dtype, pd.CategoricalDtype):
            v = col.cat.codes.to_numpy()[first[codes]]
            keys.append([(0, int(c), ()) for c in v])
            continue
        v = col.to_numpy()[first[codes]]
        keys.append([(1, 0, _icu_key(str(e))) if isinstance(e, str) else (0, float(e), ())
                     for e in v])
    rank = sorted(range(len(codes)), key=lambda i: tuple(k[i] for k in keys))
    return codes[np.asarray(rank, np.int64)]


def _mahalanobis_calls(prep: Prepared, global_walk: bool
                       ) -> tuple[np.ndarray, _CaliperSpace | None]:
    """Each unit's place in its call's walk, and the calipers (MatchIt's calls, in order).

    MatchIt matches each exact stratum holding both groups in a call of its own (one call
    over all units with ``unit_id``, or without strata); a call's walk runs over its units
    sorted by one Mahalanobis column (see :class:`_CaliperSpace`).
    """
    n = len(prep.treat)
    Z = prep.mahalanobis
    space = (None if prep.caliper_covs is None or prep.caliper_widths is None
             else _CaliperSpace(prep))
    pos = np.zeros(n, np.int64)
    if prep.strata is None or global_walk:
        calls = [np.arange(n)]
    else:
        strata = prep.strata
        k = int(strata.max()) + 1
        both = ((np.bincount(strata[prep.treat], minlength=k) > 0)
                & (np.bincount(strata[~prep.treat], minlength=k) > 0))
        codes = np.flatnonzero(both)
        if space is not None:
            codes = _r_level_order(prep, codes)
        by = np.argsort(strata, kind="stable")
        bounds = np.searchsorted(strata[by], np.arange(k + 1))
        calls = [by[bounds[c]:bounds[c + 1]] for c in codes.tolist()]
    for rows in calls:
        col = 0 if space is None else space.enter(rows)
        pos[rows[np.argsort(Z[rows, col], kind="stable")]] = np.arange(len(rows))
    return pos, space


def _treated_order(prep: Prepared, m_order: str, rng) -> np.ndarray:
    """Positions of treated units in processing order (MatchIt's ``ord``, stable)."""
    treated = np.flatnonzero(prep.treat)
    if m_order == "largest":
        return treated[np.argsort(-prep.distance[treated], kind="stable")]
    if m_order == "smallest":
        return treated[np.argsort(prep.distance[treated], kind="stable")]
    if m_order == "random":
        return treated[rng.permutation(len(treated))]
    return treated


def _cov_checker(prep: Prepared, ctrl: np.ndarray | None):
    """Covariate-caliper and ``antiexact`` test of focal row ``t`` against control ``k``.

    ``k`` indexes ``ctrl`` (sorted controls) or, with ``ctrl=None``, the rows of the data.
    """
    if prep.caliper_covs is None and prep.antiexact is None:
        return lambda t, k: True
    rows = (lambda k: k) if ctrl is None else (lambda k: ctrl[k])
    covs, widths, anti = prep.caliper_covs, prep.caliper_widths, prep.antiexact

    def ok(t: int, k: int) -> bool:
        c = rows(k)
        if anti is not None and np.any(anti[t] == anti[c]):
            return False
        return covs is None or bool(np.all(_walk.within_caliper(np.abs(covs[t] - covs[c]),
                                                                widths)))
    return ok


def _reuse_single(prep: Prepared) -> bool:
    """MatchIt matches all at once when ``reuse.max`` reaches the number of focal units."""
    return prep.args["reuse_max"] >= int(prep.treat.sum())


def _groups(prep: Prepared, eligible: np.ndarray, ratio: int) -> UnitGroups | None:
    """MatchIt's ``unit.id`` bookkeeping over the units in the pool (None without it)."""
    if prep.unit_id is None or _reuse_single(prep):
        return None
    allowed = np.full(len(prep.treat), min(prep.args["reuse_max"], 2**62), np.int64)
    allowed[prep.treat] = ratio
    return UnitGroups(prep.unit_id, eligible.copy(), allowed)


def _live(prep: Prepared) -> np.ndarray:
    """Units not discarded in strata with both groups (the others MatchIt discards)."""
    n = len(prep.treat)
    strata = prep.strata if prep.strata is not None else np.zeros(n, np.int64)
    k = int(strata.max()) + 1
    keep = ~prep.discarded
    both = ((np.bincount(strata[keep & prep.treat], minlength=k) > 0)
            & (np.bincount(strata[keep & ~prep.treat], minlength=k) > 0))
    return keep & both[strata]


def _vector_match(prep: Prepared, dist: np.ndarray, order: np.ndarray, ratio: int,
                  caliper: float | None) -> np.ndarray:
    """Match on a vector distance; returns the n_treated x ratio match matrix (-1: none).

    Treated units in strata without an eligible control cannot match (MatchIt marks them
    discarded before matching), so only the rest are searched.
    """
    n = len(prep.treat)
    treat, discarded = prep.treat, prep.discarded
    strata = prep.strata if prep.strata is not None else np.zeros(n, np.int64)
    treated = np.flatnonzero(treat)
    mm = np.full((len(treated), ratio), -1, np.int64)
    eligible = ~treat & ~discarded
    seeking = treat & ~discarded
    k = int(strata.max()) + 1
    live = ((np.bincount(strata[seeking], minlength=k) > 0)
            & (np.bincount(strata[eligible], minlength=k) > 0))
    if not live.any():
        return mm
    s = _walk.Sorted(dist, strata, eligible & live[strata], seeking & live[strata])
    go = order[live[strata[order]] & ~discarded[order]]
    lo, hi = s.bounds(strata[go])
    caliper = _vector_caliper(prep, dist, caliper)
    cal = np.inf if caliper is None else float(caliper)
    if _reuse_single(prep):
        found = _walk.single_pass_vec(s, go, dist, lo, hi, ratio, cal,
                                      _cov_checker(prep, s.ctrl))
    else:
        found = _walk.rounds_vec(s, go, dist, lo, hi, ratio, cal, _cov_checker(prep, s.ctrl),
                                 prep.args["reuse_max"],
                                 _groups(prep, ~discarded & live[strata], ratio))
    row = np.empty(n, np.int64)
    row[treated] = np.arange(len(treated))
    for t, picks in zip(go.tolist(), found, strict=True):
        if picks:
            mm[row[t], :len(picks)] = s.ctrl[picks]
    return mm


def _vector_caliper(prep: Prepared, dist: np.ndarray, caliper: float | None) -> float | None:
    """Return the caliper on the distance as ``nn_matchC_vec`` sets it from covariate calipers.

    Where the distance is an affine function ``a * x + b`` of a covariate with a caliper
    ``w`` (a distance column, or the one Mahalanobis variable), MatchIt also puts the caliper
    ``a * w`` on the distance: without a distance caliper the last such; with one, ``a * w``
    replaces the current caliper ``c`` when ``w >= 0`` and ``c > a * w``, or ``w < 0`` and
    ``c < a * w``. The signs are kept: a negative ``a * w`` (a negative caliper, or a distance
    decreasing in the covariate) is a least distance on the distance, which MatchIt checks
    on top of the covariate caliper itself.
    """
    if prep.caliper_covs is None or prep.caliper_widths is None:
        return caliper
    out = caliper
    for k, width in enumerate(prep.caliper_widths.tolist()):
        a = affine_slope(prep.caliper_covs[:, k], dist)
        if abs(a) > 1e-10 and (caliper is None or (width >= 0 and out > a * width)
                               or (width < 0 and out < a * width)):
            out = a * width
    return out


def mahalanobis_match(prep: Prepared, order: np.ndarray, ratio: int,
                      global_walk: bool = False) -> np.ndarray:
    """Match on Mahalanobis distance as MatchIt's ``nn_matchC_mahcovs``.

    Units are placed by a transformed covariate (the first, or the one a covariate caliper
    is on; see :class:`_CaliperSpace`) within each exact stratum, which MatchIt matches
    separately (over all units with ``global_walk``, as CEM's ``k2k`` passes its strata to
    one call); a focal unit's candidates are its stratum's available controls within the
    calipers (on covariates as MatchIt applies them and, with ``mahvars``, on the distance)
    and differing on every ``antiexact`` variable; the closest wins, and of equal distances
    the one the outward walk meets last.
    """
    n = len(prep.treat)
    strata = prep.strata if prep.strata is not None else np.zeros(n, np.int64)
    Z = prep.mahalanobis
    eligible = ~prep.treat & ~prep.discarded
    pos, space = _mahalanobis_calls(prep, global_walk)
    by = np.argsort(strata, kind="stable")
    by = by[eligible[by]]
    cuts = np.flatnonzero(np.diff(strata[by])) + 1
    ctrl_by = {int(strata[c[0]]): c for c in np.split(by, cuts) if len(c)}
    uses = np.zeros(n, np.int64)
    reuse_max = prep.args.get("reuse_max", 1)
    groups = _groups(prep, _live(prep), ratio)
    treated = np.flatnonzero(prep.treat)
    row_of = {int(t): i for i, t in enumerate(treated)}
    mm = np.full((len(treated), ratio), -1, np.int64)
    single = _reuse_single(prep)
    cal_d = prep.args.get("caliper_distance")
    active = [t for t in order.tolist() if not prep.discarded[t]]
    for r in range(1 if single else ratio):
        still = []
        for t in active:
            if groups is not None and not groups.eligible[t]:
                continue
            cand = ctrl_by.get(int(strata[t]), by[:0])
            ok = _allowed(prep, cal_d, t, cand, space)
            if groups is not None:
                ok &= groups.eligible[cand]
            elif not single:
                ok &= uses[cand] < reuse_max
            if r > 0:
                ok &= ~np.isin(cand, mm[row_of[t], :r])
            c = cand[ok]
            d2 = _walk.euc_dist_sq(Z, t, c)
            fin = np.isfinite(d2)
            c, d2 = c[fin], d2[fin]
            pick = _walk.mahalanobis_pick(d2, _walk.walk_time(int(pos[t]), pos[c]),
                                          ratio if single else 1)
            if len(pick) == 0:
                if r > 0:
                    still.append(t)
                continue
            if single:
                mm[row_of[t], :len(pick)] = c[pick]
            else:
                mm[row_of[t], r] = c[pick[0]]
                uses[c[pick[0]]] += 1
                if groups is not None:
                    groups.use(t, int(c[pick[0]]))
            still.append(t)
        active = still
    return mm


def weights_from_matrix(mm: np.ndarray, treated: np.ndarray, n: int) -> np.ndarray:
    """MatchIt's weights from a match matrix: treated 1; each control sum of 1/k_i."""
    w = np.zeros(n)
    k = (mm >= 0).sum(axis=1)
    has = k > 0
    w[treated[has]] = 1.0
    rows, cols = np.nonzero(mm >= 0)
    np.add.at(w, mm[rows, cols], 1.0 / k[rows])
    return w


def subclass_from_matrix(mm: np.ndarray, treated: np.ndarray, n: int) -> np.ndarray:
    """Pair / set ids (MatchIt's mm2subclass): numbered by the treated unit's data order."""
    sub = np.full(n, np.nan)
    has = (mm >= 0).any(axis=1)
    ids = np.cumsum(has).astype(float)
    sub[treated[has]] = ids[has]
    rows, cols = np.nonzero(mm >= 0)
    sub[mm[rows, cols]] = ids[rows]
    return sub


def _warn_shortfall(prep: Prepared, ratio: int) -> None:
    """MatchIt's warnings on too few controls (only when a control cannot serve everyone)."""
    if not _reuse_single(prep):
        warn_shortfall(prep, prep.treat, ratio, prep.unit_id, before_discard=True)


def _closest_match(prep: Prepared, ratio: int, mahal: bool) -> np.ndarray:
    """Match with ``m_order`` "closest" / "farthest" (MatchIt's ``*_closest`` routines)."""
    a = prep.args
    close = a["m_order"] == "closest"
    if not mahal:
        dist = prep.distance if prep.mahalanobis is None else prep.mahalanobis[:, 0]
        return _closest.closest_match(prep.treat, dist, _pool(prep), prep.strata, ratio,
                                      min(a["reuse_max"], 2**31 - 1),
                                      _vector_caliper(prep, dist, a.get("caliper_distance")),
                                      _cov_checker(prep, None),
                                      close, _codes(prep))
    eligible = _pool(prep)
    cal_d = a.get("caliper_distance")
    pos, space = _mahalanobis_calls(prep, _codes(prep) is not None)

    def allowed(t: int, cand: np.ndarray) -> np.ndarray:
        return _allowed(prep, cal_d, t, cand, space)
    find, gap = _closest.mahalanobis_finder(prep.mahalanobis, prep.treat, eligible,
                                            prep.strata, allowed, pos)
    return _closest.pair_first(prep.treat, eligible, ratio, a["reuse_max"], find, gap, close,
                               _codes(prep))


def _codes(prep: Prepared) -> np.ndarray | None:
    return None if _reuse_single(prep) else prep.unit_id


def _pool(prep: Prepared) -> np.ndarray:
    """Units that may match: with ``unit_id``, as MatchIt, only strata with both groups."""
    return ~prep.discarded if _codes(prep) is None else _live(prep)


def match(prep: Prepared) -> MethodOutput:
    """Nearest-neighbour matching (MatchIt ``method = "nearest"``).

    Semantics of MatchIt 4.7's ``matchit2nearest`` / ``nn_matchC_vec``: focal units (the
    treated; the controls for the ATC) are taken in ``m_order`` (ties in data order); each
    takes the closest available control in its ``exact`` stratum within the calipers,
    differing on every ``antiexact`` variable; ties go as MatchIt's outward walk over the
    sort of all units meets them (see :mod:`evaluation.matching._walk`). Without replacement
    (or with ``reuse_max`` below the number of focal units) and with ``ratio > 1`` every
    focal unit gets its first match before any gets a second; with replacement each takes
    its ``ratio`` matches at once. ``m_order="closest"``/``"farthest"`` take the closest
    (farthest) pairs first (see :mod:`evaluation.matching._closest`). With ``mahvars`` the
    match is on the Mahalanobis distance of those variables within the caliper on the
    propensity score. With Mahalanobis distances, a caliper on a covariate is applied as
    MatchIt applies it, rescaled from exact stratum to exact stratum (see
    :class:`_CaliperSpace`). Weights: focal 1, each other unit the sum of ``1/k`` over the focal
    units it serves, then nonzero weights of each group divided by their mean (MatchIt's
    ``normalize = TRUE``); subclasses (pair ids) only when no unit can be reused.
    """
    a = prep.args
    n = len(prep.treat)
    ratio = a["ratio"]
    rng = np.random.default_rng(a["random_state"])
    treated = np.flatnonzero(prep.treat)
    focal, other = a["focal"], a["other"]
    strata = prep.strata if prep.strata is not None else np.zeros(n, np.int64)
    k = strata.max() + 1
    has_ctrl = np.bincount(strata[~prep.treat & ~prep.discarded], minlength=k) > 0
    no_ctrl = prep.treat & ~prep.discarded & ~has_ctrl[strata]
    warn_strata_without(focal, prep, no_ctrl, f"without any {other} unit")
    if no_ctrl[treated].all():
        raise NotEstimableError(f"no exact stratum holds both treated and control units: no "
                                f"matches are possible ({len(treated)} {focal} units)")
    _warn_shortfall(prep, ratio)
    order = _treated_order(prep, a["m_order"], rng)
    mahal = prep.mahalanobis is not None and (prep.mahalanobis.shape[1] > 1
                                              or a.get("mahvars") is not None)
    if a["m_order"] in ("closest", "farthest"):
        mm = _closest_match(prep, ratio, mahal)
    elif mahal:   # with unit_id MatchIt matches all strata in one call: one walk order
        mm = mahalanobis_match(prep, order, ratio, global_walk=_codes(prep) is not None
                               and prep.strata is not None)
    else:  # MatchIt matches one Mahalanobis variable as a vector distance
        dist = prep.distance if prep.mahalanobis is None else prep.mahalanobis[:, 0]
        mm = _vector_match(prep, dist, order, ratio, a.get("caliper_distance"))
    if not (mm >= 0).any():
        raise NotEstimableError(
            f"no {focal} unit found a {other} within the caliper ({_caliper_text(a)}): "
            f"all {len(treated)} {focal} units would be unmatched; widen the caliper"
            + (" or shorten its negative part (a least distance)" if _has_negative(prep)
               else ""))
    w = normalize(weights_from_matrix(mm, treated, n), prep.treat)
    sub = (np.full(n, np.nan) if a["reuse_max"] > 1 else subclass_from_matrix(mm, treated, n))
    unmatched_t = prep.treat & ~prep.discarded & (w == 0)
    excl = {
        f"{focal}: no {other} in its exact stratum": int(no_ctrl.sum()),
        f"{focal}: no {other} left within the caliper" if a.get("caliper") is not None
        else f"{focal}: {other}s used up": int((unmatched_t & ~no_ctrl).sum()),
        f"{other}: not selected as a match": int((~prep.treat & ~prep.discarded & (w == 0))
                                                 .sum()),
    }
    if unmatched_t.any() and a.get("caliper") is not None:
        warnings.warn(f"{int(unmatched_t.sum())} of {len(treated)} {focal} units have no "
                      f"{other} within the caliper ({_caliper_text(a)}) and are "
                      "unmatched", MatchingWarning, stacklevel=4)
    return MethodOutput(w, sub, mm, excl)


def _has_negative(prep: Prepared) -> bool:
    """Whether some caliper is negative (a least distance between paired units)."""
    dist = prep.args.get("caliper_distance")
    return ((dist is not None and dist < 0)
            or (prep.caliper_widths is not None and bool((prep.caliper_widths < 0).any())))


def _caliper_text(a: dict) -> str:
    cal = a.get("caliper")
    if cal is None:
        return "none"
    if a.get("caliper_distance") is not None:
        return f"{cal} -> {a['caliper_distance']:.6g} on the distance scale"
    return str(cal)

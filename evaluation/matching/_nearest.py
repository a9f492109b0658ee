"""Greedy nearest-neighbour matching with MatchIt 4.7's ordering, tie-breaking and calipers."""

from __future__ import annotations

import warnings

import numpy as np

from evaluation.exceptions import MatchingWarning, NotEstimableError
from evaluation.matching._checks import MethodOutput, Prepared, warn_strata_without


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


class _Available:
    """Controls in sorted order; nearest still-available one to the left / right (union-find)."""

    def __init__(self, m: int):
        self.left = list(range(m))
        self.right = list(range(m + 1))

    def find_left(self, k: int) -> int:
        p = self.left
        root = k
        while root >= 0 and p[root] != root:
            root = p[root]
        while k >= 0 and p[k] != root:
            p[k], k = root, p[k]
        return root

    def find_right(self, k: int) -> int:
        p = self.right
        root = k
        while p[root] != root:
            root = p[root]
        while p[k] != root:
            p[k], k = root, p[k]
        return root

    def remove(self, k: int) -> None:
        self.left[k] = k - 1
        self.right[k] = k + 1


def _vector_match(prep: Prepared, order: np.ndarray, ratio: int, replace: bool,
                  caliper: float | None) -> np.ndarray:
    """Match on a vector distance; returns the n_treated x ratio match matrix (-1: none).

    Only the strata holding both a treated unit that can match and an eligible control are
    sorted and searched (no other stratum can give a match), so the work grows with those
    strata, not with the data.
    """
    n = len(prep.treat)
    treat, discarded = prep.treat, prep.discarded
    strata = prep.strata if prep.strata is not None else np.zeros(n, np.int64)
    dist = prep.distance
    treated = np.flatnonzero(treat)
    mm = np.full((len(treated), ratio), -1, np.int64)
    eligible = ~treat & ~discarded
    seeking = treat & ~discarded
    k = int(strata.max()) + 1
    live = ((np.bincount(strata[seeking], minlength=k) > 0)
            & (np.bincount(strata[eligible], minlength=k) > 0))
    rows = np.flatnonzero((eligible | seeking) & live[strata])
    if len(rows) == 0:
        return mm
    srt = rows[np.lexsort((dist[rows], strata[rows]))]  # stable: ties keep data order
    is_ctrl = eligible[srt]
    ctrl = srt[is_ctrl]                       # control rows in sorted order
    before = np.cumsum(is_ctrl) - is_ctrl     # controls sorted before each position
    place = np.empty(n, np.int64)
    place[srt] = before
    go = order[live[strata[order]] & ~discarded[order]]
    cst = strata[ctrl]
    st = strata[go]
    row = np.empty(n, np.int64)
    row[treated] = np.arange(len(treated))
    cal = np.inf if caliper is None else float(caliper)
    found = (_match_general if replace or prep.caliper_covs is not None else _match_fast)(
        prep, ctrl, dist[ctrl], place[go], np.searchsorted(cst, st, "left"),
        np.searchsorted(cst, st, "right"), dist[go], go, ratio, replace, cal)
    for r, picked in enumerate(found):
        has = picked >= 0
        mm[row[go[has]], r] = ctrl[picked[has]]
    return mm


def _match_fast(prep, ctrl, cdist, start, lo, hi, dt, go, ratio, replace, cal
                ) -> list[np.ndarray]:
    """Without replacement or covariate calipers: union-find over the sorted controls.

    ``left[a] == a`` means sorted control ``a - 1`` is still available (``a == 0``: none
    left), ``right[b] == b`` that control ``b`` is (``b == m``: none); a used control points
    past itself, and path halving keeps each search near O(1). Returns, per round, the
    sorted index of the control each treated unit (in ``go`` order) took, -1 for none.
    """
    m = len(ctrl)
    left = list(range(m + 1))
    right = list(range(m + 1))
    cd = cdist.tolist()
    rows = list(zip(range(len(dt)), dt.tolist(), start.tolist(), lo.tolist(), hi.tolist(),
                    strict=True))
    out = []
    for _ in range(ratio):
        pick = [-1] * len(dt)
        still = []
        for row in rows:
            i, d, a, lo_i, hi_i = row
            b = a
            while left[a] != a:
                left[a] = left[left[a]]
                a = left[a]
            while right[b] != b:
                right[b] = right[right[b]]
                b = right[b]
            kl = a - 1
            if kl >= lo_i and d - cd[kl] <= cal:
                k = kl if b >= hi_i or cd[b] - d > cal or d - cd[kl] <= cd[b] - d else b
            elif b < hi_i and cd[b] - d <= cal:
                k = b
            else:
                continue
            pick[i] = k
            still.append(row)
            left[k + 1] = k
            right[k] = k + 1
        rows = still
        out.append(np.asarray(pick, np.int64))
    return out


def _match_general(prep, ctrl, cdist, start, lo, hi, dt, go, ratio, replace, cal
                   ) -> list[np.ndarray]:
    """With replacement and/or per-covariate calipers (same result format as the fast path).

    A control beyond the distance caliper ends the search on its side; one failing a
    covariate caliper is skipped. With replacement each treated unit keeps its own
    pointers (its next candidates left and right), so its r-th match is its r-th nearest.
    """
    m = len(ctrl)
    cd = cdist.tolist()
    covs = widths = ccov = None
    if prep.caliper_covs is not None:
        covs, widths = prep.caliper_covs, prep.caliper_widths
        ccov = covs[ctrl]

    def cov_ok(t: int, k: int) -> bool:
        return covs is None or bool(np.all(np.abs(covs[t] - ccov[k]) <= widths))

    avail = _Available(m)
    lptr = [s - 1 for s in start.tolist()]
    rptr = start.tolist()
    lo_l, hi_l, dt_l, go_l = lo.tolist(), hi.tolist(), dt.tolist(), go.tolist()
    out = []
    matched = [True] * len(go_l)
    for _ in range(ratio):
        pick = [-1] * len(go_l)
        for i, t in enumerate(go_l):
            if not matched[i] and not replace:
                continue
            d, lo_i, hi_i = dt_l[i], lo_l[i], hi_l[i]
            kl = lptr[i] if replace else avail.find_left(lptr[i])
            while kl >= lo_i:
                if d - cd[kl] > cal:
                    kl = -1
                elif not cov_ok(t, kl):
                    kl = kl - 1 if replace else avail.find_left(kl - 1)
                    continue
                break
            kr = rptr[i] if replace else avail.find_right(rptr[i])
            while kr < hi_i:
                if cd[kr] - d > cal:
                    kr = m
                elif not cov_ok(t, kr):
                    kr = kr + 1 if replace else avail.find_right(kr + 1)
                    continue
                break
            okl, okr = kl >= lo_i, kr < hi_i
            if okl and (not okr or d - cd[kl] <= cd[kr] - d):
                k = kl
            elif okr:
                k = kr
            else:
                matched[i] = False
                continue
            pick[i] = k
            if replace:
                if k == kl:
                    lptr[i] = kl - 1
                else:
                    rptr[i] = kr + 1
            else:
                avail.remove(k)
        out.append(np.asarray(pick, np.int64))
    return out


def _mahalanobis_match(prep: Prepared, order: np.ndarray, ratio: int, replace: bool
                       ) -> np.ndarray:
    """Match on Mahalanobis distance (ties: the control first in data order)."""
    n = len(prep.treat)
    strata = prep.strata if prep.strata is not None else np.zeros(n, np.int64)
    Z = prep.mahalanobis
    eligible = ~prep.treat & ~prep.discarded
    by_stratum: dict[int, np.ndarray] = {}
    ctrl = np.flatnonzero(eligible)
    for s in np.unique(strata[ctrl]):
        by_stratum[int(s)] = ctrl[strata[ctrl] == s]
    used = np.zeros(n, bool)
    treated = np.flatnonzero(prep.treat)
    row_of = {int(t): i for i, t in enumerate(treated)}
    mm = np.full((len(treated), ratio), -1, np.int64)
    rounds = 1 if replace else ratio
    for r in range(rounds):
        for t in order.tolist():
            cand = by_stratum.get(int(strata[t]))
            if prep.discarded[t] or cand is None:
                continue
            ok = ~used[cand] if not replace else np.ones(len(cand), bool)
            if prep.caliper_covs is not None:
                ok &= np.all(np.abs(prep.caliper_covs[cand] - prep.caliper_covs[t])
                             <= prep.caliper_widths, axis=1)
            if not ok.any():
                continue
            c = cand[ok]
            d2 = ((Z[c] - Z[t]) ** 2).sum(axis=1)
            if replace:
                pick = c[np.argsort(d2, kind="stable")[:ratio]]
                mm[row_of[t], :len(pick)] = pick
            else:
                k = c[int(np.argmin(d2))]
                mm[row_of[t], r] = k
                used[k] = True
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


def _warn_shortfall(prep: Prepared, ratio: int, replace: bool) -> None:
    """MatchIt's warnings: strata with fewer controls than treated (x ratio)."""
    if replace:
        return
    strata = prep.strata if prep.strata is not None else np.zeros(len(prep.treat), np.int64)
    k = strata.max() + 1
    t = prep.treat & ~prep.discarded
    c = ~prep.treat & ~prep.discarded
    n1 = np.bincount(strata[t], minlength=k)
    n0 = np.bincount(strata[c], minlength=k)
    short = (n1 > 0) & (n0 > 0) & (n0 < ratio * n1)
    if short.any():
        rows = short[strata] & t
        where = ("" if prep.strata_labels is None else
                 " in stratum/strata " + _names(prep, rows))
        warnings.warn(f"fewer control units than {ratio} x the treated units{where}: not all "
                      f"treated units will get {ratio} match(es)", MatchingWarning,
                      stacklevel=4)


def _names(prep: Prepared, rows: np.ndarray) -> str:
    from evaluation.matching._checks import describe_strata

    return describe_strata(prep.strata_labels, rows)


def match(prep: Prepared) -> MethodOutput:
    """Nearest-neighbour matching (MatchIt ``method = "nearest"``).

    Semantics of MatchIt 4.7's ``matchit2nearest`` / ``nn_matchC_vec``: treated units are
    taken in ``m_order`` (ties in data order); each takes the closest available control in
    its ``exact`` stratum, the closer of the nearest on either side of it in the sorted
    distance, the lower side on a tie, ties within a side by data order; with ``ratio > 1``
    every treated unit gets its first match before any gets a second. A control farther than
    the caliper ends the search on that side; per-covariate calipers skip a control.
    """
    a = prep.args
    n = len(prep.treat)
    ratio, replace = a["ratio"], a["replace"]
    rng = np.random.default_rng(a["random_state"])
    treated = np.flatnonzero(prep.treat)
    strata = prep.strata if prep.strata is not None else np.zeros(n, np.int64)
    k = strata.max() + 1
    has_ctrl = np.bincount(strata[~prep.treat & ~prep.discarded], minlength=k) > 0
    no_ctrl = prep.treat & ~prep.discarded & ~has_ctrl[strata]
    warn_strata_without("treated", prep, no_ctrl, "without any control unit")
    if no_ctrl[treated].all():
        raise NotEstimableError("no exact stratum holds both treated and control units: no "
                                f"matches are possible ({len(treated)} treated units)")
    _warn_shortfall(prep, ratio, replace)
    if prep.mahalanobis is not None:
        order = _treated_order(prep, a["m_order"], rng)
        mm = _mahalanobis_match(prep, order, ratio, replace)
    else:
        order = _treated_order(prep, a["m_order"], rng)
        mm = _vector_match(prep, order, ratio, replace, a.get("caliper_distance"))
    if not (mm >= 0).any():
        raise NotEstimableError(
            f"no treated unit found a control within the caliper ({_caliper_text(a)}): all "
            f"{len(treated)} treated units would be unmatched; widen the caliper")
    w = weights_from_matrix(mm, treated, n)
    sub = (np.full(n, np.nan) if replace else subclass_from_matrix(mm, treated, n))
    unmatched_t = prep.treat & ~prep.discarded & (w == 0)
    excl = {
        "treated: no control in its exact stratum": int(no_ctrl.sum()),
        "treated: no control left within the caliper" if a.get("caliper") is not None
        else "treated: controls used up": int((unmatched_t & ~no_ctrl).sum()),
        "control: not selected as a match": int((~prep.treat & ~prep.discarded & (w == 0))
                                                .sum()),
    }
    if unmatched_t.any() and a.get("caliper") is not None:
        warnings.warn(f"{int(unmatched_t.sum())} of {len(treated)} treated units have no "
                      f"control within the caliper ({_caliper_text(a)}) and are unmatched",
                      MatchingWarning, stacklevel=3)
    return MethodOutput(w, sub, mm, excl)


def _caliper_text(a: dict) -> str:
    cal = a.get("caliper")
    if cal is None:
        return "none"
    if a.get("caliper_distance") is not None:
        return f"{cal} -> {a['caliper_distance']:.6g} on the distance scale"
    return str(cal)

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
    """Match on a vector distance; returns the n_treated x ratio match matrix (-1: none)."""
    n = len(prep.treat)
    strata = prep.strata if prep.strata is not None else np.zeros(n, np.int64)
    dist = prep.distance
    srt = np.lexsort((dist, strata))          # stable: ties keep data order, as sort.list
    eligible = ~prep.treat & ~prep.discarded
    eligible &= np.bincount(strata[prep.treat], minlength=strata.max() + 1)[strata] > 0
    is_ctrl = eligible[srt]
    ctrl_pos = srt[is_ctrl]                   # control rows in sorted order
    before = np.cumsum(is_ctrl) - is_ctrl     # eligible controls sorted before each position
    rank = np.empty(n, np.int64)
    rank[srt] = np.arange(n)
    m = len(ctrl_pos)
    cd = dist[ctrl_pos].tolist()
    cs = strata[ctrl_pos].tolist()
    covs = widths = None
    if prep.caliper_covs is not None:
        covs, widths = prep.caliper_covs, prep.caliper_widths
        ccov = covs[ctrl_pos]

    def cov_ok(t: int, k: int) -> bool:
        return covs is None or bool(np.all(np.abs(covs[t] - ccov[k]) <= widths))

    treated = np.flatnonzero(prep.treat)
    row_of = {int(t): i for i, t in enumerate(treated)}
    mm = np.full((len(treated), ratio), -1, np.int64)
    avail = _Available(m)
    # pointers for matching with replacement: next candidate left / right of each treated
    lptr = {int(t): int(before[rank[t]]) - 1 for t in order}
    rptr = {int(t): int(before[rank[t]]) for t in order}
    cal = np.inf if caliper is None else caliper
    for r in range(ratio):
        for t in order.tolist():
            if prep.discarded[t] or (r > 0 and mm[row_of[t], r - 1] < 0 and not replace):
                continue
            dt, st = dist[t], strata[t]
            kl = lptr[t] if replace else avail.find_left(lptr[t])
            while kl >= 0 and cs[kl] == st:
                if abs(dt - cd[kl]) > cal:
                    kl = -1
                elif not cov_ok(t, kl):
                    kl = kl - 1 if replace else avail.find_left(kl - 1)
                    continue
                break
            if kl >= 0 and cs[kl] != st:
                kl = -1
            kr = rptr[t] if replace else avail.find_right(rptr[t])
            while kr < m and cs[kr] == st:
                if abs(dt - cd[kr]) > cal:
                    kr = m
                elif not cov_ok(t, kr):
                    kr = kr + 1 if replace else avail.find_right(kr + 1)
                    continue
                break
            if kr < m and cs[kr] != st:
                kr = m
            if kl >= 0 and kr < m:
                k = kl if abs(cd[kl] - dt) <= abs(cd[kr] - dt) else kr
            elif kl >= 0:
                k = kl
            elif kr < m:
                k = kr
            else:
                continue
            mm[row_of[t], r] = ctrl_pos[k]
            if replace:
                if k == kl:
                    lptr[t] = kl - 1
                else:
                    rptr[t] = kr + 1
            else:
                avail.remove(k)
    return mm


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

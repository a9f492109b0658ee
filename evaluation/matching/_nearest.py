"""Greedy nearest-neighbour matching with MatchIt 4.7's ordering, tie-breaking and calipers."""

from __future__ import annotations

import warnings

import numpy as np

from evaluation.exceptions import MatchingWarning, NotEstimableError
from evaluation.matching import _walk
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


def _cov_checker(prep: Prepared, ctrl: np.ndarray):
    """Per-covariate caliper test of treated row ``t`` against sorted control ``k``."""
    if prep.caliper_covs is None:
        return lambda t, k: True
    covs, widths = prep.caliper_covs, prep.caliper_widths
    ccov = covs[ctrl]

    def ok(t: int, k: int) -> bool:
        return bool(np.all(np.abs(covs[t] - ccov[k]) <= widths))
    return ok


def _vector_match(prep: Prepared, dist: np.ndarray, order: np.ndarray, ratio: int,
                  replace: bool, caliper: float | None) -> np.ndarray:
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
    cal = np.inf if caliper is None else float(caliper)
    single = replace or len(treated) == 1   # MatchIt: reuse_max >= number treated
    run = _walk.single_pass_vec if single else _walk.rounds_vec
    found = run(s, go, dist, lo, hi, ratio, cal, _cov_checker(prep, s.ctrl))
    row = np.empty(n, np.int64)
    row[treated] = np.arange(len(treated))
    for t, picks in zip(go.tolist(), found, strict=True):
        if picks:
            mm[row[t], :len(picks)] = s.ctrl[picks]
    return mm


def _mahalanobis_match(prep: Prepared, order: np.ndarray, ratio: int, replace: bool
                       ) -> np.ndarray:
    """Match on Mahalanobis distance as MatchIt's ``nn_matchC_mahcovs``.

    Units are placed by the first transformed covariate (within each exact stratum, which
    MatchIt matches separately); a treated unit's candidates are its stratum's available
    controls within the calipers; the closest wins, and of equal distances the one the
    outward walk meets last.
    """
    n = len(prep.treat)
    strata = prep.strata if prep.strata is not None else np.zeros(n, np.int64)
    Z = prep.mahalanobis
    eligible = ~prep.treat & ~prep.discarded
    pos = np.empty(n, np.int64)
    members: dict[int, np.ndarray] = {}
    for s_ in np.unique(strata):
        rows = np.flatnonzero(strata == s_) if prep.strata is not None else np.arange(n)
        members[int(s_)] = rows
        pos[rows[np.argsort(Z[rows, 0], kind="stable")]] = np.arange(len(rows))
    ctrl_by = {s_: rows[eligible[rows]] for s_, rows in members.items()}
    used = np.zeros(n, bool)
    treated = np.flatnonzero(prep.treat)
    row_of = {int(t): i for i, t in enumerate(treated)}
    mm = np.full((len(treated), ratio), -1, np.int64)
    single = replace or len(treated) == 1
    active = [t for t in order.tolist() if not prep.discarded[t]]
    for r in range(1 if single else ratio):
        still = []
        for t in active:
            cand = ctrl_by[int(strata[t])]
            ok = ~used[cand] if not single else np.ones(len(cand), bool)
            if prep.caliper_covs is not None:
                ok &= np.all(np.abs(prep.caliper_covs[cand] - prep.caliper_covs[t])
                             <= prep.caliper_widths, axis=1)
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
                used[c[pick[0]]] = True
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


def normalize(w: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """MatchIt's ``normalize = TRUE``: nonzero weights of each group divided by their mean."""
    out = w.copy()
    for g in (True, False):
        nz = (treat == g) & (w > 0)
        if nz.any():
            out[nz] = nz.sum() * w[nz] / w[nz].sum()
    return out


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
    its ``exact`` stratum within the calipers; ties go as MatchIt's outward walk over the
    sort of all units meets them (see :mod:`evaluation.matching._walk`). Without replacement
    and with ``ratio > 1`` every treated unit gets its first match before any gets a second;
    with replacement each takes its ``ratio`` matches at once. Weights: treated 1, each
    control the sum of ``1/k`` over the treated units it serves, then nonzero weights of each
    group divided by their mean (MatchIt's ``normalize = TRUE``).
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
    order = _treated_order(prep, a["m_order"], rng)
    if prep.mahalanobis is not None and prep.mahalanobis.shape[1] > 1:
        mm = _mahalanobis_match(prep, order, ratio, replace)
    else:  # MatchIt matches one Mahalanobis variable as a vector distance
        dist = prep.distance if prep.mahalanobis is None else prep.mahalanobis[:, 0]
        mm = _vector_match(prep, dist, order, ratio, replace, a.get("caliper_distance"))
    if not (mm >= 0).any():
        raise NotEstimableError(
            f"no treated unit found a control within the caliper ({_caliper_text(a)}): all "
            f"{len(treated)} treated units would be unmatched; widen the caliper")
    w = normalize(weights_from_matrix(mm, treated, n), prep.treat)
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

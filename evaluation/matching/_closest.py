"""MatchIt 4.7's ``m.order = "closest"`` / ``"farthest"`` (``nn_matchC_*_closest``).

Each round, every focal unit still eligible finds its nearest available control
(``find_control_vec`` with one match); the pairs are then taken from the closest (or, for
"farthest", the most distant) pair on, in R's stable ``order``; a pair whose control has been
used up in the meantime is re-searched and moved to its new place in the list (C++'s
``std::lower_bound`` and ``std::rotate``). This module follows the C++ step by step over the
positions of all units sorted by the distance; it is written for clarity, not speed.
"""

from __future__ import annotations

import numpy as np

from evaluation.matching._unit_id import UnitGroups


class _Walk:
    """The data ``find_control_vec`` reads: the sort of all units and the constraints."""

    def __init__(self, treat, distance, eligible, exact, cal, cov_ok):
        self.treat = treat                      # 1 focal, 0 other
        self.d = distance
        self.order = np.argsort(distance, kind="stable")   # R's order(distance)
        self.pos = np.empty(len(distance), np.int64)
        self.pos[self.order] = np.arange(len(distance))
        self.eligible = eligible
        self.exact = exact
        self.cal = cal
        self.cov_ok = cov_ok

    def find(self, t: int, r: int, row: list[int], prev: int = -1) -> int:
        """``find_control_vec`` with ``ratio = 1``: the control chosen for ``t`` or -1."""
        d, pos, order = self.d, self.pos, self.order
        ii = int(pos[t])
        starts = [int(pos[c]) for c in row if self.treat[c] == 0] if r > 1 else []
        if prev >= 0:
            starts.append(int(pos[prev]))
        if not starts:
            iil = iir = ii
            min_dist = 0.0
        else:
            starts.append(ii)
            iil, iir = min(starts), max(starts)
            dl, dr = abs(d[t] - d[order[iil]]), abs(d[t] - d[order[iir]])
            min_dist = dr if iil == ii else dl if iir == ii else max(dl, dr)
        cal = self.cal
        if cal <= 0 and min_dist < -cal:   # a negative caliper: a least distance
            min_dist = -cal
        n = len(d)
        stop = [False, False]
        left = False
        found: list[tuple[int, float]] = []
        got = [0, 0]
        mine = set(row) if r > 1 else set()
        while not (stop[0] and stop[1]):
            left = (not left) if not (stop[0] or stop[1]) else stop[1]
            side = 0 if left else 1
            if left:
                if iil <= 0 or got[0] == 1:
                    stop[0] = True
                    continue
                iil -= 1
                z = int(order[iil])
            else:
                if iir >= n - 1 or got[1] == 1:
                    stop[1] = True
                    continue
                iir += 1
                z = int(order[iir])
            if not self.eligible[z] or self.treat[z] != 0 or z in mine:
                continue
            dc = abs(d[t] - d[z])
            if cal >= 0:
                if dc > cal:
                    stop[side] = True
                    continue
            elif dc <= -cal:
                continue
            if dc < min_dist:
                continue
            if found and found[0][1] < dc:
                stop[side] = True
                continue
            if self.exact is not None and self.exact[t] != self.exact[z]:
                continue
            if not self.cov_ok(t, z):
                continue
            found.append((z, dc))
            got[side] += 1
            stop[side] = True
        if not found:
            return -1
        if len(found) == 2 and found[1][1] < found[0][1]:
            return found[1][0]
        return found[0][0]


def _lower_bound(heap: list[int], first: int, value: int, less) -> int:
    """``std::lower_bound(heap.begin() + first, heap.end(), value, less)``."""
    count = len(heap) - first
    while count > 0:
        step = count // 2
        it = first + step
        if less(heap[it], value):
            first = it + 1
            count -= step + 1
        else:
            count = step
    return first


def closest_match(treat: np.ndarray, distance: np.ndarray, eligible: np.ndarray,
                  exact: np.ndarray | None, ratio: int, reuse_max: int, caliper: float | None,
                  cov_ok, close: bool, unit_codes: np.ndarray | None = None) -> np.ndarray:
    """Match matrix (focal units in data order x ``ratio``, -1: none) of the vector routine."""
    cal = (float(np.max(distance) - np.min(distance) + 1) if caliper is None
           else float(caliper))
    eligible = eligible.copy()
    walk = _Walk(treat.astype(np.int64), distance, eligible, exact, cal, cov_ok)
    return pair_first(treat, eligible, ratio, reuse_max, walk.find,
                      lambda t, c: abs(distance[t] - distance[c]), close, unit_codes)


def mahalanobis_finder(Z: np.ndarray, treat: np.ndarray, eligible: np.ndarray,
                       strata: np.ndarray | None, allowed, pos: np.ndarray | None = None):
    """``find_control_mahcovs`` with one match, for :func:`pair_first`.

    Candidates: eligible controls of the focal unit's stratum that ``allowed(t, c)`` accepts
    (calipers, ``antiexact``); the closest wins, of equal distances the one the outward walk
    meets last. ``pos``: each unit's place in the walk's sort (by default the stratum's
    units sorted by the first column of ``Z``).
    """
    from evaluation.matching._walk import euc_dist_sq, mahalanobis_pick, walk_time

    n = len(treat)
    strata = np.zeros(n, np.int64) if strata is None else strata
    members = {}
    for s_ in np.unique(strata):
        members[int(s_)] = np.flatnonzero(strata == s_)
    if pos is None:
        pos = np.empty(n, np.int64)
        for rows in members.values():
            pos[rows[np.argsort(Z[rows, 0], kind="stable")]] = np.arange(len(rows))
    ctrl_by = {k: rows[~treat[rows]] for k, rows in members.items()}

    def find(t: int, r: int, row: list[int], prev: int = -1) -> int:
        cand = ctrl_by[int(strata[t])]
        ok = eligible[cand] & allowed(t, cand)
        if r > 1 and row:
            ok &= ~np.isin(cand, row)
        c = cand[ok]
        d2 = euc_dist_sq(Z, t, c)
        fin = np.isfinite(d2)
        c, d2 = c[fin], d2[fin]
        pick = mahalanobis_pick(d2, walk_time(int(pos[t]), pos[c]), 1)
        return int(c[pick[0]]) if len(pick) else -1

    def gap(t: int, c: int) -> float:
        return float(euc_dist_sq(Z, t, np.array([c]))[0])

    return find, gap


def pair_first(treat: np.ndarray, eligible: np.ndarray, ratio: int, reuse_max: int, find,
               gap, close: bool, unit_codes: np.ndarray | None = None) -> np.ndarray:
    """Run the rounds of MatchIt's ``*_closest`` routines over a shared ``eligible`` array.

    ``find(t, r, row, prev)`` is the unit's current best control (-1: none) and
    ``gap(t, c)`` the pair's distance. ``unit_codes``: MatchIt's ``unit.id`` (a match uses
    up the units sharing an id with either member; see ``_unit_id``).
    """
    treat = treat.astype(np.int64)
    n = len(treat)
    focal = np.flatnonzero(treat == 1)
    row_of = np.full(n, -1, np.int64)
    row_of[focal] = np.arange(len(focal))
    n_elig = [int((eligible & (treat == 0)).sum()), int((eligible & (treat == 1)).sum())]
    allowed = np.full(n, min(reuse_max, 2**62), np.int64)
    allowed[focal] = ratio
    times = np.zeros(n, np.int64)
    groups = None if unit_codes is None else UnitGroups(unit_codes, eligible, allowed)
    mm: list[list[int]] = [[] for _ in focal]
    for r in range(1, ratio + 1):
        t_id, c_id, dist = [], [], []
        for t in focal.tolist():
            if not eligible[t]:
                continue
            k = find(t, r, mm[row_of[t]])
            if k < 0:
                eligible[t] = False
                n_elig[1] -= 1
                continue
            t_id.append(t)
            c_id.append(k)
            dist.append(gap(t, k))
        heap = sorted(range(len(dist)), key=(dist.__getitem__ if close
                                             else lambda j, v=dist: -v[j]))
        less = ((lambda a, b, v=dist: v[a] < v[b]) if close
                else (lambda a, b, v=dist: v[a] >= v[b]))
        i = 0
        while min(n_elig) > 0 and i < len(dist):
            h = heap[i]
            t = t_id[h]
            if not eligible[t]:
                i += 1
                continue
            c = c_id[h]
            if not eligible[c]:
                k = find(t, r, mm[row_of[t]], c)
                if k < 0:
                    eligible[t] = False
                    n_elig[1] -= 1
                    continue
                c_id[h] = k
                dist[h] = gap(t, k)
                at = _lower_bound(heap, i, h, less)
                if at != i:
                    heap[i:at] = heap[i + 1:at] + [heap[i]]   # std::rotate(i, i + 1, at)
                continue
            mm[row_of[t]].append(c)
            if groups is not None:
                for u in groups.use(t, c):
                    n_elig[treat[u]] -= 1
                i += 1
                continue
            for u in (c, t):
                if eligible[u]:
                    times[u] += 1
                    if times[u] >= allowed[u]:
                        eligible[u] = False
                        n_elig[treat[u]] -= 1
            i += 1
    out = np.full((len(focal), ratio), -1, np.int64)
    for j, picks in enumerate(mm):
        out[j, :len(picks)] = picks
    return out

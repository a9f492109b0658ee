"""MatchIt 4.7's search for controls (``find_control_vec`` / ``find_control_mahcovs``).

MatchIt sorts every unit by the distance (R's stable ``order``), and for each treated unit
walks outward from its place, one position at a time, alternating sides and starting on the
left; a side stops at the first control beyond the caliper, or once it holds ``ratio``
candidates, or when a control is farther than ``ratio`` candidates already found (a
negative caliper, a least distance, stops nothing: it skips the controls within it). Among the
candidates the closest wins; on a tie the one met first (vector distance) or met last
(Mahalanobis, whose list replaces on ``<=``). The walk visits treated and used units too, so
"met first" depends on positions in the sort of all units: the left candidate ``a`` places
away is met at step ``2a - 1`` and the right one ``b`` places away at step ``2b``.

These functions reproduce that rule without walking position by position: the candidates on
each side are found directly (sorted controls of the stratum, union-find over used ones) and
the walk's order is computed from the positions.
"""

from __future__ import annotations

import numpy as np


def within_caliper(gap, width):
    """MatchIt's caliper test of absolute differences ``gap`` against a signed ``width``.

    A positive (or zero) width is a greatest distance (``gap <= width``); a negative one a
    least distance, strictly (``gap > -width``): ``caliper_covs_okay`` and
    ``caliper_dist_okay`` of MatchIt's ``src/internal.cpp``.

    Examples
    --------
    >>> within_caliper(np.array([0.5, 1.0, 1.5]), 1.0)
    array([ True,  True, False])
    >>> within_caliper(np.array([0.5, 1.0, 1.5]), -1.0)
    array([False, False,  True])
    """
    return np.where(np.asarray(width) >= 0, gap <= width, gap > -np.asarray(width))


def _heap_adjust(a: list, hole: int, n: int, value, less) -> None:
    """libstdc++ ``__adjust_heap`` followed by ``__push_heap`` (max-heap on ``less``)."""
    top = hole
    child = hole
    while child < (n - 1) // 2:
        child = 2 * (child + 1)
        if less(a[child], a[child - 1]):
            child -= 1
        a[hole] = a[child]
        hole = child
    if n % 2 == 0 and child == (n - 2) // 2:
        child = 2 * (child + 1)
        a[hole] = a[child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and less(a[parent], value):
        a[hole] = a[parent]
        hole = parent
        parent = (hole - 1) // 2
    a[hole] = value


def partial_sort(items: list, k: int, less) -> list:
    """Return the first ``k`` items of libstdc++'s ``std::partial_sort`` (GCC tie order)."""
    a = list(items)
    n = len(a)
    if k > 1:  # make_heap on a[:k]
        parent = (k - 2) // 2
        while True:
            _heap_adjust(a, parent, k, a[parent], less)
            if parent == 0:
                break
            parent -= 1
    for i in range(k, n):
        if less(a[i], a[0]):
            value = a[i]
            a[i] = a[0]
            _heap_adjust(a, 0, k, value, less)
    last = k
    while last > 1:  # sort_heap
        last -= 1
        value = a[last]
        a[last] = a[0]
        _heap_adjust(a, 0, last, value, less)
    return a[:k]


def choose_vec(left: list, right: list, ratio: int) -> list:
    """Run ``find_control_vec``'s walk on the candidates of each side and pick the matches.

    ``left`` / ``right``: (steps from the start, distance, control) in walk order, at most
    ``ratio`` each. Returns the chosen controls in MatchIt's order.
    """
    events = sorted([(2 * s - 1, dd, c, 0) for s, dd, c in left]
                    + [(2 * s, dd, c, 1) for s, dd, c in right])
    stopped = [False, False]
    got = [0, 0]
    pot: list[tuple[float, int]] = []
    for _, dd, c, side in events:
        if stopped[side]:
            continue
        if len(pot) >= ratio and sum(1 for p, _ in pot if p < dd) >= ratio:
            stopped[side] = True
            continue
        pot.append((dd, c))
        got[side] += 1
        if got[side] == ratio:
            stopped[side] = True
    n = len(pot)
    if n <= 1 or (n <= ratio and not any(pot[i + 1][0] < pot[i][0] for i in range(n - 1))):
        return [c for _, c in pot]
    if n > ratio:
        idx = partial_sort(list(range(n)), ratio, lambda i, j: pot[i][0] < pot[j][0])
    else:  # std::sort of at most 2 * ratio items: insertion sort, stable for n <= 16
        idx = sorted(range(n), key=lambda i: pot[i][0])
    return [pot[i][1] for i in idx]


class Sorted:
    """Controls of each stratum in MatchIt's sort order, and each treated unit's place."""

    def __init__(self, dist: np.ndarray, strata: np.ndarray, eligible: np.ndarray,
                 seeking: np.ndarray):
        n = len(dist)
        gorder = np.argsort(dist, kind="stable")          # R's order(distance)
        self.gpos = np.empty(n, np.int64)
        self.gpos[gorder] = np.arange(n)
        cand = gorder[(eligible | seeking)[gorder]]
        # within stratum, the global order (a stable sort by stratum of the sorted units)
        srt = cand if not strata.any() else cand[np.argsort(strata[cand], kind="stable")]
        is_ctrl = eligible[srt]
        self.ctrl = srt[is_ctrl]
        before = np.cumsum(is_ctrl) - is_ctrl
        self.place = np.zeros(n, np.int64)
        self.place[srt] = before
        cst = strata[self.ctrl]
        self.cst = cst
        self.cd = dist[self.ctrl]
        self.cg = self.gpos[self.ctrl]

    def bounds(self, st: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.searchsorted(self.cst, st, "left"), np.searchsorted(self.cst, st, "right")


def rounds_vec(s: Sorted, go: np.ndarray, dist: np.ndarray, lo: np.ndarray, hi: np.ndarray,
               ratio: int, cal: float, cov_ok, reuse_max: int = 1, groups=None
               ) -> list[list[int]]:
    """Match without replacement: ``ratio`` rounds over the treated in order.

    A control leaves the pool once it has been used ``reuse_max`` times (MatchIt's
    ``reuse.max``; 1 without replacement).

    Round ``r`` is MatchIt's ``find_control_vec`` with one match: from round 2 the walk starts
    outside the span of the unit's earlier matches and skips controls closer than the
    farthest of them. A treated unit without a match in round 1 drops out. A negative ``cal``
    (a least distance) skips the controls within ``-cal`` instead of stopping the walk.
    ``left[a] == a`` (or ``a`` absent) means sorted control ``a - 1`` is available
    (``a == 0``: none), ``right[b] == b`` that control ``b`` is (``b == m``: none); path
    halving keeps each search near O(1).
    With ``groups`` (a ``_unit_id.UnitGroups`` over all units) a match uses up the units
    sharing a ``unit_id`` with either member instead (MatchIt's ``unit.id``), and a treated
    unit out of the pool is skipped.
    Returns, per treated unit (in ``go`` order), the sorted indices of its controls.
    """
    # union-find links of used controls only (an absent key points to itself)
    left: dict[int, int] = {}
    right: dict[int, int] = {}
    cd, cg = s.cd, s.cg           # read at a few places per treated unit: no list copies
    gpos = s.gpos
    starts = s.place[go].tolist()
    gts = gpos[go].tolist()
    dts = dist[go].tolist()
    los, his = lo.tolist(), hi.tolist()
    found: list[list[int]] = [[] for _ in range(len(go))]
    stop, skip = _stop_skip(cal)
    uses: dict[int, int] = {}
    active = list(range(len(go)))
    gol = go.tolist()
    if groups is not None:
        ctrl = s.ctrl.tolist()
        cidx = np.full(len(groups.codes), -1, np.int64)
        cidx[s.ctrl] = np.arange(len(ctrl))
        cidx = cidx.tolist()
    for r in range(ratio):
        still = []
        for i in active:
            if groups is not None and not groups.eligible[gol[i]]:
                continue
            d, lo_i, hi_i, gt = dts[i], los[i], his[i], gts[i]
            mine = found[i]
            if r == 0:
                a = b = starts[i]
                iil = iir = gt
                min_dist = 0.0
            else:
                kmin, kmax = min(mine), max(mine)
                a = kmin if cg[kmin] < gt else starts[i]
                b = kmax + 1 if cg[kmax] > gt else starts[i]
                iil, iir = min(cg[kmin], gt), max(cg[kmax], gt)
                if iil == gt:
                    min_dist = abs(d - cd[kmax])
                elif iir == gt:
                    min_dist = abs(d - cd[kmin])
                else:
                    min_dist = max(abs(d - cd[kmin]), abs(d - cd[kmax]))
            # nearest available control on the left (sorted index < a)
            kl = -1
            while True:
                while left.get(a, a) != a:
                    nxt = left[a]
                    left[a] = left.get(nxt, nxt)
                    a = left[a]
                k = a - 1
                if k < lo_i or d - cd[k] > stop:
                    break
                if d - cd[k] <= skip or d - cd[k] < min_dist or not cov_ok(gol[i], k):
                    a = k
                    continue
                kl = k
                break
            kr = -1
            while True:
                while right.get(b, b) != b:
                    nxt = right[b]
                    right[b] = right.get(nxt, nxt)
                    b = right[b]
                if b >= hi_i or cd[b] - d > stop:
                    break
                if cd[b] - d <= skip or cd[b] - d < min_dist or not cov_ok(gol[i], b):
                    b += 1
                    continue
                kr = b
                break
            if kl >= 0 and kr >= 0:
                dl, dr = d - cd[kl], cd[kr] - d
                if iil - cg[kl] <= cg[kr] - iir:   # left met first
                    k = kr if dr < dl else kl
                else:
                    k = kl if dl < dr else kr
            elif kl >= 0:
                k = kl
            elif kr >= 0:
                k = kr
            else:
                if r > 0:
                    still.append(i)
                continue
            mine.append(k)
            if groups is None:
                uses[k] = uses.get(k, 0) + 1
                if uses[k] >= reuse_max:
                    left[k + 1] = k
                    right[k] = k + 1
            else:
                for u in groups.use(gol[i], ctrl[k]):
                    su = cidx[u]
                    if su >= 0:
                        left[su + 1] = su
                        right[su] = su + 1
            still.append(i)
        active = still
    return found


def _stop_skip(cal: float) -> tuple[float, float]:
    """Return ``(stop, skip)``: the walk stops beyond ``stop`` and skips controls within ``skip``.

    A negative caliper is a least distance: it stops nothing and skips the controls at most
    ``-cal`` away (``find_control_vec``).
    """
    return (cal, -np.inf) if cal >= 0 else (np.inf, -cal)


def single_pass_vec(s: Sorted, go: np.ndarray, dist: np.ndarray, lo: np.ndarray,
                    hi: np.ndarray, ratio: int, cal: float, cov_ok) -> list[list[int]]:
    """Match with replacement: each treated unit takes its ``ratio`` matches at once."""
    cd, cg = s.cd, s.cg
    stop, skip = _stop_skip(cal)
    out = []
    for t, d, gt, st, lo_i, hi_i in zip(go.tolist(), dist[go].tolist(),
                                        s.gpos[go].tolist(), s.place[go].tolist(),
                                        lo.tolist(), hi.tolist(), strict=True):
        left = []
        k = st - 1
        while k >= lo_i and len(left) < ratio:
            dd = d - cd[k]
            if dd > stop:
                break
            if dd > skip and cov_ok(t, k):
                left.append((gt - int(cg[k]), dd, k))
            k -= 1
        right = []
        k = st
        while k < hi_i and len(right) < ratio:
            dd = cd[k] - d
            if dd > stop:
                break
            if dd > skip and cov_ok(t, k):
                right.append((int(cg[k]) - gt, dd, k))
            k += 1
        out.append(choose_vec(left, right, ratio))
    return out


def mahalanobis_pick(cand_d2: np.ndarray, cand_time: np.ndarray, ratio: int) -> np.ndarray:
    """``find_control_mahcovs``' choice among candidates (positions into the arrays).

    Candidates arrive in walk order (``cand_time``); the list keeps the ``ratio`` closest,
    replacing on ``<=`` (so of equal distances the one met last wins, with ``ratio`` 1) and
    inserting a new equal distance before the old ones.
    """
    if len(cand_d2) == 0:
        return np.empty(0, np.int64)
    kth = np.partition(cand_d2, min(ratio, len(cand_d2)) - 1)[min(ratio, len(cand_d2)) - 1]
    keep = np.flatnonzero(cand_d2 <= kth)
    keep = keep[np.argsort(cand_time[keep], kind="stable")]
    pot: list[tuple[float, int]] = []
    for j in keep.tolist():
        dc = float(cand_d2[j])
        if not pot:
            pot.append((dc, j))
        elif dc > pot[-1][0]:
            if len(pot) == ratio:
                continue
            pot.append((dc, j))
        elif ratio == 1:
            pot[0] = (dc, j)
        else:
            if len(pot) == ratio:
                pot.pop()
            if pot and dc > pot[-1][0]:
                pot.append((dc, j))
            else:
                pos = next((q for q, (pd, _) in enumerate(pot) if not pd < dc), len(pot))
                pot.insert(pos, (dc, j))
    return np.asarray([j for _, j in pot], np.int64)


def walk_time(pos_t: int, pos_c: np.ndarray) -> np.ndarray:
    """Step of the alternating walk (left first) at which each position is reached."""
    off = pos_c - pos_t
    return np.where(off < 0, -2 * off - 1, 2 * off)


def euc_dist_sq(Z: np.ndarray, t: int, cand: np.ndarray) -> np.ndarray:
    """Squared distances summed column by column, in C++'s order."""
    out = np.zeros(len(cand))
    zt = Z[t]
    zc = Z[cand]
    for j in range(Z.shape[1]):
        diff = zt[j] - zc[:, j]
        out = out + diff * diff
    return out

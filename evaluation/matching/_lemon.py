"""Port of LEMON 1.3's ``CycleCanceling`` (cancel-and-tighten), the solver optmatch uses.

optmatch 0.10 without the ``rrelaxiv`` package solves each matching network with
``rlemon::MinCostFlow(..., algorithm = "CycleCancelling")``, which builds a ``ListDigraph``
(nodes and arcs added in optmatch's order) and runs ``CycleCanceling<ListDigraph, int, int>``
with its default method, ``CANCEL_AND_TIGHTEN`` (Goldberg and Tarjan 1989). The initial
feasible flow comes from LEMON's ``Circulation`` (push-relabel with a greedy start and an
``Elevator``). Where a problem has several optimal flows, which one comes out depends on every
detail of these algorithms: the reversed iteration order of ``ListDigraph`` (nodes and arcs
are visited last-added first), the residual network's arc layout, the depth-first search of
admissible cycles and the floating-point potentials and their tolerance (1e-6). This module
transcribes ``lemon/cycle_canceling.h``, ``lemon/circulation.h`` and ``lemon/elevator.h`` of
LEMON 1.3.1 (as shipped in rlemon 0.2.1) step by step, so that it returns the same flow.

Two parts are computed differently but with the same result: the minimum mean cycle, which
LEMON finds with Howard's (or Hartmann and Orlin's) algorithm, is found here with Karp's
algorithm (the minimum mean is unique, and only it and the potentials derived from it, which
depend on the mean alone, enter the algorithm); and the final Bellman-Ford potentials, which
optmatch does not use for the matching, are not computed.

LEMON is copyright (C) 2003-2013 the Egervary Jeno Kombinatorikus Optimalizalasi
Kutatocsoport (EGRES) and released under the Boost Software License 1.0, which permits this
derived work; see http://lemon.cs.elte.hu.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from fractions import Fraction

import numpy as np

from evaluation.matching import _lemon_jit

_TOL = 1e-6   # Tolerance<double> epsilon set by startCancelAndTighten


class Elevator:
    """LEMON's ``Elevator`` (array based), over items ``0..n-1`` given in iteration order."""

    def __init__(self, order: list[int], max_level: int) -> None:
        n = len(order)
        self.max_level = max_level
        self.items = list(order)
        self.where = [0] * n
        for p, i in enumerate(order):
            self.where[i] = p
        # initStart / initAddItem (all items on level 0, in order) / initFinish
        self.level = [0] * n
        self.first = [0] * (max_level + 2)
        self.last_active = [-1] * (max_level + 2)
        for lev in range(1, max_level + 2):
            self.first[lev] = n
            self.last_active[lev] = n - 1
        self.highest = -1

    def _swap(self, p: int, q: int) -> None:
        it = self.items
        a, b = it[p], it[q]
        it[p], it[q] = b, a
        self.where[b] = p
        self.where[a] = q

    def _copy(self, s: int, p: int) -> None:
        if s != p:
            i = self.items[s]
            self.items[p] = i
            self.where[i] = p

    def _put(self, i: int, p: int) -> None:
        self.items[p] = i
        self.where[i] = p

    def activate(self, i: int) -> None:
        lev = self.level[i]
        self.last_active[lev] += 1
        self._swap(self.where[i], self.last_active[lev])
        if lev > self.highest:
            self.highest = lev

    def deactivate(self, i: int) -> None:
        lev = self.level[i]
        self._swap(self.where[i], self.last_active[lev])
        self.last_active[lev] -= 1
        self._drop_highest()

    def _drop_highest(self) -> None:
        while self.highest >= 0 and self.last_active[self.highest] < self.first[self.highest]:
            self.highest -= 1

    def active(self, i: int) -> bool:
        return self.where[i] <= self.last_active[self.level[i]]

    def highest_active(self) -> int:
        return self.items[self.last_active[self.highest]] if self.highest >= 0 else -1

    def on_level(self, lev: int) -> int:
        return self.first[lev + 1] - self.first[lev]

    def lift_highest_active(self, new_level: int) -> None:
        h = self.highest
        li = self.items[self.last_active[h]]
        self.first[h + 1] -= 1
        self._copy(self.first[h + 1], self.last_active[h])
        self.last_active[h] -= 1
        for lev in range(h + 1, new_level):
            self.first[lev + 1] -= 1
            self._copy(self.first[lev + 1], self.first[lev])
            self.last_active[lev] -= 1
        self._put(li, self.first[new_level])
        self.level[li] = new_level
        self.highest = new_level

    def lift_highest_active_to_top(self) -> None:
        h = self.highest
        top = self.max_level
        li = self.items[self.last_active[h]]
        self.first[h + 1] -= 1
        self._copy(self.first[h + 1], self.last_active[h])
        self.last_active[h] -= 1
        for lev in range(h + 1, top):
            self.first[lev + 1] -= 1
            self._copy(self.first[lev + 1], self.first[lev])
            self.last_active[lev] -= 1
        self._put(li, self.first[top])
        self.last_active[top] -= 1
        self.level[li] = top
        self._drop_highest()


def _circulation(n: int, src: list[int], tgt: list[int], cap: list[int], supply: list[int],
                 node_order: list[int], arc_order: list[int], out_arcs: list[list[int]],
                 in_arcs: list[list[int]]) -> list[int] | None:
    """LEMON's ``Circulation::run()`` (greedyInit + start) with zero lower bounds.

    Returns the flow per arc, or None where no feasible flow exists.
    """
    excess = list(supply)
    flow = [0] * len(src)
    for e in arc_order:                               # greedyInit
        t = tgt[e]
        if not (-excess[t] < cap[e]):
            flow[e] = cap[e]
            excess[t] += cap[e]
            excess[src[e]] -= cap[e]
        elif -excess[t] < 0:
            pass                                      # flow stays at the lower bound 0
        else:
            fc = -excess[t]
            flow[e] = fc
            excess[t] = 0
            excess[src[e]] -= fc
    lev = Elevator(node_order, n)
    level = lev.level
    for v in node_order:
        if excess[v] > 0:
            lev.activate(v)
    while True:                                       # start
        act = lev.highest_active()
        if act < 0:
            return flow
        actlevel = level[act]
        mlevel = n
        exc = excess[act]
        done = False
        for e in out_arcs[act]:
            v = tgt[e]
            fc = cap[e] - flow[e]
            if fc <= 0:
                continue
            if level[v] < actlevel:
                if not (fc < exc):
                    flow[e] += exc
                    excess[v] += exc
                    if not lev.active(v) and excess[v] > 0:
                        lev.activate(v)
                    excess[act] = 0
                    lev.deactivate(act)
                    done = True
                    break
                flow[e] = cap[e]
                excess[v] += fc
                if not lev.active(v) and excess[v] > 0:
                    lev.activate(v)
                exc -= fc
            elif level[v] < mlevel:
                mlevel = level[v]
        if done:
            continue
        for e in in_arcs[act]:
            v = src[e]
            fc = flow[e]
            if fc <= 0:
                continue
            if level[v] < actlevel:
                if not (fc < exc):
                    flow[e] -= exc
                    excess[v] += exc
                    if not lev.active(v) and excess[v] > 0:
                        lev.activate(v)
                    excess[act] = 0
                    lev.deactivate(act)
                    done = True
                    break
                flow[e] = 0
                excess[v] += fc
                if not lev.active(v) and excess[v] > 0:
                    lev.activate(v)
                exc -= fc
            elif level[v] < mlevel:
                mlevel = level[v]
        if done:
            continue
        excess[act] = exc
        if exc <= 0:
            lev.deactivate(act)
        elif mlevel == n:
            lev.lift_highest_active_to_top()
            return None
        else:
            lev.lift_highest_active(mlevel + 1)
            if lev.on_level(actlevel) == 0:
                return None


def _min_mean_cycle(nn: int, s: np.ndarray, t: np.ndarray, c: np.ndarray) -> Fraction:
    """Minimum mean cost of a directed cycle (Karp 1978) on arcs ``s -> t`` with costs ``c``.

    The arcs must contain a cycle (the residual network always does).
    """
    o = np.argsort(t, kind="stable")
    s, t, c = s[o], t[o], c[o].astype(float)
    heads, starts = np.unique(t, return_index=True)
    d = np.full((nn + 1, nn), np.inf)
    d[0] = 0.0
    for k in range(1, nn + 1):
        d[k, heads] = np.minimum.reduceat(d[k - 1, s] + c, starts)
    dn = d[nn]
    ok = np.isfinite(dn)
    ks = np.arange(nn)
    num = dn[None, ok] - d[:nn, ok]                  # (k, v)
    den = (nn - ks)[:, None].astype(float)
    with np.errstate(invalid="ignore"):
        ratio = np.where(np.isfinite(num), num / den, -np.inf)
    kbest = np.argmax(ratio, axis=0)
    vbest = int(np.argmin(ratio[kbest, np.arange(ratio.shape[1])]))
    kb = int(kbest[vbest])
    return Fraction(int(num[kb, vbest]), int(nn - kb))


def _potentials(nn: int, s: np.ndarray, t: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Bellman-Ford from every node at distance 0 (LEMON's ``bf.init(0); bf.start()``)."""
    o = np.argsort(t, kind="stable")
    s, t, c = s[o], t[o], c[o]
    heads, starts = np.unique(t, return_index=True)
    dist = np.zeros(nn, dtype=np.int64)
    for _ in range(nn + 1):
        new = dist.copy()
        new[heads] = np.minimum(dist[heads], np.minimum.reduceat(dist[s] + c, starts))
        if np.array_equal(new, dist):
            return dist
        dist = new
    raise RuntimeError("LEMON port: negative cycle after the minimum mean cycle (a bug)")


def min_cost_flow(sources: np.ndarray, targets: np.ndarray, capacities: np.ndarray,
                  costs: np.ndarray, supplies: np.ndarray, compiled: bool | None = None
                  ) -> np.ndarray | None:
    """``rlemon::MinCostFlow(..., algorithm = "CycleCancelling")``: the flow on each arc.

    Parameters
    ----------
    sources, targets : numpy.ndarray
        0-based node ids of each arc, in the order the arcs are added to the graph.
    capacities, costs : numpy.ndarray
        Integer upper bound and cost of each arc (lower bounds are 0, costs >= 0).
    supplies : numpy.ndarray
        Integer supply of each node (negative: demand); they must sum to 0 (optmatch's
        networks do; LEMON's other cases, a net demand and negative costs, are not ported).
    compiled : bool, optional
        Run the numba-compiled transcription (``_lemon_jit``, same flows, tens of times
        faster); default: where numba is installed.

    Returns
    -------
    numpy.ndarray or None
        Flow per arc (int), or None where LEMON reports the problem infeasible.

    Examples
    --------
    Two units to two places, every arc at cost 1: both assignments are optimal, and LEMON
    (``rlemon::MinCostFlow``, checked in R) sends unit 0 to place 3 and unit 1 to place 2.

    >>> min_cost_flow(np.array([0, 0, 1, 1]), np.array([2, 3, 2, 3]), np.ones(4, int),
    ...               np.ones(4, int), np.array([1, 1, -1, -1])).tolist()
    [0, 1, 1, 0]
    """
    total = int(np.asarray(supplies, dtype=np.int64).sum())
    least = int(np.asarray(costs, dtype=np.int64).min(initial=0))
    if total != 0 or least < 0:
        raise ValueError("min_cost_flow: the supplies must sum to 0 and the costs be >= 0 "
                         f"(got a sum of {total}, least cost {least}); only that case of "
                         "LEMON is ported")
    if compiled is None:
        compiled = _lemon_jit.AVAILABLE
    if compiled:
        return _lemon_jit.min_cost_flow(sources, targets, capacities, costs, supplies)
    src, tgt = np.asarray(sources).tolist(), np.asarray(targets).tolist()
    cap, cst = np.asarray(capacities).tolist(), np.asarray(costs).tolist()
    n = len(supplies)
    m = len(src)
    # ListDigraph iteration: nodes and each node's out/in arcs last-added first
    out_arcs: list[list[int]] = [[] for _ in range(n)]
    in_arcs: list[list[int]] = [[] for _ in range(n)]
    for e in range(m - 1, -1, -1):
        out_arcs[src[e]].append(e)
        in_arcs[tgt[e]].append(e)
    node_order = list(range(n - 1, -1, -1))
    arc_order = [e for v in node_order for e in out_arcs[v]]
    flow = _circulation(n, src, tgt, cap, np.asarray(supplies).tolist(), node_order, arc_order,
                        out_arcs, in_arcs)
    if flow is None:
        return None
    # residual network (CycleCanceling::reset): node id i <-> graph node n - 1 - i
    rn = n + 1
    root = n
    ra = 2 * (m + n)
    first_out = [0] * (rn + 1)
    r_src = [0] * ra
    r_tgt = [0] * ra
    rev = [0] * ra
    r_cost = [0] * ra
    res = [0] * ra
    idf = [0] * m
    idb = [0] * m
    j, k = 0, 2 * m + n
    for i in range(n):
        v = n - 1 - i
        first_out[i] = j
        for e in out_arcs[v]:
            idf[e] = j
            r_src[j], r_tgt[j] = i, n - 1 - tgt[e]
            r_cost[j] = cst[e]
            res[j] = cap[e] - flow[e]
            j += 1
        for e in in_arcs[v]:
            idb[e] = j
            r_src[j], r_tgt[j] = i, n - 1 - src[e]
            r_cost[j] = -cst[e]
            res[j] = flow[e]
            j += 1
        r_src[j], r_tgt[j], rev[j] = i, root, k       # to the root: residual 0
        r_src[k], r_tgt[k], rev[k] = root, i, j       # from the root: residual 1
        res[k] = 1
        j += 1
        k += 1
    first_out[n] = j
    first_out[rn] = k
    for e in range(m):
        rev[idf[e]] = idb[e]
        rev[idb[e]] = idf[e]
    _cancel_and_tighten(rn, first_out, r_src, r_tgt, rev, r_cost, res)
    return np.array([res[idb[e]] for e in range(m)], dtype=np.int64)


def _cancel_and_tighten(rn: int, first_out: list[int], r_src: list[int], r_tgt: list[int],
                        rev: list[int], cost: list[int], res: list[int]) -> None:
    """``CycleCanceling::startCancelAndTighten`` on the residual network (in place).

    The depth-first search of admissible cycles runs step by step as LEMON's. Its scans for
    "the next admissible arc" walk a per-phase list of the arcs admissible at the start of
    the phase (potentials do not change within a phase, and cancelling a cycle only makes
    arcs inadmissible: a saturated arc leaves, its reverse has a positive reduced cost), and
    the tightening steps (levels, potentials, epsilon) are computed with numpy on whole
    arrays, with LEMON's floating-point operations in LEMON's order.
    """
    src = np.asarray(r_src, dtype=np.int64)
    tgt = np.asarray(r_tgt, dtype=np.int64)
    cst = np.asarray(cost, dtype=np.int64)
    cst_f = cst.astype(float)
    rev_a = np.asarray(rev, dtype=np.int64)
    pi_a = np.zeros(rn)
    pred_node = [0] * rn
    pred_arc = [0] * rn
    stack = [0] * rn
    r = np.asarray(res, dtype=np.int64)
    epsilon = max(0.0, float((-cst[r > 0]).max(initial=0)))
    limit = int(1.0 * math.sqrt(float(rn)))
    if limit < 5:
        limit = 5
    it = limit
    r = np.asarray(res, dtype=np.int64)
    while epsilon * rn >= 1:
        adm_arr = np.flatnonzero((r > 0) & (-_TOL > cst_f + pi_a[src] - pi_a[tgt]))
        adm = adm_arr.tolist()
        n_adm = len(adm)
        touched: list[int] = []

        def scan(a: int, last: int, adm: list = adm, n_adm: int = n_adm) -> int:
            p = bisect_left(adm, a)
            while p < n_adm:
                b = adm[p]
                if b >= last:
                    return last
                if res[b] != 0:
                    return b
                p += 1
            return last

        # a node without admissible arcs is processed as soon as it is met, wherever from:
        # mark those so at the start (same search, fewer steps)
        has_adm = np.zeros(rn, bool)
        has_adm[src[adm_arr]] = True
        reached = (~has_adm).tolist()
        processed = list(reached)
        sh = -1
        for start in np.flatnonzero(has_adm).tolist():
            if reached[start]:
                continue
            reached[start] = True
            pred_arc[start] = -1
            pred_node[start] = -1
            last = first_out[start + 1]
            a = scan(first_out[start], last)
            if a == last:
                processed[start] = True
                continue
            sh += 1
            stack[sh] = a
            while sh >= 0:
                sa = stack[sh]
                u = r_src[sa]
                v = r_tgt[sa]
                if not reached[v]:
                    reached[v] = True
                    pred_node[v] = u
                    pred_arc[v] = sa
                    last = first_out[v + 1]
                    a = scan(first_out[v], last)
                    sh += 1
                    stack[sh] = -1 if a == last else a
                else:
                    if not processed[v]:
                        w = u
                        delta = res[sa]
                        nd = u
                        while nd != v:
                            d = res[pred_arc[nd]]
                            if d <= delta:
                                delta = d
                                w = pred_node[nd]
                            nd = pred_node[nd]
                        res[sa] -= delta
                        res[rev[sa]] += delta
                        touched.append(sa)
                        nd = u
                        while nd != v:
                            pa = pred_arc[nd]
                            res[pa] -= delta
                            res[rev[pa]] += delta
                            touched.append(pa)
                            nd = pred_node[nd]
                        nd = u
                        while sh > 0 and nd != w:
                            sh -= 1
                            reached[nd] = False
                            nd = pred_node[nd]
                        u = w
                    v = u
                    last = first_out[v + 1]
                    a = scan(stack[sh] + 1, last)
                    stack[sh] = -1 if a == last else a
                while sh >= 0 and stack[sh] == -1:
                    processed[v] = True
                    sh -= 1
                    if sh >= 0:
                        v = r_src[stack[sh]]
                        last = first_out[v + 1]
                        a = scan(stack[sh] + 1, last)
                        stack[sh] = -1 if a == last else a
        it -= 1
        if touched:
            both = np.asarray(touched, dtype=np.int64)
            both = np.concatenate([both, rev_a[both]])
            r[both] = [res[x] for x in both.tolist()]
        live = r > 0
        if it > 0:
            # levels: LEMON takes the nodes in reverse order of processing (a topological
            # order of the admissible arcs left after the search; the first node processed,
            # which it skips, has none) and sets level[v] = max(level[u] + 1) over admissible
            # arcs u -> v: the longest admissible path to v, found here as a fixed point
            rc = cst_f + pi_a[src] - pi_a[tgt]
            arc_adm = live & (-_TOL > rc)
            s_a, t_a = src[arc_adm], tgt[arc_adm]
            level = np.zeros(rn, np.int64)
            for _ in range(rn + 1):
                new = level.copy()
                np.maximum.at(new, t_a, level[s_a] + 1)
                if np.array_equal(new, level):
                    break
                level = new
            # potentials
            ld = level[src] - level[tgt]
            up = live & (ld > 0)
            if up.any():
                q = float(((rc[up] + epsilon) / (ld[up] + 1)).min())
            else:
                q = 1.7976931348623157e308   # std::numeric_limits<double>::max()
            pi_a = pi_a - q * level
            # epsilon
            curr = cst_f[live] + pi_a[src[live]] - pi_a[tgt[live]]
            epsilon = max(0.0, float((-curr).max(initial=0.0)))
        else:
            # epsilon := minus the minimum cycle mean; potentials from it
            s, t, c = src[live], tgt[live], cst[live]
            mean = _min_mean_cycle(rn, s, t, c)
            epsilon = -(mean.numerator / mean.denominator)
            dist = _potentials(rn, s, t, mean.denominator * c - mean.numerator)
            pi_a = dist.astype(float) / mean.denominator
            it = limit

"""The port of LEMON's cycle cancelling (documented, with LEMON's licence, in ``_lemon``).

LEMON's steps and floating-point operations in the same order, over numpy arrays in the
literal loop form of its C++ so that numba compiles it (tests/test_matching_lemon.py checks
the flows against rlemon's). numba is a dependency; without it (``AVAILABLE`` False, or
``NUMBA_DISABLE_JIT=1``) the same functions run as plain Python, with the same flows.
"""

from __future__ import annotations

import math

import numpy as np

try:  # optional accelerator
    from numba import njit
    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised where numba is absent
    AVAILABLE = False

    def njit(*args, **kwargs):
        """Leave the function as it is (numba absent)."""
        if args and callable(args[0]):
            return args[0]
        return lambda f: f

_TOL = 1e-6
_BIG = np.int64(1) << np.int64(62)


@njit(cache=True)
def _adjacency(n, src, tgt):
    """Out and in arcs of each node, last-added first (ListDigraph), as CSR arrays."""
    m = len(src)
    out_cnt = np.zeros(n + 1, np.int64)
    in_cnt = np.zeros(n + 1, np.int64)
    for e in range(m):
        out_cnt[src[e] + 1] += 1
        in_cnt[tgt[e] + 1] += 1
    for v in range(n):
        out_cnt[v + 1] += out_cnt[v]
        in_cnt[v + 1] += in_cnt[v]
    out_arcs = np.empty(m, np.int64)
    in_arcs = np.empty(m, np.int64)
    op = out_cnt[:-1].copy()
    ip = in_cnt[:-1].copy()
    for e in range(m - 1, -1, -1):
        out_arcs[op[src[e]]] = e
        op[src[e]] += 1
        in_arcs[ip[tgt[e]]] = e
        ip[tgt[e]] += 1
    return out_cnt, out_arcs, in_cnt, in_arcs


@njit(cache=True)
def _swap(items, where, p, q):
    a = items[p]
    b = items[q]
    items[p] = b
    items[q] = a
    where[b] = p
    where[a] = q


@njit(cache=True)
def _copy(items, where, s, p):
    if s != p:
        i = items[s]
        items[p] = i
        where[i] = p


@njit(cache=True)
def _circulation(n, src, tgt, cap, supply, out_cnt, out_arcs, in_cnt, in_arcs):
    """LEMON's ``Circulation::run()`` with its ``Elevator``; (feasible, flow)."""
    m = len(src)
    excess = supply.copy()
    flow = np.zeros(m, np.int64)
    for v in range(n - 1, -1, -1):          # ArcIt: nodes last-added first, their out arcs
        for q in range(out_cnt[v], out_cnt[v + 1]):
            e = out_arcs[q]
            t = tgt[e]
            if not (-excess[t] < cap[e]):
                flow[e] = cap[e]
                excess[t] += cap[e]
                excess[src[e]] -= cap[e]
            elif -excess[t] < 0:
                pass
            else:
                fc = -excess[t]
                flow[e] = fc
                excess[t] = 0
                excess[src[e]] -= fc
    # Elevator over items in NodeIt order, all on level 0
    max_level = n
    items = np.empty(n, np.int64)
    where = np.empty(n, np.int64)
    for p in range(n):
        items[p] = n - 1 - p
        where[n - 1 - p] = p
    level = np.zeros(n, np.int64)
    first = np.full(max_level + 2, n, np.int64)
    last_active = np.full(max_level + 2, n - 1, np.int64)
    first[0] = 0
    last_active[0] = -1
    highest = -1
    for p in range(n):
        v = n - 1 - p
        if excess[v] > 0:                   # activate
            lv = level[v]
            last_active[lv] += 1
            _swap(items, where, where[v], last_active[lv])
            if lv > highest:
                highest = lv
    while highest >= 0:
        act = items[last_active[highest]]
        actlevel = level[act]
        mlevel = n
        exc = excess[act]
        done = False
        for q in range(out_cnt[act], out_cnt[act + 1]):
            e = out_arcs[q]
            v = tgt[e]
            fc = cap[e] - flow[e]
            if fc <= 0:
                continue
            if level[v] < actlevel:
                if not (fc < exc):
                    flow[e] += exc
                    excess[v] += exc
                    if not (where[v] <= last_active[level[v]]) and excess[v] > 0:
                        lv = level[v]
                        last_active[lv] += 1
                        _swap(items, where, where[v], last_active[lv])
                        if lv > highest:
                            highest = lv
                    excess[act] = 0
                    la = level[act]             # deactivate
                    _swap(items, where, where[act], last_active[la])
                    last_active[la] -= 1
                    while highest >= 0 and last_active[highest] < first[highest]:
                        highest -= 1
                    done = True
                    break
                flow[e] = cap[e]
                excess[v] += fc
                if not (where[v] <= last_active[level[v]]) and excess[v] > 0:
                    lv = level[v]
                    last_active[lv] += 1
                    _swap(items, where, where[v], last_active[lv])
                    if lv > highest:
                        highest = lv
                exc -= fc
            elif level[v] < mlevel:
                mlevel = level[v]
        if done:
            continue
        for q in range(in_cnt[act], in_cnt[act + 1]):
            e = in_arcs[q]
            v = src[e]
            fc = flow[e]
            if fc <= 0:
                continue
            if level[v] < actlevel:
                if not (fc < exc):
                    flow[e] -= exc
                    excess[v] += exc
                    if not (where[v] <= last_active[level[v]]) and excess[v] > 0:
                        lv = level[v]
                        last_active[lv] += 1
                        _swap(items, where, where[v], last_active[lv])
                        if lv > highest:
                            highest = lv
                    excess[act] = 0
                    la = level[act]
                    _swap(items, where, where[act], last_active[la])
                    last_active[la] -= 1
                    while highest >= 0 and last_active[highest] < first[highest]:
                        highest -= 1
                    done = True
                    break
                flow[e] = 0
                excess[v] += fc
                if not (where[v] <= last_active[level[v]]) and excess[v] > 0:
                    lv = level[v]
                    last_active[lv] += 1
                    _swap(items, where, where[v], last_active[lv])
                    if lv > highest:
                        highest = lv
                exc -= fc
            elif level[v] < mlevel:
                mlevel = level[v]
        if done:
            continue
        excess[act] = exc
        if exc <= 0:
            la = level[act]
            _swap(items, where, where[act], last_active[la])
            last_active[la] -= 1
            while highest >= 0 and last_active[highest] < first[highest]:
                highest -= 1
        elif mlevel == n:
            return False, flow                  # liftHighestActiveToTop: infeasible
        else:
            h = highest                         # liftHighestActive(mlevel + 1)
            new_level = mlevel + 1
            li = items[last_active[h]]
            first[h + 1] -= 1
            _copy(items, where, first[h + 1], last_active[h])
            last_active[h] -= 1
            for lv in range(h + 1, new_level):
                first[lv + 1] -= 1
                _copy(items, where, first[lv + 1], first[lv])
                last_active[lv] -= 1
            items[first[new_level]] = li
            where[li] = first[new_level]
            level[li] = new_level
            highest = new_level
            if first[actlevel + 1] - first[actlevel] == 0:
                return False, flow
    return True, flow


@njit(cache=True)
def _min_mean_cycle(rn, s, t, c):
    """Karp's minimum mean cycle on arcs ``s -> t`` (costs ``c``): (cost, length)."""
    d = np.full((rn + 1, rn), _BIG, np.int64)
    for v in range(rn):
        d[0, v] = 0
    for k in range(1, rn + 1):
        for a in range(len(s)):
            du = d[k - 1, s[a]]
            if du < _BIG:
                x = du + c[a]
                if x < d[k, t[a]]:
                    d[k, t[a]] = x
    best_p = np.int64(0)
    best_q = np.int64(0)
    for v in range(rn):
        if d[rn, v] >= _BIG:
            continue
        vp = np.int64(0)
        vq = np.int64(0)
        for k in range(rn):
            if d[k, v] >= _BIG:
                continue
            p = d[rn, v] - d[k, v]
            q = np.int64(rn - k)
            if vq == 0 or p * vq > vp * q:
                vp = p
                vq = q
        if vq != 0 and (best_q == 0 or vp * best_q < best_p * vq):
            best_p = vp
            best_q = vq
    return best_p, best_q


@njit(cache=True)
def _potentials(rn, s, t, c):
    dist = np.zeros(rn, np.int64)
    for _ in range(rn + 1):
        changed = False
        for a in range(len(s)):
            x = dist[s[a]] + c[a]
            if x < dist[t[a]]:
                dist[t[a]] = x
                changed = True
        if not changed:
            break
    return dist


@njit(cache=True)
def _howard(rn, s, t, c):
    """Find a minimum-mean cycle by Howard's policy iteration (floating, as LEMON's).

    Returns ``(cost, length)`` of the best cycle of the final policy (exact integers), or
    ``(0, 0)`` if it did not settle within LEMON's limit; the caller verifies the result.
    """
    m = len(s)
    # out arcs by source; nodes that cannot reach a cycle are pruned
    deg = np.zeros(rn, np.int64)
    for a in range(m):
        deg[s[a]] += 1
    start = np.zeros(rn + 1, np.int64)
    for v in range(rn):
        start[v + 1] = start[v] + deg[v]
    fill = start[:-1].copy()
    out = np.empty(m, np.int64)
    for a in range(m):
        out[fill[s[a]]] = a
        fill[s[a]] += 1
    ideg = np.zeros(rn, np.int64)
    for a in range(m):
        ideg[t[a]] += 1
    istart = np.zeros(rn + 1, np.int64)
    for v in range(rn):
        istart[v + 1] = istart[v] + ideg[v]
    fill = istart[:-1].copy()
    inn = np.empty(m, np.int64)
    for a in range(m):
        inn[fill[t[a]]] = a
        fill[t[a]] += 1
    alive = np.ones(rn, np.bool_)
    stack = np.empty(rn, np.int64)
    sh = 0
    for v in range(rn):
        if deg[v] == 0:
            alive[v] = False
            stack[sh] = v
            sh += 1
    while sh > 0:
        sh -= 1
        v = stack[sh]
        for q in range(istart[v], istart[v + 1]):
            u = s[inn[q]]
            if alive[u]:
                deg[u] -= 1
                if deg[u] == 0:
                    alive[u] = False
                    stack[sh] = u
                    sh += 1
    policy = np.full(rn, -1, np.int64)
    for v in range(rn):
        if not alive[v]:
            continue
        for q in range(start[v], start[v + 1]):
            a = out[q]
            if alive[t[a]] and (policy[v] < 0 or c[a] < c[policy[v]]):
                policy[v] = a
    lam = np.zeros(rn)
    dist = np.zeros(rn)
    state = np.zeros(rn, np.int64)
    path = np.empty(rn, np.int64)
    best_p = np.int64(0)
    best_q = np.int64(0)
    eps = 1e-9
    for _ in range(max(rn, 5)):           # LEMON: at most max(n, 5) Howard iterations
        # evaluate the policy
        for v in range(rn):
            state[v] = 0
        best_p = np.int64(0)
        best_q = np.int64(0)
        mark = 0
        for v0 in range(rn):
            if not alive[v0] or state[v0] != 0:
                continue
            mark += 1
            n_path = 0
            v = v0
            while alive[v] and state[v] == 0:
                state[v] = -mark
                path[n_path] = v
                n_path += 1
                v = t[policy[v]]
            if state[v] == -mark:          # a new cycle, from v
                j = 0
                while path[j] != v:
                    j += 1
                cp = np.int64(0)
                for i in range(j, n_path):
                    cp += c[policy[path[i]]]
                cq = np.int64(n_path - j)
                lv = float(cp) / float(cq)
                if best_q == 0 or cp * best_q < best_p * cq:
                    best_p = cp
                    best_q = cq
                lam[v] = lv
                dist[v] = 0.0
                state[v] = 1
                for i in range(n_path - 1, j, -1):
                    u = path[i]
                    lam[u] = lv
                    dist[u] = c[policy[u]] - lv + dist[t[policy[u]]]
                    state[u] = 1
                n_path = j
            for i in range(n_path - 1, -1, -1):
                u = path[i]
                w = t[policy[u]]
                lam[u] = lam[w]
                dist[u] = c[policy[u]] - lam[w] + dist[w]
                state[u] = 1
        # improve it
        changed = False
        for u in range(rn):
            if not alive[u]:
                continue
            for q in range(start[u], start[u + 1]):
                a = out[q]
                v = t[a]
                if not alive[v]:
                    continue
                tol_l = eps * (1.0 + abs(lam[u]))
                if lam[v] < lam[u] - tol_l:
                    lam[u] = lam[v]
                    dist[u] = c[a] - lam[v] + dist[v]
                    policy[u] = a
                    changed = True
                elif (abs(lam[v] - lam[u]) <= tol_l and c[a] - lam[u] + dist[v]
                      < dist[u] - eps * (1.0 + abs(dist[u]))):
                    dist[u] = c[a] - lam[u] + dist[v]
                    policy[u] = a
                    changed = True
        if not changed:
            return best_p, best_q
    return np.int64(0), np.int64(0)


@njit(cache=True)
def _potentials_checked(rn, s, t, c):
    """Bellman-Ford from every node at 0; (distances, converged: no negative cycle)."""
    dist = np.zeros(rn, np.int64)
    for _ in range(rn + 1):
        changed = False
        for a in range(len(s)):
            x = dist[s[a]] + c[a]
            if x < dist[t[a]]:
                dist[t[a]] = x
                changed = True
        if not changed:
            return dist, True
    return dist, False


@njit(cache=True)
def _scan(a, last, res, cost, pi, r_tgt, p):
    while a != last and (res[a] == 0 or not (-_TOL > cost[a] + p - pi[r_tgt[a]])):
        a += 1
    return a


@njit(cache=True)
def _cancel_and_tighten(rn, first_out, r_src, r_tgt, rev, cost, res):
    pi = np.zeros(rn)
    level = np.zeros(rn, np.int64)
    reached = np.zeros(rn, np.bool_)
    processed = np.zeros(rn, np.bool_)
    pred_node = np.zeros(rn, np.int64)
    pred_arc = np.zeros(rn, np.int64)
    stack = np.zeros(rn, np.int64)
    proc = np.zeros(rn, np.int64)
    ra = len(res)
    epsilon = 0.0
    for a in range(ra):
        if res[a] > 0 and -cost[a] > epsilon:
            epsilon = float(-cost[a])
    limit = int(1.0 * math.sqrt(float(rn)))
    if limit < 5:
        limit = 5
    it = limit
    while epsilon * rn >= 1:
        for u in range(rn):
            reached[u] = False
            processed[u] = False
        sh = -1
        ph = -1
        for start in range(rn):
            if reached[start]:
                continue
            reached[start] = True
            pred_arc[start] = -1
            pred_node[start] = -1
            last = first_out[start + 1]
            a = _scan(first_out[start], last, res, cost, pi, r_tgt, pi[start])
            if a == last:
                processed[start] = True
                ph += 1
                proc[ph] = start
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
                    a = _scan(first_out[v], last, res, cost, pi, r_tgt, pi[v])
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
                        nd = u
                        while nd != v:
                            pa = pred_arc[nd]
                            res[pa] -= delta
                            res[rev[pa]] += delta
                            nd = pred_node[nd]
                        nd = u
                        while sh > 0 and nd != w:
                            sh -= 1
                            reached[nd] = False
                            nd = pred_node[nd]
                        u = w
                    v = u
                    last = first_out[v + 1]
                    a = _scan(stack[sh] + 1, last, res, cost, pi, r_tgt, pi[v])
                    stack[sh] = -1 if a == last else a
                while sh >= 0 and stack[sh] == -1:
                    processed[v] = True
                    ph += 1
                    proc[ph] = v
                    sh -= 1
                    if sh >= 0:
                        v = r_src[stack[sh]]
                        last = first_out[v + 1]
                        a = _scan(stack[sh] + 1, last, res, cost, pi, r_tgt, pi[v])
                        stack[sh] = -1 if a == last else a
        it -= 1
        if it > 0:
            for u in range(rn):
                level[u] = 0
            for i in range(ph, 0, -1):
                u = proc[i]
                p = pi[u]
                lv = level[u] + 1
                for a in range(first_out[u], first_out[u + 1]):
                    v = r_tgt[a]
                    if res[a] > 0 and -_TOL > cost[a] + p - pi[v] and lv > level[v]:
                        level[v] = lv
            q = 1.7976931348623157e308
            for u in range(rn):
                lu = level[u]
                pu = pi[u]
                for a in range(first_out[u], first_out[u + 1]):
                    if res[a] == 0:
                        continue
                    v = r_tgt[a]
                    ld = lu - level[v]
                    if ld > 0:
                        p = (cost[a] + pu - pi[v] + epsilon) / (ld + 1)
                        if p < q:
                            q = p
            for u in range(rn):
                pi[u] -= q * level[u]
            epsilon = 0.0
            for u in range(rn):
                pu = pi[u]
                for a in range(first_out[u], first_out[u + 1]):
                    if res[a] == 0:
                        continue
                    curr = cost[a] + pu - pi[r_tgt[a]]
                    if -curr > epsilon:
                        epsilon = -curr
        else:
            nl = 0
            for a in range(ra):
                if res[a] > 0:
                    nl += 1
            s = np.empty(nl, np.int64)
            t = np.empty(nl, np.int64)
            c = np.empty(nl, np.int64)
            j = 0
            for a in range(ra):
                if res[a] > 0:
                    s[j] = r_src[a]
                    t[j] = r_tgt[a]
                    c[j] = cost[a]
                    j += 1
            # the minimum cycle mean: Howard's policy iteration, checked exactly (a cycle
            # whose mean p/q leaves no negative cycle for costs q*c - p is a minimum); Karp's
            # algorithm where the check fails
            mp, mq = _howard(rn, s, t, c)
            ok = False
            if mq > 0:
                c2 = mq * c - mp
                dist, ok = _potentials_checked(rn, s, t, c2)
            if not ok:
                mp, mq = _min_mean_cycle(rn, s, t, c)
                if mq == 0:
                    # no cycle left in the residual network: LEMON's HowardMmc reports
                    # NO_CYCLE with its initial cost 0 and size 1, so epsilon becomes -0.0
                    # (the loop ends) after Bellman-Ford on the costs themselves
                    mp = np.int64(0)
                    mq = np.int64(1)
                c2 = mq * c - mp
                dist = _potentials(rn, s, t, c2)
            epsilon = -(float(mp) / float(mq))
            for u in range(rn):
                pi[u] = float(dist[u]) / float(mq)
            it = limit


@njit(cache=True)
def _solve(n, src, tgt, cap, cst, supply):
    m = len(src)
    out_cnt, out_arcs, in_cnt, in_arcs = _adjacency(n, src, tgt)
    ok, flow = _circulation(n, src, tgt, cap, supply, out_cnt, out_arcs, in_cnt, in_arcs)
    if not ok:
        return False, flow
    rn = n + 1
    root = n
    ra = 2 * (m + n)
    first_out = np.zeros(rn + 1, np.int64)
    r_src = np.zeros(ra, np.int64)
    r_tgt = np.zeros(ra, np.int64)
    rev = np.zeros(ra, np.int64)
    r_cost = np.zeros(ra, np.int64)
    res = np.zeros(ra, np.int64)
    idf = np.zeros(m, np.int64)
    idb = np.zeros(m, np.int64)
    j = 0
    k = 2 * m + n
    for i in range(n):
        v = n - 1 - i
        first_out[i] = j
        for q in range(out_cnt[v], out_cnt[v + 1]):
            e = out_arcs[q]
            idf[e] = j
            r_src[j] = i
            r_tgt[j] = n - 1 - tgt[e]
            r_cost[j] = cst[e]
            res[j] = cap[e] - flow[e]
            j += 1
        for q in range(in_cnt[v], in_cnt[v + 1]):
            e = in_arcs[q]
            idb[e] = j
            r_src[j] = i
            r_tgt[j] = n - 1 - src[e]
            r_cost[j] = -cst[e]
            res[j] = flow[e]
            j += 1
        r_src[j] = i
        r_tgt[j] = root
        rev[j] = k
        r_src[k] = root
        r_tgt[k] = i
        rev[k] = j
        res[k] = 1
        j += 1
        k += 1
    first_out[n] = j
    first_out[rn] = k
    for e in range(m):
        rev[idf[e]] = idb[e]
        rev[idb[e]] = idf[e]
    _cancel_and_tighten(rn, first_out, r_src, r_tgt, rev, r_cost, res)
    out = np.empty(m, np.int64)
    for e in range(m):
        out[e] = res[idb[e]]
    return True, out


def min_cost_flow(sources, targets, capacities, costs, supplies):
    """Flow per arc, or None where infeasible (``_lemon.min_cost_flow`` checks and documents)."""
    ok, flow = _solve(len(supplies), np.ascontiguousarray(sources, dtype=np.int64),
                      np.ascontiguousarray(targets, dtype=np.int64),
                      np.ascontiguousarray(capacities, dtype=np.int64),
                      np.ascontiguousarray(costs, dtype=np.int64),
                      np.ascontiguousarray(supplies, dtype=np.int64))
    return flow if ok else None

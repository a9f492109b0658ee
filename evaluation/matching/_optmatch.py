"""optmatch's ``fullmatch`` for one subproblem: the network MatchIt's optimal methods solve.

MatchIt 4.7 hands ``method = "optimal"`` and ``"full"`` to optmatch 0.10 (``fullmatch``, one
call per exact stratum). optmatch does not solve the problem on the distances themselves: it
rounds each distance ``d`` to the integer ``ceiling(0.5 + d / epsilon)`` with the resolution
``epsilon = tol * n / (n_rows + n_cols - 2)`` (``n`` units in the subproblem, the rows and
columns counted among units with at least one finite distance; never below
``max(d) / (2^31 / 64 - 2)``), and finds a minimum-cost flow in Hansen and Klopfer's (2006)
network on those integers. This module builds the same network with the same rounding and
solves it exactly with HiGHS's dual simplex (``scipy.optimize.linprog``): the network matrix is
totally unimodular and the costs integers, so the basic optimum is integral and optimal for
the integer problem (k:1 pair matching, an assignment problem, goes to scipy's
``linear_sum_assignment`` on the same integers). Where that problem has several optima (ties
in the rounded distances) optmatch's solver (LEMON's cycle cancelling) and ours may return
different ones of the same total cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment, linprog

#: R's ``.Machine$integer.max / 64 - 2``: optmatch's bound on the rounded distances.
_INT_RANGE = 2147483647 / 64 - 2


@dataclass(frozen=True)
class Solution:
    """Arcs of an optimal (full) match of one subproblem.

    ``rows`` and ``cols`` index the matrix given to :func:`fullmatch` (arcs from row unit to
    column unit, in its original orientation), ``epsilon`` is the resolution of the rounding,
    ``cost`` the total rounded (integer) distance, ``flipped`` whether optmatch solved the
    transposed problem.
    """

    rows: np.ndarray
    cols: np.ndarray
    epsilon: float
    cost: int
    flipped: bool


def round_distances(dist: np.ndarray, tolerance: float, rfeas: int, cfeas: int
                    ) -> tuple[np.ndarray, float]:
    """Round distances as optmatch's ``doubleSolve``: integers and the resolution ``epsilon``.

    Examples
    --------
    >>> round_distances(np.array([0.0, 0.004, 0.01]), tolerance=0.003, rfeas=2, cfeas=3)
    (array([ 1,  5, 11]), 0.001)
    """
    eps_low = float(dist.max()) / _INT_RANGE
    if tolerance > 0 and rfeas > 1 and cfeas > 1:
        epsilon = max(eps_low, tolerance / (rfeas + cfeas - 2))
    else:
        epsilon = eps_low
    if np.all(np.abs(dist) < math.sqrt(np.finfo(float).eps)):
        return np.ones(len(dist), np.int64), epsilon
    return np.ceil(0.5 + dist / epsilon).astype(np.int64), epsilon


def _solve_network(i: np.ndarray, j: np.ndarray, cost: np.ndarray, nt: int, nc: int,
                   mxc: int, mnc: int, mxr: int, n_mc: int) -> np.ndarray | None:
    """Minimum-cost flow in optmatch's ``fmatch`` network; the chosen arcs (bool) or None.

    Row unit ``r`` supplies ``mxc``; arcs row -> column (capacity 1, the rounded distance),
    row -> End (``mxc - mnc``), column -> End (``mxr - 1``), column -> Sink (1); End takes
    ``mxc * nt - n_mc`` and Sink ``n_mc`` (the columns matched).
    """
    na = len(i)
    cols = np.arange(nc)
    # variables: arcs, row->End (nt), col->End (nc), col->Sink (nc)
    nv = na + nt + 2 * nc
    t_end = na + np.arange(nt)
    c_end = na + nt + cols
    c_sink = na + nt + nc + cols
    # node balance rows: rows 0..nt-1 (out - in = supply), columns nt..nt+nc-1, End, Sink
    r_idx = np.concatenate([i, nt + j, np.arange(nt), nt + cols, nt + cols,
                            np.full(nt + nc, nt + nc), np.full(nc, nt + nc + 1)])
    v_idx = np.concatenate([np.arange(na), np.arange(na), t_end, c_end, c_sink,
                            t_end, c_end, c_sink])
    vals = np.concatenate([np.ones(na), -np.ones(na), np.ones(nt), np.ones(nc), np.ones(nc),
                           -np.ones(nt + nc), -np.ones(nc)])
    a_eq = sparse.csr_array((vals, (r_idx, v_idx)), shape=(nt + nc + 2, nv))
    b_eq = np.concatenate([np.full(nt, mxc), np.zeros(nc), [-(mxc * nt - n_mc), -n_mc]])
    ub = np.concatenate([np.ones(na), np.full(nt, mxc - mnc), np.full(nc, mxr - 1),
                         np.ones(nc)])
    c = np.concatenate([cost.astype(float), np.zeros(nt + 2 * nc)])
    res = linprog(c, A_eq=a_eq[:-1], b_eq=b_eq[:-1], bounds=np.column_stack([np.zeros(nv), ub]),
                  method="highs-ds")
    if res.status == 2:
        return None
    if res.status != 0:
        raise RuntimeError(f"optimal matching: the min-cost flow solver failed ({res.message})")
    x = res.x[:na]
    if np.abs(x - np.round(x)).max(initial=0) > 1e-6:
        raise RuntimeError("optimal matching: the solver returned a fractional flow")
    return np.round(x).astype(bool)


def _solve_assignment(i: np.ndarray, j: np.ndarray, cost: np.ndarray, nt: int, nc: int,
                      k: int) -> np.ndarray | None:
    """Solve the k:1 case of the network (``k`` columns per row, a column at most once).

    scipy's assignment solver on the integer costs, rows repeated ``k`` times; a missing pair
    costs more than every finite pair together.
    """
    big = float(cost.sum()) + 1.0
    dense = np.full((nt, nc), big)
    dense[i, j] = cost
    r, c = linear_sum_assignment(np.repeat(dense, k, axis=0))
    if (dense[r // k, c] >= big).any():
        return None
    pos = np.full((nt, nc), -1, np.int64)
    pos[i, j] = np.arange(len(i))
    chosen = np.zeros(len(i), bool)
    chosen[pos[r // k, c]] = True
    return chosen


def fullmatch(dist: np.ndarray, min_controls: float, max_controls: float,
              mean_controls: float | None = None, tol: float = 0.001) -> Solution | None:
    """Solve one subproblem as optmatch's ``fullmatch`` does, with its recovery step.

    Parameters
    ----------
    dist : numpy.ndarray
        Row (treated, or focal) x column (control) distances; ``inf`` forbids a pair.
    min_controls, max_controls : float
        Bounds on controls per treated unit (``max_controls`` may be ``inf``).
    mean_controls : float, optional
        Average controls per treated unit; the remaining columns are left out (optmatch's
        ``omit.fraction = 1 - mean_controls * n_rows / n_cols``). None: every column is
        matched (full matching).
    tol : float
        optmatch's ``tol``: the rounding resolution per unit (see the module docstring).

    Returns
    -------
    Solution or None
        None when the constraints cannot be met.

    Examples
    --------
    >>> d = np.array([[0.1, 0.5, 0.2], [0.4, 0.1, 0.9]])
    >>> s = fullmatch(d, 1, 1, mean_controls=1)
    >>> list(zip(s.rows.tolist(), s.cols.tolist()))
    [(0, 0), (1, 1)]
    """
    nrow, ncol = dist.shape
    omf = None if mean_controls is None else 1 - mean_controls * nrow / ncol
    if max_controls * nrow >= ncol * (1 if omf is None else 1 - omf):
        sol = _fullmatch(dist, min_controls, max_controls, omf, tol)
        if sol is not None:
            return sol
    if not (math.isfinite(max_controls) and max_controls >= 1):
        return _fullmatch(dist, min_controls, max_controls, omf, tol)
    # optmatch's recovery: match with no upper bound, then leave out the controls beyond
    # max_controls per treated unit and solve again with that omit fraction. (MatchIt's
    # optimal pair matching lands here when 1 - omf rounds below n_rows / n_cols.) With one
    # control per treated unit allowed and every pair possible, that count is n_rows.
    if max_controls == 1 and omf is not None and omf >= 0 and np.isfinite(dist).all():
        return _fullmatch(dist, min_controls, max_controls, 1 - nrow / ncol, tol)
    trial = _fullmatch(dist, min_controls, math.inf, omf, tol)
    if trial is None:
        return None
    rows, counts = np.unique(trial.rows, return_counts=True)
    sets = {}
    for r, c in zip(trial.rows, trial.cols, strict=True):
        sets.setdefault(c, set()).add(r)
    # matched sets: a treated row with its controls, or one control with several rows
    n_ctrl = 0
    seen = set()
    for rs in sets.values():
        if len(rs) > 1:
            n_ctrl += min(1, max_controls)
        else:
            (r,) = rs
            if r not in seen:
                seen.add(r)
                k = int(counts[np.searchsorted(rows, r)])
                n_ctrl += min(k, max_controls)
    if n_ctrl == 0:
        return None
    return _fullmatch(dist, min_controls, max_controls, 1 - n_ctrl / ncol, tol)


def _fullmatch(dist: np.ndarray, min_controls: float, max_controls: float,
               omf: float | None, tol: float) -> Solution | None:
    """Solve as optmatch's ``.fullmatch`` and ``solve_reg_fm_prob`` for one omit fraction."""
    nrow, ncol = dist.shape
    total_n = nrow + ncol
    if omf is not None and omf >= 0 or omf is None and max_controls > 0.5:
        maxc, minc, flipped = min(max_controls, ncol), max(min_controls, 1 / nrow), False
        d = dist
    else:
        maxc = min(1 / min_controls, ncol) if min_controls > 0 else ncol
        minc = max(1 / max_controls, 1 / nrow)
        omf, flipped, d = -omf, True, dist.T
    finite = np.isfinite(d)
    if not finite.any():
        return None
    r_ok, c_ok = finite.any(axis=1), finite.any(axis=0)
    rfeas, cfeas, ncols = int(r_ok.sum()), int(c_ok.sum()), d.shape[1]
    if omf is not None and cfeas < ncols and omf > 0:
        omf = (omf * ncols - (ncols - cfeas)) / cfeas
        if omf <= 0:
            omf = None
    f = 1.0 if omf is None else 1 - omf
    if (math.floor(minc) > math.ceil(maxc) or math.ceil(1 / minc) < math.floor(1 / maxc)
            or not rfeas or not cfeas):
        return None
    rmap = np.cumsum(r_ok) - 1
    cmap = np.cumsum(c_ok) - 1
    ii, jj = np.nonzero(finite)
    icost, epsilon = round_distances(d[ii, jj], tol * total_n, rfeas, cfeas)
    mxr = math.ceil(1 / minc)
    mxc = math.ceil(maxc)
    mnc = max(1, math.floor(minc))
    if mnc > 1:
        mxr = 1
    n_mc = round(cfeas * f)
    if ((mxr > 1 and rfeas / mxr > n_mc) or (mxr == 1 and rfeas * mnc > n_mc)
            or rfeas * mxc < n_mc):
        return None
    if mxr == 1 and mnc == mxc and n_mc == mxc * rfeas:   # k:1 pairs: an assignment problem
        chosen = _solve_assignment(rmap[ii], cmap[jj], icost, rfeas, cfeas, mxc)
    else:
        chosen = _solve_network(rmap[ii], cmap[jj], icost, rfeas, cfeas, mxc, mnc, mxr, n_mc)
    if chosen is None or not chosen.any():
        return None
    rows, cols = ii[chosen], jj[chosen]
    if flipped:
        rows, cols = cols, rows
    return Solution(rows, cols, epsilon, int(icost[chosen].sum()), flipped)


def prune_pairs(focal: np.ndarray, p: np.ndarray) -> np.ndarray:
    """MatchIt's ``preprocess_matchC`` (Savje 2020): pairs worth keeping for 1:1 matching.

    Returns a boolean n_focal x n_other matrix (units in data order within each group).

    Examples
    --------
    >>> prune_pairs(np.array([True, False, False, True]), np.array([0.1, 0.2, 0.9, 0.3]))
    array([[ True, False],
           [ True,  True]])
    """
    n = len(focal)
    n1 = int(focal.sum())
    n0 = n - n1
    o = np.argsort(p, kind="stable")
    t_sorted = focal[o]
    im = np.empty(n, np.int64)
    im[focal] = np.arange(n1)
    im[~focal] = np.arange(n0)
    a = np.empty(n0, np.int64)
    b = np.empty(n0, np.int64)
    queue, k0, ci = [], 0, 0
    for i in range(n):
        if t_sorted[i]:
            queue.append(i)
            continue
        if len(queue) > k0:
            a[ci] = queue[k0]
            k0 += 1
        else:
            a[ci] = i
        ci += 1
    queue, k0, ci = [], 0, n0 - 1
    for i in range(n - 1, -1, -1):
        if t_sorted[i]:
            queue.append(i)
            continue
        if len(queue) > k0:
            b[ci] = queue[k0]
            k0 += 1
        else:
            b[ci] = i
        ci -= 1
    keep = np.zeros((n1, n0), bool)
    focal_pos = np.flatnonzero(t_sorted)
    ci = 0
    for i in range(n):
        if t_sorted[i]:
            continue
        lo, hi = np.searchsorted(focal_pos, [a[ci], b[ci] + 1])
        keep[im[o[focal_pos[lo:hi]]], im[o[i]]] = True
        ci += 1
    return keep

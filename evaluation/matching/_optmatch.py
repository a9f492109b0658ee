"""optmatch's ``fullmatch`` for one subproblem: the network MatchIt's optimal methods solve.

MatchIt 4.7 hands ``method = "optimal"`` and ``"full"`` to optmatch 0.10 (``fullmatch``, one
call per exact stratum). optmatch does not solve the problem on the distances themselves: it
rounds each distance ``d`` to the integer ``ceiling(0.5 + d / epsilon)`` with the resolution
``epsilon = tol * n / (n_rows + n_cols - 2)`` (``n`` units in the subproblem, the rows and
columns counted among units with at least one finite distance; never below
``max(d) / (2^31 / 64 - 2)``), and finds a minimum-cost flow in Hansen and Klopfer's (2006)
network on those integers. This module builds the same network with the same rounding, the
same nodes and the same arcs in the same order (the order of the entries of optmatch's
``InfinitySparseMatrix``, which the caller passes as ``rank``), and solves it with a port of the
solver optmatch uses without ``rrelaxiv``, LEMON's cycle cancelling (``_lemon``). Where the
rounded problem has several optima (ties), that returns the same one as optmatch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evaluation.matching._lemon import min_cost_flow

#: R's ``.Machine$integer.max / 64 - 2``: optmatch's bound on the rounded distances.
_INT_RANGE = 2147483647 / 64 - 2


@dataclass(frozen=True)
class Solution:
    """Arcs of an optimal (full) match of one subproblem.

    ``rows`` and ``cols`` index the matrix given to :func:`fullmatch` (arcs from row unit to
    column unit, in its original orientation), ``epsilon`` is the resolution of the rounding,
    ``cost`` the total rounded (integer) distance, ``flipped`` whether optmatch solved the
    transposed problem. ``row_labels`` and ``col_labels`` are optmatch's name of each unit's
    matched set (0: unmatched), as ``solution2factor`` gives it: the position, among the
    solved problem's row units with an allowed pair, of the set's row unit, or where a set
    has several row units, of the first of them in arc order.
    """

    rows: np.ndarray
    cols: np.ndarray
    epsilon: float
    cost: int
    flipped: bool
    row_labels: np.ndarray
    col_labels: np.ndarray


class NonpositiveDistances(ValueError):
    """optmatch's refusal: full matching on integer distances of which some are 0.

    optmatch's ``fmatch`` stops with "Nonpositive discrepancies not compatible with full
    matching (see Hansen & Klopfer, 2006 JCGS, sec.4.1)" when a unit may share its set with
    several units of the other group (``max.row.units > 1``) and an allowed pair's distance,
    as the solver sees it, is 0 or less. Distances of R's double type never reach it: they
    are rounded up to ``ceiling(0.5 + d / epsilon)`` >= 1 first; R integer distances go to
    the solver unrounded (``intSolve``), so a 0 (two units with equal values) is refused.
    ``zeros`` counts those pairs.
    """

    def __init__(self, zeros: int):
        super().__init__(f"{zeros} allowed pair(s) at distance 0")
        self.zeros = zeros


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

    Nodes: the row units, the column units, End, Sink (in that order). Arcs, in this order:
    row -> column (capacity 1, the rounded distance) in the order given, row -> End
    (``mxc - mnc``), column -> End (``mxr - 1``), column -> Sink (1). Row units supply
    ``mxc``; End takes ``mxc * nt - n_mc`` and Sink ``n_mc`` (the columns matched).
    """
    na = len(i)
    rows, cols = np.arange(nt), nt + np.arange(nc)
    end, sink = nt + nc, nt + nc + 1
    src = np.concatenate([i, rows, cols, cols])
    tgt = np.concatenate([nt + j, np.full(nt + nc, end), np.full(nc, sink)])
    cap = np.concatenate([np.ones(na, np.int64), np.full(nt, mxc - mnc),
                          np.full(nc, mxr - 1), np.ones(nc, np.int64)])
    costs = np.concatenate([cost, np.zeros(nt + 2 * nc, np.int64)])
    supply = np.concatenate([np.full(nt, mxc), np.zeros(nc, np.int64),
                             [-(mxc * nt - n_mc), -n_mc]])
    flow = min_cost_flow(src, tgt, cap, costs, supply)
    if flow is None:
        return None
    return flow[:na] == 1


def fullmatch(dist: np.ndarray, min_controls: float, max_controls: float,
              mean_controls: float | None = None, tol: float = 0.001,
              rank: np.ndarray | None = None, integer: bool = False) -> Solution | None:
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
    rank : numpy.ndarray, optional
        Same shape as ``dist``: the position of each pair among the entries of optmatch's
        distance matrix (the order of the network's arcs, which decides between tied
        optima). None: column-major, as ``as.InfinitySparseMatrix`` of a dense matrix.
    integer : bool, default False
        The distances are of R's integer type in optmatch (MatchIt's full matching on an
        integer distance vector; see :class:`NonpositiveDistances`): solved unrounded, as
        optmatch's ``intSolve`` (unless all are 0), and refused when a unit may have several
        partners and a pair's distance is 0.

    Returns
    -------
    Solution or None
        None when the constraints cannot be met.

    Raises
    ------
    NonpositiveDistances
        ``integer`` distances of which some are 0, with several partners allowed.

    Examples
    --------
    >>> d = np.array([[0.1, 0.5, 0.2], [0.4, 0.1, 0.9]])
    >>> s = fullmatch(d, 1, 1, mean_controls=1)
    >>> list(zip(s.rows.tolist(), s.cols.tolist()))
    [(0, 0), (1, 1)]
    """
    nrow, ncol = dist.shape
    if rank is None:
        rank = np.arange(nrow * ncol).reshape(ncol, nrow).T
    omf = None if mean_controls is None else 1 - mean_controls * nrow / ncol
    if max_controls * nrow >= ncol * (1 if omf is None else 1 - omf):
        sol = _fullmatch(dist, min_controls, max_controls, omf, tol, rank, integer)
        if sol is not None:
            return sol
    if not (math.isfinite(max_controls) and max_controls >= 1):
        return _fullmatch(dist, min_controls, max_controls, omf, tol, rank, integer)
    # optmatch's recovery: match with no upper bound, then leave out the controls beyond
    # max_controls per treated unit and solve again with that omit fraction. (MatchIt's
    # optimal pair matching lands here when 1 - omf rounds below n_rows / n_cols.) With one
    # control per treated unit allowed and every pair possible, that count is n_rows.
    if max_controls == 1 and omf is not None and omf >= 0 and np.isfinite(dist).all():
        return _fullmatch(dist, min_controls, max_controls, 1 - nrow / ncol, tol, rank,
                          integer)
    trial = _fullmatch(dist, min_controls, math.inf, omf, tol, rank, integer)
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
    return _fullmatch(dist, min_controls, max_controls, 1 - n_ctrl / ncol, tol, rank,
                      integer)


def _fullmatch(dist: np.ndarray, min_controls: float, max_controls: float,
               omf: float | None, tol: float, rank: np.ndarray, integer: bool = False
               ) -> Solution | None:
    """Solve as optmatch's ``.fullmatch`` and ``solve_reg_fm_prob`` for one omit fraction."""
    nrow, ncol = dist.shape
    total_n = nrow + ncol
    if omf is not None and omf >= 0 or omf is None and max_controls > 0.5:
        maxc, minc, flipped = min(max_controls, ncol), max(min_controls, 1 / nrow), False
        d, rk = dist, rank
    else:
        maxc = min(1 / min_controls, ncol) if min_controls > 0 else ncol
        minc = max(1 / max_controls, 1 / nrow)
        omf, flipped, d, rk = (None if omf is None else -omf), True, dist.T, rank.T
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
    order = np.argsort(rk[ii, jj], kind="stable")      # optmatch's arc order
    ii, jj = ii[order], jj[order]
    icost, epsilon = round_distances(d[ii, jj], tol * total_n, rfeas, cfeas)
    as_int = integer and not np.all(np.abs(d[ii, jj]) < math.sqrt(np.finfo(float).eps))
    if as_int:                                       # optmatch's intSolve: no rounding
        icost, epsilon = d[ii, jj].astype(np.int64), 1.0
    mxr = math.ceil(1 / minc)
    mxc = math.ceil(maxc)
    mnc = max(1, math.floor(minc))
    if mnc > 1:
        mxr = 1
    if as_int and mxr > 1 and (icost <= 0).any():   # fmatch's check, before its bypass
        raise NonpositiveDistances(int((icost <= 0).sum()))
    n_mc = round(cfeas * f)
    if ((mxr > 1 and rfeas / mxr > n_mc) or (mxr == 1 and rfeas * mnc > n_mc)
            or rfeas * mxc < n_mc):
        return None
    chosen = _solve_network(rmap[ii], cmap[jj], icost, rfeas, cfeas, mxc, mnc, mxr, n_mc)
    if chosen is None or not chosen.any():
        return None
    rows, cols = ii[chosen], jj[chosen]
    r_lab, c_lab = _set_labels(rows, cols, rmap, *d.shape)
    if flipped:
        rows, cols, r_lab, c_lab = cols, rows, c_lab, r_lab
    return Solution(rows, cols, epsilon, int(icost[chosen].sum()), flipped, r_lab, c_lab)


def _set_labels(rows: np.ndarray, cols: np.ndarray, rmap: np.ndarray, nr: int, nc: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Name each unit's set as optmatch's ``solution2factor`` from the chosen arcs (arc order).

    A column unit takes the (1-based feasible-row) number of the first row unit it is matched
    to; a row unit takes the name of the first column unit it is matched to.
    """
    c_lab = np.zeros(nc, np.int64)
    r_lab = np.zeros(nr, np.int64)
    uc, first_c = np.unique(cols, return_index=True)
    c_lab[uc] = rmap[rows[first_c]] + 1
    ur, first_r = np.unique(rows, return_index=True)
    r_lab[ur] = c_lab[cols[first_r]]
    return r_lab, c_lab


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

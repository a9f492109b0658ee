"""Port of LEMON 1.3's ``CycleCanceling`` (cancel-and-tighten), the solver optmatch uses.

optmatch 0.10 without the ``rrelaxiv`` package solves each matching network with
``rlemon::MinCostFlow(..., algorithm = "CycleCancelling")``, which builds a ``ListDigraph``
(nodes and arcs added in optmatch's order) and runs ``CycleCanceling<ListDigraph, int, int>``
with its default method, ``CANCEL_AND_TIGHTEN`` (Goldberg and Tarjan 1989). The initial
feasible flow comes from LEMON's ``Circulation`` (push-relabel with a greedy start and an
``Elevator``). Where a problem has several optimal flows, which one comes out depends on every
detail of these algorithms: the reversed iteration order of ``ListDigraph`` (nodes and arcs
are visited last-added first), the residual network's arc layout, the depth-first search of
admissible cycles and the floating-point potentials and their tolerance (1e-6). The port
(``_lemon_jit``) transcribes ``lemon/cycle_canceling.h``, ``lemon/circulation.h`` and
``lemon/elevator.h`` of LEMON 1.3.1 (as shipped in rlemon 0.2.1) step by step, in the literal
loop form of the C++ so that numba compiles it, and returns the same flow; this module checks
the input and documents the whole.

Two parts are computed differently but with the same result: the minimum mean cycle is found
with Howard's algorithm as LEMON's, accepted only when an exact check of the potentials passes,
and otherwise with Karp's algorithm (the minimum mean is unique, and only it and the
potentials derived from it, which depend on the mean alone, enter the algorithm); and the
final Bellman-Ford potentials, which optmatch does not use for the matching, are not computed.

LEMON is copyright (C) 2003-2013 the Egervary Jeno Kombinatorikus Optimalizalasi
Kutatocsoport (EGRES) and released under the Boost Software License 1.0, which permits this
derived work; see http://lemon.cs.elte.hu.
"""

from __future__ import annotations

import numpy as np


def min_cost_flow(sources: np.ndarray, targets: np.ndarray, capacities: np.ndarray,
                  costs: np.ndarray, supplies: np.ndarray) -> np.ndarray | None:
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
    # imported here: numba's import (0.24 s) is paid only by a plan with optimal matching
    from evaluation.matching import _lemon_jit

    return _lemon_jit.min_cost_flow(sources, targets, capacities, costs, supplies)

"""The port of LEMON's cycle cancelling (evaluation.matching._lemon) against rlemon itself.

Fixtures: tests/fixtures/matchit/optmatch/lemon, made by make_networks.R there with rlemon
0.2.1 (LEMON 1.3.1; versions in ../PROVENANCE): 60 random networks with small integer costs
(most have several optimal flows), 6 of them infeasible. The flow on every arc must be the
one LEMON returns, not merely an optimal one; an independent solver (HiGHS) checks the
optimum and shows how often another optimal flow exists. Both versions of the port are
checked: the pure-Python one and, where numba is installed, the compiled transcription.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.optimize import linprog

from evaluation.matching import _lemon_jit
from evaluation.matching._lemon import min_cost_flow

LEMON = Path(__file__).parent / "fixtures" / "matchit" / "optmatch" / "lemon"
ARCS = pd.read_csv(LEMON / "arcs.csv")
NODES = pd.read_csv(LEMON / "nodes.csv")
INFO = pd.read_csv(LEMON / "info.csv").set_index("network")


def _network(k):
    a = ARCS[ARCS["network"] == k]
    sup = NODES.loc[NODES["network"] == k, "supply"].to_numpy()
    return a, sup


COMPILED = [False, pytest.param(True, marks=pytest.mark.skipif(
    not _lemon_jit.AVAILABLE, reason="numba not installed: compiled port not tested"))]


def _port(k, compiled=False):
    a, sup = _network(k)
    return min_cost_flow(a["src"].to_numpy() - 1, a["tgt"].to_numpy() - 1,
                         a["cap"].to_numpy(), a["cost"].to_numpy(), sup, compiled=compiled)


def _highs(a, sup):
    n, m = len(sup), len(a)
    s, t = a["src"].to_numpy() - 1, a["tgt"].to_numpy() - 1
    inc = sparse.coo_array((np.r_[np.ones(m), -np.ones(m)], (np.r_[s, t], np.r_[np.arange(m),
                            np.arange(m)])), shape=(n, m)).tocsr()
    return linprog(a["cost"].to_numpy(float), A_eq=inc, b_eq=sup.astype(float),
                   bounds=np.column_stack([np.zeros(m), a["cap"].to_numpy(float)]),
                   method="highs-ds")


@pytest.mark.parametrize("compiled", COMPILED)
@pytest.mark.parametrize("k", sorted(INFO.index))
def test_flow_identical_to_lemon(k, compiled):
    a, _ = _network(k)
    flow = _port(k, compiled)
    if INFO.at[k, "status"] != "OPTIMAL":
        assert flow is None
        return
    np.testing.assert_array_equal(flow, a["flow"].to_numpy())
    assert int((flow * a["cost"].to_numpy()).sum()) == INFO.at[k, "cost"]


def test_fixtures_have_ties_that_another_solver_resolves_differently():
    """The identity above is informative: HiGHS reaches the same optimum with other flows."""
    other = 0
    for k in INFO.index[INFO["status"] == "OPTIMAL"]:
        a, sup = _network(k)
        res = _highs(a, sup)
        assert res.status == 0
        assert round(res.fun) == INFO.at[k, "cost"]
        other += not np.array_equal(np.round(res.x), a["flow"].to_numpy())
    assert other >= 10, other


def test_infeasible_networks_agree_with_highs():
    for k in INFO.index[INFO["status"] != "OPTIMAL"]:
        assert _highs(*_network(k)).status == 2


def test_unported_cases_are_refused():
    with pytest.raises(ValueError, match="sum to 0"):
        min_cost_flow(np.array([0]), np.array([1]), np.array([1]), np.array([1]),
                      np.array([1, 0]))
    with pytest.raises(ValueError, match="costs be >= 0"):
        min_cost_flow(np.array([0]), np.array([1]), np.array([1]), np.array([-1]),
                      np.array([1, -1]))


@pytest.mark.parametrize("name", ["people_full_max2", "ties_optimal", "schools_full"])
def test_pure_python_port_gives_matchit_subclasses(name, monkeypatch):
    """Without numba the optmatch fixtures come out identical too (three of them here)."""
    import test_matching_optimal as opt

    monkeypatch.setattr(_lemon_jit, "AVAILABLE", False)
    data_name, kw = opt.SPECS[name]
    data = opt.fixture_data(data_name)
    import warnings

    from evaluation.matching import match
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = match(data, {"schools": "em"}.get(data_name, "treat"), **kw)
    r = pd.read_csv(opt.OPT / "units.csv")
    r = r[r["fixture"] == name].set_index("id").loc[data["id"]]
    np.testing.assert_array_equal(res.subclass.to_numpy(dtype=float, na_value=np.nan),
                                  r["subclass"].to_numpy(float))


def _brute_min_mean(n, s, t, c):
    """Minimum mean over all simple cycles, by enumeration (small graphs)."""
    from fractions import Fraction
    adj = {}
    for a, (u, v) in enumerate(zip(s, t, strict=True)):
        adj.setdefault(u, []).append((v, c[a]))
    best = None

    def walk(start, u, cost, length, seen):
        nonlocal best
        for v, w in adj.get(u, []):
            if v == start:
                m = Fraction(cost + w, length + 1)
                best = m if best is None or m < best else best
            elif v > start and v not in seen:
                walk(start, v, cost + w, length + 1, seen | {v})

    for start in range(n):
        walk(start, start, 0, 0, {start})
    return best


@pytest.mark.skipif(not _lemon_jit.AVAILABLE, reason="numba not installed")
@pytest.mark.parametrize("seed", range(40))
def test_minimum_mean_cycle_three_ways(seed):
    """Karp (pure and compiled) and the checked Howard iteration find the true minimum mean."""
    from fractions import Fraction

    from evaluation.matching import _lemon
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 8))
    m = int(rng.integers(n, 4 * n))
    s, t = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = s != t
    s, t = s[keep], t[keep]
    c = rng.integers(-5, 6, len(s))
    truth = _brute_min_mean(n, s.tolist(), t.tolist(), c.tolist())
    if truth is None:
        return
    assert _lemon._min_mean_cycle(n, s, t, c) == truth
    p, q = _lemon_jit._min_mean_cycle(n, s, t, c)
    assert Fraction(int(p), int(q)) == truth
    p, q = _lemon_jit._howard(n, s, t, c)
    if q > 0:   # Howard's cycle is accepted only if the exact check passes
        _, ok = _lemon_jit._potentials_checked(n, s, t, q * c - p)
        assert ok == (Fraction(int(p), int(q)) == truth)

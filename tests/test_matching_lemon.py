"""The port of LEMON's cycle cancelling (evaluation.matching._lemon) against rlemon itself.

Fixtures: tests/fixtures/matchit/optmatch/lemon, made by make_networks.R there with rlemon
0.2.1 (LEMON 1.3.1; versions in ../PROVENANCE): 60 random networks with small integer costs
(most have several optimal flows), 6 of them infeasible. The flow on every arc must be the
one LEMON returns, not merely an optimal one; an independent solver (HiGHS) checks the
optimum and shows how often another optimal flow exists. The port is checked compiled and,
in a subprocess with ``NUMBA_DISABLE_JIT=1``, as the plain Python it runs as without numba.
"""

from __future__ import annotations

import os
import subprocess
import sys
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


def _port(k):
    a, sup = _network(k)
    return min_cost_flow(a["src"].to_numpy() - 1, a["tgt"].to_numpy() - 1,
                         a["cap"].to_numpy(), a["cost"].to_numpy(), sup)


def _highs(a, sup):
    n, m = len(sup), len(a)
    s, t = a["src"].to_numpy() - 1, a["tgt"].to_numpy() - 1
    inc = sparse.coo_array((np.r_[np.ones(m), -np.ones(m)], (np.r_[s, t], np.r_[np.arange(m),
                            np.arange(m)])), shape=(n, m)).tocsr()
    return linprog(a["cost"].to_numpy(float), A_eq=inc, b_eq=sup.astype(float),
                   bounds=np.column_stack([np.zeros(m), a["cap"].to_numpy(float)]),
                   method="highs-ds")


@pytest.mark.parametrize("k", sorted(INFO.index))
def test_flow_identical_to_lemon(k):
    a, _ = _network(k)
    flow = _port(k)
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


#: Run in a subprocess without numba's compiler: every network's flow, and a matching.
_PLAIN = """
import sys, warnings
import numpy as np, pandas as pd
sys.path.insert(0, {tests!r})
from evaluation.matching import _lemon_jit
assert not hasattr(_lemon_jit._solve, "py_func"), "numba compiled it"
import test_matching_lemon as t
for k in sorted(t.INFO.index):
    a, _ = t._network(k)
    flow = t._port(k)
    assert (flow is None) == (t.INFO.at[k, "status"] != "OPTIMAL"), k
    if flow is not None:
        np.testing.assert_array_equal(flow, a["flow"].to_numpy())
import test_matching_optimal as opt
from evaluation.matching import match
data_name, kw = opt.SPECS["ties_optimal"]
data = opt.fixture_data(data_name)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    res = match(data, "treat", **kw)
r = pd.read_csv(opt.OPT / "units.csv")
r = r[r["fixture"] == "ties_optimal"].set_index("id").loc[data["id"]]
np.testing.assert_array_equal(res.subclass.to_numpy(dtype=float, na_value=np.nan),
                              r["subclass"].to_numpy(float))
print("plain python ok")
"""


def test_the_port_gives_the_same_flows_as_plain_python():
    """Without numba's compiler (``NUMBA_DISABLE_JIT=1``) every fixture comes out the same."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    code = _PLAIN.format(tests=str(Path(__file__).parent))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "plain python ok" in out.stdout


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
    p, q = _lemon_jit._min_mean_cycle(n, s, t, c)
    assert Fraction(int(p), int(q)) == truth
    p, q = _lemon_jit._howard(n, s, t, c)
    if q > 0:   # Howard's cycle is accepted only if the exact check passes
        _, ok = _lemon_jit._potentials_checked(n, s, t, q * c - p)
        assert ok == (Fraction(int(p), int(q)) == truth)

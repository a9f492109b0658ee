"""The attack test's own solver (``test_attacker.Published.intervals``) against enumeration.

The attack test's verdicts rest on its intervals being exact: an interval wider than the truth
would let a narrow one pass. Its solver takes a linear relaxation's optimum when that is a
whole-number point of the program, and solves the whole-number program otherwise; here every
interval is checked against listing every whole-number solution of small programs, one of
whose relaxations has fractional optima.
"""

import itertools

import numpy as np
import pytest
from test_attacker import MARKER, Published


def _enumerated(pub, box=20):
    """Each hidden count's least and greatest value over every whole-number point in
    0..``box`` that satisfies the published relations and bounds (by listing them)."""
    hidden = sorted((k for k, v in pub.values.items() if not isinstance(v, int)), key=repr)
    shown = {k: v for k, v in pub.values.items() if isinstance(v, int)}
    lows = [max(0 if k in pub.implicit else 1, pub.lower.get(k, 0)) for k in hidden]
    highs = [min(box, pub.upper.get(k, box)) for k in hidden]
    grid = np.array(list(itertools.product(*[range(lo, hi + 1)
                                             for lo, hi in zip(lows, highs, strict=True)])))

    def value(key):
        return grid[:, hidden.index(key)] if key in hidden else np.full(len(grid), shown[key])

    ok = np.ones(len(grid), dtype=bool)
    for total, parts, _ in pub.relations:
        ok &= value(total) == sum(value(p) for p in parts)
    for key, parts, _ in pub.at_most:
        ok &= value(key) <= sum(value(p) for p in parts)
    assert ok.any()
    return {k: (float(grid[ok, j].min()), float(grid[ok, j].max()))
            for j, k in enumerate(hidden)}


def _table():
    """A 2 x 3 table: its margins shown, four cells hidden, two shown."""
    pub = Published(threshold=5)
    cells = {("a", 1): 3, ("a", 2): 7, ("a", 3): 2, ("b", 1): 6, ("b", 2): 4, ("b", 3): 8}
    for key, v in cells.items():
        pub.see(key, MARKER if key in {("a", 1), ("a", 3), ("b", 1), ("b", 3)} else v, "t")
    for row in "ab":
        pub.see(row, sum(v for k, v in cells.items() if k[0] == row), "t")
        pub.relate(row, [k for k in cells if k[0] == row], "row")
    for col in (1, 2, 3):
        pub.see(col, sum(v for k, v in cells.items() if k[1] == col), "t")
        pub.relate(col, [k for k in cells if k[1] == col], "column")
    return pub


def _fractional():
    """2a + b = 8 with b at most 3: the relaxation's least a is 2.5 (b = 3), its greatest
    3.5 (b = 1); the whole-number program has a = 3 and b = 2 only."""
    pub = Published(threshold=5)
    pub.see("t", 8, "t")
    pub.see("a", MARKER, "t")
    pub.bound("b", 3, "fewer than 4")
    pub.relate("t", ["a", "a", "b"], "twice a, and b")
    return pub


def _remainder_and_inequality():
    """A remainder nobody prints (it may be 0) and a count at most the sum of two others."""
    pub = Published(threshold=5)
    pub.see("all", 17, "t")
    pub.see("x", MARKER, "t")
    pub.see("y", 6, "t")
    pub.remainder("left out", "all", ["x", "y"], "all less the parts")
    pub.see("z", MARKER, "t")
    pub.bound_by("z", ["x", "left out"], "z is among x and the left out")
    pub.bound("x", 11, "at most 11")     # so that the remainder can be 0
    return pub


@pytest.mark.parametrize("make", [_table, _fractional, _remainder_and_inequality])
def test_the_attack_solver_s_intervals_are_those_of_every_whole_number_solution(make):
    pub = make()
    assert pub.intervals() == _enumerated(pub)


def _relaxation_returns(monkeypatch, wrong):
    """Make every relaxed program the attack test solves (no integrality) answer
    ``wrong(c, r)``."""
    import test_attacker

    real = test_attacker.milp

    def relaxed(c, **kw):
        r = real(c, **kw)
        return r if kw.get("integrality") is not None else wrong(c, r)

    monkeypatch.setattr(test_attacker, "milp", relaxed)


@pytest.mark.parametrize("make", [_table, _fractional, _remainder_and_inequality])
def test_a_relaxed_point_outside_the_program_or_a_failure_is_never_used(monkeypatch, make):
    """A whole-number point one step past each relaxed optimum would widen every interval
    by one (a narrow one would pass): it is refused, as is a failed relaxation, and the
    whole-number program decides."""
    from types import SimpleNamespace

    def past(c, r):
        r.x = r.x - c
        return r

    for wrong in (past, lambda c, r: SimpleNamespace(status=2, x=None, message="failed")):
        _relaxation_returns(monkeypatch, wrong)
        pub = make()
        assert pub.intervals() == _enumerated(pub)


def test_the_fractional_program_is_solved_as_whole_numbers():
    """The relaxation alone would give a from 2.5 to 3.5; the truth is 3 to 3."""
    assert _fractional().intervals() == {"a": (3.0, 3.0), "b": (2.0, 2.0)}

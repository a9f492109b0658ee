"""The intervals of hidden counts do not rest on HiGHS's presolve (eighth review of issue 14).

Under a 1:1 plan with ``reuse_max: 1`` at threshold 5, the least number of EM pupils a
primary school could have, given everything published, is 2; ``scipy.optimize.milp`` with
HiGHS's presolve called 6 optimal (without it: 2). The group below is that program, as the
linked counts wrote it (names shortened; ``national`` stands for the rest of the counts,
which set how large an unbounded count may be).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from evaluation import disclosure

VALUES = {"mO": 5, "nO_em": 5, "cmO": 5, "nO_c": 5, "mC": 2, "uC": 4, "nC_em": 2, "cmC": 2,
          "nC_c": 2, "mH": 2, "uH": 5, "nH_em": 2, "cmH": 2, "cuH": 42, "nH_c": 2, "s84": 6,
          "s89": 7, "emO": 13, "cO": 74, "emC": 6, "cC": 30, "emH": 7, "cH": 44, "aCC": 6,
          "amCC": 3, "auCC": 3, "aSE": 7, "amSE": 2, "auSE": 5,
          "k8": 8, "k69": 69, "k28": 28, "k91": 91, "k38": 38, "k53": 53, "national": 731_000}
RELATIONS = [("emO", ["mO", "k8"]), ("mO", ["nO_em"]), ("cO", ["cmO", "k69"]),
             ("cmO", ["nO_c"]), ("emC", ["mC", "uC"]), ("mC", ["nC_em"]), ("cC", ["cmC", "k28"]),
             ("cmC", ["nC_c"]), ("emH", ["mH", "uH"]), ("mH", ["nH_em"]), ("cH", ["cmH", "cuH"]),
             ("cmH", ["nH_c"]), ("emO", ["s84", "s89"]), ("emC", ["s84"]), ("emH", ["s89"]),
             ("cO", ["cC", "cH"]), ("aCC", ["s84"]), ("aCC", ["amCC", "auCC"]),
             ("aSE", ["s89"]), ("aSE", ["amSE", "auSE"]), ("mO", ["amCC", "amSE"])]
AT_MOST = [(["emO", "cO"], ["k91"]), (["emC", "cC"], ["k38"]), (["emH", "cH"], ["k53"]),
           ("s84", ["k38"]), ("s89", ["k53"])]
ZERO_OK = ["nO_em", "nO_c", "nC_em", "nC_c", "nH_em", "nH_c", "emO", "cO", "emC", "cC", "emH",
           "cH"]
HIDDEN = [k for k in VALUES if not k.startswith("k") and k != "national"]


def _program():
    col = {k: i for i, k in enumerate(HIDDEN)}
    a, rhs = disclosure._equations(VALUES, RELATIONS, col)
    ia, irhs = disclosure._equations(VALUES, [r for r in AT_MOST if isinstance(r[0], list)],
                                     col)
    low = np.array([0.0 if k in ZERO_OK else 1.0 for k in HIDDEN])
    high = np.full(len(HIDDEN), float(sum(VALUES.values()) + 1))
    high[col["s84"]], high[col["s89"]] = 38, 53
    cons = [optimize.LinearConstraint(a, rhs, rhs), optimize.LinearConstraint(ia, -np.inf, irhs)]
    return col, cons, optimize.Bounds(low, high)


def test_highs_presolve_gives_a_wrong_optimum_here():
    """The case stands (if a later HiGHS mends it, the test below still holds)."""
    col, cons, bounds = _program()
    c = np.zeros(len(HIDDEN))
    c[col["s84"]] = 1
    r = optimize.milp(c, constraints=cons, integrality=np.ones(len(HIDDEN)), bounds=bounds,
                      options={"presolve": False})
    assert r.fun == 2
    x = np.round(r.x)
    assert disclosure._feasible(x, cons, bounds)            # a school of 2 fits everything


def test_the_interval_is_the_true_one():
    got = disclosure.narrowest(VALUES, RELATIONS, HIDDEN, zero_ok=ZERO_OK, at_most=AT_MOST)
    # (the relaxed optima answer first here: the tests below turn them off to reach the
    # whole-number programs, and make presolve wrong for every one of those)
    assert got["s84"] == (2.0, 9.0)
    # and protect()'s question (is it as wide as 5?) has the same answer
    assert disclosure.narrowest(VALUES, RELATIONS, HIDDEN, zero_ok=ZERO_OK, at_most=AT_MOST,
                                _width=5)["s84"][0] <= 4


def _whole_numbers_only(monkeypatch):
    """Send every count through the whole-number programs: on this program every relaxed
    optimum is a whole-number solution (:func:`disclosure._relaxed_corners` answers all of
    them), so the guards of those programs are tested only with it off."""
    monkeypatch.setattr(disclosure, "_relaxed_corners", lambda *args: False)


def test_a_point_that_breaks_the_constraints_is_never_used(monkeypatch):
    """Were presolve to return a point outside the program, the interval would be wider
    than the truth (unsafe): such a point is refused and the program solved without it."""
    _whole_numbers_only(monkeypatch)
    real = optimize.milp

    def wrong_with_presolve(c, **kw):
        r = real(c, **kw)
        if kw.get("options", {}).get("presolve", True):
            r.x = r.x + 1.0                                   # breaks every relation
        return r

    monkeypatch.setattr(optimize, "milp", wrong_with_presolve)
    got = disclosure.narrowest(VALUES, RELATIONS, HIDDEN, zero_ok=ZERO_OK, at_most=AT_MOST)
    assert got["s84"] == (2.0, 9.0)


def test_a_failure_with_presolve_is_solved_again_without_it(monkeypatch):
    """Ninth review of issue 14: the data are a solution of every program, so presolve
    calling one infeasible is presolve's error, as a wrong optimum is; the build stopped with
    "the attacker's program for 's84' failed" instead of solving again without it."""
    from types import SimpleNamespace

    _whole_numbers_only(monkeypatch)
    real = optimize.milp

    def infeasible_with_presolve(c, **kw):
        if kw.get("options", {}).get("presolve", True):
            return SimpleNamespace(status=2, message="The problem is infeasible.", x=None,
                                   fun=None)
        return real(c, **kw)

    monkeypatch.setattr(optimize, "milp", infeasible_with_presolve)
    got = disclosure.narrowest(VALUES, RELATIONS, HIDDEN, zero_ok=ZERO_OK, at_most=AT_MOST)
    assert got["s84"] == (2.0, 9.0)


def test_solving_again_only_the_groups_new_rows_touch_is_as_cheap_as_solving_all():
    """protect() re-solves, each round, only the groups of counts its new rows link: the
    pattern must cost what solving the whole program again gives, and meet every row,
    also where a new row joins two groups."""
    import numpy as np

    from evaluation.disclosure import _cheapest, _Rows

    rng = np.random.default_rng(5)
    for trial in range(20):
        n, blocks = 40, 8
        group = np.repeat(np.arange(blocks), n // blocks)
        cost = 1 + rng.random(n)
        lower = (rng.random(n) < 0.1).astype(float)
        upper = np.ones(n)
        rows = _Rows(n)

        def add_random(within, rows=rows, group=group):
            members = rng.choice(np.flatnonzero(np.isin(group, within)), size=3, replace=False)
            rows.add(dict.fromkeys(members.tolist(), 1.0), float(rng.integers(1, 3)))

        for b in range(blocks):
            for _ in range(3):
                add_random([b])
        x = _cheapest(cost, rows, lower, upper)
        for _ in range(4):                       # rounds: a few rows, some joining groups
            solved = len(rows)
            add_random([int(rng.integers(blocks))])
            add_random(rng.choice(blocks, size=2, replace=False).tolist())
            x = _cheapest(cost, rows, lower, upper, x, solved)
            full = _cheapest(cost, rows, lower, upper)
            assert x is not None and full is not None, trial
            a = rows.matrix()
            assert np.all(a @ x >= rows.lower() - 1e-9), trial
            assert np.all((x >= lower) & (x <= upper)), trial
            assert cost @ x == pytest.approx(cost @ full, abs=1e-9), trial


def _lazy_presolve(monkeypatch, values=VALUES, hidden=HIDDEN):
    """Make every whole-number program with presolve answer "optimal" at the data: a point
    that is feasible but, for most objectives, not optimal (presolve's error of the eighth
    review, everywhere at once)."""
    from types import SimpleNamespace

    real = optimize.milp
    keys = [k for k in values if k in set(hidden)]
    data = np.array([float(values[k]) for k in keys])

    def lazy(c, **kw):
        if (kw.get("options", {}).get("presolve", True) and np.any(kw["integrality"])
                and len(c) == len(keys)):
            return SimpleNamespace(status=0, x=data.copy(), fun=float(c @ data), message="ok")
        return real(c, **kw)

    monkeypatch.setattr(optimize, "milp", lazy)


@pytest.mark.parametrize("width", [None, 5])
def test_an_optimum_that_is_not_one_is_not_taken_for_the_interval(monkeypatch, width):
    """Review 21: the relaxation may end a search only where it proves the values found;
    with every presolved program stopping at the data, s84 would read (6, 6) were the
    relaxation's check always taken, and (2, 9) is the truth (the whole-number programs are
    solved here: the relaxed optima, whole-number solutions, would answer first)."""
    _whole_numbers_only(monkeypatch)
    _lazy_presolve(monkeypatch)
    got = disclosure.narrowest(VALUES, RELATIONS, HIDDEN, zero_ok=ZERO_OK, at_most=AT_MOST,
                               _width=width)["s84"]
    assert got == (2.0, 9.0) if width is None else got[1] - got[0] >= 5


def _brute_force(values, relations, hidden, at_most=(), top=12):
    """Every whole-number assignment of the hidden counts (1 to ``top``) that fits."""
    import itertools

    hidden = list(hidden)
    lo = dict.fromkeys(hidden, np.inf)
    hi = dict.fromkeys(hidden, -np.inf)
    for xs in itertools.product(range(1, top + 1), repeat=len(hidden)):
        v = {**values, **dict(zip(hidden, xs, strict=True))}
        if all(v[t] == sum(v[p] for p in ps) for t, ps in relations) and \
                all(v[k] <= sum(v[p] for p in ps) for k, ps in at_most):
            for k in hidden:
                lo[k], hi[k] = min(lo[k], v[k]), max(hi[k], v[k])
    return {k: (float(lo[k]), float(hi[k])) for k in hidden}


#: A program whose relaxation has fractional corners: t = a + b = 5 and a <= b, a = s.
FRACTIONAL = ({"t": 5, "a": 1, "b": 4, "s": 1}, [("t", ["a", "b"])], ["a", "b", "s"],
              [("a", ["s"]), ("a", ["b"]), ("s", ["a"])])


@pytest.mark.parametrize("case", [
    FRACTIONAL,
    # a bounded only through b and c (each at most a shown 5): up to 10, above the sum of
    # every count plus one, which once stood for "no bound" (a read (2, inf); review 22)
    ({"a": 2, "b": 1, "c": 1, "y": 5}, [("a", ["b", "c"])], ["a", "b", "c"],
     [("b", ["y"]), ("c", ["y"])]),
    ({"t": 7, "a": 2, "b": 5, "u": 9, "c": 4}, [("t", ["a", "b"]), ("u", ["b", "c"])],
     ["a", "b", "c"], [("a", ["c"])]),
    ({"t1": 10, "t2": 10, "a": 1, "b": 9, "c": 1}, [("t1", ["a", "b"]), ("t2", ["b", "c"])],
     ["a", "b", "c"], []),
])
def test_intervals_are_those_of_every_solution(case):
    """narrowest() against enumerating every whole-number solution (small programs)."""
    values, relations, hidden, at_most = case
    truth = _brute_force(values, relations, hidden, at_most)
    assert disclosure.narrowest(values, relations, hidden, at_most=at_most) == truth


def test_a_fractional_relaxation_with_a_wrong_presolved_optimum_is_solved_again(monkeypatch):
    """Where a relaxed optimum is fractional (a + b = 5 with a <= b: a at most 2.5), the
    whole-number programs decide; with every presolved one stopping at the data (a = 1), a
    is still found to reach 2: the relaxation bounds it by 2, not by the 1 in hand, so it
    is solved again without presolve."""
    values, relations, hidden, at_most = FRACTIONAL
    _lazy_presolve(monkeypatch, values, hidden)
    truth = _brute_force(values, relations, hidden, at_most)
    assert truth["a"] == (1.0, 2.0)
    assert disclosure.narrowest(values, relations, hidden, at_most=at_most) == truth


def _relaxation_returns(monkeypatch, wrong):
    """Make every relaxed program (no integrality, no presolve) answer ``wrong(c, r)``."""
    real = optimize.milp

    def relaxed(c, **kw):
        r = real(c, **kw)
        if not np.any(kw["integrality"]) and not kw.get("options", {}).get("presolve", True):
            return wrong(c, r)
        return r

    monkeypatch.setattr(optimize, "milp", relaxed)


def test_a_relaxed_point_that_breaks_the_constraints_is_never_used(monkeypatch):
    """A whole-number point one step past each relaxed optimum (outside the program) would
    widen every interval by one, the unsafe direction: it is refused, and the whole-number
    programs decide."""
    def past(c, r):
        r.x = r.x - c
        return r

    _relaxation_returns(monkeypatch, past)
    got = disclosure.narrowest(VALUES, RELATIONS, HIDDEN, zero_ok=ZERO_OK, at_most=AT_MOST)
    assert got["s84"] == (2.0, 9.0)
    values, relations, hidden, at_most = FRACTIONAL
    assert disclosure.narrowest(values, relations, hidden, at_most=at_most) == \
        _brute_force(values, relations, hidden, at_most)


def test_a_failed_relaxation_leaves_the_count_to_the_whole_number_programs(monkeypatch):
    from types import SimpleNamespace

    _relaxation_returns(monkeypatch, lambda c, r: SimpleNamespace(
        status=2, message="The problem is infeasible.", x=None, fun=None))
    got = disclosure.narrowest(VALUES, RELATIONS, HIDDEN, zero_ok=ZERO_OK, at_most=AT_MOST)
    assert got["s84"] == (2.0, 9.0)


def test_counts_that_are_not_a_solution_are_refused():
    """Review 21: the counts are taken as one solution (an interval holds its count); a
    placeholder that breaks a relation made an interval wider than the truth: a in (1, 50)
    where what is shown allows 1 to 9."""
    relations = [("t1", ["a", "b"]), ("t2", ["b", "c"])]
    with pytest.raises(ValueError, match="does not hold: 10 != 50"):
        disclosure.narrowest({"t1": 10, "t2": 10, "a": 50, "b": 0, "c": 0}, relations,
                             ["a", "b", "c"])
    # a hidden 0 that a reader takes as at least 1 is no solution of the reader's view: the
    # intervals are the view's own, never stretched down to the 0
    assert disclosure.narrowest({"t1": 10, "t2": 10, "a": 0, "b": 10, "c": 0}, relations,
                                ["a", "b", "c"]) == _brute_force(
        {"t1": 10, "t2": 10}, relations, ["a", "b", "c"])
    with pytest.raises(ValueError, match="inequality"):
        disclosure.narrowest({"p": 9, "w": 8}, [], ["p"], at_most=[("p", ["w"])])

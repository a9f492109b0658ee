"""assert_valid_match: checks every MatchResult passes (as MatchIt's expect_good_matchit)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def assert_valid_match(res, ratio: int | None = None, replace: bool | None = None) -> None:
    """Check a MatchResult's structure and internal consistency."""
    n = len(res.data)
    treat = res.data[res.treatment].to_numpy().astype(bool)
    w = res.weights
    assert w.index.equals(res.data.index) and len(res.subclass) == n
    assert (w >= 0).all() and np.isfinite(w).all()
    assert (w[treat & (w > 0)] == 1).all(), "ATT: matched treated units have weight 1"
    assert not (w[res.discarded.to_numpy()] > 0).any(), "discarded units are never matched"
    c = res.counts
    assert list(c.index) == ["All", "Matched", "Unmatched", "Discarded"]
    assert list(c.columns) == ["Control", "Treated"]
    for col, grp in (("Control", ~treat), ("Treated", treat)):
        assert c.loc["All", col] == grp.sum()
        assert c.loc["Matched", col] + c.loc["Unmatched", col] + c.loc["Discarded", col] == \
            c.loc["All", col]
        assert c.loc["Matched", col] == ((w > 0).to_numpy() & grp).sum()
    not_matched = int((w == 0).sum())
    assert sum(res.exclusions.values()) == not_matched, res.exclusions
    if res.method in ("exact", "cem", "subclass"):
        ctrl = ~treat & (w > 0).to_numpy()
        assert np.isclose(w[ctrl].sum(), ctrl.sum()), "control weights sum to matched controls"
    if res.subclass.notna().any():
        has = res.subclass.notna().to_numpy()
        assert ((w > 0).to_numpy() == has).all() or res.method == "subclass"
    md = res.matched_data()
    assert len(md) == int((w > 0).sum())
    assert {"weights", "subclass", "distance"} <= set(md.columns)
    if res.match_matrix is not None:
        mm = res.match_matrix
        assert mm.shape == (int(treat.sum()), res.spec["ratio"] if ratio is None else ratio)
        used = mm[mm >= 0]
        assert not treat[used].any(), "only controls appear in the match matrix"
        if not res.spec["replace"]:
            assert len(np.unique(used)) == len(used), "without replacement no control twice"
        if res.spec.get("caliper_distance") is not None and res.distance is not None:
            d = res.distance.to_numpy()
            rows, cols = np.nonzero(mm >= 0)
            t_pos = np.flatnonzero(treat)[rows]
            assert (np.abs(d[t_pos] - d[mm[rows, cols]]) <= res.spec["caliper_distance"]).all()
        if res.spec.get("exact"):
            key = res.data[res.spec["exact"]].astype(str).agg("|".join, axis=1).to_numpy()
            rows, cols = np.nonzero(mm >= 0)
            assert (key[np.flatnonzero(treat)[rows]] == key[mm[rows, cols]]).all()
    assert isinstance(res.summary(), pd.DataFrame)


def reference_greedy(d, treat, strata=None, ratio=1, replace=False, caliper=None,
                     m_order="largest", discarded=None):
    """Obviously-correct (slow) greedy nearest neighbour, as MatchIt 4.7 documents it.

    Treated units in ``m_order`` (stable); round r gives each its r-th match: the available
    control of its stratum with the smallest |distance difference| within the caliper; ties
    go to the control sorted lower (smaller distance, then earlier in the data). Returns
    the weights.
    """
    d = np.asarray(d, float)
    n = len(d)
    treat = np.asarray(treat, bool)
    strata = np.zeros(n) if strata is None else np.asarray(strata)
    discarded = np.zeros(n, bool) if discarded is None else np.asarray(discarded, bool)
    tr = np.flatnonzero(treat)
    if m_order == "largest" and not replace:
        tr = tr[np.argsort(-d[tr], kind="stable")]
    elif m_order == "smallest" and not replace:
        tr = tr[np.argsort(d[tr], kind="stable")]
    avail = ~treat & ~discarded
    rows = {i: [] for i in tr}
    for _ in range(ratio):
        for i in tr:
            if discarded[i]:
                continue
            c = np.flatnonzero(avail & (strata == strata[i]))
            c = np.array([k for k in c if k not in rows[i]], dtype=int)
            if caliper is not None:
                c = c[np.abs(d[c] - d[i]) <= caliper]
            if len(c) == 0:
                continue
            gap = np.abs(d[c] - d[i])
            best = c[gap == gap.min()]
            # units sorted by (distance, data order); MatchIt scans outward from the treated
            # unit and prefers the lower side on a tie: the closest-sorted control below it,
            # else the closest-sorted one above it
            below = best[(d[best] < d[i]) | ((d[best] == d[i]) & (best < i))]
            above = np.setdiff1d(best, below)
            k = below[np.lexsort((below, d[below]))][-1] if len(below) else \
                above[np.lexsort((above, d[above]))][0]
            rows[i].append(k)
            if not replace:
                avail[k] = False
    w = np.zeros(n)
    for i, ks in rows.items():
        if ks:
            w[i] = 1
            for k in ks:
                w[k] += 1 / len(ks)
    return w

"""assert_valid_match: checks every MatchResult passes (as MatchIt's expect_good_matchit)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


def assert_valid_match(res, ratio: int | None = None, replace: bool | None = None) -> None:
    """Check a MatchResult's structure and internal consistency."""
    n = len(res.data)
    treat = res.data[res.treatment].to_numpy().astype(bool)
    w = res.weights
    assert w.index.equals(res.data.index) and len(res.subclass) == n
    assert (w >= 0).all() and np.isfinite(w).all()
    estimand = res.spec.get("estimand", "ATT")
    if estimand == "ATT":
        assert (w[treat & (w > 0)] == 1).all(), "ATT: matched treated units have weight 1"
    elif estimand == "ATC":
        assert (w[~treat & (w > 0)] == 1).all(), "ATC: matched controls have weight 1"
    for grp in (treat, ~treat):   # MatchIt's normalize: nonzero weights average 1
        nz = grp & (w > 0).to_numpy()
        assert not nz.any() or np.isclose(w[nz].mean(), 1.0)
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
        focal = treat if res.spec.get("focal", "treated") == "treated" else ~treat
        assert mm.shape == (int(focal.sum()), res.spec.get("ratio", 1) if ratio is None
                            else ratio)
        used = mm[mm >= 0]
        assert not focal[used].any(), "only the other group appears in the match matrix"
        if not res.spec["replace"]:
            assert len(np.unique(used)) == len(used), "without replacement no control twice"
        if res.spec.get("caliper_distance") is not None and res.distance is not None:
            d = res.distance.to_numpy()
            rows, cols = np.nonzero(mm >= 0)
            t_pos = np.flatnonzero(focal)[rows]
            gap, width = np.abs(d[t_pos] - d[mm[rows, cols]]), res.spec["caliper_distance"]
            assert (gap <= width if width >= 0 else gap > -width).all()
        if res.spec.get("exact"):
            key = res.data[res.spec["exact"]].astype(str).agg("|".join, axis=1).to_numpy()
            rows, cols = np.nonzero(mm >= 0)
            assert (key[np.flatnonzero(focal)[rows]] == key[mm[rows, cols]]).all()
    assert isinstance(res.summary(), pd.DataFrame)


#: MatchIt's ``summary(m)$nn`` rows.
NN_SAMPLES = ("All (ESS)", "All", "Matched (ESS)", "Matched", "Unmatched", "Discarded")


def assert_sample_sizes(sizes, r_nn, name: str, samples=NN_SAMPLES) -> None:
    """Our ``summary().attrs["sample_sizes"]`` equal R's ``nn`` (indexed fixture, sample)."""
    for sample in samples:
        for col in ("Control", "Treated"):
            assert sizes.loc[sample, col] == pytest.approx(r_nn.loc[(name, sample), col.lower()],
                                                           abs=1e-9), (name, sample, col)


def cem_data(name: str) -> pd.DataFrame:
    """CEM fixtures' data set ``a`` or ``b`` (``lvl`` an ordered factor, as in R)."""
    d = pd.read_csv(Path(__file__).parent / "fixtures" / "matchit" / "cem" / f"{name}.csv")
    d["lvl"] = pd.Categorical(d["lvl"], categories=["low", "mid", "high"], ordered=True)
    return d


def read_units(folder) -> pd.DataFrame:
    """A fixture folder's ``units.csv`` (MatchIt's weights as written, "NA" missing)."""
    return pd.read_csv(folder / "units.csv", dtype={"weights": str}, keep_default_na=False,
                       na_values=["NA"])


def r_pairs_of(r_pairs: pd.DataFrame, name: str) -> dict:
    """MatchIt's pairs of one fixture: (focal id, column) -> matched id."""
    rp = r_pairs[r_pairs["fixture"] == name]
    return dict(zip(zip(rp["focal"], rp["column"], strict=True), rp["control"], strict=True))


def pairs_by_label(data: pd.DataFrame, res) -> dict:
    """Our match matrix as MatchIt's by row label: (focal id, column from 1) -> matched id.

    ``data["id"]`` labels the rows; the focal units are the treated (ATT) or the controls
    (ATC), as ``res.spec["focal"]`` says.
    """
    ids = data["id"].to_numpy()
    t = data[res.treatment].to_numpy().astype(bool)
    focal = ids[t if res.spec["focal"] == "treated" else ~t]
    return {(f, c + 1): ids[k] for f, row in zip(focal, res.match_matrix, strict=True)
            for c, k in enumerate(row) if k >= 0}


def partition(ids, sub) -> set:
    """The matched sets as a set of frozensets of ids (units without a subclass left out)."""
    frame = pd.DataFrame({"id": np.asarray(ids), "s": np.asarray(sub)}).dropna()
    return {frozenset(g["id"]) for _, g in frame.groupby("s")}


#: The data sets the MatchIt fixtures were made from, and their treatment columns.
FIXTURES = Path(__file__).parent / "fixtures" / "matchit"
TREATMENT = {"people": "treat", "ties": "treat", "schools": "em"}
_RUNS: dict = {}


def fixture_data(name: str) -> pd.DataFrame:
    """A fixture data set with its sampling weights, the rule of make_fixtures.R:
    ``0.5 + (row number %% 5) / 4``."""
    data = pd.read_csv(FIXTURES / f"{name}.csv")
    if "cohort" in data:   # make_fixtures.R: schools$cohort_f <- factor(schools$cohort)
        data["cohort_f"] = data["cohort"].astype(str)
    return data.assign(sw=0.5 + (np.arange(1, len(data) + 1) % 5) / 4)


def run_spec(name: str, data_name: str, kw: dict):
    """``(data, match(data, ...))`` of one fixture specification, matched once per process."""
    from evaluation.matching import match

    if name not in _RUNS:
        data = fixture_data(data_name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _RUNS[name] = data, match(data, TREATMENT[data_name], **kw)
    return _RUNS[name]

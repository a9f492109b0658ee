"""Coarsened exact matching (MatchIt ``method = "cem"``, its own implementation)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from evaluation.exceptions import NotEstimableError
from evaluation.factors import is_categorical
from evaluation.matching._checks import MethodOutput, Prepared, both_groups, normalize
from evaluation.matching._exact import subclass_output


def r_seq(lo: float, hi: float, length: int) -> np.ndarray:
    """R's ``seq(lo, hi, length.out = length)``: ends exact, ``lo + i * by`` between."""
    by = (hi - lo) / (length - 1)
    return np.concatenate([[lo], lo + np.arange(1, length - 1) * by, [hi]])


def sturges(x: np.ndarray) -> int:
    """R's ``nclass.Sturges``: ceiling(log2(n) + 1)."""
    return int(np.ceil(np.log2(len(x)) + 1))


def coarsen(x: np.ndarray, cut) -> np.ndarray:
    """Bin numbers of ``x`` as MatchIt's ``cem_matchit`` (``findInterval`` on its breaks).

    ``cut``: None or ``"sturges"`` (default), a number of equal-width bins, or a sequence of
    cut points (bins closed on the left).
    """
    if cut is None or (isinstance(cut, str) and cut == "sturges"):
        cut = sturges(x)
    if isinstance(cut, str):
        raise ValueError(f"`cutpoints` entries should be 'sturges', a number of bins or a "
                         f"list of cut points; got {cut!r}")
    if np.ndim(cut) == 0:
        bins = int(cut)
        breaks = r_seq(float(np.min(x)), float(np.max(x)), bins + 1)
        breaks[[0, -1]] = [-np.inf, np.inf]
    else:
        breaks = np.concatenate([[-np.inf], np.unique(np.asarray(cut, float)), [np.inf]])
    return np.searchsorted(breaks, x, side="right")


def match(prep: Prepared) -> MethodOutput:
    """CEM: numeric covariates coarsened into bins, then exact matching on the bins.

    Numeric covariates (not booleans, which like strings are matched exactly, as R treats
    logicals and factors) are cut with Sturges' rule into equal-width bins between their
    minimum and maximum unless ``cutpoints`` gives a number of bins or the cut points for a
    column. ``exact`` variables are added uncoarsened (in MatchIt give them as factors).
    Subclasses are numbered as MatchIt numbers them (first appearance among controls).
    """
    a, data = prep.args, prep.data
    cutpoints = a.get("cutpoints") or {}
    unknown = set(cutpoints) - set(a["covariates"])
    if unknown:
        raise ValueError(f"`cutpoints` names {sorted(unknown)}, which are not among the "
                         f"covariates {a['covariates']}")
    cols = {}
    for c in a["covariates"]:
        s = data[c]
        numeric = not is_categorical(s) and not pd.api.types.is_bool_dtype(s)
        cols[c] = coarsen(s.to_numpy(float), cutpoints.get(c)) if numeric else s.to_numpy()
    for c in a.get("exact") or []:
        cols[f"exact:{c}"] = data[c].to_numpy()
    frame = pd.DataFrame(cols)
    codes = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
    if a.get("k2k"):
        return _k2k(prep, codes)
    return subclass_output(prep, codes, False, "coarsened")


def _k2k(prep: Prepared, codes: np.ndarray) -> MethodOutput:
    """MatchIt's ``do_k2k``: 1:1 Mahalanobis matching within the CEM strata.

    Focal units (treated; controls for the ATC) are taken in ``m_order`` (default data
    order) and each takes the nearest available unit of the other group in its stratum
    (Mahalanobis distance on every covariate, pooled within-group covariance of all units);
    MatchIt passes the strata to one search, so its walk runs over the sort of all units.
    Weights come from the pairs; subclasses are the pairs.
    """
    from evaluation.matching import _nearest

    a = prep.args
    if a["m_order"] not in ("data", "random"):
        raise ValueError(f"`m_order` with k2k should be one of ['data', 'random']; got "
                         f"{a['m_order']!r}")
    keep = both_groups(codes, prep.treat)
    if not keep.any():
        raise NotEstimableError("no coarsened stratum holds both treated and control units: "
                                "no matches were found")
    focal = prep.treat if a["estimand"] != "ATC" else ~prep.treat
    n = len(focal)
    k2k_prep = replace(prep, treat=focal, strata=codes, discarded=~keep,
                       args={**a, "reuse_max": 1, "ratio": 1})
    positions = np.flatnonzero(focal)
    if a["m_order"] == "random":
        positions = positions[np.random.default_rng(a["random_state"]).permutation(
            len(positions))]
    mm = _nearest.mahalanobis_match(k2k_prep, positions, 1, global_walk=True)
    w = normalize(_nearest.weights_from_matrix(mm, np.flatnonzero(focal), n), prep.treat)
    sub = _nearest.subclass_from_matrix(mm, np.flatnonzero(focal), n)
    unmatched = (w == 0)
    excl = {"treated: no control in its stratum": int((prep.treat & ~keep).sum()),
            "control: stratum without treated units": int((~prep.treat & ~keep).sum()),
            "treated: not paired (k2k)": int((prep.treat & keep & unmatched).sum()),
            "control: not paired (k2k)": int((~prep.treat & keep & unmatched).sum())}
    return MethodOutput(w, sub, mm, excl)

"""Coarsened exact matching (MatchIt ``method = "cem"``, its own implementation)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.factors import is_categorical
from evaluation.matching._checks import MethodOutput, Prepared
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
    return subclass_output(prep, codes, False, "coarsened")

"""Subclassification on the propensity score (MatchIt ``method = "subclass"``)."""

from __future__ import annotations

import warnings

import numpy as np

from evaluation.exceptions import MatchingWarning, NotEstimableError
from evaluation.matching._checks import MethodOutput, Prepared, subclass_weights


def _scoot(sub: np.ndarray, treat: np.ndarray, x: np.ndarray, nsub: int) -> np.ndarray:
    """MatchIt's ``subclass_scoot`` (min.n = 1): move the nearest unit into empty subclasses."""
    sub = sub.copy()
    for g in (bool(treat[0]), not bool(treat[0])):
        in_g = treat == g
        if in_g.sum() < nsub:
            raise NotEstimableError(
                f"not enough {'treated' if g else 'control'} units ({int(in_g.sum())}) to "
                f"have one in each of {nsub} subclasses; ask for fewer subclasses")
        if in_g.sum() == nsub:
            sub[in_g] = np.arange(1, nsub + 1)
            continue
        tab = np.bincount(sub[in_g], minlength=nsub + 1)[1:]
        while (tab == 0).any():
            f0 = int(np.flatnonzero(tab == 0)[0])
            idx = np.arange(nsub)
            left = f0 > 0 and np.sum(np.clip(tab[:f0] - 1, 0, None) / np.abs(f0 - idx[:f0]))
            right = np.sum(np.clip(tab[f0 + 1:] - 1, 0, None) / np.abs(f0 - idx[f0 + 1:]))
            if f0 == nsub - 1 or (f0 != 0 and left >= right):
                src = int(idx[:f0][tab[:f0] > 0].max())
                cand = np.flatnonzero(in_g & (sub == src + 1))
                mover = cand[np.flatnonzero(x[cand] == x[cand].max())[0]]
            else:
                src = int(idx[f0 + 1:][tab[f0 + 1:] > 0].min())
                cand = np.flatnonzero(in_g & (sub == src + 1))
                mover = cand[np.flatnonzero(x[cand] == x[cand].min())[0]]
            sub[mover] = f0 + 1
            tab[f0] += 1
            tab[src] -= 1
    return sub


def match(prep: Prepared) -> MethodOutput:
    """Subclassify on quantiles of the distance (treated: ATT, controls: ATC, all: ATE).

    ``subclass`` quantiles (R's type 7) of those units' propensity score cut every
    non-discarded unit into a subclass (``findInterval(..., all.inside = TRUE)``); a
    subclass left without a treated or a control unit takes the nearest unit of that group
    from its neighbour (MatchIt's ``min.n = 1``). Weights are MatchIt's subclass weights for
    the estimand.
    """
    n_sub = int(prep.args["subclass"])
    if n_sub < 2:
        raise ValueError(f"`subclass` should be an integer greater than 1; got {n_sub}")
    d, treat, disc = prep.distance, prep.treat, prep.discarded
    estimand = prep.args.get("estimand", "ATT")
    basis = {"ATT": d[treat], "ATC": d[~treat]}.get(estimand, d)
    q = np.quantile(basis, np.linspace(0, 1, n_sub + 1))
    sub = np.full(len(d), np.nan)
    inside = np.clip(np.searchsorted(q, d[~disc], side="right"), 1, n_sub)
    if len(np.unique(inside)) != n_sub:
        warnings.warn("due to discreteness in the distance, fewer subclasses were generated "
                      f"than the {n_sub} requested", MatchingWarning, stacklevel=4)
    used = np.unique(inside)
    renum = np.searchsorted(used, inside) + 1
    t_in = treat[~disc]
    k = len(used)
    counts = [np.bincount(renum[t_in == g], minlength=k + 1)[1:] for g in (True, False)]
    if any((c == 0).any() for c in counts):
        renum = _scoot(renum, t_in, d[~disc], k)
    sub[~disc] = renum
    w = subclass_weights(sub, treat, estimand)
    return MethodOutput(w, sub, None, {})

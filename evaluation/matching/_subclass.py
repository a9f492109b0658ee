"""Subclassification on the propensity score (MatchIt ``method = "subclass"``)."""

from __future__ import annotations

import math
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
                mover = cand[np.flatnonzero(x[cand] == x[cand].max())[-1]]
            else:
                src = int(idx[f0 + 1:][tab[f0 + 1:] > 0].min())
                cand = np.flatnonzero(in_g & (sub == src + 1))
                mover = cand[np.flatnonzero(x[cand] == x[cand].min())[-1]]
            sub[mover] = f0 + 1
            tab[f0] += 1
            tab[src] -= 1
    return sub


def quantile7(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's ``quantile(x, probs)`` (type 7) in R's arithmetic: ``(1 - h) x[lo] + h x[hi]``.

    Examples
    --------
    >>> quantile7(np.array([3.0, 1.0, 2.0, 10.0]), np.array([0.0, 0.2, 0.5, 1.0])).tolist()
    [1.0, 1.6, 2.5, 10.0]
    """
    x = np.sort(np.asarray(x, float))
    index = 1 + max(len(x) - 1, 0) * probs
    lo = np.floor(index).astype(np.int64)
    hi = np.ceil(index).astype(np.int64)
    qs = x[lo - 1]
    i = (index > lo) & (x[hi - 1] != qs)
    h = (index - lo)[i]
    qs[i] = (1 - h) * qs[i] + h * x[hi[i] - 1]
    return qs


def cut_probabilities(subclass) -> np.ndarray:
    """MatchIt's ``sprobs``: the quantile probabilities that cut the subclasses.

    A number ``k`` (> 1) gives ``round(k)`` subclasses of equal shares,
    ``seq(0, 1, length.out = round(k) + 1)``; several numbers are the cut points
    themselves, as quantiles in [0, 1]: sorted, with 0 and 1 added where missing (so
    ``[0.2, 0.5, 0.8]`` makes 4 subclasses). One number in a list is a number, as in R
    (``c(0.5)`` is ``0.5``).

    Examples
    --------
    >>> cut_probabilities(4).tolist(), cut_probabilities([0.8, 0.2, 0.5]).tolist()
    ([0.0, 0.25, 0.5, 0.75, 1.0], [0.0, 0.2, 0.5, 0.8, 1.0])
    """
    values = np.atleast_1d(np.asarray(subclass, dtype=object))
    if values.ndim != 1 or len(values) == 0 or not all(
            isinstance(v, (int, float, np.integer, np.floating))
            and not isinstance(v, (bool, np.bool_)) and math.isfinite(v) for v in values):
        raise ValueError("`subclass` should be a number of subclasses (> 1) or a list of "
                         "quantiles in [0, 1] that cut them (MatchIt's `subclass`, e.g. "
                         f"[0.2, 0.5, 0.8]); got {subclass!r}")
    values = values.astype(float)
    if len(values) == 1:
        if not values[0] > 1:
            raise ValueError(f"`subclass` should be a number greater than 1 (or a list of at "
                             f"least two quantiles in [0, 1]); got {subclass!r}")
        k = round(values[0])                   # R's round: half to even, as Python's
        return np.array([0.0, *(np.arange(1, k) * (1.0 / k)), 1.0]) if k > 1 \
            else np.array([0.0, 1.0])
    if (values > 1).any() or (values < 0).any():
        raise ValueError("`subclass` given as quantiles should have all values between 0 "
                         f"and 1 (as in MatchIt); got {subclass!r}")
    probs = np.sort(values)
    if probs[0] != 0:
        probs = np.r_[0.0, probs]
    if probs[-1] != 1:
        probs = np.r_[probs, 1.0]
    return probs


def match(prep: Prepared) -> MethodOutput:
    """Subclassify on quantiles of the distance (treated: ATT, controls: ATC, all: ATE).

    Quantiles (R's type 7) of those units' propensity score at ``subclass`` equal shares,
    or at the probabilities ``subclass`` lists (:func:`cut_probabilities`), cut every
    non-discarded unit into a subclass (``findInterval(..., all.inside = TRUE)``); a
    subclass left without a treated or a control unit takes the nearest unit of that group
    from its neighbour (MatchIt's ``min.n = 1``). Weights are MatchIt's subclass weights for
    the estimand.
    """
    probs = cut_probabilities(prep.args["subclass"])
    n_sub = len(probs) - 1
    d, treat, disc = prep.distance, prep.treat, prep.discarded
    estimand = prep.args.get("estimand", "ATT")
    basis = {"ATT": d[treat], "ATC": d[~treat]}.get(estimand, d)
    q = quantile7(basis, probs)
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

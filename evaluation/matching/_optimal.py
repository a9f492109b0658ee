"""Optimal pair and full matching (MatchIt ``method = "optimal"`` and ``"full"``).

As MatchIt 4.7's ``matchit2optimal`` / ``matchit2full``: a focal x other distance matrix
(absolute differences of the propensity score or distance column, or Euclidean distances in
Mahalanobis space) over the units not discarded, with ``antiexact`` pairs and (full matching)
pairs outside a caliper forbidden, solved by optmatch's ``fullmatch`` (see ``_optmatch``) once
per exact stratum. Each matched set is a subclass; weights are MatchIt's subclass weights.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from evaluation.exceptions import MatchingWarning, NotEstimableError
from evaluation.matching._checks import MethodOutput, Prepared, subclass_weights, warn_shortfall
from evaluation.matching._optmatch import NonpositiveDistances, fullmatch, prune_pairs


def _space(prep: Prepared) -> np.ndarray:
    """Coordinates whose Euclidean distances are the matching distances."""
    if prep.mahalanobis is not None:
        return prep.mahalanobis
    return prep.distance[:, None]


def _pair_distances(space: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    diff = space[rows][:, None, :] - space[cols][None, :, :]
    if space.shape[1] == 1:
        return np.abs(diff[..., 0])
    return np.sqrt((diff ** 2).sum(axis=2))


def _forbid(prep: Prepared, dm: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> None:
    """Set to inf the pairs ``antiexact`` and (full matching) the calipers rule out.

    MatchIt's ``optmatch::caliper(d, abs(w), compare = if (w >= 0) `<=` else `>=`)``: a
    negative caliper keeps the pairs at least ``-w`` apart (not strictly, unlike nearest
    neighbour matching).
    """
    if prep.antiexact is not None:
        for k in range(prep.antiexact.shape[1]):
            x = prep.antiexact[:, k]
            dm[x[rows][:, None] == x[cols][None, :]] = np.inf
    a = prep.args
    if a["method"] != "full":
        return
    calipers = [] if a.get("caliper_distance") is None else [(prep.distance,
                                                                a["caliper_distance"])]
    if prep.caliper_covs is not None:
        calipers += list(zip(prep.caliper_covs.T, prep.caliper_widths, strict=True))
    for x, w in calipers:
        gap = np.abs(x[rows][:, None] - x[cols][None, :])
        dm[gap > w if w >= 0 else gap < -w] = np.inf


def _arc_rank(prep: Prepared, focal: np.ndarray, in_s: np.ndarray, shape: tuple[int, int],
              prune: bool) -> np.ndarray:
    """Position of each (focal, other) pair among the entries of MatchIt's distance matrix.

    optmatch adds the network's arcs in the order of the entries of its
    ``InfinitySparseMatrix``: column-major from the dense matrix; in the order of
    ``preprocess_matchC``'s kept pairs (others by sorted distance, then focal units by sorted
    distance) after pruning; sorted by row then column after an ``antiexact`` or caliper term
    is added (optmatch's ``ismOps``). Subsetting to a stratum and transposing keep the order.
    """
    nr, nc = shape
    a = prep.args
    if prep.antiexact is not None or (a["method"] == "full" and (
            a.get("caliper_distance") is not None or prep.caliper_covs is not None)):
        return np.arange(nr * nc).reshape(nr, nc)
    if prune:
        order = np.argsort(prep.distance[in_s], kind="stable")
        pos = np.empty(len(order), np.int64)
        pos[order] = np.arange(len(order))
        f = focal[in_s]
        return pos[~f][None, :] * len(order) + pos[f][:, None]
    return np.arange(nr * nc).reshape(nc, nr).T


def _integer_column(prep: Prepared) -> str | None:
    """Return the distance column whose distances reach optmatch as R integers, or None.

    ``matchit2full`` passes ``abs(outer(distance[t], distance[c], "-"))`` of the distance
    vector as it is (``matchit2optimal`` converts it with ``as.numeric``): an integer
    column of ``data`` (R's ``read.csv`` of whole numbers) gives an integer matrix, which
    stays integer through ``match_on`` and ``t()`` but becomes double when an exact
    stratum is cut out of it (more than one stratum), when ``antiexact`` or a caliper is
    added to it, or when the distance is Mahalanobis (``mahvars``).
    """
    a = prep.args
    name = a.get("distance")
    if (a["method"] != "full" or prep.mahalanobis is not None or prep.antiexact is not None
            or a.get("caliper_distance") is not None or prep.caliper_covs is not None
            or not isinstance(name, str) or name not in prep.data.columns):
        return None
    col = prep.data[name]
    if not (pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col)
            and col.abs().max() <= 2**31 - 1):
        return None
    if prep.strata is not None and len(np.unique(prep.strata[~prep.discarded])) > 1:
        return None
    return name


def _controls_args(a: dict, e_ratio: float) -> tuple[float, float, float, bool] | None:
    """(mean, min, max controls, transpose) for one stratum of optimal pair matching."""
    ratio = a["ratio"]
    mn, mx = a.get("min_controls"), a.get("max_controls")
    if mx is None:
        mn = mx = ratio
    elif mn is None:
        mn = 1
    if e_ratio < 1:
        return 1.0, 1.0, 1.0, True
    if e_ratio < ratio:
        return e_ratio, min(mn, math.floor(e_ratio)), mx, False
    return ratio, mn, mx, False


def _r_value(v: object, quoted: bool) -> str:
    """Format a value as R's ``sprintf("%s", x)`` (strings quoted, as ``add_quotes``)."""
    if quoted:
        return f'"{v}"'
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    f = float(v)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else format(f, ".15g")


def _stratum_name(prep: Prepared, pos: int) -> str:
    """Name an exact stratum as MatchIt does; ``"_"`` without exact matching.

    MatchIt's ``exactify(..., sep = ", ", include_vars = TRUE)``: ``col = value, ...``.
    """
    if prep.strata_labels is None:
        return "_"
    data, cols = prep.strata_labels.data, prep.strata_labels.columns
    parts = []
    for c in cols:
        col = data[c]
        quoted = not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col))
        parts.append(f"{c} = {_r_value(col.iloc[pos], quoted)}")
    return ", ".join(parts)


def _solve(prep: Prepared, focal: np.ndarray) -> tuple[np.ndarray, dict]:
    """Name each unit's matched set as MatchIt's ``pair`` (None: unmatched); epsilons.

    The name is optmatch's set label and the stratum, ``"1.<k>|<stratum>"`` (``"1|..."`` for
    a stratum of one pair), from which MatchIt numbers the subclasses.
    """
    a = prep.args
    n = len(focal)
    keep = ~prep.discarded
    strata = prep.strata if prep.strata is not None else np.zeros(n, np.int64)
    space = _space(prep)
    optimal = a["method"] == "optimal"
    one_stratum = prep.strata is None
    prune = (optimal and one_stratum and prep.mahalanobis is None and a["ratio"] == 1
             and a.get("max_controls") is None)
    pair = np.full(n, None, dtype=object)
    eps = {}
    integer = _integer_column(prep)
    for s in np.unique(strata[keep]):
        in_s = keep & (strata == s)
        rows, cols = np.flatnonzero(in_s & focal), np.flatnonzero(in_s & ~focal)
        if len(rows) == 0 or len(cols) == 0:
            continue
        dm = _pair_distances(space, rows, cols)
        _forbid(prep, dm, rows, cols)
        if prune:
            dm[~prune_pairs(focal[in_s], prep.distance[in_s])] = np.inf
        if not np.isfinite(dm).any():
            continue
        name = _stratum_name(prep, rows[0])
        if dm.shape == (1, 1):
            pair[[rows[0], cols[0]]] = f"1|{name}"
            continue
        rank = _arc_rank(prep, focal, in_s, dm.shape, prune)
        transpose = False
        if optimal:
            mean, mn, mx, transpose = _controls_args(a, len(cols) / len(rows))
            sol = (fullmatch(dm.T, mn, mx, mean, a["tol"], rank.T) if transpose
                   else fullmatch(dm, mn, mx, mean, a["tol"], rank))
        else:
            mn = a.get("min_controls") or 0.0
            mx = a.get("max_controls") or math.inf
            try:
                sol = fullmatch(dm, mn, mx, None, a["tol"], rank, integer is not None)
            except NonpositiveDistances as e:
                raise ValueError(
                    f"full matching on the integer distance column {integer!r} is refused, "
                    f"as by MatchIt (optmatch: \"Nonpositive discrepancies not compatible "
                    f"with full matching\", Hansen & Klopfer 2006, sec. 4.1): {e.zeros} "
                    f"{a['focal']}-{a['other']} pair(s) have equal {integer!r} (distance 0) "
                    "and a set may hold several units of a group (`min_controls` < 1). "
                    f"Pass data[{integer!r}].astype(float) (R: as.numeric), whose zero "
                    "distances optmatch rounds up, or set `min_controls` >= 1") from None
        if sol is None:
            warnings.warn(f"optimal matching found no solution in {len(rows)} "
                          f"{a['focal']} and {len(cols)} {a['other']} units of one stratum "
                          "(constraints impossible to meet); they are left unmatched",
                          MatchingWarning, stacklevel=5)
            continue
        r_lab, c_lab = ((sol.col_labels, sol.row_labels) if transpose
                        else (sol.row_labels, sol.col_labels))
        for units, lab in ((rows, r_lab), (cols, c_lab)):
            hit = lab > 0
            pair[units[hit]] = [f"1.{k}|{name}" for k in lab[hit]]
        label = ("all" if prep.strata_labels is None
                 else str(prep.strata_labels.at(rows[:1])[0]))
        eps[label] = sol.epsilon
    return pair, eps


#: ASCII in the order of ICU's root collation (CLDR), which R uses to sort strings in the
#: C.UTF-8 locale the fixtures were made in: spaces, punctuation, symbols, digits, letters.
_ICU_ASCII = {c: i for i, c in enumerate(
    " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz")}


def _icu_key(text: str) -> tuple:
    """Sort key of ``text`` as R's ``sort`` (ICU root collation) orders ASCII strings.

    Letters compare without case first, then lower case before upper case; other characters
    than ASCII go after, by code point.

    Examples
    --------
    >>> sorted(["1.2|_", "1.10|_", "1|_", "1.1|_"], key=_icu_key)
    ['1.1|_', '1.10|_', '1.2|_', '1|_']
    """
    return (tuple(_ICU_ASCII.get(c.lower(), 1000 + ord(c)) for c in text),
            tuple(c.isupper() for c in text))


def _subclasses(pair: np.ndarray) -> np.ndarray:
    """Subclass numbers as MatchIt's ``factor(pair)`` renumbered ``1..n``.

    Sets are numbered in the sorted order of their names (see :func:`_icu_key`).
    """
    sub = np.full(len(pair), np.nan)
    has = np.array([p is not None for p in pair], dtype=bool)
    if has.any():
        names = pair[has].astype(str)
        levels = sorted(set(names), key=_icu_key)
        number = {lev: k for k, lev in enumerate(levels, start=1)}
        sub[has] = [number[x] for x in names]
    return sub


def _match_matrix(sub: np.ndarray, focal: np.ndarray) -> np.ndarray:
    """MatchIt's ``subclass2mmC``: each focal unit's subclass-mates, in data order."""
    f_pos = np.flatnonzero(focal)
    has = ~np.isnan(sub)
    o_pos = np.flatnonzero(~focal & has)
    width = max(int(np.bincount(sub[has].astype(np.int64)).max()) - 1, 1) if has.any() else 1
    mm = np.full((len(f_pos), width), -1, np.int64)
    owner = {}
    for k, p in enumerate(f_pos):
        if has[p]:
            owner.setdefault(sub[p], k)
    fill = np.zeros(len(f_pos), np.int64)
    for p in o_pos:
        k = owner.get(sub[p])
        if k is not None:
            mm[k, fill[k]] = p
            fill[k] += 1
    return mm[:, :max(int(fill.max(initial=0)), 1)]


def match(prep: Prepared) -> MethodOutput:
    """Optimal pair (``method="optimal"``) or full (``"full"``) matching, as MatchIt's.

    Solves, per exact stratum, the minimum-cost flow problem optmatch solves, on distances
    rounded as optmatch rounds them (``tol``); see ``evaluation.matching._optmatch``.
    """
    a = prep.args
    if a["method"] == "full" and a.get("min_controls") and a.get("caliper") is not None:
        raise ValueError("calipers cannot be used with method='full' when `min_controls` is "
                         "given (as in MatchIt)")
    treat = prep.treat
    focal = ~treat if a["estimand"] == "ATC" else treat
    if a["method"] == "optimal":
        warn_shortfall(prep, focal, a["ratio"])
    pair, a["resolution"] = _solve(prep, focal)
    sub = _subclasses(pair)
    if np.isnan(sub).all():
        raise NotEstimableError(
            f"{a['method']} matching found no matches ({int(focal.sum())} {a['focal']} "
            f"units): no matching meets the constraints (ratio {a['ratio']}, antiexact "
            f"{a.get('antiexact')}, caliper {a.get('caliper')}, exact {a.get('exact')}); "
            "R's MatchIt stops with an error here too")
    w = subclass_weights(sub, treat, a["estimand"])
    mm = _match_matrix(sub, focal) if a["method"] == "optimal" else None
    live = ~prep.discarded
    excl = {f"{g}: not matched": int((grp & live & (w == 0)).sum())
            for g, grp in (("treated", treat), ("control", ~treat))}
    return MethodOutput(w, sub, mm, excl)

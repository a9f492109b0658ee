"""How a matching specification pairs pupils, as MatchIt reads its arguments.

One to one, at most k to one, comparison pupils used once or several times: what a reader
of the plan knows about the matched counts (the disclosure control's linked counts and its
attacker use it, as do the reports' words and the pairs of the sensitivity analysis).
"""

from __future__ import annotations

import numpy as np


def one_to_one(spec: dict) -> bool:
    """Whether a matching specification pairs each matched EM pupil with one other pupil.

    Nearest-neighbour matching with ratio 1 where no comparison pupil is used twice (without
    replacement, or ``reuse_max: 1``: MatchIt ignores ``replace`` when ``reuse_max`` is
    given), optimal pair matching with ratio 1 (never with replacement: MatchIt's optimal
    matching has no ``replace``), in both without variable ratios, and coarsened exact
    matching with ``k2k`` (one-to-one within each stratum): the matched comparison pupils
    are as many as the matched EM pupils.

    Examples
    --------
    >>> one_to_one({"method": "nearest", "ratio": 1}), one_to_one({"method": "exact"})
    (True, False)
    >>> one_to_one({"method": "nearest", "ratio": 1, "replace": True})
    False
    >>> one_to_one({"method": "nearest", "replace": True, "reuse_max": 1})
    True
    >>> one_to_one({"method": "cem", "k2k": True}), one_to_one({"method": "cem"})
    (True, False)
    """
    method = spec.get("method", "nearest")
    if method == "cem":
        return bool(spec.get("k2k", False))
    if method not in ("nearest", "optimal") or float(spec.get("ratio", 1)) != 1 \
            or _variable_ratio(spec):
        return False
    return method == "optimal" or not reuses_controls(spec)


def ratio_bounds(spec: dict) -> tuple | None:
    """Bounds k:1 matching puts on the matched pupils: ``(many, few, k, disjoint)``, or None.

    Nearest-neighbour and optimal matching give each matched pupil of the focal group (EM
    pupils; comparison pupils for the ATC) at most ``k`` of the other (``ratio``, or
    ``max_controls`` for a variable ratio): ``many`` matched pupils are at most ``k`` times
    ``few``; where no pupil is used twice (``disjoint``) each focal pupil has its own, so
    ``few`` are at most ``many``. None for other methods and for 1:1 pairs (:func:`one_to_one`
    makes them equal).

    Examples
    --------
    >>> ratio_bounds({"method": "nearest", "ratio": 2, "replace": True})
    ('comparison', 'em', 2, False)
    >>> ratio_bounds({"method": "nearest", "ratio": 3, "estimand": "atc"})
    ('em', 'comparison', 3, True)
    >>> ratio_bounds({"method": "exact"}) is None, ratio_bounds({"method": "nearest"}) is None
    (True, True)
    """
    method = spec.get("method", "nearest")
    if method not in ("nearest", "optimal") or one_to_one(spec):
        return None
    k = spec["max_controls"] if _variable_ratio(spec) else spec.get("ratio", 1)
    k = int(np.ceil(float(k)))
    focal, other = ("comparison", "em") if str(spec.get("estimand", "ATT")).upper() == "ATC" \
        else ("em", "comparison")
    return other, focal, k, method == "optimal" or not reuses_controls(spec)


def _variable_ratio(spec: dict) -> bool:
    """Whether ``max_controls`` sets the ratio: for optimal matching only.

    As :func:`evaluation.matching.match` reads it: nearest-neighbour matching ignores
    ``min_controls`` and ``max_controls`` with an IgnoredArgumentWarning (tenth review of
    issue 14: ``ratio: 3, max_controls: 2`` gave 3 comparison pupils per EM pupil, not 2).

    Examples
    --------
    >>> _variable_ratio({"method": "optimal", "ratio": 2, "max_controls": 3})
    True
    >>> _variable_ratio({"method": "nearest", "ratio": 3, "max_controls": 2})
    False
    """
    return spec.get("method", "nearest") == "optimal" and spec.get("max_controls") is not None


def reuses_controls(spec: dict) -> bool:
    """Whether nearest-neighbour matching may use one comparison pupil for several EM pupils.

    As MatchIt reads it: ``reuse_max`` when given (``replace`` is then ignored), else
    ``replace``.

    Examples
    --------
    >>> reuses_controls({"replace": True}), reuses_controls({"replace": True, "reuse_max": 1})
    (True, False)
    >>> reuses_controls({"reuse_max": 3})
    True
    """
    if spec.get("reuse_max") is not None:
        return int(spec["reuse_max"]) > 1
    return bool(spec.get("replace", False))

"""Argument and data checks shared by the matching methods; the methods' common contract."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.exceptions import DataError, IgnoredArgumentWarning, MatchingWarning

M_ORDERS = ("largest", "smallest", "random", "data", "closest", "farthest")
DISCARDS = ("none", "treated", "control", "both")
ESTIMANDS = ("ATT", "ATC", "ATE")
#: Estimands each method allows (MatchIt's matchit2<method>).
METHOD_ESTIMANDS = {"nearest": ("ATT", "ATC"), "exact": ESTIMANDS, "cem": ESTIMANDS,
                    "subclass": ESTIMANDS, "optimal": ("ATT", "ATC"), "full": ESTIMANDS}
#: Defaults of match(); an argument differing from its default that the method does not use
#: draws an IgnoredArgumentWarning (MatchIt's check.inputs, as a table).
DEFAULTS = {"distance": "glm", "exact": None, "ratio": 1, "replace": False, "caliper": None,
            "std_caliper": True, "m_order": None, "discard": "none", "cutpoints": None,
            "subclass": 6, "link": "logit", "mahvars": None, "antiexact": None,
            "reuse_max": None, "k2k": False, "s_weights": None, "min_controls": None,
            "max_controls": None, "tol": 0.001, "distance_options": None, "unit_id": None,
            "k2k_method": "mahalanobis", "mpower": 2}
USES = {
    "nearest": {"distance", "exact", "ratio", "replace", "caliper", "std_caliper", "m_order",
                "discard", "link", "mahvars", "antiexact", "reuse_max", "distance_options",
                "unit_id"},
    "exact": {"exact"},
    "cem": {"exact", "cutpoints", "k2k", "m_order", "k2k_method", "mpower"},
    "subclass": {"distance", "discard", "subclass", "link", "distance_options"},
    # MatchIt warns that calipers are ignored by optimal pair matching
    "optimal": {"distance", "exact", "ratio", "discard", "link", "mahvars", "antiexact",
                "min_controls", "max_controls", "tol", "distance_options"},
    "full": {"distance", "exact", "caliper", "std_caliper", "discard", "link", "mahvars",
             "antiexact", "min_controls", "max_controls", "tol", "distance_options"},
}


@dataclass(frozen=True)
class Prepared:
    """What every method receives: arrays aligned to the rows of the data."""

    treat: np.ndarray                 # bool
    strata: np.ndarray | None         # int codes of the exact strata (None: one stratum)
    strata_labels: StrataLabels | None  # readable labels, built on demand
    distance: np.ndarray | None       # vector distance (propensity score or user column)
    discarded: np.ndarray             # bool
    args: dict                        # resolved arguments of match()
    data: pd.DataFrame                # the input data (read only)
    mahalanobis: np.ndarray | None = None
    caliper_covs: np.ndarray | None = None   # n x k values of covariates with calipers
    caliper_widths: np.ndarray | None = None  # k widths on the covariates' scales
    antiexact: np.ndarray | None = None      # n x k codes: a match must differ on each
    unit_id: np.ndarray | None = None        # codes of MatchIt's unit.id (nearest, no reuse)


@dataclass(frozen=True)
class MethodOutput:
    """What every method returns."""

    weights: np.ndarray
    subclass: np.ndarray              # float, NaN = none
    match_matrix: np.ndarray | None = None
    exclusions: dict = field(default_factory=dict)


def one_of(name: str, value, allowed) -> None:
    """Raise a ValueError naming the argument, the value and the allowed values."""
    if value not in allowed:
        raise ValueError(f"`{name}` should be one of {list(allowed)}; got {value!r}")


def require_columns(data: pd.DataFrame, names, argument: str) -> None:
    """Raise a DataError if a named column is not in ``data``."""
    missing = [c for c in names if c not in data.columns]
    if missing:
        raise DataError(f"`{argument}` names column(s) {missing} that are not in `data` "
                        f"(columns: {list(data.columns)})")


def require_complete(data: pd.DataFrame, names, argument: str) -> None:
    """Raise a DataError naming each column with missing values and how many rows.

    MatchIt refuses missing covariate values; so do we. The caller removes and counts
    such rows first (see :func:`evaluation.sample.analysis_sample`).
    """
    problems = []
    for c in dict.fromkeys(names):
        miss = data[c].isna()
        if miss.any():
            rows = list(data.index[miss][:5])
            problems.append(f"{c!r}: {int(miss.sum())} row(s) (e.g. index {rows})")
    if problems:
        raise DataError(f"missing values in `{argument}` of match(), which MatchIt does not "
                        f"allow either: " + "; ".join(problems)
                        + ". Remove (and count) those rows before matching.")


def treatment_array(data: pd.DataFrame, treatment: str) -> np.ndarray:
    """Return the treatment as a bool array; DataError if missing or not binary."""
    require_columns(data, [treatment], "treatment")
    t = data[treatment]
    if t.isna().any():
        raise DataError(f"`treatment` column {treatment!r} has {int(t.isna().sum())} missing "
                        "value(s); it must be observed for every row")
    values = set(pd.unique(t))
    if not values <= {0, 1}:
        raise DataError(f"`treatment` column {treatment!r} must be boolean or 0/1; got values "
                        f"{sorted(map(str, values))[:5]}")
    arr = t.to_numpy().astype(bool)
    if arr.all() or not arr.any():
        raise DataError(f"`treatment` column {treatment!r} has only "
                        f"{'treated' if arr.all() else 'control'} rows ({len(arr)}); matching "
                        "needs both groups")
    return arr


def warn_ignored(method: str, given: dict) -> list[str]:
    """Warn (IgnoredArgumentWarning) for arguments set away from default that ``method`` ignores."""
    ignored = [k for k, v in given.items() if k in DEFAULTS and k not in USES[method]
               and not (v is DEFAULTS[k] or (isinstance(v, (str, int, float, bool))
                                             and v == DEFAULTS[k]))]
    if (method == "optimal" and given.get("min_controls") is not None
            and given.get("max_controls") is None):
        ignored.append("min_controls")  # fixed-ratio optimal matching: only with max_controls
    if ignored:
        warnings.warn(f"argument(s) {ignored} are not used with method={method!r} and are "
                      "ignored", IgnoredArgumentWarning, stacklevel=4)
    return ignored


class StrataLabels:
    """Readable stratum labels ("S1, 2010"), built only for the rows a message names."""

    def __init__(self, data: pd.DataFrame, columns: list[str]):
        self.data, self.columns = data, list(columns)

    def at(self, rows: np.ndarray) -> np.ndarray:
        """Labels of ``rows`` (a boolean mask or positions)."""
        part = self.data[self.columns].iloc[np.flatnonzero(rows) if rows.dtype == bool
                                            else rows]
        return part.astype(str).agg(", ".join, axis=1).to_numpy()


def strata_codes(data: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, StrataLabels]:
    """Integer code (order of first appearance) and readable labels of each row's stratum."""
    codes = data.groupby(columns, sort=False, dropna=False).ngroup().to_numpy()
    return codes, StrataLabels(data, columns)


def describe_strata(labels: StrataLabels, rows: np.ndarray, limit: int = 5) -> str:
    """List the distinct stratum labels of ``rows`` ('[a]; [b] and N more')."""
    names = list(dict.fromkeys(labels.at(rows)))
    text = "; ".join(f"[{n}]" for n in names[:limit])
    return text + (f" and {len(names) - limit} more" if len(names) > limit else "")


def warn_strata_without(kind: str, prep: Prepared, rows: np.ndarray, what: str) -> None:
    """Warn that ``rows`` sit in strata lacking the other group (named)."""
    if rows.any() and prep.strata_labels is not None:
        n_strata = len(np.unique(prep.strata[rows]))
        warnings.warn(f"{int(rows.sum())} {kind} unit(s) in {n_strata} stratum/strata "
                      f"{what}: {describe_strata(prep.strata_labels, rows)}; they are left "
                      "unmatched and counted in `exclusions`", MatchingWarning, stacklevel=5)


def warn_shortfall(prep: Prepared, focal: np.ndarray, ratio: float,
                   unit_id: np.ndarray | None = None, before_discard: bool = False) -> None:
    """MatchIt's warnings where too few other units are left for every focal unit's matches.

    As ``matchit2nearest`` and ``matchit2optimal`` (MatchIt 4.7): per exact stratum (or over
    all units), other units (control unit IDs with ``unit_id``; times ``reuse_max`` for
    nearest) per focal unit, after discarding for optimal matching and before it for nearest
    (``before_discard``, as MatchIt counts). Below 1: "fewer control units than treated
    units; not all treated units will get a match". Below ``ratio``: "not all treated units
    will get <ratio> matches" (with a ``max_controls`` above ``ratio``: "not enough control
    units for an average of <ratio> matches per treated unit"). With exact strata both may
    be given, and the strata concerned are named after MatchIt's text.
    """
    a = prep.args
    keep = np.ones(len(focal), bool) if before_discard else ~prep.discarded
    exact = prep.strata is not None
    strata = prep.strata if exact else np.zeros(len(focal), np.int64)
    k = int(strata.max()) + 1
    f, o = keep & focal, keep & ~focal
    n1 = np.bincount(strata[f], minlength=k)
    if unit_id is None:
        n0 = np.bincount(strata[o], minlength=k)
    else:
        pairs = np.unique(np.column_stack([strata[o], unit_id[o]]), axis=0)
        n0 = np.bincount(pairs[:, 0], minlength=k)
        if not exact:     # MatchIt: control unit IDs per treated unit ID
            n1 = np.array([len(np.unique(unit_id[f]))])
    n0 = n0 * (a.get("reuse_max") or 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.where(n1 > 0, n0 / np.maximum(n1, 1), np.inf)
    focal_name, other = a["focal"], a["other"]
    word = "units" if unit_id is None else "unit IDs"
    where = " in some `exact` strata" if exact else ""
    few, short = e < 1, e < ratio
    w1 = bool(few.any())
    w2 = bool(ratio > 1 and short.any()) and (exact or not w1)

    def strata_named(mask):
        return f" ({describe_strata(prep.strata_labels, mask[strata] & f)})" if exact else ""

    if w1:
        warnings.warn(f"fewer {other} {word} than {focal_name} units{where}; not all "
                      f"{focal_name} units will get a match{strata_named(few)}",
                      MatchingWarning, stacklevel=5)
    if w2:
        mx = a.get("max_controls")
        text = (f"not all {focal_name} units will get {ratio:g} matches" if mx is None
                or ratio == mx else f"not enough {other} {word} for an average of {ratio:g} "
                f"matches per {focal_name} unit" + (" in all `exact` strata" if exact else ""))
        warnings.warn(text + strata_named(short), MatchingWarning, stacklevel=5)


def normalize(w: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """MatchIt's ``normalize = TRUE``: nonzero weights of each group divided by their mean."""
    out = w.copy()
    for g in (True, False):
        nz = (treat == g) & (w > 0)
        if nz.any():
            out[nz] = nz.sum() * w[nz] / w[nz].sum()
    return out


def subclass_weights(subclass: np.ndarray, treat: np.ndarray, estimand: str = "ATT"
                     ) -> np.ndarray:
    """Weights from subclasses (MatchIt's get_weights_from_subclass, then ``normalize``).

    ATT: treated 1, controls n_treated / n_control of their subclass; ATC the mirror image;
    ATE: treated 1 + n_control / n_treated, controls 1 + n_treated / n_control. Nonzero
    weights of each group are then divided by their mean. Units without a subclass get 0.
    """
    has = ~np.isnan(subclass)
    w = np.zeros(len(treat))
    codes = subclass[has].astype(np.int64)
    t = treat[has]
    n1 = np.bincount(codes[t], minlength=codes.max() + 1).astype(float)
    n0 = np.bincount(codes[~t], minlength=codes.max() + 1).astype(float)
    wh = np.zeros(has.sum())
    c1, c0 = codes[t], codes[~t]
    if estimand == "ATT":
        wh[t], wh[~t] = 1.0, n1[c0] / n0[c0]
    elif estimand == "ATC":
        wh[t], wh[~t] = n0[c1] / n1[c1], 1.0
    else:
        wh[t], wh[~t] = 1 + n0[c1] / n1[c1], 1 + n1[c0] / n0[c0]
    w[has] = wh
    return normalize(w, treat)


def both_groups(codes: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """Boolean per row: the row's stratum holds at least one treated and one control."""
    k = codes.max() + 1
    n1 = np.bincount(codes[treat], minlength=k)
    n0 = np.bincount(codes[~treat], minlength=k)
    return (n1[codes] > 0) & (n0[codes] > 0)


def r_subclass_ids(codes: np.ndarray, treat: np.ndarray, first_group: bool) -> np.ndarray:
    """Give subclass ids as MatchIt does: first appearance among rows of ``first_group``.

    Strata lacking a group get NaN.
    """
    keep = both_groups(codes, treat)
    seq = codes[(treat == first_group) & keep]
    _, first = np.unique(seq, return_index=True)
    ordered = seq[np.sort(first)]
    number = np.full(codes.max() + 1, np.nan)
    number[ordered] = np.arange(1, len(ordered) + 1)
    return number[codes]

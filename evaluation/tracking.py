"""Termly class tracking: FSM pupils' average point scores against the class, gap closing or not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.memo import by_content
from evaluation.schema import TERMS


def _whole_class(g: pd.DataFrame) -> tuple[float, int]:
    """Mean of every pupil with a score (FSM pupils included)."""
    return g["sum_all"] / g["n_all"].where(g["n_all"] > 0), g["n_all"]


def _rest_of_class(g: pd.DataFrame) -> tuple[float, int]:
    """Mean of the non-FSM pupils only."""
    n = g["n_all"] - g["n_fsm"]
    return (g["sum_all"] - g["sum_fsm"]) / n.where(n > 0), n


#: What FSM pupils are compared with (name -> function of the per-cell sums and counts).
#: The 2013 report labels its column "whole class", and its published gaps are exactly FSM
#: minus that column, so "whole_class" (FSM pupils included) is the default.
COMPARISONS: dict[str, Callable] = {"whole_class": _whole_class, "rest_of_class": _rest_of_class}
#: Statistic -> the count columns it rests on, for :func:`class_gap_table`
#: (``evaluation.disclosure.suppress(table, COUNTS, ...)``).
COUNTS = {"fsm_aps": "n_fsm", "class_aps": "n_class", "gap": ["n_fsm", "n_class"],
          "closing": ["n_fsm", "n_class"]}
#: Likewise for :func:`closing_summary` (shares rest on the FSM pupils of the counted classes).
SUMMARY_COUNTS = {"share_classes_closing": "n_fsm", "share_schools_closing": "n_fsm"}
_LABELS = {"whole_class": "whole class", "rest_of_class": "rest of class"}


def _check(comparison: str) -> None:
    if comparison not in COMPARISONS:
        raise ValueError(f"`comparison` should be one of {sorted(COMPARISONS)}; "
                         f"got {comparison!r}")


def _term_order(terms: pd.Series) -> pd.Series:
    unknown = sorted(set(terms.dropna()) - set(TERMS))
    if unknown:
        raise ValueError(f"`tracking.term` should be one of {list(TERMS)}; got {unknown}")
    return terms.map({t: i for i, t in enumerate(TERMS)})


def _gap_cells(tracking: pd.DataFrame, keys: list[str], comparison: str) -> pd.DataFrame:
    """FSM and comparison APS, gap and counts per keys + subject + term."""
    _check(comparison)
    cols = [*keys, "subject", "term"]
    d = tracking[[*cols, "fsm", "aps"]]
    seen = d["aps"].notna()
    fsm = d["fsm"].astype(bool) & seen
    parts = pd.DataFrame({
        **{c: d[c] for c in cols},
        "sum_all": d["aps"].where(seen, 0.0), "n_all": seen.astype("int64"),
        "sum_fsm": d["aps"].where(fsm, 0.0), "n_fsm": fsm.astype("int64"),
        "n_missing": (~seen).astype("int64"),
    })
    g = parts.groupby(cols, sort=False).sum().reset_index()
    class_aps, n_class = COMPARISONS[comparison](g)
    out = g[cols].copy()
    out["fsm_aps"] = g["sum_fsm"] / g["n_fsm"].where(g["n_fsm"] > 0)
    out["class_aps"] = class_aps
    out["gap"] = out["fsm_aps"] - out["class_aps"]
    out["n_fsm"] = g["n_fsm"]
    out["n_class"] = n_class.astype("int64")
    out["n_missing"] = g["n_missing"]
    out["comparison"] = _LABELS[comparison]
    order = _term_order(out["term"])
    out = out.assign(_t=order).sort_values([*keys, "subject", "_t"], kind="stable")
    prev = out.groupby([*keys, "subject"], sort=False)["gap"].shift(1)
    closing = pd.Series(pd.NA, index=out.index, dtype="boolean")
    known = prev.notna() & out["gap"].notna()
    closing[known] = out.loc[known, "gap"].abs() < prev[known].abs()
    out.insert(out.columns.get_loc("n_fsm"), "closing", closing)
    return out.drop(columns="_t").reset_index(drop=True)


def class_gap_table(tracking: pd.DataFrame, comparison: str = "whole_class") -> pd.DataFrame:
    """Per class, subject and term: FSM pupils' APS, the class APS, the gap and whether it closed.

    Parameters
    ----------
    tracking : pandas.DataFrame
        The tracking table (long: one row per pupil, class, term and subject; not modified).
    comparison : {"whole_class", "rest_of_class"}
        What FSM pupils are compared with. ``"whole_class"`` (default) is the mean of every
        pupil of the class with a score, FSM pupils included: the 2013 report's column is
        labelled "whole class" and its published gaps are exactly FSM minus that column.
        ``"rest_of_class"`` compares with the non-FSM pupils only.

    Returns
    -------
    pandas.DataFrame
        One row per school, class, subject and term (terms in school-year order):
        ``school_id, class_id, subject, term, fsm_aps, class_aps, gap`` (FSM minus class, as
        published: negative when FSM pupils are behind), ``closing`` (nullable bool: the gap is
        smaller in size than in the class's previous tracked term; missing for its first term
        or when a gap is missing), ``n_fsm`` (FSM pupils with a score), ``n_class`` (pupils the
        class figure rests on), ``n_missing`` (pupil rows without a score), ``comparison``.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"school_id": "s", "class_id": "5A", "subject": "reading",
    ...                   "term": ["autumn"] * 2 + ["spring"] * 2, "fsm": [True, False] * 2,
    ...                   "aps": [18.0, 22.0, 21.0, 23.0], "pupil_id": ["1", "2"] * 2})
    >>> class_gap_table(t)[["term", "gap", "closing"]].values.tolist()
    [['autumn', -2.0, <NA>], ['spring', -1.0, True]]
    """
    return _gap_cells(tracking, ["school_id", "class_id"], comparison)


def published_layout(table: pd.DataFrame, class_id: str,
                     school_id: str | None = None) -> pd.DataFrame:
    """One class's rows of :func:`class_gap_table` in the 2013 report's layout.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`class_gap_table` (suppressed or not).
    class_id : str
        The class to show.
    school_id : str, optional
        Its school; needed when schools name classes alike.

    Returns
    -------
    pandas.DataFrame
        Rows: subject and term; columns ``FSM pupils``, ``whole class`` (or ``rest of
        class``), ``gap``, ``gap closing`` (``yes``/``no``/blank) and the two counts.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"school_id": "s", "class_id": "5A", "subject": "reading",
    ...                   "term": "autumn", "fsm": [True, False], "aps": [18.0, 22.0]})
    >>> list(published_layout(class_gap_table(t), "5A").columns)[:3]
    ['FSM pupils', 'whole class', 'gap']
    """
    rows = table[table["class_id"] == class_id]
    if rows.empty:
        known = sorted(table["class_id"].unique())
        raise ValueError(f"`class_id` should be one of {known}; got {class_id!r}")
    if school_id is not None:
        schools = sorted(rows["school_id"].unique())
        rows = rows[rows["school_id"] == school_id]
        if rows.empty:
            raise ValueError(f"`school_id` should be one of {schools} (the schools with a "
                             f"class {class_id!r}); got {school_id!r}")
    elif rows["school_id"].nunique() > 1:
        raise ValueError(f"schools {sorted(rows['school_id'].unique())} each have a class "
                         f"{class_id!r}: pass `school_id` to choose one")
    label = rows["comparison"].iloc[0]
    closing = rows["closing"].map({True: "yes", False: "no"}).fillna("")
    out = pd.DataFrame({
        "subject": rows["subject"], "term": rows["term"], "FSM pupils": rows["fsm_aps"],
        label: rows["class_aps"], "gap": rows["gap"], "gap closing": closing,
        "n_fsm": rows["n_fsm"], "n_class": rows["n_class"],
    })
    return out.set_index(["term", "subject"])


def _periods(terms: list[str]) -> list[tuple[str, str]]:
    present = [t for t in TERMS if t in set(terms)]
    pairs = list(zip(present[:-1], present[1:], strict=True))
    if len(present) > 2:
        pairs.append((present[0], present[-1]))
    return pairs


def _closing_by_period(cells: pd.DataFrame, unit: list[str],
                       periods: list[tuple[str, str]]) -> dict[tuple[str, str], pd.DataFrame]:
    """Per period and subject: units tracked at either end, counted (a gap at both), closing."""
    if not periods:             # one term tracked (or none): no period to compare
        return {}
    by_term = cells.set_index([*unit, "subject", "term"])[["gap", "n_fsm"]].unstack("term")
    terms = list(by_term["gap"].columns)
    gap = by_term["gap"].to_numpy(float)
    n_fsm = by_term["n_fsm"].to_numpy(float)     # NaN: the unit has no row for the term
    codes, subjects = pd.factorize(by_term.index.get_level_values("subject"), sort=True)
    out = {}
    for start, end in periods:
        i, j = terms.index(start), terms.index(end)
        counted = ~np.isnan(gap[:, i]) & ~np.isnan(gap[:, j])
        sums = {"n_units": ~np.isnan(n_fsm[:, i]) | ~np.isnan(n_fsm[:, j]), "n": counted,
                "n_closing": (np.abs(gap[:, j]) < np.abs(gap[:, i])) & counted,
                "n_fsm": np.where(counted, n_fsm[:, j], 0.0)}
        t = pd.DataFrame({k: np.bincount(codes, v, minlength=len(subjects))
                          for k, v in sums.items()}, index=subjects)
        out[start, end] = t.assign(n_excluded=t["n_units"] - t["n"])
    return out


#: Columns of :func:`closing_summary`.
SUMMARY_COLUMNS = ["subject", "start", "end", "n_classes", "n_classes_closing",
                   "share_classes_closing", "n_classes_excluded", "n_schools",
                   "n_schools_closing", "share_schools_closing", "n_fsm"]


@by_content(shared=True)
def closing_summary(tracking: pd.DataFrame, comparison: str = "whole_class") -> pd.DataFrame:
    """Share of classes and of schools whose FSM gap closed, per subject and period.

    A class (or school, all its tracked pupils together) closes the gap over a period when
    the gap is smaller in size at the end than at the start. Periods are consecutive tracked
    terms plus, when three terms are tracked, the whole year (first to last term). Classes
    and schools without a gap at both ends of a period (no FSM pupil or no comparison pupil
    with a score) are not counted in that period: ``n_classes_excluded`` says how many.

    Parameters
    ----------
    tracking : pandas.DataFrame
        The tracking table (not modified).
    comparison : {"whole_class", "rest_of_class"}
        As in :func:`class_gap_table`.

    Returns
    -------
    pandas.DataFrame
        One row per subject and period: ``subject, start, end, n_classes, n_classes_closing,
        share_classes_closing, n_classes_excluded, n_schools, n_schools_closing,
        share_schools_closing, n_fsm`` (FSM pupils with a score at the end, over the counted
        classes).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"school_id": "s", "class_id": "5A", "subject": "reading",
    ...                   "term": ["autumn"] * 2 + ["spring"] * 2, "fsm": [True, False] * 2,
    ...                   "aps": [18.0, 22.0, 21.0, 23.0]})
    >>> closing_summary(t)[["start", "end", "n_classes", "n_classes_closing"]].values.tolist()
    [['autumn', 'spring', 1, 1]]
    """
    classes = _gap_cells(tracking, ["school_id", "class_id"], comparison)
    schools = _gap_cells(tracking, ["school_id"], comparison)
    subjects = sorted(classes["subject"].unique())
    rows = []
    periods = _periods(classes["term"].unique().tolist())
    by_class = _closing_by_period(classes, ["school_id", "class_id"], periods)
    by_school = _closing_by_period(schools, ["school_id"], periods)
    for start, end in periods:
        c, s = by_class[start, end], by_school[start, end]
        for subject in subjects:
            nc = int(c["n"].get(subject, 0))
            ns = int(s["n"].get(subject, 0))
            cc = int(c["n_closing"].get(subject, 0))
            sc = int(s["n_closing"].get(subject, 0))
            rows.append({
                "subject": subject, "start": start, "end": end,
                "n_classes": nc, "n_classes_closing": cc,
                "share_classes_closing": cc / nc if nc else np.nan,
                "n_classes_excluded": int(c["n_excluded"].get(subject, 0)),
                "n_schools": ns, "n_schools_closing": sc,
                "share_schools_closing": sc / ns if ns else np.nan,
                "n_fsm": int(c["n_fsm"].get(subject, 0)),
            })
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)   # one term tracked: no period


@dataclass(frozen=True)
class TrackingResult:
    """Termly tracking of a set of schools: the class table and the gap-closing summary.

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`class_gap_table`.
    summary : pandas.DataFrame
        :func:`closing_summary`.
    comparison : str
        What FSM pupils were compared with (``COMPARISONS``).
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    comparison: str = "whole_class"

    def _repr_html_(self) -> str:
        return self.summary.to_html(index=False)


def track(tracking: pd.DataFrame, comparison: str = "whole_class") -> TrackingResult:
    """Class gaps term by term and the share of classes and schools closing them.

    Examples
    --------
    >>> t = pd.DataFrame({"school_id": "s", "class_id": "5A", "subject": "reading",
    ...                   "term": ["autumn"] * 2 + ["spring"] * 2, "fsm": [True, False] * 2,
    ...                   "aps": [18.0, 22.0, 21.0, 23.0]})
    >>> int(track(t).summary["n_classes_closing"].iloc[0])
    1
    """
    return TrackingResult(class_gap_table(tracking, comparison),
                          closing_summary(tracking, comparison), comparison)

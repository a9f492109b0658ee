"""Each published mean's contributions: the pupils' values it is computed from, cell by cell.

ACRO's dominance rules (``NKCheck``, ``PPercentCheck``; :mod:`evaluation.sdc_rules`) look at
the values a mean or a sum rests on, not only at how many there are. The report's sections
publish means of pupils' values (unadjusted outcomes by group, termly tracking's average point
scores, survey item means, FSM and non-FSM rates); these functions return, for each row of
such a table, the values behind each mean, for :func:`evaluation.disclosure.suppress`'s
``contributions``. They only read data: the means themselves are computed where they always
were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd


def descriptive_contributions(matched: pd.DataFrame, outcomes: Iterable[str],
                              treatment: str = "em", weights: str = "weights"
                              ) -> dict[str, list[np.ndarray]]:
    """Values behind :func:`evaluation.descriptives.outcome_descriptives`' means, per outcome.

    Parameters
    ----------
    matched : pandas.DataFrame
        The matched data the descriptives were computed from.
    outcomes : iterable of str
        The outcome of each row of the descriptives table, in order.
    treatment, weights : str
        Column names.

    Returns
    -------
    dict
        ``mean_em``, ``mean_comparison`` (each pupil's value) and ``mean_comparison_weighted``
        (each comparison pupil's weight times value: what the weighted mean adds up) -> one
        array per outcome.

    Examples
    --------
    >>> d = pd.DataFrame({"em": [1, 1, 0, 0], "y": [5.0, 7.0, 4.0, None],
    ...                   "weights": [1.0, 1.0, 2.0, 1.0]})
    >>> c = descriptive_contributions(d, ["y"])
    >>> c["mean_em"][0].tolist(), c["mean_comparison_weighted"][0].tolist()
    ([5.0, 7.0], [8.0])
    """
    treated = matched[treatment].astype(bool)
    out = {"mean_em": [], "mean_comparison": [], "mean_comparison_weighted": []}
    for name in outcomes:
        y = pd.to_numeric(matched[name], errors="coerce") if name in matched else \
            pd.Series(np.nan, index=matched.index)
        ok = y.notna()
        comp = y[ok & ~treated]
        w = matched.loc[comp.index, weights] if weights in matched else \
            pd.Series(1.0, index=comp.index)
        out["mean_em"].append(y[ok & treated].to_numpy(dtype=float))
        out["mean_comparison"].append(comp.to_numpy(dtype=float))
        out["mean_comparison_weighted"].append((comp * w).to_numpy(dtype=float))
    return out


def cell_contributions(data: pd.DataFrame, keys: pd.DataFrame, value: str,
                       where: pd.Series | None = None) -> list[np.ndarray]:
    """Return the non-missing ``value`` of the rows of ``data`` matching each row of ``keys``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per contributor (a pupil, a pupil's term, a respondent's answer).
    keys : pandas.DataFrame
        One row per published cell; its columns name the grouping columns of ``data``.
    value : str
        The column averaged.
    where : pandas.Series of bool, optional
        Contributors to keep (FSM pupils only, say), aligned with ``data``.

    Returns
    -------
    list of numpy.ndarray
        One array per row of ``keys`` (empty where no contributor matches).

    Examples
    --------
    >>> d = pd.DataFrame({"c": ["a", "a", "b"], "v": [1.0, 2.0, None]})
    >>> [x.tolist() for x in cell_contributions(d, pd.DataFrame({"c": ["a", "b", "z"]}), "v")]
    [[1.0, 2.0], [], []]
    """
    cols = list(keys.columns)
    d = data if where is None else data[where.to_numpy(dtype=bool)]
    d = d[d[value].notna()]
    groups = {k if isinstance(k, tuple) else (k,): g[value].to_numpy(dtype=float)
              for k, g in d.groupby(cols, sort=False)}
    empty = np.array([], dtype=float)
    return [groups.get(tuple(k), empty) for k in keys.itertuples(index=False, name=None)]


def group_contributions(data: pd.DataFrame, cells: pd.DataFrame, groups: Mapping[str, Sequence],
                        value: str, group: str = "group", year: str = "year",
                        cohort: str = "cohort", where: pd.Series | None = None
                        ) -> list[np.ndarray]:
    """Values behind each row of a table by group of schools and year (the gap trends).

    Examples
    --------
    >>> p = pd.DataFrame({"school_id": ["a", "b", "b"], "cohort": 2010, "y": [1.0, 0.0, 1.0]})
    >>> t = pd.DataFrame({"group": ["A", "AB"], "year": [2010, 2010]})
    >>> [x.tolist() for x in group_contributions(p, t, {"A": ["a"], "AB": ["a", "b"]}, "y")]
    [[1.0], [1.0, 0.0, 1.0]]
    """
    d = data if where is None else data[where.to_numpy(dtype=bool)]
    d = d[d[value].notna()]
    out = []
    for g, y in zip(cells[group], cells[year], strict=True):
        ids = list(groups.get(g, ()))
        rows = d[d["school_id"].isin(ids) & (d[cohort].astype(str) == str(y))]
        out.append(rows[value].to_numpy(dtype=float))
    return out


#: Rate column -> its count column, in the FSM gap tables (rates in percent of 0/1 values).
RATES = {"fsm_value": "n_fsm", "non_fsm_value": "n_non_fsm", "overall_value": "n"}


def rate_contributions(table: pd.DataFrame, rates: Mapping[str, str] = RATES,
                       together: Sequence[str] = ("fsm_value", "non_fsm_value", "overall_value",
                                                  "gap")) -> dict:
    """``contributions`` and ``together`` of a table of rates (percent) of 0/1 pupil values.

    A rate of ``n`` pupils' 0/1 values is made of ``k`` ones and ``n - k`` zeros, ``k`` the
    rate times ``n`` (exact: the rates are not rounded): those are its contributions, exactly.
    Any two of a row's rates (with its counts) give the third and the gap gives either rate
    from the other, so a rate failing a rule hides the row's other rates and gap.

    Examples
    --------
    >>> t = pd.DataFrame({"fsm_value": [0.0, 50.0], "n_fsm": [12, 40]})
    >>> kw = rate_contributions(t)
    >>> [float(v.sum()) for v in kw["contributions"]["fsm_value"]]
    [0.0, 20.0]
    """
    contributions = {}
    for rate, n in rates.items():
        if rate not in table or n not in table:
            continue
        cells = []
        for r, size in zip(table[rate].to_numpy(dtype=float), table[n].to_numpy(dtype=float),
                           strict=True):
            if np.isnan(r) or np.isnan(size):
                cells.append(None)
                continue
            yes = int(np.rint(r / 100 * size))
            cells.append(np.r_[np.ones(yes), np.zeros(int(size) - yes)])
        contributions[rate] = cells
    shown = [c for c in together if c in table]
    return {"contributions": contributions,
            "together": {rate: [c for c in shown if c != rate] for rate in contributions}}

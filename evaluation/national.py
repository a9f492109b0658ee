"""Published national attainment figures for England by FSM status (see shared reference)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd


@cache
def _load() -> pd.DataFrame:
    with resources.files("evaluation.data").joinpath("national.csv").open() as fh:
        return pd.read_csv(fh)


def national_figures(measure: str | None = None) -> pd.DataFrame:
    """National percentages by year, phase, measure and FSM group, with their sources.

    Parameters
    ----------
    measure : str, optional
        ``"ks2_l4_em"`` or ``"gcse_5ac_em"``; all measures when omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``year, phase, measure, group, value, source``; ``value`` in percent.
        The 2008 GCSE figures are derived from published ones (marked in ``source``).

    Examples
    --------
    >>> t = national_figures("ks2_l4_em")
    >>> float(t.query("year == 2008 and group == 'fsm'")["value"].iloc[0])
    54.0
    """
    table = _load().copy()
    if measure is None:
        return table
    known = sorted(table["measure"].unique())
    if measure not in known:
        raise ValueError(f"`measure` should be one of {known}; got {measure!r}")
    return table[table["measure"] == measure].reset_index(drop=True)


def national_gaps(measure: str) -> pd.DataFrame:
    """National FSM gap (non-FSM minus FSM, percentage points) per year.

    Examples
    --------
    >>> national_gaps("gcse_5ac_em")["gap"].round(1).tolist()
    [28.2, 27.6, 27.6]
    """
    wide = national_figures(measure).pivot(index="year", columns="group", values="value")
    return (wide["non_fsm"] - wide["fsm"]).rename("gap").reset_index()

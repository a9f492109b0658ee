"""School-to-school support on published school-level data: trends and a matched DiD.

The National College's 2011 report followed national support schools and the schools they
supported over 2008-2010 against national figures. This module does that for any list of
schools in a multi-year school panel (:class:`evaluation.io.dfe.SchoolPanel`): FSM and
all-pupil attainment and the FSM gap per year, against national; then comparison schools
matched on the years before support (attainment, gap, FSM share, size, region) and a
difference-in-differences / event-study estimate with school-clustered intervals.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.balance import balance
from evaluation.did import event_study
from evaluation.exceptions import DataError, NotEstimableError
from evaluation.io.dfe import SchoolPanel
from evaluation.matching import MatchResult, match
from evaluation.numbers import signed

#: Outcomes estimated, with their labels (percent / percentage points).
OUTCOMES = {
    "rate_fsm": "FSM (ever-6) pupils with 5+ A*-C including English and maths (%)",
    "rate_all": "All pupils with 5+ A*-C including English and maths (%)",
    "gap": "Gap: other pupils' rate minus FSM pupils' rate (percentage points)",
}
#: Pre-support variables matched on: (panel column, which pre-year: "last" or "first").
MATCH_ON = (("rate_fsm", "first"), ("rate_fsm", "last"), ("rate_all", "first"),
            ("gap", "first"), ("share_fsm", "last"), ("school_size", "last"))
GROUPS = ("supported", "comparison", "national")


@dataclass(frozen=True)
class SchoolSupportResult:
    """Everything the school-to-school support report shows.

    Attributes
    ----------
    label : str
        What the supported group is (e.g. "national support schools' partners").
    support_year : int
        First exam year after support began; earlier years are "before".
    schools : pandas.DataFrame
        One row per school in the matched sample: ``urn, name, la, london, group``
        (``supported`` / ``comparison``), ``weight``, ``pair`` and the pre-support covariates.
    trends : pandas.DataFrame
        ``group, year, schools, fsm_pupils, pupils, other_pupils, rate_fsm, rate_all,
        rate_other, gap``: pupil-weighted rates of the supported, comparison and all schools
        (national) per year; ``base_fsm``, ``base_all``, ``base_other``: the pupils each rate
        rests on (those of the schools publishing it).
    balance : pandas.DataFrame
        Standardised mean differences of the matching variables, before and after matching.
    estimates : dict of str to EventStudy
        Per outcome (see :data:`OUTCOMES`).
    exclusions : pandas.DataFrame
        ``what, n``: schools of the list not found or not matchable, candidates left out.
    match : MatchResult
        The matching (MatchIt semantics).
    """

    label: str
    support_year: int
    schools: pd.DataFrame = field(repr=False)
    trends: pd.DataFrame = field(repr=False)
    balance: pd.DataFrame = field(repr=False)
    estimates: dict = field(repr=False)
    exclusions: pd.DataFrame = field(repr=False)
    match: MatchResult = field(repr=False)

    @property
    def n_supported(self) -> int:
        """Supported schools in the matched sample."""
        return int((self.schools["group"] == "supported").sum())

    @property
    def n_comparison(self) -> int:
        """Matched comparison schools."""
        return int((self.schools["group"] == "comparison").sum())

    def summary(self) -> pd.DataFrame:
        """One row per outcome: pooled DiD estimate, interval, p, and the pre-trend check."""
        rows = []
        for outcome, es in self.estimates.items():
            pre = es.table[es.table["year"] < self.support_year]
            rows.append({"outcome": OUTCOMES.get(outcome, outcome), **es.did,
                         "pre-support placebo": "; ".join(
                             f"{int(r.year)}: {signed(r.estimate, 1)} ({signed(r.lower, 1)} to "
                             f"{signed(r.upper, 1)})" for r in pre.itertuples()) or "none",
                         "schools": es.n_schools, "school-years": es.n_obs})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape(self.label)}: {self.n_supported} schools against "
                f"{self.n_comparison} matched comparison schools</p>"
                + self.summary().to_html(index=False, border=0, float_format="{:z.2f}".format))


def _trend(panel: pd.DataFrame, group: str, weights: pd.Series | None = None) -> pd.DataFrame:
    rows = []
    for year, d in panel.groupby("year"):
        w = weights.reindex(d["urn"]).to_numpy(float) if weights is not None \
            else np.ones(len(d))
        n_fsm, n_pup = d["n_fsm"].to_numpy(float) * w, d["n_pupils"].to_numpy(float) * w
        n_oth = d["n_other"].to_numpy(float) * w

        def avg(col, wt, d=d):
            ok = d[col].notna().to_numpy() & (wt > 0)
            rate = float(np.average(d.loc[ok, col], weights=wt[ok])) if ok.any() else np.nan
            return rate, int(round(wt[ok].sum()))

        (rate_fsm, base_fsm), (rate_all, base_all), (rate_other, base_other) = \
            avg("rate_fsm", n_fsm), avg("rate_all", n_pup), avg("rate_other", n_oth)
        rows.append({"group": group, "year": int(year), "schools": int((w > 0).sum()),
                     "fsm_pupils": int(round(n_fsm.sum())), "pupils": int(round(n_pup.sum())),
                     "other_pupils": int(round(n_oth.sum())),
                     "rate_fsm": rate_fsm, "rate_all": rate_all, "rate_other": rate_other,
                     "gap": rate_other - rate_fsm, "base_fsm": base_fsm, "base_all": base_all,
                     "base_other": base_other})
    return pd.DataFrame(rows)


def _covariates(panel: pd.DataFrame, pre: list[int]) -> pd.DataFrame:
    wide = {}
    for col, which in MATCH_ON:
        have = [y for y in pre if panel.loc[panel["year"] == y, col].notna().any()]
        if not have:
            continue
        year = have[-1] if which == "last" else have[0]
        wide[f"{col}_{year}"] = panel[panel["year"] == year].set_index("urn")[col].astype(float)
    return pd.DataFrame(wide)


def school_support(panel: SchoolPanel, schools: list[str], support_year: int,
                   label: str = "supported schools", ratio: int = 1,
                   exact: tuple[str, ...] = ("london",),
                   outcomes: tuple[str, ...] = ("rate_fsm", "gap", "rate_all"),
                   alpha: float = 0.05) -> SchoolSupportResult:
    """Follow a group of schools over time against national and matched comparison schools.

    Comparison schools are the nearest neighbours (Mahalanobis distance, without
    replacement, ``ratio`` per supported school, exactly within ``exact``) on the years
    before support: FSM pupils' and all pupils' attainment, the FSM gap, the FSM share and
    the school's size (:data:`MATCH_ON`). Closed schools and schools missing a matching
    variable are left out and counted. The change is estimated by
    :func:`evaluation.did.event_study` on the matched schools, with the matching weights.

    Parameters
    ----------
    panel : SchoolPanel
        Several years of school-level results (e.g. the 2013-2015 KS4 panel).
    schools : list of str
        URNs of the supported schools (national support schools, the schools they support,
        or any programme's schools).
    support_year : int
        First exam year after support began; there must be at least one year before it.
    label : str
        What the group is, for the report.
    ratio : int
        Comparison schools per supported school.
    exact : tuple of str
        Panel columns matched exactly (``london``: the panel's only regional marker).
    outcomes : tuple of str
        Panel columns estimated (see :data:`OUTCOMES`).
    alpha : float
        1 - confidence level.

    Returns
    -------
    SchoolSupportResult

    Raises
    ------
    DataError
        ``schools`` names URNs the panel lacks (the first few and how many).
    NotEstimableError
        No year before ``support_year``, or too few schools to match or estimate.
    """
    t = panel.table
    unknown = sorted(set(map(str, schools)) - set(t["urn"]))
    if unknown:
        raise DataError(f"{panel.path}: {len(unknown)} of the {len(schools)} schools are not in "
                        f"the panel, e.g. URNs {unknown[:5]}")
    pre = [y for y in panel.years if y < support_year]
    if not pre or support_year not in panel.years:
        raise NotEstimableError(f"support_year {support_year} needs earlier years and itself "
                                f"in the panel; the panel has {list(panel.years)}")
    covs = _covariates(t, pre)
    info = t.drop_duplicates("urn").set_index("urn")[["name", "la", "london", "closed"]]
    frame = info.join(covs)
    frame["treated"] = frame.index.isin(list(map(str, schools)))
    excluded = []
    closed = frame["closed"]
    excluded.append(("supported schools closed (left out)", int((closed & frame.treated).sum())))
    excluded.append(("candidate schools closed (left out)", int((closed & ~frame.treated).sum())))
    incomplete = frame[list(covs.columns)].isna().any(axis=1) & ~closed
    excluded.append(("supported schools missing a matching variable",
                     int((incomplete & frame.treated).sum())))
    excluded.append(("candidate schools missing a matching variable",
                     int((incomplete & ~frame.treated).sum())))
    pool = frame[~closed & ~incomplete].copy()
    if pool["treated"].sum() < 2:
        raise NotEstimableError(f"{int(pool['treated'].sum())} supported schools can be "
                                "matched; need at least 2")
    pool["london"] = pool["london"].astype(bool)
    m = match(pool.reset_index(), "treated", list(covs.columns), method="nearest",
              distance="mahalanobis", exact=list(exact) or None, ratio=ratio)
    weights = pd.Series(m.weights.to_numpy(), index=pool.index)
    matched = weights > 0
    excluded.append(("supported schools without a comparison school",
                     int((pool["treated"] & ~matched).sum())))
    bal = balance(m).table
    sample = pool[matched].assign(weight=weights[matched],
                                  pair=m.subclass.to_numpy()[matched.to_numpy()],
                                  group=np.where(pool.loc[matched, "treated"], "supported",
                                                 "comparison"))
    long = t[t["urn"].isin(sample.index)].merge(
        sample[["weight", "treated"]], left_on="urn", right_index=True)
    estimates = {o: event_study(long, o, support_year, weights="weight", alpha=alpha)
                 for o in outcomes}
    trends = pd.concat([
        _trend(t[t["urn"].isin(sample.index[sample["treated"]])], "supported"),
        _trend(t[t["urn"].isin(sample.index[~sample["treated"]])], "comparison",
               sample["weight"]),
        _trend(t, "national")], ignore_index=True)
    return SchoolSupportResult(label, support_year, sample.reset_index(), trends, bal,
                               estimates, pd.DataFrame(excluded, columns=["what", "n"]), m)


def widest_gap_schools(panel: SchoolPanel, year: int, share: float = 0.05) -> list[str]:
    """URNs of the open schools with the widest FSM gap in ``year`` (a demonstration group).

    Not a programme: a stand-in for a real list of supported schools, chosen on the kind of
    need school-to-school support targets. Matching on the years before support (which
    include ``year``) is what keeps regression to the mean out of the estimate.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES, read_school_panel
    >>> widest_gap_schools(read_school_panel(FIXTURES / "school_panel.csv"), 2013, 0.25)
    ['100003']
    """
    d = panel.table[(panel.table["year"] == year) & ~panel.table["closed"]].dropna(
        subset=["gap"])
    n = max(1, int(round(share * len(d))))
    return d.sort_values(["gap", "urn"], ascending=[False, True])["urn"].head(n).tolist()


def placebo_group(panel: SchoolPanel, n: int, seed: int) -> list[str]:
    """URNs of ``n`` open schools drawn at random: a group that had no support at all.

    Its true effect is zero by construction, so the estimate should be near zero and its
    interval should cover zero about 95% of the time: the workflow checked on a known truth,
    and the default group of the report until a real programme's list is given.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES, read_school_panel
    >>> placebo_group(read_school_panel(FIXTURES / "school_panel.csv"), 2, seed=1)
    ['100001', '100002']
    """
    urns = sorted(panel.table.loc[~panel.table["closed"], "urn"].unique())
    if n > len(urns):
        raise ValueError(f"`n` should be at most {len(urns)} (open schools); got {n}")
    return sorted(np.random.default_rng(seed).choice(urns, n, replace=False).tolist())


def read_school_list(path, panel: SchoolPanel | None = None) -> list[str]:
    """URNs from a CSV with a ``URN`` column (a programme's list of supported schools).

    Raises
    ------
    DataError
        No ``URN`` column, or (with ``panel``) URNs the panel lacks.
    """
    frame = pd.read_csv(path, dtype=str)
    col = next((c for c in frame.columns if c.strip().upper() == "URN"), None)
    if col is None:
        raise DataError(f"{path}: expected a column 'URN'; found {list(frame.columns)[:10]}")
    urns = frame[col].dropna().str.strip().tolist()
    if panel is not None:
        unknown = sorted(set(urns) - set(panel.table["urn"]))
        if unknown:
            raise DataError(f"{path}: {len(unknown)} URNs not in {panel.path}, e.g. "
                            f"{unknown[:5]}")
    return urns

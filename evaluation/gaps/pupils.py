"""FSM attainment gaps on pupil-level data: by group, trends against national, and FSM share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import WLS, RegressionResultsWrapper
from statsmodels.tools.tools import add_constant

from evaluation.exceptions import NotEstimableError
from evaluation.national import national_figures
from evaluation.schema import OUTCOMES, TABLES

#: Outcomes recorded as 1/0 (shown in percent); all others are point scores (shown in points).
THRESHOLDS = frozenset(
    c.name for c in TABLES["pupils"] if c.allowed == (0.0, 1.0)
)
#: School columns that can be used as grouping keys (joined from ``schools`` on school_id).
SCHOOL_KEYS = ("cluster", "role", "la", "em_phase", "em_activity", "school_name", "fsm_pct")
#: FSM-share bands of :func:`gap_vs_fsm_share` (label -> (lower, upper) in percent; the
#: published comparison is ">18%" against "<5%").
FSM_BANDS = {"<5%": (-np.inf, 5.0), "5-18%": (5.0, 18.0), ">18%": (18.0, np.inf)}
ALL_EM = "All EM schools"
#: The headline threshold measure of each phase for gap analyses (as in the National College
#: reports: KS2 level 4+ English and maths; 5+ A*-C including English and maths).
GAP_MEASURE = {"primary": "ks2_l4_em", "secondary": "gcse_5ac_em"}
#: Statistic -> the count columns it rests on, for tables of :func:`fsm_attainment` and
#: :func:`gap_trends` (``evaluation.disclosure.suppress(table, COUNTS, ...)``).
COUNTS = {
    "fsm_value": "n_fsm",
    "non_fsm_value": "n_non_fsm",
    "overall_value": "n",
    "gap": ["n_fsm", "n_non_fsm"],
}

_VALUE_COLUMNS = ["fsm_value", "non_fsm_value", "overall_value", "gap"]
_COUNT_COLUMNS = ["n_fsm", "n_non_fsm", "n", "n_missing"]


def _as_tuple(by) -> tuple[str, ...]:
    return (by,) if isinstance(by, str) else tuple(by)


def _units(outcome: str) -> str:
    return "percent" if outcome in THRESHOLDS else "points"


def _attach(pupils: pd.DataFrame, schools: pd.DataFrame | None, keys: Iterable[str]):
    """Pupils with the school columns named in ``keys`` joined on (a new frame)."""
    need = [k for k in keys if k not in pupils.columns]
    if not need:
        return pupils
    unknown = [k for k in need if k not in SCHOOL_KEYS]
    if unknown:
        raise ValueError(
            f"`by` names columns {unknown} that are neither in `pupils` nor school columns "
            f"{list(SCHOOL_KEYS)}"
        )
    if schools is None:
        raise ValueError(f"`by` uses school columns {need}: pass `schools` as well")
    return pupils.merge(schools[["school_id", *need]], on="school_id", how="left",
                        validate="many_to_one")


def _check_outcomes(outcomes) -> list[str] | None:
    if outcomes is None:
        return None
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    known = [o for phase in OUTCOMES.values() for o in phase]
    bad = [o for o in outcomes if o not in known]
    if bad:
        raise ValueError(f"`outcomes` should be among {known}; got {bad}")
    return outcomes


@cache
def _national_lookup() -> pd.DataFrame:
    """National figures by cohort and outcome (packaged data: built once per process)."""
    wide = national_figures().pivot_table(index=["year", "measure"], columns="group",
                                          values="value")
    out = pd.DataFrame({
        "national_fsm": wide["fsm"],
        "national_non_fsm": wide["non_fsm"],
        "national_overall": wide["all"],
        "national_gap": wide["non_fsm"] - wide["fsm"],
    }).reset_index()
    return out.rename(columns={"year": "cohort", "measure": "outcome"})


def fsm_attainment(
    pupils: pd.DataFrame,
    by: str | Iterable[str] = ("school_id",),
    outcomes: str | Iterable[str] | None = None,
    schools: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Attainment of FSM and non-FSM pupils and the gap, per group and outcome.

    Parameters
    ----------
    pupils : pandas.DataFrame
        The pupils table (not modified).
    by : str or sequence of str
        Grouping keys: pupil columns (``school_id``, ``cohort``, ``phase``, ...) or school
        columns (``cluster``, ``role``, ``la``, ...; then pass ``schools``). ``()`` pools all.
        Pupils whose key is blank (e.g. a school in no cluster) form their own group, so no
        pupil is dropped.
    outcomes : str or sequence of str, optional
        Outcome columns; by default every outcome of the phases present. Each phase only
        contributes its own outcomes (``OUTCOMES``).
    schools : pandas.DataFrame, optional
        The schools table, needed when ``by`` names a school column.

    Returns
    -------
    pandas.DataFrame
        One row per group, phase and outcome: keys, ``phase``, ``outcome``, ``units``
        (``percent`` for thresholds, ``points`` for point scores), ``fsm_value``,
        ``non_fsm_value``, ``overall_value``, ``gap`` (non-FSM minus FSM, so positive when FSM
        pupils are behind, as in the national statistics), ``n_fsm``, ``n_non_fsm``, ``n``
        (pupils with the outcome observed), ``n_missing`` (pupils of the group without it) and
        ``national_fsm``, ``national_non_fsm``, ``national_overall``, ``national_gap`` where a
        published figure exists for the outcome and year (the year is the row's ``cohort`` when
        grouped by cohort, otherwise the pupils' only cohort; NaN when cohorts are pooled).

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"school_id": ["a"] * 4, "cohort": 2010, "phase": "primary",
    ...                   "fsm": [True, True, False, False], "ks2_l4_em": [1.0, 0.0, 1.0, 1.0]})
    >>> t = fsm_attainment(p, by="school_id", outcomes="ks2_l4_em")
    >>> t[["fsm_value", "non_fsm_value", "gap"]].iloc[0].tolist(), t["n_fsm"].tolist()
    ([50.0, 100.0, 50.0], [2])
    """
    keys = _as_tuple(by)
    wanted = _check_outcomes(outcomes)
    data = _attach(pupils, schools, keys)
    group_keys = [*keys, "phase"] if "phase" not in keys else list(keys)
    split, whole = [], []
    for phase in sorted(data["phase"].dropna().unique()):
        outs = [o for o in OUTCOMES[phase] if (wanted is None or o in wanted) and o in data]
        if not outs:
            continue
        sub = data.loc[data["phase"] == phase, [*group_keys, "fsm", *outs]]
        # as numbers (float64, a missing one NaN: a nullable column gave <NA> in the table),
        # thresholds in percent
        sub = sub.assign(**{o: sub[o].to_numpy(dtype="float64", na_value=np.nan)
                            * (100.0 if o in THRESHOLDS else 1.0) for o in outs})
        # each outcome's column grouped as it is (the pupils by outcome in one long column,
        # grouped with the outcome's name as a key, took 1.5 s of the overall evaluation):
        # the same values in the same order, so the same means
        split.append(_outcome_stats(sub, [*group_keys, "fsm"], outs))
        whole.append(_outcome_stats(sub, group_keys, outs))
    if not split:
        raise NotEstimableError(
            f"no outcome of {wanted if wanted is not None else 'any phase'} for the phases in "
            f"`pupils` ({sorted(data['phase'].dropna().unique())})"
        )
    cols = [*group_keys, "outcome"]
    stats = (pd.concat(split).reorder_levels([*cols, "fsm"]).sort_index()
             .unstack("fsm"))
    overall = pd.concat(whole).sort_index()
    out = pd.DataFrame(index=overall.index)
    for flag, name in ((True, "fsm"), (False, "non_fsm")):
        present = ("mean", flag) in stats.columns
        out[f"{name}_value"] = stats[("mean", flag)] if present else np.nan
        out[f"n_{name}"] = stats[("count", flag)].fillna(0) if present else 0
    out["overall_value"] = overall["mean"]
    out["gap"] = out["non_fsm_value"] - out["fsm_value"]
    out["n"] = overall["count"]
    out["n_missing"] = overall["size"] - overall["count"]
    out[_COUNT_COLUMNS] = out[_COUNT_COLUMNS].astype("int64")
    out = out.reset_index()
    out.insert(len(cols), "units", out["outcome"].map(_units))
    out = _with_national(out, data)
    front = [*group_keys, "outcome", "units"]
    return out[front + _VALUE_COLUMNS + _COUNT_COLUMNS
               + [c for c in out.columns if c.startswith("national_")]]


def _outcome_stats(sub: pd.DataFrame, keys: list[str], outs: list[str]) -> pd.DataFrame:
    """Return each outcome's mean, count (observed) and size (pupils) per group.

    One row per group and outcome (index ``[*keys, "outcome"]``).
    """
    agg = sub.groupby(keys, dropna=False, sort=True)[outs].agg(["mean", "count", "size"])
    agg.columns = agg.columns.set_names(["outcome", None])
    return agg.stack("outcome", future_stack=True)


def _with_national(out: pd.DataFrame, pupils: pd.DataFrame) -> pd.DataFrame:
    nat = _national_lookup()
    if "cohort" in out.columns:
        return out.merge(nat, on=["cohort", "outcome"], how="left")
    cohorts = pupils["cohort"].dropna().unique() if "cohort" in pupils else []
    if len(cohorts) == 1:
        single = nat[nat["cohort"] == cohorts[0]].drop(columns="cohort")
        return out.merge(single, on="outcome", how="left")
    for col in ("national_fsm", "national_non_fsm", "national_overall", "national_gap"):
        out[col] = np.nan
    return out


# --------------------------------------------------------------------------- trends


@dataclass(frozen=True)
class GapTrends:
    """FSM gap trends of groups of schools against national, in the National College form.

    Attributes
    ----------
    measure : str
        The outcome.
    table : pandas.DataFrame
        One row per group and year: ``group, year, overall_value, non_fsm_value, fsm_value,
        gap, n, n_fsm, n_non_fsm, n_missing, n_schools``; the national lines are rows with
        ``group == "National"`` (counts NaN: published figures).
    changes : pandas.DataFrame
        One row per group: first and last year, the change in the overall, non-FSM and FSM
        lines and in the gap (last minus first), and the counts of both years.
    groups : dict
        Group name -> tuple of school ids.
    """

    measure: str
    table: pd.DataFrame
    changes: pd.DataFrame
    groups: Mapping[str, tuple] = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """Return the changes table (one row per group)."""
        return self.changes.copy()

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, float_format=lambda v: f"{v:z.1f}")


def cluster_groups(schools: pd.DataFrame, cluster: str | None = None) -> dict[str, tuple]:
    """Return the three groups of schools compared for a cluster.

    Parameters
    ----------
    schools : pandas.DataFrame
        The schools table.
    cluster : str, optional
        A value of ``schools.cluster``; None for the overall report.

    Returns
    -------
    dict
        ``"<cluster>: trial schools"``, ``"<cluster>: partner schools"`` (each omitted when the
        cluster has none) and ``"All EM schools"`` (every trial school of every cluster) mapped
        to tuples of school ids. Without a cluster: ``"All EM schools"`` and ``"All partner
        schools"``.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"school_id": ["a", "b", "c"], "cluster": ["X", "X", "Y"],
    ...                   "role": ["trial", "partner", "trial"]})
    >>> cluster_groups(s, "X")
    {'X: trial schools': ('a',), 'X: partner schools': ('b',), 'All EM schools': ('a', 'c')}
    """
    trial = tuple(sorted(schools.loc[schools["role"] == "trial", "school_id"]))
    if cluster is None:
        partner = tuple(sorted(schools.loc[schools["role"] == "partner", "school_id"]))
        return {ALL_EM: trial, **({"All partner schools": partner} if partner else {})}
    known = sorted(schools["cluster"].dropna().unique())
    if cluster not in known:
        raise ValueError(f"`cluster` should be one of {known}; got {cluster!r}")
    mine = schools[schools["cluster"] == cluster]
    groups = {
        f"{cluster}: {role} schools": tuple(sorted(mine.loc[mine["role"] == role, "school_id"]))
        for role in ("trial", "partner")
    }
    groups = {k: v for k, v in groups.items() if v}
    groups[ALL_EM] = trial
    return groups


#: :func:`phase_pupils` by (data digest, phase, measure): asked for by every report of a build
#: and by the linked counts.
_PHASE_PUPILS: dict[tuple, tuple[frozenset, pd.DataFrame]] = {}


def phase_pupils(population, phase: str, measure: str) -> tuple[frozenset, pd.DataFrame]:
    """Schools with pupils of ``phase``, and those pupils' columns a gap trend reads.

    ``population`` is a :class:`evaluation.io.Dataset` (every pupil of the data: 780,000 in
    the default data); the result is kept per content of its data, so a process selects the
    rows once whichever report asks.

    Examples
    --------
    >>> from evaluation.synthetic import generate
    >>> ds = generate(seed=1, include_population=False)
    >>> schools, rows = phase_pupils(ds, "primary", "ks2_l4_em")
    >>> list(rows.columns), set(rows["school_id"]) == schools
    (['school_id', 'cohort', 'phase', 'fsm', 'ks2_l4_em'], True)
    """
    key = (population.digest(), phase, measure)
    if key not in _PHASE_PUPILS:
        if len(_PHASE_PUPILS) >= 4:     # two phases of two data sets: population-sized
            _PHASE_PUPILS.pop(next(iter(_PHASE_PUPILS)))
        pupils = population.pupils
        rows = pupils.loc[pupils["phase"] == phase,
                          ["school_id", "cohort", "phase", "fsm", measure]]
        _PHASE_PUPILS[key] = frozenset(rows["school_id"].unique()), rows
    return _PHASE_PUPILS[key]


def gap_trends(
    pupils: pd.DataFrame,
    schools: pd.DataFrame,
    groups: str | Mapping[str, Iterable],
    measure: str,
) -> GapTrends:
    """Overall, non-FSM and FSM attainment per year for groups of schools, against national.

    Parameters
    ----------
    pupils, schools : pandas.DataFrame
        The pupils and schools tables (not modified).
    groups : str or mapping
        A cluster name (then the groups of :func:`cluster_groups`: its trial schools, its
        partner schools and all EM schools), or a mapping group name -> school ids.
    measure : str
        An outcome column, e.g. ``"ks2_l4_em"`` or ``"gcse_5ac_em"`` (national lines exist for
        these two).

    Returns
    -------
    GapTrends

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"school_id": "a", "cohort": [2008, 2008, 2010, 2010],
    ...                   "phase": "primary", "fsm": [True, False] * 2,
    ...                   "ks2_l4_em": [0.0, 1.0, 1.0, 1.0]})
    >>> s = pd.DataFrame({"school_id": ["a"], "cluster": ["X"], "role": ["trial"]})
    >>> gap_trends(p, s, {"A": ["a"]}, "ks2_l4_em").changes["gap_change"].round(1).tolist()
    [-100.0, -0.7]
    """
    _check_outcomes(measure)
    if isinstance(groups, str):
        groups = cluster_groups(schools, groups)
    groups = {str(k): tuple(v) for k, v in groups.items()}
    if not groups:
        raise ValueError("`groups` is empty: give a cluster name or group name -> school ids")
    phase = next(ph for ph, outs in OUTCOMES.items() if measure in outs)
    in_groups = set().union(*groups.values())
    # only the columns read are taken (a national pupil table has every pupil of England)
    pupils = pupils.loc[(pupils["phase"] == phase) & pupils["school_id"].isin(in_groups),
                        ["school_id", "cohort", "phase", "fsm", measure]]
    subs = []
    for name, ids in groups.items():
        sub = pupils[pupils["school_id"].isin(ids)]
        if sub.empty:
            raise NotEstimableError(
                f"group {name!r}: no {phase} pupils (for {measure!r}) in its {len(ids)} schools"
            )
        subs.append(sub.assign(group=name))
    # one grouping for every group (a pupil of two groups counted in each)
    stacked = pd.concat(subs, ignore_index=True)
    table = fsm_attainment(stacked, by=("group", "cohort"), outcomes=measure)
    table["n_schools"] = stacked.groupby(["group", "cohort"])["school_id"].nunique().reindex(
        pd.MultiIndex.from_frame(table[["group", "cohort"]])).to_numpy()
    order = {name: i for i, name in enumerate(groups)}
    table = table.sort_values("group", key=lambda g: g.map(order), kind="stable")
    table = table.reset_index(drop=True).rename(columns={"cohort": "year"})
    nat = _national_lookup()
    nat = nat[(nat["outcome"] == measure) & nat["cohort"].isin(table["year"])]
    if not nat.empty:
        national = pd.DataFrame({
            "group": "National", "year": nat["cohort"].to_numpy(),
            "overall_value": nat["national_overall"].to_numpy(),
            "non_fsm_value": nat["national_non_fsm"].to_numpy(),
            "fsm_value": nat["national_fsm"].to_numpy(),
            "gap": nat["national_gap"].to_numpy(),
        })
        table = pd.concat([table, national], ignore_index=True)
    cols = ["group", "year", "overall_value", "non_fsm_value", "fsm_value", "gap",
            "n", "n_fsm", "n_non_fsm", "n_missing", "n_schools"]
    table = table[cols].astype({c: "Int64" for c in cols[6:]})
    return GapTrends(measure, table, _changes(table), groups)


def _changes(table: pd.DataFrame) -> pd.DataFrame:
    out = []
    for name, g in table.groupby("group", sort=False):
        g = g.sort_values("year")
        first, last = g.iloc[0], g.iloc[-1]
        row = {"group": name, "first_year": int(first["year"]), "last_year": int(last["year"])}
        for col in ("overall_value", "non_fsm_value", "fsm_value", "gap"):
            row[f"{col.removesuffix('_value')}_change"] = last[col] - first[col]
        row["gap_first"], row["gap_last"] = first["gap"], last["gap"]
        for col in ("n_fsm", "n_non_fsm"):
            row[f"{col}_first"], row[f"{col}_last"] = first[col], last[col]
        out.append(row)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- FSM share


@dataclass(frozen=True)
class GapShare:
    """School FSM gaps against the school's FSM share, with a fitted line and band contrast.

    Attributes
    ----------
    measure : str
        The outcome.
    schools : pandas.DataFrame
        One row per school with a gap: ``school_id, fsm_pct, band, fsm_value, non_fsm_value,
        gap, n_fsm, n_non_fsm, weight``.
    bands : pandas.DataFrame
        Per FSM-share band: ``band, n_schools, n_fsm, n_non_fsm, mean_gap, ci_low, ci_high``.
    slope, slope_ci : float, tuple
        Change in the gap per percentage point of FSM share (weighted least squares).
    intercept : float
        Fitted gap at 0% FSM.
    difference, difference_ci : float, tuple
        Mean gap of ">18%" schools minus that of "<5%" schools (negative: smaller gaps).
    excluded : dict
        Schools left out and why (no FSM pupil, no non-FSM pupil with the outcome).
    fit : statsmodels RegressionResults
        The fitted line.
    """

    measure: str
    schools: pd.DataFrame
    bands: pd.DataFrame
    slope: float
    slope_ci: tuple[float, float]
    intercept: float
    difference: float
    difference_ci: tuple[float, float]
    excluded: Mapping[str, int]
    fit: RegressionResultsWrapper = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """One row per statistic: slope, band means and the >18% minus <5% difference."""
        rows = [{"statistic": "slope (gap points per FSM % point)", "estimate": self.slope,
                 "ci_low": self.slope_ci[0], "ci_high": self.slope_ci[1],
                 "n_schools": len(self.schools)}]
        for b in self.bands.itertuples():
            rows.append({"statistic": f"mean gap, FSM {b.band}", "estimate": b.mean_gap,
                         "ci_low": b.ci_low, "ci_high": b.ci_high, "n_schools": b.n_schools})
        rows.append({"statistic": "difference (>18% minus <5%)", "estimate": self.difference,
                     "ci_low": self.difference_ci[0], "ci_high": self.difference_ci[1],
                     "n_schools": int(self.bands.loc[self.bands["band"].isin(["<5%", ">18%"]),
                                                     "n_schools"].sum())})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, float_format=lambda v: f"{v:z.2f}")


def _band(pct: pd.Series) -> pd.Series:
    out = pd.Series(pd.NA, index=pct.index, dtype="object")
    for label, (low, high) in FSM_BANDS.items():
        inside = (pct > low) & (pct < high) if label != "5-18%" else (pct >= low) & (pct <= high)
        out[inside] = label
    return out


def _wls(y, x, w, alpha):
    res = WLS(np.asarray(y, float), np.asarray(x, float), weights=np.asarray(w, float)).fit()
    return res, res.conf_int(alpha)


def gap_vs_fsm_share(
    pupils: pd.DataFrame,
    schools: pd.DataFrame,
    measure: str,
    cohort: int | None = None,
    alpha: float = 0.05,
) -> GapShare:
    """Each school's FSM gap against its FSM share: fitted line and the >18% vs <5% contrast.

    The school gap (non-FSM minus FSM) is noisier the fewer FSM or non-FSM pupils it rests
    on, so schools are weighted by ``n_fsm * n_non_fsm / (n_fsm + n_non_fsm)``, the inverse of
    the sampling-variance factor of a difference of two means. The line is a weighted least
    squares fit of the gap on ``fsm_pct`` (the schools table's FSM share); band means and the
    band difference come from weighted least squares on band indicators (CIs use the
    residual spread between schools).

    Parameters
    ----------
    pupils, schools : pandas.DataFrame
        The pupils and schools tables (not modified).
    measure : str
        An outcome column.
    cohort : int, optional
        One cohort; by default all cohorts are pooled within each school.
    alpha : float
        1 - confidence level.

    Returns
    -------
    GapShare

    Raises
    ------
    NotEstimableError
        When fewer than 3 schools have a gap, or the "<5%" or ">18%" band is empty.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rows = [(s, f, v) for s, gap in zip("abcdef", [20, 18, 16, 12, 10, 8])
    ...         for f, v in [(True, 100 - gap), (False, 100)] for _ in range(2)]
    >>> p = pd.DataFrame(rows, columns=["school_id", "fsm", "ks2_aps"]).assign(
    ...     phase="primary", cohort=2010)
    >>> s = pd.DataFrame({"school_id": list("abcdef"), "fsm_pct": [2, 3, 4, 20, 25, 30]})
    >>> round(gap_vs_fsm_share(p, s, "ks2_aps").difference, 6)
    -8.0
    """
    _check_outcomes(measure)
    data = pupils if cohort is None else pupils[pupils["cohort"] == cohort]
    if data.empty:
        raise NotEstimableError(f"no pupils in cohort {cohort!r}")
    t = fsm_attainment(data, by="school_id", outcomes=measure)
    has_gap = (t["n_fsm"] > 0) & (t["n_non_fsm"] > 0)
    excluded = {
        "no FSM pupil with the outcome": int((t["n_fsm"] == 0).sum()),
        "no non-FSM pupil with the outcome": int(((t["n_non_fsm"] == 0) & (t["n_fsm"] > 0)).sum()),
    }
    t = t[has_gap].merge(schools[["school_id", "fsm_pct"]], on="school_id", how="left")
    excluded["not in schools table"] = int(t["fsm_pct"].isna().sum())
    t = t[t["fsm_pct"].notna()]
    if len(t) < 3:
        raise NotEstimableError(f"{len(t)} schools have an FSM gap for {measure!r}; need 3")
    table = t[["school_id", "fsm_pct", "fsm_value", "non_fsm_value", "gap", "n_fsm",
               "n_non_fsm"]].reset_index(drop=True)
    table.insert(2, "band", _band(table["fsm_pct"]))
    table["weight"] = table["n_fsm"] * table["n_non_fsm"] / (table["n_fsm"] + table["n_non_fsm"])
    fit, ci = _wls(table["gap"], add_constant(table["fsm_pct"].to_numpy()), table["weight"],
                   alpha)
    bands = []
    for label in FSM_BANDS:
        b = table[table["band"] == label]
        row = {"band": label, "n_schools": len(b), "n_fsm": int(b["n_fsm"].sum()),
               "n_non_fsm": int(b["n_non_fsm"].sum()), "mean_gap": np.nan,
               "ci_low": np.nan, "ci_high": np.nan}
        if len(b) >= 2:
            res, bci = _wls(b["gap"], np.ones((len(b), 1)), b["weight"], alpha)
            row.update(mean_gap=res.params[0], ci_low=bci[0, 0], ci_high=bci[0, 1])
        elif len(b) == 1:
            row["mean_gap"] = float(b["gap"].iloc[0])
        bands.append(row)
    bands = pd.DataFrame(bands)
    two = table[table["band"].isin(["<5%", ">18%"])]
    counts = two["band"].value_counts()
    if counts.get("<5%", 0) == 0 or counts.get(">18%", 0) == 0 or len(two) < 3:
        raise NotEstimableError(
            f"the band comparison needs schools under 5% and over 18% FSM (3 in all); got "
            f"{counts.get('<5%', 0)} and {counts.get('>18%', 0)}"
        )
    x = np.column_stack([np.ones(len(two)), (two["band"] == ">18%").to_numpy(float)])
    dres, dci = _wls(two["gap"], x, two["weight"], alpha)
    return GapShare(
        measure=measure, schools=table, bands=bands,
        slope=float(fit.params[1]), slope_ci=(float(ci[1, 0]), float(ci[1, 1])),
        intercept=float(fit.params[0]),
        difference=float(dres.params[1]), difference_ci=(float(dci[1, 0]), float(dci[1, 1])),
        excluded=excluded, fit=fit,
    )

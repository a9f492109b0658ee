"""One school's report result: groups' results and gaps over the years, place among schools."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from evaluation.exceptions import DataError
from evaluation.gaps.published import gaps_withheld
from evaluation.plan import Plan
from evaluation.schools.data import SchoolData, load_schools, published_difference
from evaluation.schools.similar import SimilarSchools, similar_schools

#: Measures placed among schools: column -> (label, True when higher is better).
PLACED = {"att8_dis": ("Attainment 8, disadvantaged pupils", True),
          "att8_gap": ("Attainment 8 gap (other minus disadvantaged)", False),
          "p8_dis": ("Progress 8, disadvantaged pupils", True),
          "p8_gap": ("Progress 8 gap (other minus disadvantaged)", False),
          "dest_gap": ("Sustained destinations gap, latest year (pp)", False)}
ALPHA = 0.05


@dataclass(frozen=True)
class SchoolResult:
    """A school's report: results of disadvantaged and other pupils, gaps, place among schools.

    Attributes
    ----------
    urn, name, la, phase : str
    profile : pandas.Series
        The school's row of ``SchoolData.schools`` (size, shares, prior attainment).
    attainment : pandas.DataFrame
        ``measure, dis, other, gap, status``: Attainment 8 and Progress 8 as published (the
        table publishes no cohort counts or spreads, so these carry no interval).
    destinations : pandas.DataFrame
        One row per year: ``year, n_dis, rate_dis, dis_lower, dis_upper, n_other, rate_other,
        other_lower, other_upper, gap, gap_lower, gap_upper`` (percent; Wilson score intervals
        for each group's rate and Newcombe's hybrid score interval for the gap, 95%, from the
        published counts), and those counts, ``k_dis, k_other``, for the withholding rule.
    place : pandas.DataFrame
        One row per measure of ``PLACED``: ``measure, value, all_median, all_rank, all_n,
        similar_median, similar_rank, similar_n`` (rank 1 = best; among similar schools the
        school itself is counted).
    similar : pandas.DataFrame
        The similar schools: ``urn, name, la, pupils, share_dis, prior_low, prior_high,
        att8_gap, distance``.
    plan : Plan
        Disclosure threshold and marker.
    status : str
        ``ok`` or ``not estimable`` (no gap of any kind published for the school).
    """

    urn: str
    name: str
    la: str
    phase: str
    profile: pd.Series = field(repr=False)
    attainment: pd.DataFrame = field(repr=False)
    destinations: pd.DataFrame = field(repr=False)
    place: pd.DataFrame = field(repr=False)
    similar: pd.DataFrame = field(repr=False)
    plan: Plan = field(repr=False)
    status: str = "ok"
    k: int = 20
    sources: tuple = ()

    scope = "school"

    @property
    def title(self) -> str:
        """The school's name."""
        return self.name

    def summary(self) -> pd.DataFrame:
        """Return the headline table: each measure of ``PLACED`` with its place among schools."""
        return self.place

    def _repr_html_(self) -> str:
        return f"<p>{self.name} (URN {self.urn})</p>" + self.place.to_html(index=False)


def wilson(k, n, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (percent) of ``k`` successes out of ``n`` (statsmodels).

    Examples
    --------
    >>> [round(float(v[0]), 1) for v in wilson(np.array([9.0]), np.array([10.0]))]
    [59.6, 98.2]
    """
    k, n = np.asarray(k, float), np.asarray(n, float)
    ok = (n > 0) & np.isfinite(k) & np.isfinite(n)
    low, upp = np.full(k.shape, np.nan), np.full(k.shape, np.nan)
    if ok.any():
        lo, up = proportion_confint(k[ok], n[ok], alpha=alpha, method="wilson")
        low[ok], upp[ok] = 100 * lo, 100 * up
    return low, upp


def _destinations(dest: pd.DataFrame) -> pd.DataFrame:
    d = dest.drop(columns="urn").reset_index(drop=True).astype(float)
    # counts where published, else recovered from the rounded rate and the cohort
    for g in ("dis", "other"):
        k = d[f"k_{g}"].where(d[f"k_{g}"].notna(), np.round(d[f"rate_{g}"] * d[f"n_{g}"] / 100))
        d[f"k_{g}"] = k
        d[f"{g}_lower"], d[f"{g}_upper"] = wilson(k, d[f"n_{g}"])
    d["gap"] = published_difference(d["rate_other"], d["rate_dis"])
    d[["gap_lower", "gap_upper"]] = np.nan
    ok = d[["k_dis", "n_dis", "k_other", "n_other", "gap"]].notna().all(axis=1) \
        & (d["n_dis"] > 0) & (d["n_other"] > 0)
    if ok.any():
        low, upp = confint_proportions_2indep(
            d.loc[ok, "k_other"].to_numpy(), d.loc[ok, "n_other"].to_numpy(),
            d.loc[ok, "k_dis"].to_numpy(), d.loc[ok, "n_dis"].to_numpy(),
            method="newcomb", alpha=ALPHA)
        d.loc[ok, "gap_lower"], d.loc[ok, "gap_upper"] = 100 * low, 100 * upp
    d["year"] = d["year"].astype(int)
    # k_*: the counts the intervals rest on, for the withholding rule (never shown)
    return d[["year", "n_dis", "rate_dis", "dis_lower", "dis_upper", "n_other", "rate_other",
              "other_lower", "other_upper", "gap", "gap_lower", "gap_upper", *DEST_COUNT_COLUMNS]]


#: The counts with a sustained destination (published, or read off the rate): the withholding
#: rule checks them; no table shows them.
DEST_COUNT_COLUMNS = ("k_dis", "k_other")
#: A destinations row's rates rest on these group sizes (a rate of n gives pupils with, and
#: without, a sustained destination).
DEST_RATE_SIZES = (("rate_dis", "n_dis"), ("rate_other", "n_other"))


def destination_gap_shown(d: pd.DataFrame, threshold: int) -> np.ndarray:
    """Whether each destinations row's gap is shown: the one rule of every report.

    Enough pupils in both groups, and no rate giving fewer than ``threshold`` pupils with,
    or without, a sustained destination. A school's own table, summary, findings and index
    entry follow it, and so does every school's place among the others: a median or a rank
    over gaps their own reports hide would be a statistic resting on hidden counts (fifth
    review of issue 14).

    Examples
    --------
    >>> d = pd.DataFrame({"n_dis": [24, 30, 5], "rate_dis": [50.0, 90.0, 60.0],
    ...                   "n_other": [100, 100, 100], "rate_other": [80.0, 95.0, 80.0]})
    >>> destination_gap_shown(d, 10).tolist()   # 90% of 30 leaves 3 without one
    [True, False, False]
    """
    # the published-gaps rule (gaps_withheld), under the destinations' column names; and a
    # gap needs both groups' pupils and rates
    withheld = gaps_withheld(d.rename(columns={"n_dis": "n_group", "rate_dis": "rate_group",
                                               "k_dis": "k_group"}), threshold, "pp")
    gap = d["rate_other"] - d["rate_dis"]
    present = (d["n_dis"] > 0) & (d["n_other"] > 0) & gap.notna()
    return (present & ~withheld).to_numpy(dtype=bool)


def _rank(values: pd.Series, value: float, higher_better: bool) -> int:
    """1 + the number of schools strictly better than ``value``."""
    better = values > value if higher_better else values < value
    return int(better.sum()) + 1


_SHARED: dict = {}


def _shared(data: SchoolData, k: int, threshold: int) -> tuple[pd.DataFrame, SimilarSchools]:
    """Return the all-schools measures and the similar-schools table, once per data.

    A school's destinations gap counts among the others only where its own report shows it
    (:func:`destination_gap_shown`).
    """
    key = (id(data), k, threshold)
    if key not in _SHARED:
        table = data.schools.copy()
        latest = data.destinations.sort_values("year").groupby("urn").tail(1).set_index("urn")
        gap = published_difference(latest["rate_other"], latest["rate_dis"]).where(
            destination_gap_shown(latest, threshold))
        table["dest_gap"] = gap.reindex(table.index)
        _SHARED.clear()
        _SHARED[key] = (table, similar_schools(data.schools, k=k))
    return _SHARED[key]


def _place(table: pd.DataFrame, urn: str, peers: list[str]) -> pd.DataFrame:
    rows = []
    group = table.loc[[urn, *peers]]
    for col, (label, higher) in PLACED.items():
        v = table.at[urn, col]
        all_vals, sim_vals = table[col].dropna(), group[col].dropna()
        est = pd.notna(v)
        rows.append({"measure": label, "value": v,
                     "all_median": all_vals.median(), "all_rank": _rank(all_vals, v, higher)
                     if est else np.nan, "all_n": len(all_vals),
                     "similar_median": sim_vals.median() if len(sim_vals) else np.nan,
                     "similar_rank": _rank(sim_vals, v, higher) if est else np.nan,
                     "similar_n": len(sim_vals)})
    return pd.DataFrame(rows)


def evaluate_school(urn: str | int, plan: Plan, published_dir=None, k: int = 20,
                    data: SchoolData | None = None) -> SchoolResult:
    """Analyse one school: its groups' results and gaps with intervals, its place among schools.

    Parameters
    ----------
    urn : str or int
        The school's unique reference number.
    plan : Plan
        The analysis plan (disclosure rules).
    published_dir : path, optional
        Folder of published sources (default ``config.published_dir()``).
    k : int
        Number of similar schools.
    data : SchoolData, optional
        Already-read data (default :func:`evaluation.schools.load_schools`, cached).

    Returns
    -------
    SchoolResult

    Raises
    ------
    DataError
        The URN is not a school of the file.

    Examples
    --------
    >>> from evaluation.plan import load_plan
    >>> evaluate_school(100049, load_plan()).name  # doctest: +SKIP
    'Haverstock School'
    """
    data = data if data is not None else load_schools(published_dir)
    urn = str(urn).strip()
    if urn not in data.schools.index:
        raise DataError(f"{data.sources[0] if data.sources else 'school file'}: column 'URN': "
                        f"no school {urn!r} among its {len(data.schools):,} schools")
    table, similar = _shared(data, k, plan.threshold)
    peers = similar.of(urn)
    row = data.schools.loc[urn]
    att = pd.DataFrame([
        {"measure": "Attainment 8", "dis": row["att8_dis"], "other": row["att8_other"],
         "gap": row["att8_gap"]},
        {"measure": "Progress 8", "dis": row["p8_dis"], "other": row["p8_other"],
         "gap": row["p8_gap"]},
    ])
    codes = data.codes.loc[urn] if urn in data.codes.index else pd.Series(dtype=object)
    att["status"] = [
        "published" if pd.notna(r["gap"]) else
        "not published (" + ", ".join(sorted({str(codes.get(c)) for c in cols
                                               if codes.get(c) is not None})) + ")"
        for r, cols in zip(att.to_dict("records"),
                           [("att8_dis", "att8_other"), ("p8_dis", "p8_other")], strict=True)]
    att["status"] = att["status"].str.replace(" ()", "", regex=False)
    dest = _destinations(data.destinations[data.destinations["urn"] == urn])
    sim = table.loc[peers, ["name", "la", "pupils", "share_dis", "prior_low", "prior_high",
                            "att8_gap"]].reset_index()
    if peers:
        sim["distance"] = list(similar.neighbours.at[urn, "distances"])
    else:
        sim["distance"] = pd.Series(dtype=float)
    estimable = att["gap"].notna().any() or dest["gap"].notna().any()
    return SchoolResult(urn, str(row["name"]), str(row["la"]), str(row["phase"]), row, att,
                        dest, _place(table, urn, peers), sim, plan,
                        "ok" if estimable else "not estimable", k, data.sources)

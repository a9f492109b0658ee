"""One school's report result: groups' results and gaps over the years, place among schools."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from evaluation.disclosure import format_value, row_decimals
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
    year : str
        The performance table's academic year ("" where not known).
    among : str
        The schools it is ranked among, in words (:attr:`SchoolData.among`).
    la_named : bool
        Whether ``la`` is the local authority's name (else ``LA <code>``: the file has no name).
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
    year: str = ""
    among: str = ""
    la_named: bool = True

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


#: Decimals the place table shows each figure to (the page, and the key of what it shows).
PLACE_DECIMALS = {"all_median": 2, "similar_median": 2}
#: Decimals a school's own figure is shown to, by measure: as the performance tables publish
#: them (Attainment 8 to one, Progress 8 to two), a destinations gap to one as its table
#: shows it; the page's sentences and the index give them so (review 20: "17.30" in the
#: tables, "17.3" in the sentences and the index).
MEASURE_DECIMALS = {"Attainment 8": 1, "Progress 8": 2, PLACED["att8_dis"][0]: 1,
                    PLACED["att8_gap"][0]: 1, PLACED["p8_dis"][0]: 2, PLACED["p8_gap"][0]: 2,
                    PLACED["dest_gap"][0]: 1}


def published_places(frame: pd.DataFrame) -> list[int]:
    """Return each row's decimal places, by its ``measure`` (:data:`MEASURE_DECIMALS`).

    Examples
    --------
    >>> published_places(pd.DataFrame({"measure": ["Attainment 8", "Progress 8"]}))
    [1, 2]
    """
    return [MEASURE_DECIMALS[m] for m in frame["measure"]]


def place_decimals(place: pd.DataFrame) -> dict:
    """Decimals of the place table's columns: the school's own figure as published."""
    return {**PLACE_DECIMALS, "value": published_places(place)}


#: Decimals the similar-schools table shows each figure to.
SIMILAR_DECIMALS = {"share_dis": 0, "prior_low": 0, "prior_high": 0, "att8_gap": 1,
                    "distance": 2}
#: Columns of the similar-schools table (``SchoolResult.similar``, besides ``distance``).
SIMILAR_COLUMNS = ("name", "la", "pupils", "share_dis", "prior_low", "prior_high", "att8_gap")


@dataclass(frozen=True)
class _Shared:
    """What every school's page takes from all schools, worked out once per data."""

    data: SchoolData
    table: pd.DataFrame      # one row per school: its measures of PLACED
    similar: SimilarSchools
    place: pd.DataFrame      # index urn, one row per school and measure of PLACED
    peers: pd.DataFrame      # index urn (the school), one row per similar school
    shown: dict = field(default_factory=dict)   # urn -> what it shows from others, as text


_SHARED: dict = {}


def _shared(data: SchoolData, k: int, threshold: int) -> _Shared:
    """Return the all-schools measures, places and similar schools, once per data.

    A school's destinations gap counts among the others only where its own report shows it
    (:func:`destination_gap_shown`).
    """
    key = (id(data), k, threshold)
    # the entry holds its data: an id is reused once its object is freed
    if key not in _SHARED or _SHARED[key].data is not data:
        table = data.schools.copy()
        latest = data.destinations.sort_values("year").groupby("urn").tail(1).set_index("urn")
        gap = published_difference(latest["rate_other"], latest["rate_dis"]).where(
            destination_gap_shown(latest, threshold))
        table["dest_gap"] = gap.reindex(table.index)
        similar = similar_schools(data.schools, k=k)
        _SHARED.clear()
        _SHARED[key] = _Shared(data, table, similar, _places(table, similar),
                               _peers(table, similar))
    return _SHARED[key]


def _places(table: pd.DataFrame, similar: SimilarSchools) -> pd.DataFrame:
    """Place every school among all schools and among itself and its similar schools.

    Rank = 1 + the number of schools strictly better (equal values share a rank: pandas
    ``rank(method="min")``); medians and ranks over the values with a figure.
    """
    urns = table.index.to_numpy()
    pos = pd.Series(np.arange(len(urns)), index=table.index)
    width = 1 + max((len(u) for u in similar.neighbours["urns"]), default=0)
    group = np.full((len(urns), width), -1)
    group[:, 0] = np.arange(len(urns))
    for urn, peers in similar.neighbours["urns"].items():
        group[pos[urn], 1:1 + len(peers)] = pos[list(peers)].to_numpy()
    frames = []
    for col, (label, higher) in PLACED.items():
        v = table[col].to_numpy(dtype=float)
        known = np.sort(v[~np.isnan(v)])
        better = (len(known) - np.searchsorted(known, v, "right") if higher
                  else np.searchsorted(known, v, "left"))
        g = np.where(group >= 0, v[np.maximum(group, 0)], np.nan)
        sim_n = (~np.isnan(g)).sum(axis=1)
        with np.errstate(invalid="ignore"):
            sim_better = (g > v[:, None] if higher else g < v[:, None]).sum(axis=1)
        sim_median = np.full(len(v), np.nan)
        some = sim_n > 0
        sim_median[some] = np.nanmedian(g[some], axis=1)
        est = ~np.isnan(v)
        frames.append(pd.DataFrame({
            "order": len(frames), "measure": label, "value": v,
            "all_median": np.median(known) if len(known) else np.nan,
            "all_rank": np.where(est, better + 1, np.nan), "all_n": len(known),
            "similar_median": sim_median, "similar_rank": np.where(est, sim_better + 1, np.nan),
            "similar_n": sim_n}, index=table.index))
    return pd.concat(frames).sort_values(["urn", "order"], kind="stable").drop(columns="order")


def _peers(table: pd.DataFrame, similar: SimilarSchools) -> pd.DataFrame:
    """Every school's similar schools (nearest first) with their figures and distances."""
    nb = similar.neighbours
    long = pd.DataFrame({"school": np.repeat(nb.index.to_numpy(), nb["urns"].map(len)),
                         "urn": [u for us in nb["urns"] for u in us],
                         "distance": [d for ds in nb["distances"] for d in ds]})
    out = long.join(table[list(SIMILAR_COLUMNS)], on="urn")
    return out[["school", "urn", *SIMILAR_COLUMNS, "distance"]].set_index("school")


def _rows(frame: pd.DataFrame, urn: str) -> pd.DataFrame:
    """One school's rows of a frame indexed by school (none: an empty frame)."""
    return frame.loc[[urn]].reset_index(drop=True) if urn in frame.index \
        else frame.iloc[:0].reset_index(drop=True)


def _as_shown(frame: pd.DataFrame, decimals: dict) -> pd.Series:
    """Return each row of a table as text, each figure as the page prints it (its decimals)."""
    out = frame.astype(object).where(frame.notna(), None)
    for col in decimals:         # as the tables write them (one formatter for both)
        out[col] = [None if v is None else format_value(float(v), n)
                    for v, n in zip(out[col], row_decimals(decimals, col, len(out)),
                                    strict=True)]
    return pd.Series(["|".join(map(str, r)) for r in out.itertuples(index=False)],
                     index=frame.index, dtype=object)


def shown_from_others(data: SchoolData, urn: str, k: int = 20,
                      threshold: int | None = None) -> str:
    """Return what a school's page shows that rests on other schools, as the page prints it.

    Its place among schools (its ranks, the medians, the numbers of schools ranked) and its
    similar schools with their figures and distances, each at the decimals printed. A school
    report's key covers this (:meth:`SchoolData.input_hash`), so that a change to one school
    re-renders exactly the pages whose shown numbers change (review 17, A1). Worked out for
    every school at once, on the first call for a data set.

    Parameters
    ----------
    data : SchoolData
    urn : str
    k : int
        Number of similar schools.
    threshold : int, optional
        The disclosure threshold (default: the analysis plan's).

    Returns
    -------
    str
        One line per row of its place and similar-schools tables (cells as printed).

    Examples
    --------
    >>> from evaluation.schools import load_schools
    >>> shown_from_others(load_schools(), "100049").splitlines()[1]  # doctest: +SKIP
    'Attainment 8 gap (other minus disadvantaged)|10.80|11.90|1195.0|2928|9.60|12.0|21'
    """
    if threshold is None:
        from evaluation.plan import load_plan

        threshold = load_plan().threshold
    shared = _shared(data, k, threshold)
    if not shared.shown:
        text = pd.concat([_as_shown(shared.place, place_decimals(shared.place)),
                          _as_shown(shared.peers, SIMILAR_DECIMALS)])
        shared.shown.update(text.groupby(level=0, sort=False).agg("\n".join))
    return shared.shown.get(urn, "")


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
    shared = _shared(data, k, plan.threshold)
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
                                               if pd.notna(codes.get(c))})) + ")"
        for r, cols in zip(att.to_dict("records"),
                           [("att8_dis", "att8_other"), ("p8_dis", "p8_other")], strict=True)]
    att["status"] = att["status"].str.replace(" ()", "", regex=False)
    dest = _destinations(data.destinations[data.destinations["urn"] == urn])
    estimable = att["gap"].notna().any() or dest["gap"].notna().any()
    return SchoolResult(urn, str(row["name"]), str(row["la"]), str(row["phase"]), row, att,
                        dest, _rows(shared.place, urn), _rows(shared.peers, urn), plan,
                        "ok" if estimable else "not estimable", k, data.sources, data.year,
                        data.among, data.la_named)

"""Disadvantage / FSM gaps on the DfE's published files: per school or LA, spread, and FSM share."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import t as t_dist
from statsmodels.regression.linear_model import WLS, RegressionResultsWrapper
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.tools.tools import add_constant

from evaluation.disclosure import rates_revealing_counts
from evaluation.exceptions import DataError, NotEstimableError
from evaluation.io.dfe import (
    EESTable,
    PerformanceTable,
    PublishedSource,
    ReleaseTable,
    ees_release,
    published_sources,
    read_published,
)
from evaluation.io.dfe import (
    reason as _reason,
)
from evaluation.numbers import signed

#: Share bands of the source documents' comparison (">18%" FSM against "<5%": about 10 points
#: smaller gap); label -> (lower, upper] in percent.
SHARE_BANDS = {"<5%": (-np.inf, 5.0), "5-18%": (5.0, 18.0), ">18%": (18.0, np.inf)}
#: Performance-table column forms of a measure ``{m}`` for (disadvantaged, other), tried in
#: order (case-insensitive): KS2 suffixes, KS4 suffixes, KS4 prefix forms, destinations.
PT_RATE_FORMS = (("{m}_FSM6CLA1A", "{m}_NotFSM6CLA1A"), ("{m}_FSM6CLA1A", "{m}_NFSM6CLA1A"),
                 ("PTFSM6CLA1A{m}", "PTNOTFSM6CLA1A{m}"), ("{m}_DIS", "{m}_NONDIS"))
#: Pupil counts of (disadvantaged, other), tried in order (case-insensitive).
PT_COUNT_FORMS = (("TFSM6CLA1A", "TNOTFSM6CLA1A"), ("COHORT_DIS", "COHORT_NONDIS"))
#: Counts of pupils reaching a measure ``{m}PER`` (a percentage), where the file gives them:
#: destinations (``OVERALL_DEST_DIS`` beside ``OVERALL_DESTPER_DIS``).
PT_REACH_FORMS = (("{b}_DIS", "{b}_NONDIS"),)
#: Measure analysed when none is given, per layout.
DEFAULT_MEASURES = {"performance_tables": "PTRWM_EXP", "sfr_counts": "KS4_LEVEL2_EM",
                    "ees_long": "l2basics_94", "ees": "rwm_met_expected_standard"}
#: Row levels that are never units of a school-level summary: drawn as reference lines.
AGGREGATE_LEVELS = ("LA", "region", "national")
UNIT_COLUMNS = ["unit", "name", "level", "n_group", "n_other", "rate_group", "rate_other", "gap",
                "gap_lower", "gap_upper", "gap_shrunk", "share", "status"]
#: Columns a unit table keeps for the analysis, never shown: the published counts reaching
#: the measure (NaN where the file gives none) and the gap's sampling variance.
INTERNAL_COLUMNS = ["k_group", "k_other", "_var"]
#: How the summary across units is fitted: with each unit's sampling variance (percentages
#: with cohort counts), or with units weighted equally (mean scores such as Attainment 8, or
#: files without cohort counts: no sampling variance can be known).
RANDOM_EFFECTS = "random effects (DerSimonian-Laird)"
EQUAL_WEIGHTS = "units weighted equally (no cohort counts or a mean score: no sampling variance)"
#: (rate, group size) of each group of a unit: a rate of n pupils gives a count.
RATE_SIZES = (("rate_group", "n_group"), ("rate_other", "n_other"))


def gaps_withheld(table: pd.DataFrame, threshold: int, unit: str = "pp") -> pd.Series:
    """Whether each unit's gap is withheld: the one rule of every report of published gaps.

    A group of 1 to ``threshold - 1`` pupils, or (percentages) a rate that may give fewer
    than ``threshold`` pupils reaching the measure, or not, at the rate's rounding, or such a
    published count (``k_group``, ``k_other``), withholds the unit's rates and gap
    (:func:`evaluation.disclosure.rates_revealing_counts`). A unit without counts (a file
    that publishes none) is judged by nothing it does not publish.

    Parameters
    ----------
    table : pandas.DataFrame
        ``n_group, n_other, rate_group, rate_other`` per unit (:attr:`UnitGaps.table`).
    threshold : int
        The disclosure threshold.
    unit : str
        ``"pp"`` (rates: their counts are checked) or ``"points"``.

    Returns
    -------
    pandas.Series
        Boolean, indexed like ``table``.

    Examples
    --------
    >>> t = pd.DataFrame({"n_group": [24, 30, 5], "rate_group": [50.0, 90.0, 60.0],
    ...                   "n_other": [100, 100, 100], "rate_other": [80.0, 95.0, 80.0]})
    >>> gaps_withheld(t, 10).tolist()   # 90% of 30 leaves 3 not reaching it; 5 pupils
    [False, True, True]
    """
    small = pd.Series(False, index=table.index)
    for _, n in RATE_SIZES:
        if n in table:
            size = table[n].astype("float64")
            small |= (size > 0) & (size < threshold)
    if unit == "pp" and "rate_group" in table:
        small |= np.asarray(rates_revealing_counts(
            table, RATE_SIZES, ["rate_group"], threshold,
            counts={"rate_group": "k_group", "rate_other": "k_other"})["rate_group"], dtype=bool)
    return small


def _tidy_html(title: str, frame: pd.DataFrame) -> str:
    return f"<h4>{html.escape(title)}</h4>" + frame.to_html(index=False, border=0,
                                                            float_format="{:z.1f}".format)


# --------------------------------------------------------------------------- unit gaps
@dataclass(frozen=True)
class UnitGaps:
    """Gaps between a group (disadvantaged / FSM) and other pupils, one row per school or LA.

    Attributes
    ----------
    table : pandas.DataFrame
        ``unit, name, level, n_group, n_other, rate_group, rate_other, gap`` (other minus group,
        percentage points), ``gap_lower, gap_upper`` (95% Newcombe interval),
        ``gap_shrunk`` (empirical-Bayes estimate), ``share`` (% of pupils in the group),
        ``status`` (what was published for each group, codes spelled out). Every unit of the
        file is a row, suppressed ones included (with NaN gaps).
    reference : pandas.DataFrame
        The same columns for the LA / regional / national rows.
    group, unit_label, measure_label : str
        E.g. ``"disadvantaged"``, ``"school"``, ``"reaching the expected standard in RWM"``.
    unit_plural : str
        E.g. ``"schools"``, ``"local authorities"``.
    tau : float
        Estimated SD of true gaps between units (DerSimonian-Laird); NaN when the units are
        weighted equally (no sampling variance to separate from true spread).
    mean, mean_lower, mean_upper : float
        Mean gap and its 95% interval, fitted on the units only: random effects, or (units
        weighted equally) the mean of the units' gaps with a t interval.
    excluded : int
        Rows neither units nor references (special schools), counted and left out.
    unit : str
        ``"pp"`` (percentage points, for percentages) or ``"points"`` (mean scores such as
        Attainment 8).
    method : str
        :data:`RANDOM_EFFECTS` or :data:`EQUAL_WEIGHTS`.
    share_label : str
        What ``share`` is when not the file's own share of the group (e.g. the census's
        FSM-ever share); empty otherwise.
    threshold : int or None
        The disclosure threshold the summary was made safe for (:meth:`withholding`); None
        for a summary of every unit with both figures.
    left_out : int
        Units with both figures left out of the summary: their gaps are withheld and, being
        fewer than ``threshold``, a summary of them with the shown ones would give one away.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES, read_performance_tables
    >>> g = unit_gaps(read_performance_tables(FIXTURES / "2021-2022_999_ks2final.csv"))
    >>> int(g.table["gap"].notna().sum()), g.excluded
    (3, 1)
    """

    table: pd.DataFrame = field(repr=False)
    reference: pd.DataFrame = field(repr=False)
    group: str
    unit_label: str
    measure_label: str
    unit_plural: str
    tau: float
    mean: float
    mean_lower: float
    mean_upper: float
    excluded: int = 0
    unit: str = "pp"
    method: str = RANDOM_EFFECTS
    share_label: str = ""
    threshold: int | None = None
    left_out: int = 0

    @property
    def unit_words(self) -> str:
        """``percentage points`` or ``points``, for sentences."""
        return "percentage points" if self.unit == "pp" else "points"

    @property
    def estimable(self) -> pd.DataFrame:
        """Units with both rates published."""
        return self.table[self.table["gap"].notna()]

    @property
    def summarised(self) -> pd.DataFrame:
        """Units the summary, the slope and the headline rest on (see :meth:`withholding`)."""
        if not self.left_out:
            return self.estimable
        d = self.estimable
        return d[~gaps_withheld(d, self.threshold, self.unit)]

    @property
    def shown(self) -> pd.DataFrame:
        """Summarised units whose gaps the tables show (all of them without a threshold).

        The order statistics and sign counts of :meth:`summary` rest on these: a median or
        a quartile is one unit's gap, and "gap > 0" counted over withheld gaps says which
        side of 0 they lie (fifteenth review of issue 14: a quartile of 52 schools, 21 of
        them withheld, pinned one withheld gap to 29 and five more to 30 or above).
        """
        d = self.summarised
        if not self.threshold:
            return d
        return d[~gaps_withheld(d, self.threshold, self.unit)]

    def withholding(self, threshold: int) -> UnitGaps:
        """Return the gaps with a summary that cannot give a withheld gap away.

        Every summary (mean and interval, median, quartiles, spread, counts, the slope) rests
        on many units, so it hides any one of them, unless only a few gaps are withheld:
        with 1 to ``threshold - 1`` withheld, the summary less the shown gaps would rest on
        those few (one, when one: its gap back by subtraction). Then the summary is fitted
        again on the shown gaps only and :attr:`left_out` counts the others; otherwise
        (none withheld, or ``threshold`` or more) the mean, its interval and the spread
        summarise every unit. The median, quartiles and sign counts rest on the shown gaps
        in any case (:attr:`shown`).

        Parameters
        ----------
        threshold : int
            The disclosure threshold.

        Returns
        -------
        UnitGaps

        Raises
        ------
        NotEstimableError
            Fewer than 2 gaps are left to summarise.

        Examples
        --------
        >>> from evaluation.io.dfe import FIXTURES, read_performance_tables
        >>> g = unit_gaps(read_performance_tables(FIXTURES / "2021-2022_999_ks2final.csv"))
        >>> g.withholding(5).left_out, len(g.withholding(5).summarised)  # 75% of 8: 2 not
        (1, 2)
        """
        withheld = gaps_withheld(self.estimable, threshold, self.unit)
        n_withheld = int(withheld.sum())
        if n_withheld == 0 or n_withheld >= threshold:
            return replace(self, threshold=threshold, left_out=0)
        keep = self.table["gap"].notna() & ~gaps_withheld(self.table, threshold, self.unit)
        if keep.sum() < 2:
            raise NotEstimableError(
                f"{int(keep.sum())} {self.unit_plural} with a gap that can be shown (of "
                f"{len(self.estimable)} with both figures; {n_withheld} rest on fewer than "
                f"{threshold} pupils): too few for a summary that gives none of them away")
        if self.method == RANDOM_EFFECTS:
            table, tau, mean, se = _with_intervals(self.table, keep)
            lower, upper = mean - 1.959964 * se, mean + 1.959964 * se
        else:
            table, tau, mean, lower, upper = _equal_weights(self.table, keep)
        return replace(self, table=table[[*UNIT_COLUMNS, *INTERNAL_COLUMNS]], tau=tau, mean=mean,
                       mean_lower=lower, mean_upper=upper, threshold=threshold,
                       left_out=n_withheld)

    def pupil_totals(self) -> tuple[float, float]:
        """Group and other pupils of the summarised units; NaN where a total is not shown.

        NaN when the file gives no counts, or when the total, less the counts a table shows,
        would narrow a hidden count (1 to ``threshold - 1``) below that range: ``h`` hidden
        counts summing to ``r`` leave each anywhere in it only when
        ``threshold + h - 2 <= r <= (threshold - 1) * (h - 1) + 1`` (never for one).

        Examples
        --------
        >>> t = pd.DataFrame({"n_group": [7, 40, 50], "n_other": [60, 70, 80],
        ...                   "rate_group": [50.0] * 3, "rate_other": [50.0] * 3,
        ...                   "gap": [0.0] * 3})
        >>> g = UnitGaps(t, t, "FSM", "school", "", "schools", 0.0, 0.0, 0.0, 0.0,
        ...              threshold=10)
        >>> g.pupil_totals()      # 97 less the shown 40 and 50 would give the 7 back
        (nan, 210.0)
        """
        d = self.summarised
        totals = []
        for col in ("n_group", "n_other"):
            n = d[col].astype("float64") if col in d else pd.Series(np.nan)
            total = float(n.sum()) if len(n) and n.notna().all() else np.nan
            if self.threshold and np.isfinite(total):
                t = self.threshold
                hidden = n[(n > 0) & (n < t)]
                h, r = len(hidden), float(hidden.sum())
                if h and not t + h - 2 <= r <= (t - 1) * (h - 1) + 1:
                    total = np.nan
            totals.append(total)
        return totals[0], totals[1]

    def status_counts(self) -> pd.DataFrame:
        """Units per publication status (nothing dropped: the counts add up to every unit)."""
        counts = self.table["status"].value_counts().rename_axis("status")
        return counts.rename(self.unit_plural).reset_index()

    def summary(self) -> pd.DataFrame:
        """Distribution of the gaps: counts, mean with interval, median, quartiles, spread.

        The mean, its interval and the spreads rest on :attr:`summarised`; the median,
        quartiles and the counts of gaps above 0 on :attr:`shown` (labelled so when fewer).
        """
        g, u = self.summarised["gap"], self.unit
        shown = self.shown
        part = len(shown) < len(g)
        of = f" of the {len(shown):,} shown gaps" if part else ""
        among = f", of the {len(shown):,} shown" if part else ""
        weighted = self.method == RANDOM_EFFECTS
        rows = [
            (f"{self.unit_plural} in the file", len(self.table)),
            (f"{self.unit_plural} with both {'rates' if u == 'pp' else 'figures'} published",
             len(self.estimable)),
        ]
        if self.left_out:
            rows.append((f"{self.unit_plural} left out of the summary (gap withheld)",
                         self.left_out))
        rows += [
            (f"random-effects mean gap ({u})" if weighted
             else f"mean gap, {self.unit_plural} weighted equally ({u})", self.mean),
            ("95% interval, lower", self.mean_lower),
            ("95% interval, upper", self.mean_upper),
            (f"median{of or ' gap'} ({u})", shown["gap"].median()),
            (f"lower quartile{of} ({u})", shown["gap"].quantile(0.25)),
            (f"upper quartile{of} ({u})", shown["gap"].quantile(0.75)),
            (f"SD of observed gaps ({u})", g.std()),
        ]
        if weighted:
            rows.append((f"SD of true gaps, tau ({u})", self.tau))
        rows.append((f"{self.unit_plural} with group behind (gap > 0){among}",
                     int((shown["gap"] > 0).sum())))
        if weighted:
            rows.append((f"{self.unit_plural} whose interval is above 0{among}",
                         int((shown["gap_lower"] > 0).sum())))
        return pd.DataFrame(rows, columns=["statistic", "value"])

    def _repr_html_(self) -> str:
        return _tidy_html(f"Gap between {self.group} and other pupils per {self.unit_label}",
                          self.summary())


def _random_effects(y: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """DerSimonian-Laird: tau^2, mean and its standard error."""
    w = 1 / v
    fixed = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - fixed) ** 2)
    tau2 = max(0.0, (q - (len(y) - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    wr = 1 / (v + tau2)
    return tau2, float(np.sum(wr * y) / np.sum(wr)), float(np.sqrt(1 / np.sum(wr)))


def _with_intervals(frame: pd.DataFrame, units: pd.Series
                    ) -> tuple[pd.DataFrame, float, float, float]:
    """Gap and Newcombe interval where both rates exist; random effects fitted on ``units``.

    Aggregate rows (LA, regional, national) get their gap and interval but are never in the
    random-effects fit and are not shrunk: they are references, not data.
    """
    out = frame.copy()
    ok = out[["rate_group", "rate_other", "n_group", "n_other"]].notna().all(axis=1) \
        & (out["n_group"] > 0) & (out["n_other"] > 0)
    out["gap"] = (out["rate_other"] - out["rate_group"]).where(ok)
    out[["gap_lower", "gap_upper", "gap_shrunk", "_var"]] = np.nan
    if not ok.any():
        return out, np.nan, np.nan, np.nan
    d = out[ok]
    n1, n0 = d["n_group"].astype(float), d["n_other"].astype(float)
    # the published counts where the file gives them, else recovered from rate and cohort
    x1 = d["k_group"].astype(float).fillna(np.round(d["rate_group"] * n1 / 100))
    x0 = d["k_other"].astype(float).fillna(np.round(d["rate_other"] * n0 / 100))
    low, upp = confint_proportions_2indep(x0.to_numpy(), n0.to_numpy(), x1.to_numpy(),
                                          n1.to_numpy(), method="newcomb")
    p1, p0 = (x1 + 0.5) / (n1 + 1), (x0 + 0.5) / (n0 + 1)
    out.loc[ok, "_var"] = 1e4 * (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    out.loc[ok, "gap_lower"], out.loc[ok, "gap_upper"] = 100 * low, 100 * upp
    fit = ok & units
    if fit.sum() < 2:
        return out, np.nan, np.nan, np.nan
    y, v = out.loc[fit, "gap"].to_numpy(), out.loc[fit, "_var"].to_numpy()
    tau2, mean, se = _random_effects(y, v)
    out.loc[fit, "gap_shrunk"] = mean + tau2 / (tau2 + v) * (y - mean)
    return out, float(np.sqrt(tau2)), mean, se


def _equal_weights(frame: pd.DataFrame, units: pd.Series
                   ) -> tuple[pd.DataFrame, float, float, float, float]:
    """Gap where both values exist; mean over ``units`` with a t interval (no variances).

    Returns the frame (no intervals, no shrinkage: nothing to weigh them by), NaN tau, the
    mean and its 95% interval.
    """
    out = frame.copy()
    ok = out[["rate_group", "rate_other"]].notna().all(axis=1)
    out["gap"] = (out["rate_other"] - out["rate_group"]).where(ok)
    out[["gap_lower", "gap_upper", "gap_shrunk", "_var"]] = np.nan
    g = out.loc[ok & units, "gap"]
    if len(g) < 2:
        return out, np.nan, np.nan, np.nan, np.nan
    half = t_dist.ppf(0.975, len(g) - 1) * g.std() / np.sqrt(len(g))
    return out, np.nan, float(g.mean()), float(g.mean() - half), float(g.mean() + half)


def _status(codes: dict[str, pd.Series], layout: str) -> pd.Series:
    """'group: published; other: suppressed (small cohort)' per unit."""
    def word(c):
        return "published" if pd.isna(c) else _reason(c, layout)

    parts = [codes[k].map(lambda c, k=k: f"{k}: {word(c)}") for k in codes]
    return parts[0] + "; " + parts[1]


def _column(table: PerformanceTable, name: str) -> str | None:
    by_upper = {c.upper(): c for c in table.codes.columns}
    return by_upper.get(name.upper())


def performance_columns(table: PerformanceTable, measure: str,
                        require_counts: bool = True) -> dict:
    """Find the columns of a measure's disadvantaged and other rates, counts and share.

    Tries the KS2 form (``PTRWM_EXP_FSM6CLA1A`` / ``PTRWM_EXP_NotFSM6CLA1A``), the KS4 forms
    (``ATT8SCR_FSM6CLA1A`` / ``ATT8SCR_NFSM6CLA1A``; prefix ``PTFSM6CLA1ABASICS_94`` /
    ``PTNOTFSM6CLA1ABASICS_94``) and destinations (``OVERALL_DESTPER_DIS`` / ``_NONDIS``).
    Column names are matched whatever their case.

    Parameters
    ----------
    table : PerformanceTable
        From :func:`evaluation.io.dfe.read_performance_tables`.
    measure : str
        The measure's stem: ``PTRWM_EXP``, ``BASICS_94``, ``ATT8SCR``, ``OVERALL_DESTPER``.
    require_counts : bool
        Raise when the file has no pupil counts of the two groups (``TFSM6CLA1A`` /
        ``TNOTFSM6CLA1A``, ``COHORT_DIS`` / ``COHORT_NONDIS``); when False, ``counts`` is
        None instead (a filtered file such as the KS4 2022/23 copy has none).

    Returns
    -------
    dict
        ``rates`` (group, other), ``counts`` (group, other, or None), ``reach`` (the counts
        reaching the measure, group and other, where the file gives them, else None) and
        ``share`` (column or None).

    Raises
    ------
    NotEstimableError
        No form of the measure is in the file (the message lists the names tried), or no
        counts when they are required.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES, read_performance_tables
    >>> t = read_performance_tables(FIXTURES / "2021-2022_999_ks2final.csv")
    >>> performance_columns(t, "PTRWM_EXP")["rates"]
    ('PTRWM_EXP_FSM6CLA1A', 'PTRWM_EXP_NotFSM6CLA1A')
    """
    tried, rates = [], None
    for g, o in PT_RATE_FORMS:
        pair = (g.format(m=measure), o.format(m=measure))
        tried.append(pair)
        found = tuple(_column(table, c) for c in pair)
        if all(found):
            rates = found
            break
    if rates is None:
        raise NotEstimableError(f"{table.path}: no disadvantaged / other columns for measure "
                                f"{measure!r}: tried {tried}")
    counts = next((tuple(_column(table, c) for c in pair) for pair in PT_COUNT_FORMS
                   if all(_column(table, c) for c in pair)), None)
    if counts is None and require_counts:
        raise NotEstimableError(f"{table.path}: no pupil counts of disadvantaged and other "
                                f"pupils: tried {list(PT_COUNT_FORMS)}")
    base = measure[:-3] if measure.upper().endswith("PER") else None
    reach = next((found for g, o in PT_REACH_FORMS if base for found in
                  [tuple(_column(table, c.format(b=base)) for c in (g, o))] if all(found)),
                 None)
    return {"rates": rates, "counts": counts, "reach": reach,
            "share": _column(table, "PTFSM6CLA1A")}


def _school_units(table: PerformanceTable, measure: str
                  ) -> tuple[pd.DataFrame, str, str, str]:
    cols = performance_columns(table, measure, require_counts=False)
    rates, counts = cols["rates"], cols["counts"]
    unit = "pp" if set(rates) <= set(table.percent_columns) else "points"
    v = table.values
    none = pd.Series(np.nan, index=v.index)
    n1, n0 = (v[counts[0]], v[counts[1]]) if counts else (none, none)
    k1, k0 = (v[cols["reach"][0]], v[cols["reach"][1]]) if cols["reach"] else (none, none)
    share = v[cols["share"]] if cols["share"] else 100 * n1 / (n1 + n0)
    frame = pd.DataFrame({
        "unit": v["URN"].fillna(v.get("LEA", v["URN"])).fillna("England"),
        "name": v["SCHNAME"].fillna(v["row_label"]), "level": v["row_type"],
        "n_group": n1, "n_other": n0, "rate_group": v[rates[0]], "rate_other": v[rates[1]],
        "k_group": k1, "k_other": k0, "share": share,
        "status": _status({"disadvantaged": table.codes[rates[0]],
                           "other": table.codes[rates[1]]}, "performance_tables")})
    aggregate = v["row_type"].isin(AGGREGATE_LEVELS)
    lea = v["LEA"] if "LEA" in v.columns else pd.Series("", index=v.index)
    la_name = v["SCHNAME"].fillna("LA " + lea.fillna("").astype(str))
    frame.loc[aggregate, "name"] = np.where(v.loc[aggregate, "row_type"] == "LA",
                                            la_name[aggregate], v.loc[aggregate, "row_label"])
    label = table.labels.get(rates[0], measure)
    for stem in ("Percentage of disadvantaged pupils ", "Percentage of pupils who are "
                 "disadvantaged ", "Percentage of disadvantaged ", "% of disadvantaged pupils ",
                 " per disadvantaged pupil"):
        label = label.replace(stem, "")
    return frame, "disadvantaged", label, unit


def _la_units(table: ReleaseTable, measure: str) -> tuple[pd.DataFrame, str, str]:
    t = table.table.query("sex == 'all' and measure == @measure")
    if t.empty:
        raise NotEstimableError(f"{table.path}: no rows for measure {measure!r}; measures: "
                                f"{sorted(table.table['measure'].unique())}")
    periods = sorted(t["time_period"].unique())
    t = t[t["time_period"] == periods[-1]]
    chars = t.groupby("characteristic")["group"].agg(lambda g: {"other"} < set(g) or
                                                     ("other" in set(g) and len(set(g)) > 1))
    char = "fsm" if chars.get("fsm", False) else "disadvantaged"
    t = t[t["characteristic"] == char]
    group = "FSM" if char == "fsm" else "disadvantaged"
    keys = ["area_level", "area_code", "area_name"]
    t = t.assign(code=t["count_code"].where(t["count_code"].notna(), t["denominator_code"]))
    wide = t.set_index([*keys, "group"])[["count", "denominator", "rate", "code"]].unstack(
        "group", sort=False)
    if (group not in wide["rate"].columns) or ("other" not in wide["rate"].columns):
        raise NotEstimableError(f"{table.path}: measure {measure!r} lacks the {group} or the "
                                f"other group's rows in {periods[-1]}")
    code = wide["code"].astype(object).where(wide["code"].notna(), None)
    idx = wide.index.to_frame(index=False)
    n1, n0 = wide[("denominator", group)].to_numpy(), wide[("denominator", "other")].to_numpy()
    frame = pd.DataFrame({
        "unit": idx["area_code"], "name": idx["area_name"],
        "level": idx["area_level"].map({"la": "LA", "region": "region", "national": "national"})
        .fillna(idx["area_level"]),
        "n_group": n1, "n_other": n0, "rate_group": wide[("rate", group)].to_numpy(),
        "rate_other": wide[("rate", "other")].to_numpy(),
        "k_group": wide[("count", group)].to_numpy(dtype=float),
        "k_other": wide[("count", "other")].to_numpy(dtype=float),
        "share": 100 * n1 / (n1 + n0),
        "status": _status({group: pd.Series(code[group].to_numpy()),
                           "other": pd.Series(code["other"].to_numpy())}, table.layout)})
    return frame, group, t["measure_label"].iloc[0], "pp"


_UNIT_NAMES = {"school": ("school", "schools"), "LA": ("local authority", "local authorities")}
#: Layout -> builder of the unit frame (school rows for performance tables, areas for releases).
_UNITS = {"performance_tables": _school_units, "sfr_counts": _la_units, "ees_long": _la_units}
#: Layout -> the level whose rows are the units (every other level is a reference row).
_UNIT_LEVEL = {"performance_tables": "school", "sfr_counts": "LA", "ees_long": "LA"}


def unit_gaps(table: PerformanceTable | ReleaseTable | EESTable,
              measure: str | None = None, share: pd.Series | None = None,
              share_label: str = "") -> UnitGaps:
    """Gap per school (performance tables) or per LA (releases), with intervals and shrinkage.

    Rates are the published percentages (schools) or recomputed from counts (releases). The
    interval is Newcombe's hybrid score interval for a difference of two proportions (counts
    recovered from the rounded percentages and cohort sizes); the shrunk gap pulls each small
    cohort's gap towards the random-effects mean by its reliability (DerSimonian-Laird).
    A mean score (Attainment 8), or a file without cohort counts, has no sampling variance:
    its gap is in points, without intervals or shrinkage, and the summary weighs the units
    equally (mean with a t interval; ``method`` says which).
    The random-effects summary is fitted on the units only (mainstream schools, or LAs):
    LA, regional and national rows are references (``reference``), special schools are
    counted and left out. Suppressed units stay in the table, with their status spelled out.

    Parameters
    ----------
    table : PerformanceTable, ReleaseTable or EESTable
        As read by :mod:`evaluation.io.dfe`.
    measure : str, optional
        Column stem (``PTRWM_EXP``, ``BASICS_94``, ``ATT8SCR``, ``OVERALL_DESTPER``) or
        release measure (``KS4_LEVEL2_EM``, ``rwm_met_expected_standard``); these by default.
    share : pandas.Series, optional
        The group's share per unit (index: URN or area code, as text), e.g. the census's
        FSM-ever share; replaces the file's own share column. Units it lacks get NaN.
    share_label : str
        What ``share`` is, for labels (default empty: the file's own share of the group).

    Returns
    -------
    UnitGaps

    Raises
    ------
    NotEstimableError
        The measure is absent, not a percentage, the file has no disadvantage breakdown, or
        fewer than two units have both rates.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES, read_performance_tables
    >>> g = unit_gaps(read_performance_tables(FIXTURES / "2021-2022_999_ks2final.csv"))
    >>> g.table["gap"].tolist()[:2], g.reference["gap"].tolist()
    ([20.0, 20.0], [21.0, 20.0])
    """
    if isinstance(table, EESTable):
        measure = measure or DEFAULT_MEASURES["ees"]
        try:
            table = ees_release(table, [measure])
        except DataError as exc:
            raise NotEstimableError(str(exc)) from exc
    layout = "performance_tables" if isinstance(table, PerformanceTable) else table.layout
    measure = measure or DEFAULT_MEASURES[layout]
    frame, group, label, unit = _UNITS[layout](table, measure)
    if share is not None:
        share = pd.Series(share.to_numpy(), index=share.index.astype(str).str.strip())
        frame["share"] = frame["unit"].astype(str).str.strip().map(share).astype("float64")
    empty = (frame["n_group"] == 0) | (frame["n_other"] == 0)
    frame.loc[empty, "status"] = frame.loc[empty, "status"] + " (a group has 0 pupils: no rate)"
    for col in ("n_group", "n_other"):
        if not (frame[col].dropna() % 1 == 0).all():
            raise DataError(f"{table.path}: pupil counts of {measure!r} are not whole numbers")
        frame[col] = frame[col].round().astype("Int64")
    unit_level = _UNIT_LEVEL[layout]
    units = frame["level"] == unit_level
    weighted = unit == "pp" and frame.loc[units, ["n_group", "n_other"]].notna().any().all()
    if weighted:
        frame, tau, mean, se = _with_intervals(frame, units)
        lower, upper = mean - 1.959964 * se, mean + 1.959964 * se
    else:
        frame, tau, mean, lower, upper = _equal_weights(frame, units)
    label_unit, plural = _UNIT_NAMES[unit_level]
    if frame.loc[units, "gap"].notna().sum() < 2:
        raise NotEstimableError(f"{table.path}: fewer than 2 {plural} with both rates of "
                                f"{measure!r} published; statuses: "
                                f"{frame.loc[units, 'status'].value_counts().to_dict()}")
    reference = frame[frame["level"].isin(AGGREGATE_LEVELS) & ~units]
    return UnitGaps(frame[units][[*UNIT_COLUMNS, *INTERNAL_COLUMNS]].reset_index(drop=True),
                    reference[UNIT_COLUMNS].reset_index(drop=True), group=group,
                    unit_label=label_unit, measure_label=label, unit_plural=plural, tau=tau,
                    mean=mean, mean_lower=lower, mean_upper=upper,
                    excluded=int((~units & ~frame["level"].isin(AGGREGATE_LEVELS)).sum()),
                    unit=unit, method=RANDOM_EFFECTS if weighted else EQUAL_WEIGHTS,
                    share_label=share_label)


# --------------------------------------------------------------------------- gap vs share
@dataclass(frozen=True)
class GapSlope:
    """Gap against the share of disadvantaged / FSM pupils: the source documents' claim tested.

    The claim (DfE 2011 via the National College reports): schools with high FSM shares have
    smaller gaps, i.e. a negative slope. Weighted least squares of gap on share with
    random-effects weights ``1 / (v_i + tau^2)`` (equal weights, i.e. ordinary least squares,
    when the units have no sampling variance).

    Attributes
    ----------
    results : statsmodels RegressionResults
        The fitted WLS model (``gap ~ share``).
    slope, lower, upper : float
        Change in the gap (percentage points) per 10 points more disadvantaged share, 95% CI.
    n : int
        Units in the fit.
    verdict : str
        ``"agree"`` (CI below 0), ``"contradict"`` (CI above 0) or ``"inconclusive"``.
    bands : pandas.DataFrame
        Mean gap by share band (``<5%``, ``5-18%``, ``>18%``) with n and 95% interval.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES, read_ees
    >>> g = unit_gaps(read_ees(FIXTURES / "ees_ks2_disadvantage.csv"))
    >>> s = gap_vs_share(g)
    >>> s.n, s.verdict
    (3, 'inconclusive')
    """

    results: RegressionResultsWrapper = field(repr=False)
    slope: float
    lower: float
    upper: float
    n: int
    verdict: str
    bands: pd.DataFrame = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """One row: slope per 10 points of share, interval, p-value, n, verdict."""
        return pd.DataFrame([{
            "slope per 10 pp share": self.slope, "lower 95%": self.lower,
            "upper 95%": self.upper, "p-value": float(self.results.pvalues[1]),
            "n": self.n, "agrees with the claim": self.verdict}])

    def _repr_html_(self) -> str:
        return _tidy_html("Gap against share of the group", self.summary()) + _tidy_html(
            "Mean gap by share band", self.bands)


_VERDICT = {(True, False): "agree", (False, True): "contradict", (False, False): "inconclusive"}


def gap_vs_share(gaps: UnitGaps, alpha: float = 0.05) -> GapSlope:
    """Test whether the gap shrinks as the share of disadvantaged / FSM pupils grows.

    Parameters
    ----------
    gaps : UnitGaps
        From :func:`unit_gaps`; the fit rests on ``gaps.summarised`` (units without both
        rates are counted in ``gaps.status_counts()``, withheld ones left out in
        ``gaps.left_out``).
    alpha : float
        1 - confidence level.

    Returns
    -------
    GapSlope

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES, read_performance_tables
    >>> g = unit_gaps(read_performance_tables(FIXTURES / "2021-2022_999_ks2final.csv"))
    >>> gap_vs_share(g).n
    3
    """
    d = gaps.summarised.dropna(subset=["share"])
    if len(d) < 3:
        raise NotEstimableError(f"gap_vs_share needs at least 3 units with gap and share; "
                                f"got {len(d)}")
    weights = (1 / (d["_var"] + gaps.tau**2) if gaps.method == RANDOM_EFFECTS
               else pd.Series(1.0, index=d.index))
    res = WLS(d["gap"].to_numpy(), add_constant(d["share"].to_numpy()),
                 weights=weights.to_numpy()).fit()
    low, upp = res.conf_int(alpha)[1]
    band = pd.cut(d["share"], [b[0] for b in SHARE_BANDS.values()] + [np.inf],
                  labels=list(SHARE_BANDS))
    rows = []
    for label, grp in d.groupby(band, observed=False)["gap"]:
        n, mean = len(grp), grp.mean()
        half = (t_dist.ppf(1 - alpha / 2, n - 1) * grp.std() / np.sqrt(n)) if n > 1 else np.nan
        rows.append({"share band": label, "n": n, "mean gap": mean,
                     "lower 95%": mean - half, "upper 95%": mean + half})
    return GapSlope(res, 10 * res.params[1], 10 * low, 10 * upp, len(d),
                    _VERDICT[(upp < 0, low > 0)], pd.DataFrame(rows))



# --------------------------------------------------------------------------- report
@dataclass(frozen=True)
class PublishedGapReport:
    """Everything the published-gaps report shows for one source.

    Attributes
    ----------
    source : PublishedSource
        The registered source (title, licence, provenance).
    gaps : UnitGaps
        Gap per school / LA, with the LA / regional / national rows in ``gaps.reference``.
    slope : GapSlope
        Gap against share of the group.
    code_counts : pandas.DataFrame
        ``file, column, code, reason, n`` for the columns the analysis uses.
    other_rows : pandas.DataFrame
        Row / column exclusions of the readers and rows not analysed (e.g. special schools),
        counted by reason.
    national : pandas.DataFrame
        National rates by group from any further file of the source (e.g. FSM and
        disadvantaged status from the SFR national file); empty when none.
    code_totals : pandas.DataFrame
        ``file, code, reason, n``: every coded cell of every file, by code.
    trend : pandas.DataFrame
        One row per year when the source holds several years of the same table (see
        :func:`gap_trend`); empty otherwise.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES
    >>> src = PublishedSource("fixture", "Fixture LA 999", "performance_tables",
    ...                       (FIXTURES / "2021-2022_999_ks2final.csv",), "hand-made", "tests")
    >>> published_report(src).headline[:30]
    'Disadvantaged pupils 14.7 pp b'
    """

    source: PublishedSource
    gaps: UnitGaps
    slope: GapSlope
    code_counts: pd.DataFrame = field(repr=False)
    other_rows: pd.DataFrame = field(repr=False)
    national: pd.DataFrame = field(repr=False)
    code_totals: pd.DataFrame = field(repr=False)
    trend: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def headline(self) -> str:
        """Short text with the key gap figure, for the index page."""
        g = self.gaps
        who = g.group[0].upper() + g.group[1:]
        return (f"{who} pupils {g.mean:z.1f} {g.unit} behind others on average across "
                f"{len(g.summarised):,} {g.unit_plural} (95% CI {g.mean_lower:z.1f} to "
                f"{g.mean_upper:z.1f}); slope vs share {signed(self.slope.slope, 1)} {g.unit} "
                "per 10 pp")

    @property
    def n_schools(self) -> int | None:
        """Schools with both rates published (None for LA-level sources)."""
        return len(self.gaps.estimable) if self.gaps.unit_label == "school" else None

    def attribution(self) -> str:
        """Markdown: the data source, its provenance and the licence attribution."""
        s = self.source
        files = ", ".join(f"`{p.name}`" for p in s.paths)
        return (f"**Source.** {s.title} ({files}), Department for Education, {s.year}.  \n"
                f"**Provenance.** {s.provenance}.  \n**Licence.** {s.licence}")

    def reference_table(self) -> pd.DataFrame:
        """LA / regional / national rows of the file, plus any national file's figures."""
        cols = ["name", "level", "rate_group", "rate_other", "gap", "n_group", "n_other",
                "share"]
        out = pd.concat([self.gaps.reference[cols], self.national], ignore_index=True)
        for c in ("n_group", "n_other"):   # pupils: whole numbers, whatever the source's type
            whole = out[c].astype("Float64")
            if not (whole.dropna() % 1 == 0).all():
                raise DataError(f"{self.source.slug}: pupil counts {c!r} of the reference rows "
                                "are not whole numbers")
            out[c] = whole.round().astype("Int64")
        return out

    def _repr_html_(self) -> str:
        return _tidy_html(self.source.title, self.gaps.summary())


def _national_rows(table: ReleaseTable, measure: str) -> pd.DataFrame:
    t = table.table.query("sex == 'all' and measure == @measure and area_level == 'national'")
    rows = []
    for char, grp in t.groupby("characteristic", sort=False):
        by = grp.set_index("group")
        first = by.drop(index="other").iloc[0]
        other = by.loc["other"]
        rows.append({"name": f"England, {char} status ({Path(table.path).name})",
                     "level": "national", "rate_group": first["rate"],
                     "rate_other": other["rate"], "gap": other["rate"] - first["rate"],
                     "n_group": first["denominator"], "n_other": other["denominator"],
                     "share": 100 * first["denominator"] / (first["denominator"]
                                                            + other["denominator"])})
    return pd.DataFrame(rows)


#: Trend columns: one row per file (year) of a multi-year source.
TREND_COLUMNS = ["year", "file", "units", "mean", "mean_lower", "mean_upper", "national_group",
                 "national_other", "national_gap", "national_n_group", "national_n_other"]


def year_of(path: str | Path) -> str:
    """Return the academic or calendar year a DfE file's name starts with, else its stem.

    Examples
    --------
    >>> year_of("2018-2019_850_ks2final.csv"), year_of("2022_england_ks4-pupdest.csv")
    ('2018/19', '2022')
    """
    name = Path(path).name
    span = re.match(r"^(\d{4})-(\d{4})_", name)
    if span:
        return f"{span.group(1)}/{span.group(2)[2:]}"
    single = re.match(r"^(\d{4})_", name)
    return single.group(1) if single else Path(path).stem


def gap_trend(tables: list[PerformanceTable], measure: str,
              threshold: int | None = None) -> pd.DataFrame:
    """Follow the gap year by year: the school-level summary and each file's national row.

    Parameters
    ----------
    tables : list of PerformanceTable
        The same table for several years (e.g. the five years of KS4 destination measures);
        each file's year is read from its name (:func:`year_of`).
    measure : str
        The measure's stem (``OVERALL_DESTPER``).
    threshold : int, optional
        The disclosure threshold: each year's summary is made safe as the report's own
        (:meth:`UnitGaps.withholding`), so the year shown in full agrees with its summary.

    Returns
    -------
    pandas.DataFrame
        :data:`TREND_COLUMNS`, sorted by year: ``units`` (schools summarised), the mean
        gap across schools with its 95% interval (fitted on schools only, as
        :func:`unit_gaps`), and the file's national row (group and other rates, their gap,
        pupil counts; NaN when the file has none). A year whose file lacks the measure
        raises, naming the file.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES, read_performance_tables
    >>> t = read_performance_tables(FIXTURES / "2021-2022_999_ks2final.csv")
    >>> gap_trend([t], "PTRWM_EXP")[["year", "units", "national_gap"]].values.tolist()
    [['2021/22', 3, 20.0]]
    """
    rows = []
    for table in tables:
        g = unit_gaps(table, measure)
        if threshold is not None:
            g = g.withholding(threshold)
        nat = g.reference[g.reference["level"] == "national"]
        first = nat.iloc[0] if len(nat) else pd.Series(dtype=object)
        rows.append({"year": year_of(table.path), "file": Path(table.path).name,
                     "units": len(g.summarised), "mean": g.mean, "mean_lower": g.mean_lower,
                     "mean_upper": g.mean_upper,
                     "national_group": first.get("rate_group", np.nan),
                     "national_other": first.get("rate_other", np.nan),
                     "national_gap": first.get("gap", np.nan),
                     "national_n_group": first.get("n_group", pd.NA),
                     "national_n_other": first.get("n_other", pd.NA)})
    out = pd.DataFrame(rows, columns=TREND_COLUMNS).sort_values("year").reset_index(drop=True)
    for col in ("national_n_group", "national_n_other"):
        out[col] = out[col].astype("Int64")
    return out


def _share_spec(source: PublishedSource) -> tuple[int | None, str]:
    """Index of the file and the column of ``source.share`` (``<file>:<column>``)."""
    if not source.share:
        return None, ""
    name, _, column = source.share.partition(":")
    names = [Path(p).stem for p in source.paths]
    if Path(name).stem not in names or not column:
        raise DataError(f"source {source.slug!r}: `share` should be '<file>:<column>' with one "
                        f"of its files {[Path(p).name for p in source.paths]}; got "
                        f"{source.share!r}")
    return names.index(Path(name).stem), column


def _census_share(table: PerformanceTable, column: str, phase: str
                  ) -> tuple[pd.Series, str, pd.DataFrame]:
    """Read the share per URN from a census-like file, its label, its national rows."""
    if column not in table.codes.columns:
        raise NotEstimableError(f"{table.path}: no share column {column!r}; numeric columns "
                                f"are {list(table.codes.columns)[:15]}")
    v = table.values
    schools = v[v["row_type"] == "school"]
    share = pd.Series(schools[column].to_numpy(), index=schools["URN"].astype(str))
    label = table.labels.get(column, column)
    nat = v[v["row_type"] == "national"]
    kind = next((c for c in ("SCHOOLTYPE", "NFTYPE") if c in v.columns), None)
    if kind and phase:
        nat = nat[nat[kind].fillna("").str.lower().str.contains(phase.lower())]
    ref = pd.DataFrame({
        "unit": "England", "level": "national",
        "name": [f"England, {t} (census: {label[:1].lower() + label[1:]})" for t in
                 (nat[kind].fillna("all schools") if kind else ["all schools"] * len(nat))],
        "n_group": pd.array([pd.NA] * len(nat), dtype="Int64"),
        "n_other": pd.array([pd.NA] * len(nat), dtype="Int64"),
        "rate_group": np.nan, "rate_other": np.nan, "gap": np.nan, "gap_lower": np.nan,
        "gap_upper": np.nan, "gap_shrunk": np.nan, "share": nat[column].to_numpy(),
        "status": "reference for the share only"})
    return share, label, ref[UNIT_COLUMNS]


def published_report(source: str | PublishedSource, directory: str | Path | None = None,
                     threshold: int | None = None) -> PublishedGapReport:
    """Read a registered source and compute everything its report shows.

    The main file gives the gap per school (or LA). A ``share`` entry of the source
    (``<file>:<column>``, e.g. the census's FSM-ever share) replaces the file's own share,
    joined on URN, and that file's national rows become reference rows. Several files of the
    same table (the years of the destination measures) give :attr:`PublishedGapReport.trend`;
    a further release file gives national rows (:attr:`PublishedGapReport.national`).

    Parameters
    ----------
    source : str or PublishedSource
        Slug of a folder in ``directory`` (see :func:`evaluation.io.dfe.published_sources`).
    directory : str or pathlib.Path, optional
        Where the sources live (default :func:`evaluation.config.published_dir`).
    threshold : int, optional
        The disclosure threshold the summaries are made safe for
        (:meth:`UnitGaps.withholding`); None summarises every unit with both figures.

    Returns
    -------
    PublishedGapReport

    Raises
    ------
    ValueError
        Unknown slug (the message lists the known ones).

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES
    >>> src = PublishedSource("fixture", "Fixture LA 999", "performance_tables",
    ...                       (FIXTURES / "2021-2022_999_ks2final.csv",), "hand-made", "tests")
    >>> r = published_report(src)
    >>> r.gaps.unit_plural, len(r.gaps.estimable)
    ('schools', 3)
    """
    if isinstance(source, str):
        sources = published_sources(directory)
        if source not in sources:
            raise ValueError(f"`source` should be one of {sorted(sources)}; got {source!r}")
        source = sources[source]
    share_at, share_col = _share_spec(source)
    read = {i: read_published(source, i) for i in range(len(source.paths))
            if i == 0 or source.layout_for(i) == source.layout}
    tables = list(read.values())
    measure = source.measure or None
    share, share_label, share_refs = None, "", None
    if share_at is not None:
        share, share_label, share_refs = _census_share(read[share_at], share_col, source.phase)
    main = [t for i, t in read.items() if i != share_at]
    gaps = unit_gaps(main[0], measure, share, share_label)
    if threshold is not None:
        gaps = gaps.withholding(threshold)
    if share_refs is not None and len(share_refs):
        gaps = replace(gaps, reference=pd.concat([gaps.reference, share_refs],
                                                 ignore_index=True))
    stem = measure or DEFAULT_MEASURES[source.layout]
    if isinstance(main[0], PerformanceTable):
        cols = performance_columns(main[0], stem, require_counts=False)
        used = {*cols["rates"], *(cols["counts"] or ()), cols["share"], share_col}
    else:
        used = set()
    series = [t for t in main if isinstance(t, PerformanceTable)]
    trend = (gap_trend(series, stem, threshold) if len(series) > 1
             else pd.DataFrame(columns=TREND_COLUMNS))
    used = [c for t in tables for c in t.code_counts["column"].unique()
            if c in used or c.startswith((f"{stem}_all", "Laden_all", "NATden_all", "t_"))]
    codes = pd.concat([t.code_counts.assign(file=Path(t.path).name) for t in tables])
    codes = codes[codes["column"].isin(used)]
    other = [(Path(t.path).name, k, v) for t in tables for k, v in
             getattr(t, "excluded", {}).items()]
    if isinstance(tables[0], PerformanceTable):
        n_special = int((tables[0].values["row_type"] == "special school").sum())
        other.append((Path(tables[0].path).name, "special schools (not in the school analysis)",
                      n_special))
    if share is not None:
        unmatched = int(gaps.estimable["share"].isna().sum())
        what = share_label[:1].lower() + share_label[1:]
        other.append((Path(read[share_at].path).name, f"{gaps.unit_plural} with a gap but no "
                      f"{what} (URN not in this file): not in the slope", unmatched))
    national = [_national_rows(t, measure or DEFAULT_MEASURES[t.layout]) for t in main[1:]
                if isinstance(t, ReleaseTable)]
    return PublishedGapReport(
        source, gaps, gap_vs_share(gaps),
        codes[["file", "column", "code", "reason", "category", "n"]].reset_index(drop=True),
        pd.DataFrame(other, columns=["file", "what", "n"]),
        pd.concat(national, ignore_index=True) if national else pd.DataFrame(),
        pd.concat([t.code_counts.assign(file=Path(t.path).name) for t in tables])
        .groupby(["file", "code", "reason", "category"], sort=False)["n"].sum().reset_index(),
        trend)

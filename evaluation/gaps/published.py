"""Disadvantage / FSM gaps on the DfE's published files: per school or LA, spread, and FSM share."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import t as t_dist
from statsmodels.regression.linear_model import WLS
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.tools.tools import add_constant

from evaluation import config
from evaluation.exceptions import NotEstimableError
from evaluation.io.dfe import (
    PerformanceTable,
    PublishedSource,
    ReleaseTable,
    _reason,
    published_sources,
    read_published,
)

#: Share bands of the source documents' comparison (">18%" FSM against "<5%": about 10 points
#: smaller gap); label -> (lower, upper] in percent.
SHARE_BANDS = {"<5%": (-np.inf, 5.0), "5-18%": (5.0, 18.0), ">18%": (18.0, np.inf)}
#: Performance-table column suffixes: disadvantaged, other; pupil-count and share columns.
PT_GROUPS = {"suffixes": ("FSM6CLA1A", "NotFSM6CLA1A"), "counts": ("TFSM6CLA1A", "TNotFSM6CLA1A"),
             "share": "PTFSM6CLA1A"}
#: Measure analysed when none is given, per layout.
DEFAULT_MEASURES = {"performance_tables": "PTRWM_EXP", "sfr_counts": "KS4_LEVEL2_EM",
                    "ees_long": "l2basics_94"}
UNIT_COLUMNS = ["unit", "name", "level", "n_group", "n_other", "rate_group", "rate_other", "gap",
                "gap_lower", "gap_upper", "gap_shrunk", "share", "status"]


def _tidy_html(title: str, frame: pd.DataFrame) -> str:
    return f"<h4>{html.escape(title)}</h4>" + frame.to_html(index=False, border=0,
                                                            float_format="{:.1f}".format)


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
        Estimated SD of true gaps between units (percentage points, DerSimonian-Laird).
    mean, mean_lower, mean_upper : float
        Random-effects mean gap and its 95% interval.

    Examples
    --------
    >>> g = unit_gaps(read_published(published_sources()["dfe-ks2-2019-la850"]))
    >>> int(g.table["gap"].notna().sum())
    182
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

    @property
    def estimable(self) -> pd.DataFrame:
        """Units with both rates published."""
        return self.table[self.table["gap"].notna()]

    def status_counts(self) -> pd.DataFrame:
        """Units per publication status (nothing dropped: the counts add up to every unit)."""
        counts = self.table["status"].value_counts().rename_axis("status")
        return counts.rename(self.unit_plural).reset_index()

    def summary(self) -> pd.DataFrame:
        """Distribution of the gaps: counts, mean with interval, median, quartiles, spread."""
        g = self.estimable["gap"]
        rows = [
            (f"{self.unit_plural} in the file", len(self.table)),
            (f"{self.unit_plural} with both rates published", len(g)),
            ("random-effects mean gap (pp)", self.mean),
            ("95% interval, lower", self.mean_lower),
            ("95% interval, upper", self.mean_upper),
            ("median gap (pp)", g.median()),
            ("lower quartile (pp)", g.quantile(0.25)),
            ("upper quartile (pp)", g.quantile(0.75)),
            ("SD of observed gaps (pp)", g.std()),
            ("SD of true gaps, tau (pp)", self.tau),
            (f"{self.unit_plural} with group behind (gap > 0)", int((g > 0).sum())),
            (f"{self.unit_plural} whose interval is above 0", int((self.estimable["gap_lower"]
                                                                   > 0).sum())),
        ]
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


def _with_intervals(frame: pd.DataFrame) -> tuple[pd.DataFrame, float, float, float]:
    """Add gap, Newcombe interval, shrunk gap (percentage points) where both rates exist."""
    out = frame.copy()
    ok = out[["rate_group", "rate_other", "n_group", "n_other"]].notna().all(axis=1) \
        & (out["n_group"] > 0) & (out["n_other"] > 0)
    out["gap"] = (out["rate_other"] - out["rate_group"]).where(ok)
    out[["gap_lower", "gap_upper", "gap_shrunk"]] = np.nan
    if ok.sum() < 2:
        return out, np.nan, np.nan, np.nan
    d = out[ok]
    x1, x0 = np.round(d["rate_group"] * d["n_group"] / 100), np.round(d["rate_other"]
                                                                       * d["n_other"] / 100)
    low, upp = confint_proportions_2indep(x0.to_numpy(), d["n_other"].to_numpy(), x1.to_numpy(),
                                          d["n_group"].to_numpy(), method="newcomb")
    p1, p0 = (x1 + 0.5) / (d["n_group"] + 1), (x0 + 0.5) / (d["n_other"] + 1)
    v = 1e4 * (p1 * (1 - p1) / d["n_group"] + p0 * (1 - p0) / d["n_other"])
    tau2, mean, se = _random_effects(d["gap"].to_numpy(), v.to_numpy())
    out.loc[ok, "gap_lower"], out.loc[ok, "gap_upper"] = 100 * low, 100 * upp
    out.loc[ok, "gap_shrunk"] = mean + tau2 / (tau2 + v) * (d["gap"] - mean)
    out.loc[ok, "_var"] = v
    return out, float(np.sqrt(tau2)), mean, se


def _status(codes: dict[str, pd.Series], layout: str) -> pd.Series:
    """'group: published; other: suppressed (small cohort)' per unit."""
    def word(c):
        return "published" if pd.isna(c) else _reason(c, layout)

    parts = [codes[k].map(lambda c, k=k: f"{k}: {word(c)}") for k in codes]
    return parts[0] + "; " + parts[1]


def _school_units(table: PerformanceTable, measure: str) -> tuple[pd.DataFrame, str, str]:
    cols = [f"{measure}_{s}" for s in PT_GROUPS["suffixes"]]
    missing = [c for c in cols if c not in table.codes.columns]
    if missing:
        raise NotEstimableError(f"{table.path}: no columns {missing} for measure {measure!r}; "
                                f"numeric columns include {list(table.codes.columns[:10])}")
    if not set(cols) <= set(table.percent_columns):
        raise NotEstimableError(f"{table.path}: {cols} are not percentages; gaps with intervals "
                                "need a percentage measure (e.g. PTRWM_EXP)")
    v = table.values
    frame = pd.DataFrame({
        "unit": v["URN"].fillna(v["LEA"]).fillna("England"), "name": v["SCHNAME"].fillna(
            v["row_label"]), "level": v["row_type"],
        "n_group": v[PT_GROUPS["counts"][0]], "n_other": v[PT_GROUPS["counts"][1]],
        "rate_group": v[cols[0]], "rate_other": v[cols[1]], "share": v[PT_GROUPS["share"]],
        "status": _status({"disadvantaged": table.codes[cols[0]], "other": table.codes[cols[1]]},
                          "performance_tables")})
    frame.loc[v["row_type"] == "national", "name"] = v["row_label"]
    label = table.labels.get(cols[0], measure).replace("Percentage of disadvantaged pupils ", "")
    return frame, "disadvantaged", label


def _la_units(table: ReleaseTable, measure: str) -> tuple[pd.DataFrame, str, str]:
    t = table.table.query("sex == 'all' and measure == @measure")
    if t.empty:
        raise NotEstimableError(f"{table.path}: no rows for measure {measure!r}; measures: "
                                f"{sorted(table.table['measure'].unique())}")
    char = "fsm" if (t["characteristic"] == "fsm").any() else "disadvantaged"
    t = t[t["characteristic"] == char]
    group = "FSM" if char == "fsm" else "disadvantaged"
    keys = ["area_level", "area_code", "area_name"]
    t = t.assign(code=t["count_code"].where(t["count_code"].notna(), t["denominator_code"]))
    wide = t.set_index([*keys, "group"])[["count", "denominator", "rate", "code"]].unstack(
        "group", sort=False)
    code = wide["code"].astype(object).where(wide["code"].notna(), None)
    idx = wide.index.to_frame(index=False)
    n1, n0 = wide[("denominator", group)].to_numpy(), wide[("denominator", "other")].to_numpy()
    frame = pd.DataFrame({
        "unit": idx["area_code"], "name": idx["area_name"],
        "level": idx["area_level"].map({"la": "LA", "region": "region", "national": "national"}),
        "n_group": n1, "n_other": n0, "rate_group": wide[("rate", group)].to_numpy(),
        "rate_other": wide[("rate", "other")].to_numpy(),
        "share": 100 * n1 / (n1 + n0),
        "status": _status({group: pd.Series(code[group].to_numpy()),
                           "other": pd.Series(code["other"].to_numpy())}, table.layout)})
    return frame, group, t["measure_label"].iloc[0]


_UNIT_NAMES = {"school": ("school", "schools"), "LA": ("local authority", "local authorities")}
#: Layout -> builder of the unit frame (school rows for performance tables, areas for releases).
_UNITS = {"performance_tables": _school_units, "sfr_counts": _la_units, "ees_long": _la_units}
_UNIT_LEVEL = {"performance_tables": ("school", "school"), "sfr_counts": ("LA", "LA"),
               "ees_long": ("LA", "LA")}


def unit_gaps(table: PerformanceTable | ReleaseTable, measure: str | None = None) -> UnitGaps:
    """Gap per school (performance tables) or per LA (releases), with intervals and shrinkage.

    Rates are the published percentages (schools) or recomputed from counts (releases). The
    interval is Newcombe's hybrid score interval for a difference of two proportions (counts
    recovered from the rounded percentages and cohort sizes); the shrunk gap pulls each small
    cohort's gap towards the random-effects mean by its reliability (DerSimonian-Laird).
    Suppressed units stay in the table, with their status spelled out.

    Parameters
    ----------
    table : PerformanceTable or ReleaseTable
        As read by :mod:`evaluation.io.dfe`.
    measure : str, optional
        Column stem (``PTRWM_EXP``) or release measure (``KS4_LEVEL2_EM``); these by default.

    Returns
    -------
    UnitGaps

    Raises
    ------
    NotEstimableError
        The measure is absent, not a percentage, or fewer than two units have both rates.

    Examples
    --------
    >>> g = unit_gaps(read_published(published_sources()["dfe-sfr05-2014"]))
    >>> g.reference.query("name == 'England'")[["rate_group", "rate_other"]].round(1).values
    array([[38.1, 64.8]])
    """
    layout = "performance_tables" if isinstance(table, PerformanceTable) else table.layout
    measure = measure or DEFAULT_MEASURES[layout]
    frame, group, label = _UNITS[layout](table, measure)
    empty = (frame["n_group"] == 0) | (frame["n_other"] == 0)
    frame.loc[empty, "status"] = frame.loc[empty, "status"] + " (a group has 0 pupils: no rate)"
    frame, tau, mean, se = _with_intervals(frame)
    unit_level, label_unit = _UNIT_LEVEL[layout]
    units = frame[frame["level"] == unit_level]
    if units["gap"].notna().sum() < 2:
        raise NotEstimableError(f"{table.path}: fewer than 2 {label_unit}s with both rates of "
                                f"{measure!r} published; statuses: "
                                f"{units['status'].value_counts().to_dict()}")
    reference = frame[~frame["level"].isin([unit_level, "special school"])]
    singular, plural = _UNIT_NAMES[unit_level]
    return UnitGaps(units[[*UNIT_COLUMNS, "_var"]].reset_index(drop=True),
                    reference[UNIT_COLUMNS].reset_index(drop=True), group=group,
                    unit_label=singular, measure_label=label, unit_plural=plural, tau=tau,
                    mean=mean, mean_lower=mean - 1.959964 * se, mean_upper=mean + 1.959964 * se)


# --------------------------------------------------------------------------- gap vs share
@dataclass(frozen=True)
class GapSlope:
    """Gap against the share of disadvantaged / FSM pupils: the source documents' claim tested.

    The claim (DfE 2011 via the National College reports): schools with high FSM shares have
    smaller gaps, i.e. a negative slope. Weighted least squares of gap on share with
    random-effects weights ``1 / (v_i + tau^2)``.

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
    >>> g = unit_gaps(read_published(published_sources()["dfe-sfr05-2014"]))
    >>> gap_vs_share(g).verdict
    'agree'
    """

    results: object = field(repr=False)
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
        From :func:`unit_gaps`; units without both rates are not in the fit (they are counted
        in ``gaps.status_counts()``).
    alpha : float
        1 - confidence level.

    Returns
    -------
    GapSlope

    Examples
    --------
    >>> g = unit_gaps(read_published(published_sources()["dfe-ks2-2019-la850"]))
    >>> gap_vs_share(g).n
    182
    """
    d = gaps.estimable.dropna(subset=["share"])
    if len(d) < 3:
        raise NotEstimableError(f"gap_vs_share needs at least 3 units with gap and share; "
                                f"got {len(d)}")
    weights = 1 / (d["_var"] + gaps.tau**2)
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

    Examples
    --------
    >>> r = published_report("dfe-ks2-2019-la850")
    >>> r.headline[:40]
    'Disadvantaged pupils 20.4 pp behind othe'
    """

    source: PublishedSource
    gaps: UnitGaps
    slope: GapSlope
    code_counts: pd.DataFrame = field(repr=False)
    other_rows: pd.DataFrame = field(repr=False)
    national: pd.DataFrame = field(repr=False)
    code_totals: pd.DataFrame = field(repr=False)

    @property
    def headline(self) -> str:
        """Short text with the key gap figure, for the index page."""
        g = self.gaps
        who = g.group[0].upper() + g.group[1:]
        return (f"{who} pupils {g.mean:.1f} pp behind others on average across "
                f"{len(g.estimable)} {g.unit_plural} (95% CI {g.mean_lower:.1f} to "
                f"{g.mean_upper:.1f}); slope vs share {self.slope.slope:+.1f} pp per 10 pp")

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
        return pd.concat([self.gaps.reference[cols], self.national], ignore_index=True)

    def distribution_chart(self):
        """Sorted gaps with intervals (see :func:`evaluation.plots.published`)."""
        from evaluation.plots.published import gap_distribution_chart

        return gap_distribution_chart(self.gaps)

    def share_chart(self):
        """Gap against share with the fitted line."""
        from evaluation.plots.published import gap_share_chart

        return gap_share_chart(self.gaps, self.slope)

    def findings(self) -> str:
        """Plain-English findings (markdown) generated from the results."""
        return findings(self)

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


def published_report(source: str | PublishedSource,
                     directory: str | Path = config.PUBLISHED_DIR) -> PublishedGapReport:
    """Read a registered source and compute everything its report shows.

    Parameters
    ----------
    source : str or PublishedSource
        Slug of a folder in ``directory`` (see :func:`evaluation.io.dfe.published_sources`).
    directory : str or pathlib.Path
        Where the sources live.

    Returns
    -------
    PublishedGapReport

    Raises
    ------
    ValueError
        Unknown slug (the message lists the known ones).

    Examples
    --------
    >>> r = published_report("dfe-sfr05-2014")
    >>> r.gaps.unit_plural, len(r.gaps.estimable)
    ('local authorities', 150)
    """
    if isinstance(source, str):
        sources = published_sources(directory)
        if source not in sources:
            raise ValueError(f"`source` should be one of {sorted(sources)}; got {source!r}")
        source = sources[source]
    tables = [read_published(source, i) for i in range(len(source.paths))]
    gaps = unit_gaps(tables[0], source.measure or None)
    measure = source.measure or None
    stem = measure or DEFAULT_MEASURES[source.layout]
    used = {stem, *PT_GROUPS["counts"], PT_GROUPS["share"],
            *(f"{stem}_{s}" for s in PT_GROUPS["suffixes"])}
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
    national = [_national_rows(t, measure or DEFAULT_MEASURES[t.layout]) for t in tables[1:]
                if isinstance(t, ReleaseTable)]
    return PublishedGapReport(
        source, gaps, gap_vs_share(gaps),
        codes[["file", "column", "code", "reason", "n"]].reset_index(drop=True),
        pd.DataFrame(other, columns=["file", "what", "n"]),
        pd.concat(national, ignore_index=True) if national else pd.DataFrame(),
        pd.concat([t.code_counts.assign(file=Path(t.path).name) for t in tables])
        .groupby(["file", "code", "reason"], sort=False)["n"].sum().reset_index())


def findings(report: PublishedGapReport) -> str:
    """Plain-English findings paragraph generated from a report's results.

    Examples
    --------
    >>> "percentage points" in findings(published_report("dfe-sfr05-2014"))
    True
    """
    g, s = report.gaps, report.slope
    est, obs = g.estimable, g.estimable["gap"]
    not_pub = len(g.table) - len(est)
    ref = "; ".join(f"{r['name']} {r['rate_group']:.0f}% against {r['rate_other']:.0f}% "
                    f"(gap {r['gap']:.0f} points)"
                    for _, r in report.reference_table().dropna(subset=["gap"]).iterrows())
    direction = "smaller" if s.slope < 0 else "larger"
    verdict = {"agree": "agree with", "contradict": "contradict",
               "inconclusive": "neither confirm nor contradict"}[s.verdict]
    return (
        f"**{report.source.title}.** Of {len(g.table)} {g.unit_plural} in the file, {len(est)} "
        f"published the rate {g.measure_label} for both {g.group} and other pupils; "
        f"{not_pub} did not (suppressed small cohorts or no results; counted in the data-quality "
        f"section, not dropped). Across those {len(est)}, {g.group} pupils were on average "
        f"{g.mean:.1f} percentage points behind other pupils (95% CI {g.mean_lower:.1f} to "
        f"{g.mean_upper:.1f}); the middle half of {g.unit_plural} had gaps between "
        f"{obs.quantile(0.25):.0f} and {obs.quantile(0.75):.0f} points, and {int((obs > 0).sum())}"
        f" of {len(est)} had a gap above zero. Part of that spread is sampling noise in "
        f"small cohorts: the estimated spread of true gaps is {g.tau:.1f} points against "
        f"{obs.std():.1f} observed. Reference rows: {ref}. For each 10 points more "
        f"{g.group} pupils, the gap was {abs(s.slope):.1f} points {direction} (95% CI "
        f"{s.lower:+.1f} to {s.upper:+.1f}, n = {s.n}): these data {verdict} the source "
        f"documents' claim that schools with more FSM pupils have smaller gaps. Units whose "
        f"{g.group} results were suppressed are mostly those with the fewest {g.group} pupils, "
        "so the lowest shares are under-represented in this comparison."
    )

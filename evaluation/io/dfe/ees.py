"""Explore-education-statistics open data CSVs (with their ``.meta.csv``), read as declared."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.exceptions import DataError
from evaluation.io.dfe._common import (
    code_counts,
    found,
    frame,
    is_numeric,
    parse_frame,
    read_rows,
)
from evaluation.io.dfe.releases import TIDY_COLUMNS, ReleaseTable

_LAYOUT = "ees"
#: Time and location columns of the service's data standards (not filters, not indicators).
TIME_COLUMNS = ("time_period", "time_identifier")
_LOCATION_SUFFIXES = ("_code", "_name", "_urn", "_laestab", "_ukprn", "_id")
_LOCATION = {"geographic_level", "old_la_code", "new_la_code", "la_name", "country_code",
             "country_name", "region_code", "region_name", "school_urn", "school_laestab"}
#: geographic_level -> (code column, name column, tidy level); other levels use the most
#: specific ``*_name`` column present.
GEOGRAPHIC_LEVELS = {
    "National": ("country_code", "country_name", "national"),
    "Regional": ("region_code", "region_name", "region"),
    "Local authority": ("new_la_code", "la_name", "la"),
    "Local authority district": ("lad_code", "lad_name", "lad"),
    "Parliamentary constituency": ("pcon_code", "pcon_name", "pcon"),
    "Local skills improvement plan area": ("lsip_code", "lsip_name", "lsip"),
    "Opportunity area": ("opportunity_area_code", "opportunity_area_name", "opportunity area"),
    "English devolved area": ("english_devolved_area_code", "english_devolved_area_name",
                              "english devolved area"),
    "Ward": ("ward_code", "ward_name", "ward"),
    "MAT": ("trust_id", "trust_name", "MAT"),
    "Sponsor": ("sponsor_id", "sponsor_name", "sponsor"),
    "School": ("school_urn", "school_name", "school"),
    "Provider": ("provider_ukprn", "provider_name", "provider"),
    "Institution": ("institution_id", "institution_name", "institution"),
    "Planning area": ("planning_area_code", "planning_area_name", "planning area"),
    "RSC region": ("rsc_region_lead_name", "rsc_region_lead_name", "RSC region"),
}
#: Filters read as sex, first found; values -> all / boys / girls / other.
SEX_COLUMNS = ("sex", "gender", "characteristic_gender", "characteristic_sex", "pupil_sex")
SEX_VALUES = {"total": "all", "all": "all", "all pupils": "all", "boys": "boys", "male": "boys",
              "girls": "girls", "female": "girls"}
#: Group labels (lower case) -> (characteristic, group); ``None`` characteristic: taken from
#: the topic column (``breakdown_topic`` / ``characteristic_topic``).
GROUP_LABELS = {
    "disadvantaged": ("disadvantaged", "disadvantaged"),
    "disadvantaged pupils": ("disadvantaged", "disadvantaged"),
    "not disadvantaged": ("disadvantaged", "other"),
    "not known to be disadvantaged": ("disadvantaged", "other"),
    "disadvantaged all other": ("disadvantaged", "other"),
    "disadvantaged total other": ("disadvantaged", "other"),
    "non-disadvantaged": ("disadvantaged", "other"),
    "fsm": ("fsm", "FSM"), "fsm eligible": ("fsm", "FSM"), "eligible for fsm": ("fsm", "FSM"),
    "known to be eligible for fsm": ("fsm", "FSM"), "fsm6": ("fsm", "FSM"),
    "eligible for fsm in the last 6 years": ("fsm", "FSM"),
    "fsm not eligible": ("fsm", "other"), "not eligible for fsm": ("fsm", "other"),
    "not known to be eligible for fsm": ("fsm", "other"), "fsm all other": ("fsm", "other"),
    "not known to be fsm eligible": ("fsm", "other"),
    "fsm total other": ("fsm", "other"), "non-fsm": ("fsm", "other"),
    "all other pupils": (None, "other"), "all other": (None, "other"),
}
_TOPIC_WORDS = (("disadvantage", "disadvantaged"), ("fsm", "fsm"), ("free school", "fsm"))
#: Group filter columns: (topic column or None, value column), first with both groups wins.
GROUP_COLUMNS = (("breakdown_topic", "breakdown"), ("characteristic_topic", "characteristic"),
                 ("characteristic_group", "characteristic"), (None, "characteristic_value"),
                 (None, "characteristic_disadvantage"), (None, "characteristic_fsm"),
                 (None, "disadvantage_status"), (None, "disadvantage"), (None, "fsm_status"),
                 (None, "breakdown"), (None, "characteristic"))
#: Denominator columns tried after ``t_<subject>_eligible_pupils`` (subject: the measure's
#: first word, e.g. ``rwm``).
DENOMINATORS = ("t_pupils", "t_students", "t_eligible_pupils", "number_in_ss_cohort",
                "t_cohort", "number_of_pupils", "t_pupil_count")
_TOTALS = {"total", "all", "all pupils", "all schools", "state-funded schools", "final"}


@dataclass(frozen=True)
class EESTable:
    """An explore-education-statistics data file, its filters and indicators as declared.

    Attributes
    ----------
    path : str
        File read.
    data : pandas.DataFrame
        One row per file row: ``time_period`` (``2018/19`` for ``201819``), ``area_level``
        (``national``, ``region``, ``la``, ...), ``area_code``, ``area_name``, ``sex``
        (``all``, ``boys``, ``girls``, ``other``, or ``all`` without a sex filter), the file's
        location and filter columns as text, and indicators as float (codes NaN).
    codes : pandas.DataFrame
        Indicator columns: the code where no number is (``c``, ``low``, ``u``, ``x``, ``z``,
        ``:``, ``~``, blank), else None.
    code_counts : pandas.DataFrame
        ``column, code, reason, category, n``.
    filters : dict
        Filter column -> its distinct values, in file order.
    indicators : tuple of str
        Indicator columns (from the ``.meta.csv`` when present, else every column holding only
        numbers and codes).
    meta : pandas.DataFrame or None
        The ``.meta.csv`` as read (``col_name, col_type, label, indicator_unit, ...``).
    levels : dict
        Rows per ``geographic_level``.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES
    >>> t = read_ees(FIXTURES / "ees_ks2_disadvantage.csv")
    >>> t.levels
    {'National': 3, 'Regional': 3, 'Local authority': 12}
    """

    path: str
    data: pd.DataFrame = field(repr=False)
    codes: pd.DataFrame = field(repr=False)
    code_counts: pd.DataFrame = field(repr=False)
    filters: dict = field(repr=False)
    indicators: tuple = field(repr=False)
    meta: pd.DataFrame | None = field(default=None, repr=False)
    levels: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict, repr=False)

    @property
    def layout(self) -> str:
        """Always ``ees``."""
        return _LAYOUT

    def summary(self) -> pd.DataFrame:
        """Rows, areas and coded cells per geographic level."""
        d = self.data.assign(_coded=self.codes.notna().sum(axis=1))
        return (d.groupby("area_level", sort=False)
                .agg(rows=("area_name", "size"), areas=("area_name", "nunique"),
                     coded_cells=("_coded", "sum")).reset_index())

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape(Path(self.path).name)}: {len(self.data)} rows, filters "
                f"{html.escape(', '.join(self.filters))}, {len(self.indicators)} indicators"
                "</p>" + self.summary().to_html(index=False, border=0))


def _is_location(col: str) -> bool:
    return col in _LOCATION or col.endswith(_LOCATION_SUFFIXES)


def _period(raw: pd.DataFrame) -> pd.Series:
    tp = raw["time_period"].fillna("").str.strip()
    ident = raw.get("time_identifier", pd.Series("", index=raw.index)).fillna("").str.lower()
    spans = tp.str.fullmatch(r"\d{6}") & ~ident.str.contains("calendar|month|quarter|week")
    return tp.where(~spans, tp.str[:4] + "/" + tp.str[4:])


def _area(raw: pd.DataFrame) -> pd.DataFrame:
    level = raw["geographic_level"].fillna("").str.strip()
    names = [c for c in raw.columns if c.endswith("_name")]
    out = pd.DataFrame({"area_level": level.str.lower(), "area_code": "", "area_name": ""},
                       index=raw.index)
    for value in level.unique():
        mask = level == value
        code_col, name_col, tidy = GEOGRAPHIC_LEVELS.get(value, (None, None, value.lower()))
        if name_col not in raw.columns:
            filled = [c for c in names if raw.loc[mask, c].fillna("").str.strip().ne("").any()]
            name_col = filled[-1] if filled else None
        out.loc[mask, "area_level"] = tidy
        if name_col:
            out.loc[mask, "area_name"] = raw.loc[mask, name_col].fillna("").str.strip()
        if code_col in raw.columns:
            out.loc[mask, "area_code"] = raw.loc[mask, code_col].fillna("").str.strip()
        if value == "Local authority" and "old_la_code" in raw.columns:
            empty = out["area_code"] == ""
            out.loc[mask & empty, "area_code"] = raw.loc[mask & empty, "old_la_code"]
    return out


def _sidecar(path: Path, metadata) -> Path | None:
    if metadata is not None:
        return Path(metadata)
    candidate = path.with_name(path.name[: -len(path.suffix)] + ".meta.csv") \
        if path.suffix else None
    return candidate if candidate and candidate.is_file() else None


def read_ees(path: str | Path, metadata: str | Path | None = None, sheet=None) -> EESTable:
    """Read an explore-education-statistics open data file (CSV, xlsx or ods).

    Filters and indicators are taken from the ``.meta.csv`` sidecar (``<name>.meta.csv``
    beside the file) when there is one; otherwise every column holding only numbers and the
    service's codes is an indicator and every other non-location column (and any ``*_flag``)
    a filter. Every
    geographic level is kept (``area_level, area_code, area_name``); ``time_period`` such as
    ``201819`` becomes ``2018/19``; ``sex`` / ``gender`` / ``characteristic_gender`` is read
    as ``sex``; the codes ``c``, ``low``, ``u``, ``x``, ``z``, ``:``, ``~`` are counted by
    meaning.

    Parameters
    ----------
    path : str or pathlib.Path
        The data file.
    metadata : str or pathlib.Path, optional
        Its ``.meta.csv`` (found beside the file when omitted).
    sheet : str or int, optional
        Sheet of a spreadsheet.

    Returns
    -------
    EESTable

    Raises
    ------
    DataError
        No ``time_period`` / ``geographic_level`` column, a ``.meta.csv`` naming columns the
        file lacks, or no indicator; the message says what was expected and found.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES
    >>> t = read_ees(FIXTURES / "ees_ks2_disadvantage.csv")
    >>> t.code_counts.groupby("category")["n"].sum().to_dict()["suppressed"]
    4
    """
    path = Path(path)
    header, rows = read_rows(path, sheet)
    missing = [c for c in ("time_period", "geographic_level") if c not in header]
    if missing:
        raise DataError(f"{path}: not an explore-education-statistics file: expected columns "
                        f"['time_period', 'geographic_level', filters..., indicators...], "
                        f"missing {missing}; {found(header, rows)}")
    raw = frame(header, rows, path)
    if raw.empty:
        raise DataError(f"{path}: a header ({len(header)} columns) but no data rows; expected "
                        "one row per time period, area and filter value")
    meta_path, meta, labels = _sidecar(path, metadata), None, {}
    if meta_path is not None:
        mh, mr = read_rows(meta_path)
        if "col_name" not in mh or "col_type" not in mh:
            raise DataError(f"{meta_path}: not a .meta.csv: expected columns ['col_name', "
                            f"'col_type', 'label', ...]; {found(mh, mr)}")
        meta = frame(mh, mr, meta_path).fillna("")
        absent = sorted(set(meta["col_name"]) - set(header))
        if absent:
            raise DataError(f"{meta_path}: declares columns {absent} that {path.name} lacks; "
                            f"the file has {header[:12]}")
        kinds = dict(zip(meta["col_name"], meta["col_type"].str.lower(), strict=True))
        indicators = [c for c in header if kinds.get(c) == "indicator"]
        filters = [c for c in header if kinds.get(c) == "filter"]
        if "label" in meta.columns:
            labels = dict(zip(meta["col_name"], meta["label"], strict=True))
    else:
        candidates = [c for c in header if c not in TIME_COLUMNS and not _is_location(c)]
        numbers, coded = parse_frame(raw[[c for c in candidates if not c.endswith("_flag")]])
        indicators = [c for c in numbers if is_numeric(numbers[c], coded[c], _LAYOUT)]
        filters = [c for c in candidates if c not in indicators]
    if not indicators:
        raise DataError(f"{path}: no indicator columns (numbers or the codes c, low, u, x, z, "
                        f":, ~){' in its .meta.csv' if meta is not None else ''}; "
                        f"{found(header, rows)}")
    numbers, coded = parse_frame(raw[indicators])
    parsed = {c: (numbers[c], coded[c]) for c in indicators}
    text_cols = [c for c in header if c not in indicators and c != "sex"]
    data = pd.DataFrame({c: raw[c].fillna("").str.strip().astype("string") for c in text_cols})
    data["time_period"] = _period(raw).astype("string")
    area = _area(raw)
    sex_col = next((c for c in SEX_COLUMNS if c in filters), None)
    sex = (raw[sex_col].fillna("").str.strip().str.lower().map(SEX_VALUES).fillna("other")
           if sex_col else pd.Series("all", index=raw.index))
    data = pd.concat([area, sex.rename("sex"), data,
                      pd.DataFrame({c: v for c, (v, _) in parsed.items()})], axis=1)
    codes = pd.DataFrame({c: k for c, (_, k) in parsed.items()}, index=raw.index)
    level_counts = raw["geographic_level"].fillna("").str.strip().value_counts(sort=False)
    return EESTable(str(path), data, codes, code_counts(codes, _LAYOUT),
                    {c: list(dict.fromkeys(raw[c].fillna("").str.strip())) for c in filters},
                    tuple(indicators), meta, {k: int(v) for k, v in level_counts.items()},
                    labels)


def _groups(table: EESTable) -> tuple[str | None, str, pd.Series]:
    """Find the filters holding the FSM / disadvantage groups: topic, value, and each row's pair.

    Raises
    ------
    DataError
        No filter holds both a group and its 'other' label.
    """
    d = table.data
    for topic_col, value_col in GROUP_COLUMNS:
        if value_col not in table.filters or (topic_col and topic_col not in d.columns):
            continue
        label = d[value_col].str.lower().str.replace(r"\s+", " ", regex=True)
        topic = d[topic_col].str.lower() if topic_col else label
        char_of_topic = topic.map(lambda t: next((c for w, c in _TOPIC_WORDS if w in t), None))
        pairs = [GROUP_LABELS.get(v) for v in label]
        chars = [p[0] if p and p[0] else (ct if p else None)
                 for p, ct in zip(pairs, char_of_topic, strict=True)]
        out = pd.Series([(c, p[1]) if p and c else None for p, c in zip(pairs, chars,
                                                                         strict=True)],
                        index=d.index, dtype=object)
        groups = {g for g in out.dropna()}
        if any(g[1] != "other" for g in groups) and any(g[1] == "other" for g in groups):
            return topic_col, value_col, out
    shown = {c: v[:6] for c, v in table.filters.items()}
    raise DataError(f"{table.path}: no FSM / disadvantage breakdown: looked for filter columns "
                    f"{[c for _, c in GROUP_COLUMNS]} with labels such as 'Disadvantaged' and "
                    f"'Not known to be disadvantaged' or 'FSM eligible' and 'FSM all other'; "
                    f"the file's filters are {shown}")


def _denominator(table: EESTable, measure: str) -> str:
    subject = measure.split("_")[0]
    tried = [f"t_{subject}_eligible_pupils", *DENOMINATORS]
    found_col = next((c for c in tried if c in table.indicators), None)
    if found_col is None:
        raise DataError(f"{table.path}: no denominator for measure {measure!r}: tried columns "
                        f"{tried}; indicators are {list(table.indicators)[:15]}")
    return found_col


def _numerator(table: EESTable, measure: str) -> str:
    tried = [f"t_{measure}", f"number_{measure}", measure]
    col = next((c for c in tried if c in table.indicators), None)
    if col is None:
        raise DataError(f"{table.path}: no count column for measure {measure!r}: tried "
                        f"{tried}; indicators are {list(table.indicators)[:15]}")
    return col


def ees_release(table: EESTable, measures: list[str] | None = None,
                filters: dict | None = None) -> ReleaseTable:
    """Count pupils by FSM / disadvantage group of an EES file, as a :class:`ReleaseTable`.

    Parameters
    ----------
    table : EESTable
        From :func:`read_ees`.
    measures : list of str, optional
        Measure stems (``rwm_met_expected_standard`` for ``t_rwm_met_expected_standard``);
        every count column with a denominator when omitted.
    filters : dict, optional
        Filter column -> the value to keep. Other filters keep their total (``Total``,
        ``All ...``) when they have one, else must hold a single value.

    Returns
    -------
    ReleaseTable
        Layout ``ees_long``; ``excluded`` counts the rows of other groups and filter values.

    Raises
    ------
    DataError
        No group breakdown, no denominator, or a filter with several values and no total.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES
    >>> r = ees_release(read_ees(FIXTURES / "ees_ks2_disadvantage.csv"))
    >>> r.table.query("area_name == 'England' and sex == 'all'")[
    ...     ["group", "count", "denominator"]].values.tolist()
    [['disadvantaged', 99.0, 198.0], ['other', 360.0, 480.0]]
    """
    topic_col, group_col, group_of = _groups(table)
    d, excluded = table.data, {}
    keep = group_of.notna()
    excluded[f"rows of other {group_col} values"] = int((~keep).sum())
    filters = dict(filters or {})
    for col, values in table.filters.items():
        if col in (group_col, topic_col) or col.endswith("_topic") or col in SEX_COLUMNS:
            continue
        if col not in filters and d.groupby("time_period")[col].nunique().max() <= 1:
            continue  # one value per period (e.g. version: Final / Provisional): not a choice
        if col in filters:
            mask = d[col] == str(filters[col])
        else:
            totals = [v for v in values if v.lower() in _TOTALS]
            if len(set(d.loc[keep, col])) <= 1:
                continue
            if not totals:
                raise DataError(f"{table.path}: filter {col!r} has several values "
                                f"{values[:8]} and no total; pass filters={{{col!r}: ...}}")
            mask = d[col] == totals[0]
        excluded[f"rows of other {col} values"] = int((keep & ~mask).sum())
        keep &= mask
    if measures is None:
        dens = {c for c in table.indicators if c in DENOMINATORS or c.endswith("_eligible_pupils")}
        measures = [c.removeprefix("t_") for c in table.indicators
                    if c.startswith("t_") and c not in dens]
    parts = []
    for m in measures:
        num, den = _numerator(table, m), _denominator(table, m)
        sub = d[keep]
        count, denominator = sub[num], sub[den]
        rate = np.where(denominator > 0, 100 * count / denominator.where(denominator > 0),
                        np.nan)
        parts.append(pd.DataFrame({
            "time_period": sub["time_period"], "area_level": sub["area_level"],
            "area_code": sub["area_code"], "area_name": sub["area_name"],
            "characteristic": [g[0] for g in group_of[keep]],
            "group": [g[1] for g in group_of[keep]], "sex": sub["sex"], "measure": m,
            "measure_label": table.labels.get(num, m.replace("_", " ")), "count": count,
            "count_code": table.codes.loc[keep, num], "denominator": denominator,
            "denominator_code": table.codes.loc[keep, den], "rate": rate}))
    out = (pd.concat(parts, ignore_index=True)[TIDY_COLUMNS] if parts
           else pd.DataFrame(columns=TIDY_COLUMNS))
    if out.empty:
        raise DataError(f"{table.path}: no rows left for measures {measures}: rows left out "
                        f"by filter {excluded}; pass filters={{column: value}} to choose")
    for col in ("area_level", "area_code", "area_name", "time_period", "sex"):
        out[col] = out[col].astype(object)
    used = sorted({c for m in measures for c in (_numerator(table, m), _denominator(table, m))},
                  key=list(table.indicators).index)
    return ReleaseTable(table.path, "ees_long", out, table.code_counts[
        table.code_counts["column"].isin(used)].reset_index(drop=True), excluded)

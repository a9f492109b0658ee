"""Readers for the DfE's published files as they really are: performance tables and releases."""

from __future__ import annotations

import csv
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from evaluation import config
from evaluation.exceptions import DataError

#: Codes of the school performance tables and what they mean (blank: nothing published).
PERFORMANCE_CODES = {
    "SUPP": "suppressed (small cohort)",
    "NE": "no entries",
    "NP": "not published",
    "NA": "not applicable",
    "LOWCOV": "low coverage",
    "NEW": "new school",
    "": "blank",
}
#: Marker for cells missing because the row has fewer fields than the header.
SHORT_ROW = "<short row>"
#: Codes of the statistical first releases (SFR underlying data).
SFR_CODES = {
    "x": "suppressed (small count or secondary suppression)",
    ".": "not applicable (denominator zero)",
    "": "blank",
}
#: Codes of the DfE statistics service (explore-education-statistics) open data.
EES_CODES = {
    "x": "not available",
    "z": "not applicable",
    "c": "confidential (suppressed)",
    ":": "not available (older symbol)",
    "low": "rounds to zero but is not zero",
    "": "blank",
}
#: Layout -> its codes' meanings (a short row is possible in any CSV).
REASONS = {
    "performance_tables": {**PERFORMANCE_CODES, SHORT_ROW: "not in file (short row)"},
    "sfr_counts": {**SFR_CODES, SHORT_ROW: "not in file (short row)"},
    "ees_long": {**EES_CODES, SHORT_ROW: "not in file (short row)"},
}
_UNRECOGNISED = "unrecognised value (not a DfE code)"

#: Performance-table columns that are identifiers: kept as text (leading zeros matter).
ID_COLUMNS = ("ALPHAIND", "LEA", "ESTAB", "URN", "LAESTAB", "URN_AC", "TELNUM", "PCODE")
_NUMBER = re.compile(r"^[-+]?(\d[\d,]*(\.\d*)?|\.\d+)%?$")


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class PublishedSource:
    """One published source in ``data/published/<slug>/``, registered by its README front matter.

    Attributes
    ----------
    slug, title, layout : str
        Identifier, display title, and layout (``performance_tables``, ``sfr_counts``,
        ``ees_long``).
    paths : tuple of pathlib.Path
        Data files; the first is the main one.
    metadata : pathlib.Path or None
        The DfE's column dictionary, when shipped.
    licence, provenance : str
        Attribution text and where the files came from.
    phase, year, measure : str
        ``primary`` / ``secondary``, academic year, and the headline measure's column stem.

    Examples
    --------
    >>> sources = published_sources()
    >>> sources["dfe-sfr05-2014"].layout
    'sfr_counts'
    """

    slug: str
    title: str
    layout: str
    paths: tuple[Path, ...]
    licence: str
    provenance: str
    metadata: Path | None = None
    phase: str = ""
    year: str = ""
    measure: str = ""

    @property
    def path(self) -> Path:
        """The main data file."""
        return self.paths[0]


_SOURCE_KEYS = ("slug", "title", "layout", "files", "licence", "provenance")


def _front_matter(readme: Path) -> dict:
    text = readme.read_text(encoding="utf-8")
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, flags=re.S)
    if not match:
        raise DataError(f"{readme}: expected YAML front matter between '---' lines with keys "
                        f"{list(_SOURCE_KEYS)}; found first line {text.splitlines()[:1]}")
    meta = yaml.safe_load(match.group(1)) or {}
    missing = [k for k in _SOURCE_KEYS if k not in meta]
    if missing:
        raise DataError(f"{readme}: front matter lacks keys {missing}; "
                        f"expected {list(_SOURCE_KEYS)}")
    return meta


def published_sources(directory: str | Path = config.PUBLISHED_DIR) -> dict[str, PublishedSource]:
    """Every published source under ``directory``: one per sub-folder with a README front matter.

    Parameters
    ----------
    directory : str or pathlib.Path
        Folder holding one sub-folder per source (default ``data/published``).

    Returns
    -------
    dict of str to PublishedSource
        Sorted by slug.

    Raises
    ------
    DataError
        A README without the expected keys, an unknown layout, or a listed file that is absent.

    Examples
    --------
    >>> sorted(published_sources())
    ['dfe-ks2-2019-la850', 'dfe-sfr05-2014']
    """
    directory = Path(directory)
    out = {}
    for readme in sorted(directory.glob("*/README.md")):
        meta = _front_matter(readme)
        if meta["layout"] not in LAYOUTS:
            raise DataError(f"{readme}: `layout` should be one of {sorted(LAYOUTS)}; "
                            f"got {meta['layout']!r}")
        folder = readme.parent
        paths = tuple(folder / f for f in meta["files"])
        absent = [str(p) for p in paths if not p.is_file()]
        if absent:
            raise DataError(f"{readme}: listed files not found: {absent}")
        out[str(meta["slug"])] = PublishedSource(
            slug=str(meta["slug"]), title=str(meta["title"]), layout=meta["layout"], paths=paths,
            licence=str(meta["licence"]), provenance=str(meta["provenance"]),
            metadata=folder / meta["metadata"] if meta.get("metadata") else None,
            phase=str(meta.get("phase", "")), year=str(meta.get("year", "")),
            measure=str(meta.get("measure", "")))
    return out


# --------------------------------------------------------------------------- raw reading
def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV as strings (BOM and CRLF handled; Latin-1 fallback)."""
    if not Path(path).is_file():
        raise DataError(f"{path}: file not found")
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            with open(path, encoding=encoding, newline="") as fh:
                rows = list(csv.reader(fh))
            break
        except UnicodeDecodeError:
            continue
    if not rows:
        raise DataError(f"{path}: empty file; expected a CSV with a header row")
    return [h.strip() for h in rows[0]], rows[1:]


def _found(header: list[str], rows: list[list[str]]) -> str:
    first = rows[0][:8] if rows else []
    return f"found columns {header[:12]}{' ...' if len(header) > 12 else ''}; first row {first}"


def _require(path, header, rows, layout: str, required) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f"{path}: not a {layout!r} file: expected columns {list(required)}, "
                        f"missing {missing}; {_found(header, rows)}")


def _parse(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers (percent signs and thousands commas dropped) and the code of each non-number."""
    text = raw.astype(object).where(raw.notna(), SHORT_ROW).map(str).str.strip()
    is_num = text.str.match(_NUMBER)
    values = pd.to_numeric(text.where(is_num).str.replace("[%,]", "", regex=True),
                           errors="coerce").astype("float64")
    codes = text.where(~is_num).astype(object)
    return values, codes.where(codes.notna(), None)


def _reason(code, layout: str) -> str:
    return REASONS[layout].get(code, _UNRECOGNISED)


def _code_counts(codes: pd.DataFrame, layout: str) -> pd.DataFrame:
    long = codes.melt(var_name="column", value_name="code").dropna(subset=["code"])
    counts = long.groupby(["column", "code"], sort=False).size().rename("n").reset_index()
    counts.insert(2, "reason", counts["code"].map(lambda c: _reason(c, layout)))
    order = {c: i for i, c in enumerate(codes.columns)}
    return (counts.assign(_o=counts["column"].map(order))
            .sort_values(["_o", "code"]).drop(columns="_o").reset_index(drop=True))


# --------------------------------------------------------------------------- performance tables
@dataclass(frozen=True)
class PerformanceTable:
    """A school performance tables file (``ks2final`` / ``ks4final`` layout), read as it is.

    Attributes
    ----------
    path : str
        File read.
    values : pandas.DataFrame
        One row per file row (index = 0-based data row): ``row_type`` (``school``,
        ``special school``, ``LA``, ``national``), ``row_label``, then every column of the file,
        numbers as float (``49%`` -> 49.0) and identifiers / names as text. Codes are NaN here.
    codes : pandas.DataFrame
        Same rows, numeric columns only: the code that stands where no number is (``SUPP``,
        ``NE``, ``NP``, ``NA``, ``LOWCOV``, ``NEW``, ``""`` blank, ``<short row>``), else None.
    code_counts : pandas.DataFrame
        ``column, code, reason, n``: every code counted, per column.
    labels : dict
        Column -> description from the DfE's metadata file (empty without one).
    percent_columns : tuple of str
        Numeric columns published as percentages (``49%``), kept in percent.

    Examples
    --------
    >>> t = read_performance_tables(published_sources()["dfe-ks2-2019-la850"].path)
    >>> t.values["row_type"].value_counts()["school"]
    np.int64(315)
    """

    path: str
    values: pd.DataFrame = field(repr=False)
    codes: pd.DataFrame = field(repr=False)
    code_counts: pd.DataFrame = field(repr=False)
    labels: dict = field(default_factory=dict, repr=False)
    percent_columns: tuple = field(default=(), repr=False)

    def rows(self, row_type: str) -> pd.DataFrame:
        """Rows of one type (``school``, ``special school``, ``LA``, ``national``)."""
        allowed = ["school", "special school", "LA", "national"]
        if row_type not in allowed:
            raise ValueError(f"`row_type` should be one of {allowed}; got {row_type!r}")
        return self.values[self.values["row_type"] == row_type]

    def long(self, columns: list[str]) -> pd.DataFrame:
        """Tidy form of some numeric columns: ``row, row_type, column, value, code, reason``."""
        unknown = [c for c in columns if c not in self.codes.columns]
        if unknown:
            raise ValueError(f"`columns` not numeric columns of {self.path}: {unknown}")
        vals = self.values[columns].rename_axis("row").reset_index().melt(
            id_vars="row", var_name="column", value_name="value")
        code = self.codes[columns].rename_axis("row").reset_index().melt(
            id_vars="row", var_name="column", value_name="code")
        out = vals.merge(code, on=["row", "column"])
        out.insert(1, "row_type", out["row"].map(self.values["row_type"]))
        out["reason"] = out["code"].map(
            lambda c: None if c is None else _reason(c, "performance_tables"))
        return out

    def summary(self) -> pd.DataFrame:
        """Rows per row type, with the file's total of codes."""
        out = self.values["row_type"].value_counts().rename_axis("row_type").rename("rows")
        return out.reset_index()

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape(Path(self.path).name)}: {len(self.values)} rows, "
                f"{self.codes.shape[1]} numeric columns, {int(self.code_counts['n'].sum())} "
                "coded cells</p>" + self.summary().to_html(index=False, border=0))


def _meta_labels(path: Path | None) -> dict:
    if path is None or not Path(path).is_file():
        return {}
    if str(path).endswith(".csv"):
        header, rows = _read_rows(path)
        name = next((i for i, h in enumerate(header) if "field" in h.lower()), 1)
        return {r[name].strip(): r[-1].strip() for r in rows if len(r) > name}
    text = Path(path).read_text(encoding="latin-1")
    return dict(re.findall(r"^(\w+):\s*(.+?)\s*$", text, flags=re.M))


def _row_types(raw: pd.DataFrame, labels: dict) -> tuple[pd.Series, pd.Series]:
    """Row type from structure, label from the metadata's RECTYPE description.

    URN present -> school (special school if so labelled), LEA only -> LA, neither -> national.
    """
    rectype = raw["RECTYPE"].fillna("").str.strip()
    text = labels.get("RECTYPE", "")
    inner = text[text.find("(") + 1:text.rfind(")")] if "(" in text else text
    described = dict(re.findall(r"(\d+)\s*=\s*([^;]+)", inner))
    label = rectype.map(lambda r: described.get(r, f"RECTYPE {r}").strip())
    has = {c: raw[c].fillna("").str.strip() != "" for c in ("URN", "LEA")}
    special = label.str.contains("special", case=False) | (rectype == "2") & ~bool(described)
    kind = np.select([has["URN"] & special, has["URN"], has["LEA"]],
                     ["special school", "school", "LA"], "national")
    return pd.Series(kind, index=raw.index), label


def read_performance_tables(path: str | Path, metadata: str | Path | None = None
                            ) -> PerformanceTable:
    """Read a school performance tables download (``ks2final`` / ``ks4final``) as published.

    Handles a byte-order mark, CRLF, percentages as text, short rows and the codes SUPP, NE,
    NP, NA, LOWCOV, NEW and blank: numbers become floats, every code becomes NaN with the code
    kept in ``codes`` and counted in ``code_counts``.

    Parameters
    ----------
    path : str or pathlib.Path
        The CSV file (any year, any LA).
    metadata : str or pathlib.Path, optional
        The DfE's column dictionary (e.g. ``ks2_meta.csv``) for labels; looked for beside the
        file (``*meta*.csv``) when omitted.

    Returns
    -------
    PerformanceTable

    Raises
    ------
    DataError
        The file lacks the layout's columns (the message lists them and what was found), or a
        row has more fields than the header.

    Examples
    --------
    >>> t = read_performance_tables(published_sources()["dfe-ks2-2019-la850"].path)
    >>> t.rows("LA")[["PTRWM_EXP_FSM6CLA1A", "PTRWM_EXP_NotFSM6CLA1A"]].iloc[0].tolist()
    [49.0, 73.0]
    """
    path = Path(path)
    header, rows = _read_rows(path)
    _require(path, header, rows, "performance_tables", ("RECTYPE", "LEA", "URN", "SCHNAME"))
    long_rows = [i for i, r in enumerate(rows) if len(r) > len(header)]
    if long_rows:
        raise DataError(f"{path}: rows {long_rows[:10]} have more fields than the header "
                        f"({len(header)}); expected at most {len(header)}")
    rows = [r for r in rows if any(v.strip() for v in r)]
    padded = [r + [None] * (len(header) - len(r)) for r in rows]
    raw = pd.DataFrame(padded, columns=header, dtype=object)
    if metadata is None:
        metadata = next(iter(sorted(path.parent.glob("*meta*.csv"))), None)
    labels = _meta_labels(metadata)
    kind, label = _row_types(raw, labels)
    values, codes, percent = {"row_type": kind, "row_label": label}, {}, []
    for col in header:
        nums, code = _parse(raw[col])
        coded = code.notna()
        known = code[coded].isin(list(REASONS["performance_tables"]))
        numeric = nums.notna().sum() > 0 and nums.notna().sum() >= (~known & coded).sum()
        if col in ID_COLUMNS or not numeric:
            text = raw[col].fillna("").str.strip()
            values[col] = text.where(text != "").astype("string")
        else:
            values[col], codes[col] = nums, code
            if raw[col].str.strip().str.endswith("%").any():
                percent.append(col)
    codes_df = pd.DataFrame(codes, index=raw.index)
    return PerformanceTable(str(path), pd.DataFrame(values), codes_df,
                            _code_counts(codes_df, "performance_tables"), labels, tuple(percent))


# --------------------------------------------------------------------------- releases
_TIDY = ["time_period", "area_level", "area_code", "area_name", "characteristic", "group",
         "sex", "measure", "measure_label", "count", "count_code", "denominator",
         "denominator_code", "rate"]


@dataclass(frozen=True)
class ReleaseTable:
    """A statistical release's counts by FSM / disadvantage, in one tidy table.

    Attributes
    ----------
    path, layout : str
        File read and its layout (``sfr_counts`` or ``ees_long``).
    table : pandas.DataFrame
        ``time_period, area_level (national|region|la), area_code, area_name, characteristic
        (fsm|disadvantaged), group (FSM|disadvantaged|other), sex, measure, measure_label,
        count, count_code, denominator, denominator_code, rate`` (rate recomputed from the
        counts, percent; NaN when either count is coded).
    code_counts : pandas.DataFrame
        ``column, code, reason, n`` over the columns read.
    excluded : dict
        Rows and columns not used (other characteristics), counted by reason.

    Examples
    --------
    >>> r = read_statistical_release(published_sources()["dfe-sfr05-2014"].path)
    >>> e = r.table.query("area_name == 'England' and measure == 'KS4_LEVEL2_EM' and sex == 'all'")
    >>> e[["group", "count", "denominator"]].values.tolist()
    [['FSM', 32280.0, 84747.0], ['other', 313800.0, 484374.0]]
    """

    path: str
    layout: str
    table: pd.DataFrame = field(repr=False)
    code_counts: pd.DataFrame = field(repr=False)
    excluded: dict = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """Areas, measures and coded cells per area level."""
        t = self.table
        return (t.groupby("area_level", sort=False)
                .agg(areas=("area_name", "nunique"), measures=("measure", "nunique"),
                     coded_counts=("count_code", lambda s: int(s.notna().sum())))
                .reset_index())

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape(Path(self.path).name)} ({self.layout}): {len(self.table)} "
                "rows</p>" + self.summary().to_html(index=False, border=0))


#: SFR column group suffix -> (characteristic, group).
SFR_GROUPS = {"FSM": ("fsm", "FSM"), "allother": ("fsm", "other")}
#: SFR national file: Characteristic / category -> (characteristic, group).
SFR_CATEGORIES = {
    ("FSM_status", "FSM"): ("fsm", "FSM"),
    ("FSM_status", "All other pupils"): ("fsm", "other"),
    ("Disadvantaged_status", "Disadvantaged pupils"): ("disadvantaged", "disadvantaged"),
    ("Disadvantaged_status", "All other pupils"): ("disadvantaged", "other"),
}
_SFR_COL = re.compile(r"^(?P<measure>\w+?)_(?P<sex>girls|boys|all)(_(?P<group>[A-Za-z]+))?"
                      r"_(?P<yy>\d{2})$")
_DENOMINATORS = ("Laden", "NATden")


def _sfr_measure_labels(labels: dict) -> dict:
    out = {}
    for name, text in labels.items():
        m = _SFR_COL.match(name)
        if m and m["sex"] == "all" and not m["group"] and "achieving" in text:
            out[m["measure"]] = text.split("achieving", 1)[1].strip()
    return out


def _area(frame: pd.DataFrame) -> pd.DataFrame:
    col = {c.lower(): c for c in frame.columns}

    def get(*names):
        for n in names:
            if n.lower() in col:
                return frame[col[n.lower()]].fillna("").str.strip()
        return pd.Series("", index=frame.index)

    la, region, country = get("LA_name", "la_name"), get("GOR_name", "region_name"), \
        get("Country_name", "country_name")
    level = np.select([la != "", region != ""], ["la", "region"], "national")
    name = la.where(la != "", region.where(region != "", country))
    code = get("LA_code", "old_la_code").where(la != "", get("Region_code_9_digit", "region_code")
                                               .where(region != "", get("Country_code_9_digit",
                                                                        "country_code")))
    return pd.DataFrame({"area_level": level, "area_code": code, "area_name": name},
                        index=frame.index)


def _assemble(raw, area, pieces, time_period, measure_labels) -> pd.DataFrame:
    """pieces: (mask, characteristic, group, sex, measure, count_col, den_col)."""
    parts = []
    for mask, char, group, sex, measure, count_col, den_col in pieces:
        count, ccode = _parse(raw.loc[mask, count_col])
        den, dcode = _parse(raw.loc[mask, den_col])
        rate = np.where(den > 0, 100 * count / den.where(den > 0), np.nan)
        period = time_period[mask] if isinstance(time_period, pd.Series) else time_period
        parts.append(area[mask].assign(
            time_period=period, characteristic=char, group=group, sex=sex, measure=measure,
            measure_label=measure_labels.get(measure, measure), count=count, count_code=ccode,
            denominator=den, denominator_code=dcode, rate=rate))
    if not parts:
        return pd.DataFrame(columns=_TIDY)
    return pd.concat(parts).sort_index(kind="stable")[_TIDY].reset_index(drop=True)


def _sfr_denominator(measure: str, base: str, columns: set, suffix: str) -> str | None:
    stem = measure.removeprefix("KS4_")
    for candidate in (f"{base}_{stem}{suffix}", f"{base}{suffix}"):
        if candidate in columns:
            return candidate
    return None


def _read_sfr(path: Path, metadata: Path | None = None) -> ReleaseTable:
    header, rows = _read_rows(path)
    parsed = {c: _SFR_COL.match(c) for c in header}
    bases = [b for b in _DENOMINATORS if any(m and m["measure"] == b for m in parsed.values())]
    if not bases:
        raise DataError(f"{path}: not a 'sfr_counts' file: expected count columns named "
                        f"<measure>_<girls|boys|all>[_<group>]_<yy> with a denominator "
                        f"{list(_DENOMINATORS)}; {_found(header, rows)}")
    raw = pd.DataFrame([r + [None] * (len(header) - len(r)) for r in rows], columns=header,
                       dtype=object)
    base, cols = bases[0], set(header)
    labels = _sfr_measure_labels(_meta_labels(metadata or next(iter(
        sorted(path.parent.glob("*metadata*.txt"))), None)))
    yy = next(m["yy"] for m in parsed.values() if m)
    period = f"20{int(yy) - 1:02d}/{yy}"
    area, pieces, excluded = _area(raw), [], {}
    by_char = "Characteristic" in header
    if by_char:  # national file: one row per characteristic category
        key = list(zip(raw["Characteristic"].fillna(""), raw["Characteristic_category"].fillna(""),
                       strict=True))
        group_of = pd.Series([SFR_CATEGORIES.get(k) for k in key], index=raw.index)
        excluded["rows of other characteristics"] = int(group_of.isna().sum())
        for (char, group), idx in group_of.dropna().groupby(group_of.dropna()).groups.items():
            mask = raw.index.isin(idx)
            for name, m in parsed.items():
                if m and not m["group"] and not m["measure"].startswith(base):
                    den = _sfr_denominator(m["measure"], base, cols, f"_{m['sex']}_{yy}")
                    pieces.append((mask, char, group, m["sex"], m["measure"], name, den))
    else:  # LA file: groups in column names
        mask = pd.Series(True, index=raw.index)
        for name, m in parsed.items():
            if not m or m["measure"].startswith(base):
                continue
            if m["group"] not in SFR_GROUPS:
                excluded[f"columns of group {m['group']}"] = \
                    excluded.get(f"columns of group {m['group']}", 0) + 1
                continue
            char, group = SFR_GROUPS[m["group"]]
            den = _sfr_denominator(m["measure"], base, cols, f"_{m['sex']}_{m['group']}_{yy}")
            pieces.append((mask, char, group, m["sex"], m["measure"], name, den))
    missing_den = sorted({p[5] for p in pieces if p[6] is None})
    if missing_den:
        raise DataError(f"{path}: no denominator column ({base}_...) for {missing_den[:5]}")
    used = sorted({c for p in pieces for c in p[5:7]}, key=header.index)
    table = _assemble(raw, area, pieces, period, labels)
    codes = pd.DataFrame({c: _parse(raw[c])[1] for c in used})
    return ReleaseTable(str(path), "sfr_counts", table, _code_counts(codes, "sfr_counts"), excluded)


#: EES filter columns that can hold the FSM / disadvantage group, first found is used.
EES_GROUP_COLUMNS = ("characteristic_value", "breakdown", "characteristic", "fsm_status",
                     "disadvantage_status", "disadvantage")
#: EES group labels (lower case) -> (characteristic, group).
EES_GROUPS = {
    "fsm eligible": ("fsm", "FSM"), "fsm": ("fsm", "FSM"),
    "known to be eligible for fsm": ("fsm", "FSM"),
    "fsm not eligible": ("fsm", "other"), "not known to be eligible for fsm": ("fsm", "other"),
    "fsm all other": ("fsm", "other"),
    "disadvantaged": ("disadvantaged", "disadvantaged"),
    "not disadvantaged": ("disadvantaged", "other"),
    "disadvantaged all other": ("disadvantaged", "other"),
}
EES_DENOMINATORS = ("t_pupils", "t_students")
_EES_SEX = {"total": "all", "all": "all", "boys": "boys", "girls": "girls", "male": "boys",
            "female": "girls"}


def _read_ees(path: Path, metadata: Path | None = None) -> ReleaseTable:
    header, rows = _read_rows(path)
    group_col = next((c for c in EES_GROUP_COLUMNS if c in header), None)
    den_col = next((c for c in EES_DENOMINATORS if c in header), None)
    if "time_period" not in header or "geographic_level" not in header or not group_col \
            or not den_col:
        raise DataError(f"{path}: not an 'ees_long' file: expected columns time_period, "
                        f"geographic_level, a group column (one of {list(EES_GROUP_COLUMNS)}) "
                        f"and a denominator (one of {list(EES_DENOMINATORS)}); "
                        f"{_found(header, rows)}")
    raw = pd.DataFrame([r + [None] * (len(header) - len(r)) for r in rows], columns=header,
                       dtype=object)
    label = raw[group_col].fillna("").str.strip().str.lower()
    group_of = label.map(EES_GROUPS)
    sex = (raw["sex"].fillna("total").str.strip().str.lower().map(_EES_SEX)
           if "sex" in header else pd.Series("all", index=raw.index))
    counts = [c for c in header if c.startswith("t_") and c != den_col]
    excluded = {f"rows of other {group_col} values": int(group_of.isna().sum())}
    tp = raw["time_period"].fillna("").str.strip()
    period = tp.where(~tp.str.fullmatch(r"\d{6}"), tp.str[:4] + "/" + tp.str[4:])
    pieces = []
    for (char, group), idx in group_of.dropna().groupby(group_of.dropna()).groups.items():
        for s in sex[idx].unique():
            mask = raw.index.isin(idx) & (sex == s).to_numpy()
            pieces += [(mask, char, group, s, c.removeprefix("t_"), c, den_col) for c in counts]
    table = _assemble(raw, _area(raw), pieces, period, {})
    codes = pd.DataFrame({c: _parse(raw[c])[1] for c in [*counts, den_col]})
    return ReleaseTable(str(path), "ees_long", table, _code_counts(codes, "ees_long"), excluded)


#: Layout name -> reader; every reader takes (path, metadata=None).
LAYOUTS = {
    "performance_tables": read_performance_tables,
    "sfr_counts": _read_sfr,
    "ees_long": _read_ees,
}


def read_statistical_release(path: str | Path, layout: str | None = None,
                             metadata: str | Path | None = None) -> ReleaseTable:
    """Read statistical-release counts by FSM / disadvantage into one tidy table.

    Parameters
    ----------
    path : str or pathlib.Path
        An SFR underlying-data CSV (LA file with ``<measure>_<sex>_<group>_<yy>`` columns, or
        the national file by characteristic) or a DfE statistics-service open-data CSV
        (``time_period, geographic_level, ...`` with a group filter and ``t_`` counts).
    layout : {"sfr_counts", "ees_long"}, optional
        Detected from the columns when omitted.
    metadata : str or pathlib.Path, optional
        The DfE's metadata text, for measure labels (found beside the file when omitted).

    Returns
    -------
    ReleaseTable

    Raises
    ------
    DataError
        The file matches neither layout; the message says what each expects and what was found.

    Examples
    --------
    >>> r = read_statistical_release(published_sources()["dfe-sfr05-2014"].path)
    >>> r.layout, int(r.table["area_name"].nunique())
    ('sfr_counts', 164)
    """
    path = Path(path)
    if layout is None:
        header, _ = _read_rows(path)
        layout = "ees_long" if "time_period" in header else "sfr_counts"
    if layout not in ("sfr_counts", "ees_long"):
        raise ValueError(f"`layout` should be one of ['sfr_counts', 'ees_long']; got {layout!r}")
    return LAYOUTS[layout](path, Path(metadata) if metadata else None)


def read_published(source: PublishedSource, index: int = 0) -> PerformanceTable | ReleaseTable:
    """Read one file of a registered source with the reader of its layout.

    Examples
    --------
    >>> read_published(published_sources()["dfe-sfr05-2014"]).layout
    'sfr_counts'
    """
    return LAYOUTS[source.layout](source.paths[index], source.metadata)

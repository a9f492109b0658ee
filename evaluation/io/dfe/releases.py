"""Statistical releases by pupil characteristic (SFR underlying data) in one tidy table."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.exceptions import DataError
from evaluation.io.dfe._common import code_counts, found, frame, meta_labels, parse, read_rows

TIDY_COLUMNS = ["time_period", "area_level", "area_code", "area_name", "characteristic", "group",
                "sex", "measure", "measure_label", "count", "count_code", "denominator",
                "denominator_code", "rate"]


@dataclass(frozen=True)
class ReleaseTable:
    """A statistical release's counts by FSM / disadvantage, in one tidy table.

    Attributes
    ----------
    path, layout : str
        File read and its layout (``sfr_counts``, or ``ees_long`` for a statistics-service file).
    table : pandas.DataFrame
        ``time_period, area_level (national|region|la), area_code, area_name, characteristic
        (fsm|disadvantaged), group (FSM|disadvantaged|other), sex, measure, measure_label,
        count, count_code, denominator, denominator_code, rate`` (rate recomputed from the
        counts, percent; NaN when either count is coded).
    code_counts : pandas.DataFrame
        ``column, code, reason, category, n`` over the columns read.
    excluded : dict
        Rows and columns not used (other characteristics), counted by reason.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES
    >>> r = read_sfr(FIXTURES / "sfr_la_2015.csv")
    >>> e = r.table.query("area_name == 'England' and measure == 'KS4_LEVEL2_EM' and sex == 'all'")
    >>> e[["group", "count", "denominator"]].values.tolist()
    [['FSM', 400.0, 1000.0], ['other', 2600.0, 4000.0]]
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
        count, ccode = parse(raw.loc[mask, count_col])
        den, dcode = parse(raw.loc[mask, den_col])
        rate = np.where(den > 0, 100 * count / den.where(den > 0), np.nan)
        period = time_period[mask] if isinstance(time_period, pd.Series) else time_period
        parts.append(area[mask].assign(
            time_period=period, characteristic=char, group=group, sex=sex, measure=measure,
            measure_label=measure_labels.get(measure, measure), count=count, count_code=ccode,
            denominator=den, denominator_code=dcode, rate=rate))
    if not parts:
        return pd.DataFrame(columns=TIDY_COLUMNS)
    return pd.concat(parts).sort_index(kind="stable")[TIDY_COLUMNS].reset_index(drop=True)


def _sfr_denominator(measure: str, base: str, columns: set, suffix: str) -> str | None:
    stem = measure.removeprefix("KS4_")
    for candidate in (f"{base}_{stem}{suffix}", f"{base}{suffix}"):
        if candidate in columns:
            return candidate
    return None


def read_sfr(path: str | Path, metadata: str | Path | None = None) -> ReleaseTable:
    """Read SFR underlying data (LA file or national file by characteristic).

    The LA file has ``<measure>_<sex>_<group>_<yy>`` columns; the national file one row per
    characteristic category. Both become a :class:`ReleaseTable`.

    Raises
    ------
    DataError
        No count columns of that form with a denominator (the message shows what was found).

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES
    >>> read_sfr(FIXTURES / "sfr_la_2015.csv").table["time_period"].unique().tolist()
    ['2014/15']
    """
    path = Path(path)
    header, rows = read_rows(path)
    parsed = {c: _SFR_COL.match(c) for c in header}
    bases = [b for b in _DENOMINATORS if any(m and m["measure"] == b for m in parsed.values())]
    if not bases:
        raise DataError(f"{path}: not a 'sfr_counts' file: expected count columns named "
                        f"<measure>_<girls|boys|all>[_<group>]_<yy> with a denominator "
                        f"{list(_DENOMINATORS)}; {found(header, rows)}")
    raw = frame(header, rows, path)
    base, cols = bases[0], set(header)
    labels = _sfr_measure_labels(meta_labels(metadata or next(iter(
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
    codes = pd.DataFrame({c: parse(raw[c])[1] for c in used})
    return ReleaseTable(str(path), "sfr_counts", table, code_counts(codes, "sfr_counts"), excluded)



"""Multi-year school-level panels built from the performance tables (one row per school)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.exceptions import DataError
from evaluation.io.dfe._common import code_counts, found, frame, parse, read_rows, reason

_LAYOUT = "school_panel"
#: Panel column stems (``<stem><yy>``) -> tidy column; rates are proportions in the file.
PANEL_STEMS = {"ac.gcse.all": "rate_all", "ac.gcse.fsm": "rate_fsm", "tpup": "n_pupils",
               "tever6fsm": "n_fsm", "totpups": "school_size", "ks2aps": "ks2_aps",
               "ever6fsm": "share_fsm_file"}
_RATES = ("rate_all", "rate_fsm")
PANEL_COLUMNS = ["urn", "name", "la", "london", "school_type", "closed", "year", "n_pupils",
                 "n_fsm", "n_other", "share_fsm", "rate_all", "rate_fsm", "rate_other", "gap",
                 "school_size", "ks2_aps", "status"]


@dataclass(frozen=True)
class SchoolPanel:
    """School-level results over several years, one row per school and year.

    Attributes
    ----------
    path : str
        File read.
    table : pandas.DataFrame
        ``urn, name, la, london, school_type, closed, year`` (exam year, e.g. 2013 for
        2012/13), ``n_pupils`` (KS4 cohort), ``n_fsm`` (FSM ever-6 pupils in it), ``n_other``,
        ``share_fsm`` (% of the cohort, from the counts), ``rate_all``, ``rate_fsm``,
        ``rate_other`` (% with 5+ A*-C including English and maths; other pupils' rate derived
        from the all-pupil and FSM rates and counts), ``gap`` (other minus FSM, points),
        ``school_size``, ``ks2_aps`` and ``status`` (what is missing, spelled out). Counts are
        integers.
    years : tuple of int
        Exam years in the file.
    code_counts : pandas.DataFrame
        ``column, code, reason, category, n`` over the panel columns.
    notes : tuple of str
        What the reader derived or found inconsistent (e.g. a share column disagreeing with
        the counts).

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES
    >>> p = read_school_panel(FIXTURES / "school_panel.csv")
    >>> p.years, len(p.table)
    ((2013, 2014, 2015), 12)
    """

    path: str
    table: pd.DataFrame = field(repr=False)
    years: tuple
    code_counts: pd.DataFrame = field(repr=False)
    notes: tuple = ()

    def wide(self, column: str) -> pd.DataFrame:
        """One column by school (rows) and year (columns)."""
        return self.table.pivot(index="urn", columns="year", values=column)

    def summary(self) -> pd.DataFrame:
        """Schools and pupil-weighted rates per year."""
        t = self.table
        rows = []
        for year, g in t.groupby("year"):
            ok = g["rate_fsm"].notna()
            rows.append({"year": year, "schools": len(g),
                         "schools with FSM rate": int(ok.sum()),
                         "FSM pupils": int(g["n_fsm"].sum()),
                         "FSM rate (%)": np.average(g.loc[ok, "rate_fsm"],
                                                    weights=g.loc[ok, "n_fsm"])})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape(Path(self.path).name)}: {self.table['urn'].nunique()} "
                "schools</p>" + self.summary().to_html(index=False, border=0))


def read_school_panel(path: str | Path, metadata=None) -> SchoolPanel:
    """Read a school panel with year-suffixed columns (``ac.gcse.fsm13``, ``tpup14``, ...).

    The layout of the published research data set built from the KS4 performance tables
    (Odell, "Lonely schools": ``URN``, ``schname``, ``ea``, ``ac.gcse.all<yy>``,
    ``ac.gcse.fsm<yy>``, ``tpup<yy>``, ``tever6fsm<yy>``, ...). A year without the all-pupil
    rate keeps its FSM figures; its gap is missing and the status says why.

    Parameters
    ----------
    path : str or pathlib.Path
        The panel CSV.
    metadata : ignored
        For the common reader signature.

    Returns
    -------
    SchoolPanel

    Raises
    ------
    DataError
        No ``URN`` or no ``ac.gcse.fsm<yy>`` / ``tever6fsm<yy>`` columns.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES
    >>> p = read_school_panel(FIXTURES / "school_panel.csv")
    >>> row = p.table.query("urn == '100001' and year == 2013")
    >>> row[["gap", "share_fsm"]].round(6).values.tolist()
    [[25.0, 20.0]]
    """
    path = Path(path)
    header, rows = read_rows(path)
    stems = {}
    for col in header:
        m = re.fullmatch(r"(?P<stem>[a-z0-9.]+?)(?P<yy>\d{2})", col)
        if m and m["stem"] in PANEL_STEMS:
            stems.setdefault(m["stem"], {})[2000 + int(m["yy"])] = col
    need = ["ac.gcse.fsm", "tever6fsm", "tpup"]
    missing = [s for s in need if s not in stems] + (["URN"] if "URN" not in header else [])
    if missing:
        raise DataError(f"{path}: not a 'school_panel' file: expected columns URN and "
                        f"<stem><yy> for stems {need} (e.g. ac.gcse.fsm13), missing {missing}; "
                        f"{found(header, rows)}")
    raw = frame(header, rows, path)
    years = sorted(stems["ac.gcse.fsm"])
    ident = pd.DataFrame({
        "urn": raw["URN"].str.strip(), "name": raw.get("schname", raw["URN"]).str.strip(),
        "la": raw.get("ea", pd.Series("", index=raw.index)).fillna("").str.strip(),
        "london": raw.get("London", pd.Series("", index=raw.index)).str.upper().eq("TRUE"),
        "school_type": raw.get("school.type", pd.Series("", index=raw.index)).fillna(""),
        "closed": raw.get("ICLOSE", pd.Series("0", index=raw.index)).fillna("0").eq("1")})
    parts, codes, notes = [], {}, []
    for year in years:
        part = ident.copy()
        part["year"] = year
        status = pd.Series("", index=raw.index, dtype=object)
        for stem, tidy in PANEL_STEMS.items():
            col = stems.get(stem, {}).get(year)
            if col is None:
                part[tidy] = np.nan
                if tidy in _RATES:
                    status += f"no {stem} column for {year}; "
                continue
            values, code = parse(raw[col])
            codes[col] = code
            if tidy in _RATES:
                coded = code.notna()
                status[coded] += col + ": " + code[coded].map(
                    lambda c: reason(c, _LAYOUT)) + "; "
            part[tidy] = values * 100 if tidy in _RATES else values
        parts.append(part.assign(status=status))
    t = pd.concat(parts, ignore_index=True)
    for col in ("n_pupils", "n_fsm", "school_size"):
        if not (t[col].dropna() % 1 == 0).all():
            raise DataError(f"{path}: column {col} for some year is not a whole number; "
                            "expected pupil counts")
        t[col] = t[col].round().astype("Int64")
    t["n_other"] = (t["n_pupils"] - t["n_fsm"]).astype("Int64")
    t["share_fsm"] = 100 * t["n_fsm"] / t["n_pupils"]
    diff = (t["share_fsm"] - 100 * t["share_fsm_file"]).abs()
    for year, d in diff.groupby(t["year"]):
        if d.mean() > 1:
            notes.append(f"ever6fsm{year % 100} disagrees with tever6fsm/tpup by {d.mean():z.1f} "
                         "points on average: the share is taken from the counts")
    other = (t["rate_all"] * t["n_pupils"] - t["rate_fsm"] * t["n_fsm"]) / t["n_other"]
    t["rate_other"] = other.where(t["n_other"] > 0).astype(float).clip(0, 100)
    t["gap"] = t["rate_other"] - t["rate_fsm"]
    t["status"] = t["status"].str.rstrip("; ").where(t["status"] != "", "published")
    code_frame = pd.DataFrame(codes)
    return SchoolPanel(str(path), t[PANEL_COLUMNS].sort_values(["urn", "year"])
                       .reset_index(drop=True), tuple(years),
                       code_counts(code_frame, _LAYOUT), tuple(notes))

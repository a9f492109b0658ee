"""School performance tables (``ks2final``, ``ks4final``, destinations): read as published."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.exceptions import DataError
from evaluation.io.dfe._common import (
    code_counts,
    ends_with,
    found,
    frame,
    is_numeric,
    meta_labels,
    parse_frame,
    read_rows,
    reason,
)
from evaluation.yaml_file import read_yaml

ROW_TYPES = ("school", "special school", "LA", "national")
_LAYOUT = "performance_tables"


def _conventions() -> dict:
    text = resources.files("evaluation.io.dfe").joinpath("registries", "performance_tables.yml")
    return read_yaml(text.read_text(), "performance_tables.yml")


@dataclass(frozen=True)
class PerformanceTable:
    """A school performance tables file (``ks2final`` / ``ks4final`` / ``ks4-pupdest``), as is.

    Attributes
    ----------
    path : str
        File read.
    values : pandas.DataFrame
        One row per file row: ``row_type`` (``school``, ``special school``, ``LA``,
        ``national``), ``row_label`` (from the metadata), then every column of the file,
        numbers as float (``49%`` -> 49.0) and identifiers / names as text. Codes are NaN here.
    codes : pandas.DataFrame
        Same rows, numeric columns only: the code where no number is (``SUPP``, ``NP``, ``NE``,
        ``NA``, ``LOWCOV``, ``NEW``, ``SP``, ``""`` blank, ``<short row>``), else None. A column
        holding only codes is numeric (all NaN) and its codes are counted.
    code_counts : pandas.DataFrame
        ``column, code, reason, category, n``: every code counted, per column.
    labels : dict
        Column -> description from the DfE's metadata file (empty without one).
    percent_columns : tuple of str
        Numeric columns published as percentages (``49%``), kept in percent.
    row_labels_from : str
        Where the row labels came from: ``metadata``, ``convention (<family>)`` or
        ``structure``.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES
    >>> t = read_performance_tables(FIXTURES / "2021-2022_999_ks2final.csv")
    >>> t.values["row_type"].value_counts().to_dict()
    {'school': 5, 'special school': 1, 'LA': 1, 'national': 1}
    """

    path: str
    values: pd.DataFrame = field(repr=False)
    codes: pd.DataFrame = field(repr=False)
    code_counts: pd.DataFrame = field(repr=False)
    labels: dict = field(default_factory=dict, repr=False)
    percent_columns: tuple = field(default=(), repr=False)
    row_labels_from: str = "structure"

    def rows(self, row_type: str) -> pd.DataFrame:
        """Rows of one type (``school``, ``special school``, ``LA``, ``national``)."""
        if row_type not in ROW_TYPES:
            raise ValueError(f"`row_type` should be one of {list(ROW_TYPES)}; got {row_type!r}")
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
        out["reason"] = out["code"].map(lambda c: None if c is None else reason(c, _LAYOUT))
        return out

    def summary(self) -> pd.DataFrame:
        """Rows per row type and label."""
        out = self.values.groupby(["row_type", "row_label"], sort=False).size()
        return out.rename("rows").reset_index()

    def _repr_html_(self) -> str:
        return (f"<p>{html.escape(Path(self.path).name)}: {len(self.values)} rows, "
                f"{self.codes.shape[1]} numeric columns, {int(self.code_counts['n'].sum())} "
                "coded cells</p>" + self.summary().to_html(index=False, border=0))


def _described(labels: dict) -> dict:
    text = labels.get("RECTYPE", "")
    inner = text[text.find("(") + 1:text.rfind(")")] if "(" in text else text
    return {k: v.strip() for k, v in re.findall(r"(\w+)\s*=\s*([^;]+)", inner)}


_KIND_WORDS = (("special", "special school"), ("mainstream", "school"),
               ("local authority", "LA"), ("national", "national"))


def _row_types(raw: pd.DataFrame, labels: dict, path: Path) -> tuple[pd.Series, pd.Series, str]:
    """Row type and label: the metadata's RECTYPE description, else the family's convention.

    Without RECTYPE (a filtered file, a census file), or for a value neither describes: a
    numeric URN -> school, else LEA / LA present -> LA, else national (``URN`` = ``NAT``).
    """
    blank = pd.Series("", index=raw.index)
    # a school's URN is a number; census files put ``NAT`` in URN for their national rows
    urn = raw["URN"].fillna("").str.strip().str.fullmatch(r"\d+").astype(bool)
    lea_col = next((c for c in ("LEA", "LA") if c in raw.columns), None)
    lea = raw[lea_col].fillna("").str.strip() != "" if lea_col else blank != ""
    structural = pd.Series(np.select([urn, lea], ["school", "LA"], "national"), index=raw.index)
    struct_label = structural.map({"school": "School", "LA": "Local authority",
                                   "national": "National"})
    if "RECTYPE" not in raw.columns:
        return structural, struct_label, "structure"
    rectype = raw["RECTYPE"].fillna("").str.strip()
    described = _described(labels)
    family = next((f for f in _conventions()["rectype"] if f in path.name.lower()), "common")
    convention = _conventions()["rectype"].get(family, {}) if family else {}
    used = "metadata" if described else f"convention ({family})" if family else "structure"
    label = rectype.map(lambda r: described.get(r) or convention.get(r))
    if label.isna().any() and described and convention:
        used = f"metadata and convention ({family})"
    label = label.where(label.notna(), struct_label)

    def kind_of(text):
        low = text.lower()
        return next((k for w, k in _KIND_WORDS if w in low), None)

    kind = label.map(kind_of)
    kind = kind.where(kind.notna(), structural)
    kind = kind.where(~((kind == "school") | (kind == "special school")) | urn, structural)
    return kind, label, used


def read_performance_tables(path: str | Path, metadata: str | Path | None = None,
                            sheet=None) -> PerformanceTable:
    """Read a school performance tables download (any year, any LA or all England).

    Handles a byte-order mark, CRLF, percentages as text, short rows, xlsx / ods downloads and
    the codes SUPP, NP, NE, NA, LOWCOV, NEW, SP and blank: numbers become floats, every code
    becomes NaN with the code kept in ``codes`` and counted in ``code_counts``. National and
    LA rows are labelled from the metadata's RECTYPE description (``4=local authority; 5=...``);
    where the metadata does not describe it, from the DfE's convention for the file's family
    (``evaluation/io/dfe/registries/performance_tables.yml``).

    Parameters
    ----------
    path : str or pathlib.Path
        The file (CSV, xlsx or ods).
    metadata : str or pathlib.Path, optional
        The DfE's column dictionary (e.g. ``ks2_meta.csv``, ``ks4_meta.xlsx``); looked for
        beside the file (``*meta*``) when omitted.
    sheet : str or int, optional
        Sheet of a spreadsheet.

    Returns
    -------
    PerformanceTable

    Raises
    ------
    DataError
        The file lacks a ``URN`` column (the message lists what was found), has no data rows,
        or a row has more fields than the header.

    Examples
    --------
    >>> from evaluation.io.dfe import FIXTURES
    >>> t = read_performance_tables(FIXTURES / "2021-2022_999_ks2final.csv")
    >>> t.rows("LA")[["PTRWM_EXP_FSM6CLA1A", "PTRWM_EXP_NotFSM6CLA1A"]].iloc[0].tolist()
    [45.0, 66.0]
    """
    path = Path(path)
    header, rows = read_rows(path, sheet)
    names = [h for h in header if h.upper().startswith("SCHNAME")]
    if "URN" not in header:
        raise DataError(f"{path}: not a 'performance_tables' file: expected columns "
                        f"['URN', 'RECTYPE', 'LEA', 'SCHNAME'] (URN required), missing ['URN']; "
                        f"{found(header, rows)}")
    raw = frame(header, rows, path)
    if raw.empty:
        raise DataError(f"{path}: a header ({len(header)} columns, {header[:6]} ...) but no data "
                        "rows; expected one row per school (and LA / national rows)")
    if metadata is None:
        metadata = next(iter(sorted(p for p in path.parent.glob("*meta*")
                                    if p.suffix in (".csv", ".xlsx", ".ods"))), None)
    labels = meta_labels(metadata)
    kind, label, used = _row_types(raw, labels, path)
    ids = set(_conventions()["id_columns"])
    values, codes, percent = {"row_type": kind, "row_label": label}, {}, []
    numbers, coded = parse_frame(raw[[c for c in header if c not in ids]])
    with_sign = ends_with(raw[list(numbers.columns)], "%")
    for col in header:
        if col not in ids and is_numeric(numbers[col], coded[col], _LAYOUT):
            values[col], codes[col] = numbers[col], coded[col]
            text = labels.get(col, "").lower()
            if with_sign[col] or text.startswith(("percentage", "% of", "percent")):
                percent.append(col)
        else:
            text = raw[col].fillna("").str.strip()
            values[col] = text.where(text != "").astype("string")
    if "SCHNAME" not in values:
        values["SCHNAME"] = values[names[0]] if names else values["URN"]
    codes_df = pd.DataFrame(codes, index=raw.index)
    return PerformanceTable(str(path), pd.DataFrame(values), codes_df,
                            code_counts(codes_df, _LAYOUT), labels, tuple(percent), used)

"""Shared pieces of the DfE readers: the codes and their meanings, raw reading, number parsing."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.exceptions import DataError

#: Marker for cells missing because the row has fewer fields than the header.
SHORT_ROW = "<short row>"

#: Every code the DfE puts where a number would be: code -> (meaning, category). Categories
#: group codes by meaning: ``suppressed`` (hidden to protect small counts), ``rounds to zero``
#: (a value exists but is below half a unit), ``not available``, ``not applicable``,
#: ``low reliability``, ``no entries``, ``new school``, ``low coverage``, ``blank``.
PERFORMANCE_CODES = {
    "SUPP": ("suppressed (small cohort)", "suppressed"),
    "NP": ("not published", "suppressed"),
    # destination measures' LA rows (counts rounded to 5): a small number, not shown
    "SN": ("small number (not shown)", "suppressed"),
    "SP": ("small percentage (rounds to zero, not zero)", "rounds to zero"),
    "NE": ("no entries", "no entries"),
    "NA": ("not applicable", "not applicable"),
    "LOWCOV": ("low coverage", "low coverage"),
    "NEW": ("new school", "new school"),
    # the 2010 and earlier tables
    "LT11": ("fewer than 11 pupils (suppressed)", "suppressed"),
    "NOTREQ": ("not required", "not applicable"),
    "N/A": ("not applicable", "not applicable"),
    ".": ("not applicable", "not applicable"),
    "": ("blank", "blank"),
}
SFR_CODES = {
    "x": ("suppressed (small count or secondary suppression)", "suppressed"),
    ".": ("not applicable (denominator zero)", "not applicable"),
    "": ("blank", "blank"),
}
#: The DfE statistics service's symbols (explore-education-statistics, GSS guidance); ``:``
#: and ``~`` are the older symbols for ``x`` and ``low``.
EES_CODES = {
    "c": ("confidential (suppressed)", "suppressed"),
    "low": ("rounds to zero but is not zero", "rounds to zero"),
    "~": ("rounds to zero but is not zero (older symbol)", "rounds to zero"),
    "u": ("low reliability", "low reliability"),
    "x": ("not available", "not available"),
    ":": ("not available (older symbol)", "not available"),
    "z": ("not applicable", "not applicable"),
    "": ("blank", "blank"),
}
_SHORT = {SHORT_ROW: ("not in file (short row)", "blank")}
#: Layout -> its codes (a short row is possible in any CSV).
REASONS = {
    "performance_tables": {**PERFORMANCE_CODES, **_SHORT},
    "sfr_counts": {**SFR_CODES, **_SHORT},
    "ees": {**EES_CODES, **_SHORT},
    "ees_long": {**EES_CODES, **_SHORT},
    "school_panel": {"NA": ("not available", "not available"), "": ("blank", "blank"), **_SHORT},
}
UNRECOGNISED = ("unrecognised value (not a DfE code)", "unrecognised")
_NUMBER = re.compile(r"^[-+]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?%?$")
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"


def reason(code, layout: str) -> str:
    """Meaning of a code in a layout (``unrecognised ...`` when it is not a DfE code).

    Examples
    --------
    >>> reason("c", "ees"), reason("SUPP", "performance_tables")
    ('confidential (suppressed)', 'suppressed (small cohort)')
    """
    return REASONS[layout].get(code, UNRECOGNISED)[0]


def category(code, layout: str) -> str:
    """Category of a code (``suppressed``, ``rounds to zero``, ``not available``, ...).

    Examples
    --------
    >>> category("low", "ees"), category("NP", "performance_tables")
    ('rounds to zero', 'suppressed')
    """
    return REASONS[layout].get(code, UNRECOGNISED)[1]


def _spreadsheet_rows(path: Path, engine: str, sheet) -> tuple[list[str], list[list[str]]]:
    try:
        frame = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, header=None,
                              dtype=str, engine=engine, keep_default_na=False)
    except ImportError as exc:  # pragma: no cover - dependencies are declared
        raise DataError(f"{path}: reading a spreadsheet needs {engine}: {exc}") from exc
    except Exception as exc:
        raise DataError(f"{path}: could not read it as a spreadsheet ({engine}): {exc}") from exc
    values = frame.fillna("").astype(str).to_numpy().tolist()
    values = [r for r in values if any(v.strip() for v in r)]
    if not values:
        raise DataError(f"{path}: the sheet {sheet or 0!r} is empty; expected a header row")
    header = [h.strip() for h in values[0]]
    while header and header[-1] == "":
        header.pop()
    return header, [r[:len(header)] for r in values[1:]]


def read_rows(path: str | Path, sheet=None) -> tuple[list[str], list[list[str]]]:
    r"""Read the header and rows of a CSV, xlsx or ods file, every cell as text.

    The format is taken from the file's first bytes, not its name (a spreadsheet saved with a
    ``.csv`` name is read as a spreadsheet). CSV: byte-order mark, CRLF and old Mac CR line
    endings handled, Latin-1 when not UTF-8; tab-separated when the header line has tabs and
    no comma (the performance tables of 2010 and before).

    Parameters
    ----------
    path : str or pathlib.Path
        The file.
    sheet : str or int, optional
        Spreadsheet sheet (default the first).

    Returns
    -------
    tuple of (list of str, list of list of str)

    Raises
    ------
    DataError
        File absent, empty, an old binary Excel file, or an unreadable spreadsheet.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_bytes(b"\xef\xbb\xbfA,B\r\n1,SUPP\r\n")
    >>> read_rows(p)
    (['A', 'B'], [['1', 'SUPP']])
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    head = path.open("rb").read(8)
    if head.startswith(_ZIP):
        with open(path, "rb") as fh:
            blob = fh.read()
        engine = "odf" if b"application/vnd.oasis.opendocument" in blob[:200] else "openpyxl"
        return _spreadsheet_rows(path, engine, sheet)
    if head.startswith(_OLE):
        raise DataError(f"{path}: an old binary Excel (.xls) file; expected CSV, xlsx or ods: "
                        "save it as xlsx or CSV")
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if "\r" in text and "\n" not in text:  # old Mac line endings
        text = text.replace("\r", "\n")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","  # older tab-separated years
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not rows:
        raise DataError(f"{path}: empty file; expected a CSV with a header row")
    return [h.strip() for h in rows[0]], rows[1:]


def found(header: list[str], rows: list[list[str]]) -> str:
    """Describe what a file holds, for error messages: its first columns and first row."""
    first = rows[0][:8] if rows else []
    return f"found columns {header[:12]}{' ...' if len(header) > 12 else ''}; first row {first}"


def frame(header: list[str], rows: list[list[str]], path) -> pd.DataFrame:
    """Rows padded to the header (``None`` marks a short row); refuses rows that are too long."""
    long_rows = [i for i, r in enumerate(rows) if len(r) > len(header)]
    if long_rows:
        raise DataError(f"{path}: rows {long_rows[:10]} (of {len(long_rows)}) have more fields "
                        f"than the header ({len(header)}); expected at most {len(header)}")
    rows = [r for r in rows if any((v or "").strip() for v in r)]
    padded = [r + [None] * (len(header) - len(r)) for r in rows]
    return pd.DataFrame(padded, columns=header, dtype=object)


def _trimmed(raw: pd.DataFrame):
    """Return every cell as text without surrounding blanks, column after column.

    An Arrow array; a missing cell is :data:`SHORT_ROW`.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = raw.to_numpy(dtype=object).ravel(order="F")
    try:
        text = pa.array(cells, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):                  # not all text: as text
        text = pa.array([None if pd.isna(v) else str(v) for v in cells], type=pa.string())
    return pc.utf8_trim_whitespace(pc.fill_null(text, SHORT_ROW))


def ends_with(raw: pd.DataFrame, suffix: str) -> pd.Series:
    """Per column, whether any cell ends with ``suffix`` (blanks around it ignored).

    Examples
    --------
    >>> ends_with(pd.DataFrame({"a": ["49% ", "50"], "b": ["1", None]}), "%").to_dict()
    {'a': True, 'b': False}
    """
    import pyarrow.compute as pc

    hit = pc.ends_with(_trimmed(raw), suffix).to_numpy(zero_copy_only=False)
    return pd.Series(hit.reshape(raw.shape[1], raw.shape[0]).any(axis=1), index=raw.columns)


def parse_frame(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Numbers and codes of every cell of a table of text, all columns at once.

    As :func:`parse` for each column (one pass of Arrow's string kernels over every cell:
    a national performance table's 150 columns in a few milliseconds instead of seconds).

    Examples
    --------
    >>> v, c = parse_frame(pd.DataFrame({"a": ["1", " x "], "b": ["2.5%", None]}))
    >>> v.to_dict("list"), c.to_dict("list")
    ({'a': [1.0, nan], 'b': [2.5, nan]}, {'a': [None, 'x'], 'b': [None, '<short row>']})
    """
    import pyarrow.compute as pc

    text = _trimmed(raw)
    is_num = pc.match_substring_regex(text, _NUMBER.pattern).to_numpy(zero_copy_only=False)
    values = np.full(len(text), np.nan)
    if is_num.any():
        digits = pc.replace_substring_regex(text.filter(is_num), "[%,]", "")
        values[is_num] = pd.to_numeric(digits.to_numpy(zero_copy_only=False),
                                       errors="coerce").astype("float64")
    codes = np.where(is_num, None, text.to_numpy(zero_copy_only=False))
    shape = (raw.shape[1], raw.shape[0])
    return (pd.DataFrame(values.reshape(shape).T, index=raw.index, columns=raw.columns),
            pd.DataFrame(codes.reshape(shape).T, index=raw.index, columns=raw.columns,
                         dtype=object))


def parse(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers (percent signs and thousands commas dropped) and the code of each non-number.

    Examples
    --------
    >>> v, c = parse(pd.Series(["49%", "1,234", "SUPP", None]))
    >>> v.tolist()[:2], c.tolist()
    ([49.0, 1234.0], [None, None, 'SUPP', '<short row>'])
    """
    values, codes = parse_frame(raw.to_frame())
    return values.iloc[:, 0].rename(raw.name), codes.iloc[:, 0].rename(raw.name)


def is_numeric(values: pd.Series, codes: pd.Series, layout: str) -> bool:
    """Whether a parsed column holds numbers: every cell a number or a code of the layout.

    ``values`` and ``codes`` as :func:`parse` returns them. A column holding only codes (say
    ``NP`` in every row) is numeric: its cells are counted as codes, not read as text. A
    column of blanks only is text.
    """
    known = codes.dropna()
    if (~known.isin(list(REASONS[layout]))).any():
        return False
    return bool(values.notna().any() or (~known.isin(["", SHORT_ROW])).any())


def code_counts(codes: pd.DataFrame, layout: str) -> pd.DataFrame:
    """``column, code, reason, category, n``: every code counted, per column, in file order."""
    long = codes.melt(var_name="column", value_name="code").dropna(subset=["code"])
    counts = long.groupby(["column", "code"], sort=False).size().rename("n").reset_index()
    counts.insert(2, "reason", counts["code"].map(lambda c: reason(c, layout)))
    counts.insert(3, "category", counts["code"].map(lambda c: category(c, layout)))
    order = {c: i for i, c in enumerate(codes.columns)}
    counts["n"] = counts["n"].astype("int64")
    return (counts.assign(_o=counts["column"].map(order))
            .sort_values(["_o", "code"]).drop(columns="_o").reset_index(drop=True))


def meta_labels(path: str | Path | None) -> dict:
    """Column -> description from a DfE column dictionary (CSV, xlsx, ods or the SFR text).

    The name column is the one headed ``Field Reference``, ``Field Name`` / ``FieldName``,
    ``Metafile heading``, ``Variable`` or ``col_name``; the description the one headed
    ``...description``,
    ``Label...`` or ``Field Name`` (whichever is found first in that order).
    """
    if path is None or not Path(path).is_file():
        return {}
    path = Path(path)
    if path.suffix == ".txt":
        text = path.read_text(encoding="latin-1")
        return dict(re.findall(r"^(\w+):\s*(.+?)\s*$", text, flags=re.M))
    header, rows = read_rows(path)
    low = [h.lower().replace(" ", "") for h in header]
    name = next((low.index(k) for k in ("fieldreference", "fieldname", "metafileheading",
                                        "variable", "col_name") if k in low), None)
    if name is None:
        raise DataError(f"{path}: not a DfE column dictionary: expected a column headed "
                        "'Field Name', 'Metafile heading', 'Variable', 'Field Reference' or "
                        f"'col_name'; {found(header, rows)}")
    desc = next((i for i, h in enumerate(low) if "description" in h and i != name), None)
    label = next((i for i, h in enumerate(low) if i != name and (h.startswith("label")
                                                                   or h == "fieldname")), None)
    cols = [c for c in (desc, label) if c is not None] or [len(header) - 1]
    out = {}
    for r in rows:
        if len(r) <= name or not r[name].strip():
            continue
        text = next((r[c].strip() for c in cols if c < len(r) and r[c].strip()), "")
        out[r[name].strip()] = text
    return out

"""The `Dataset` (pupils, schools, surveys, tracking) and its reading and writing."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation.exceptions import DataError
from evaluation.schema import SHOW, TABLES, describe_rows, unused_columns, validate

TABLE_NAMES = tuple(TABLES)
META_FILE = "meta.json"
TRUTH_FILE = "truth.csv"
#: The key of ``meta.json`` under which the generator records the files it wrote.
GENERATED_FILES = "generated_files"
#: The key of ``meta.json`` under which the generator records a digest of the rest of the
#: meta (seed, scenario, effects, parameters) and of the generator's own code.
GENERATED_WORLD = "generated_world"
_RECORD_KEYS = ("directory", "file_hashes", GENERATED_FILES, GENERATED_WORLD)


def _world_digest(meta: dict) -> str:
    """SHA-256 of a world's description (``meta`` less the records) and the generator's code.

    The design-value report generates a data set's world again from ``meta.json``: an edited
    seed, or a generator changed since the data were written, would give another world than
    the data's own.
    """
    body = {k: v for k, v in meta.items() if k not in _RECORD_KEYS}
    text = json.dumps(body, sort_keys=True, default=str) + _generator_code()
    return hashlib.sha256(text.encode()).hexdigest()


def _generator_code() -> str:
    """SHA-256 of the synthetic generator's source files (``evaluation/synthetic``)."""
    root = Path(__file__).resolve().parents[1] / "synthetic"
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".csv", ".json") \
                and "__pycache__" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _hash_column(h, column: pd.Series) -> None:
    """Feed one column's type and values to ``h``.

    Numbers are hashed as their bytes; text held by Arrow (pandas' default string type) as
    its strings' lengths and bytes read from its Arrow buffers (20 times faster than
    hashing each string: 12 ms for 780,000 pupil ids), canonically: the same strings give
    the same digest however they are held (one chunk or many, a slice of a larger buffer,
    spare capacity at a buffer's end), so that two processes holding the same data agree.
    """
    h.update(repr((column.name, str(column.dtype))).encode())
    to_arrow = getattr(column.array, "__arrow_array__", None)
    if isinstance(column.dtype, pd.StringDtype) and to_arrow is not None \
            and _hash_text(h, to_arrow()):
        return
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biuf":
        h.update(np.ascontiguousarray(column.to_numpy()).tobytes())   # numbers: their bytes
        return
    if isinstance(column.dtype, pd.CategoricalDtype):   # "category" names no category
        categories = column.dtype.categories
        h.update(repr((str(categories.dtype), column.dtype.ordered)).encode())
        _hash_kinds(h, categories)
        h.update(pd.util.hash_pandas_object(categories, index=False).to_numpy().tobytes())
    _hash_kinds(h, column)
    h.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())


def _hash_kinds(h, values: pd.Series | pd.Index) -> None:
    """Feed the types of ``values``' items to ``h`` where they are Python objects.

    pandas hashes objects as their text: 1 and "1", True and "True" alike (in a column, in
    a categorical column's categories, in an index).
    """
    if values.dtype == object:
        kinds = pd.Index([type(v).__qualname__ for v in values.to_numpy()], dtype=object)
        h.update(pd.util.hash_pandas_object(kinds, index=False).to_numpy().tobytes())


def _hash_text(h, arrow) -> bool:
    """Feed an Arrow string column's values to ``h``; False (nothing fed) for other types.

    What is fed: which values are missing, each string's length and the strings' bytes,
    each read only where the buffers hold the column's own values.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)):
        return False
    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    array = (chunks[0] if len(chunks) == 1 else pa.concat_arrays(chunks) if chunks
             else pa.array([], type=arrow.type))          # an empty column: no chunk
    h.update(repr(("text", len(array), array.null_count)).encode())
    if array.null_count:        # a missing value's bytes are any: hashed as "" and flagged
        h.update(np.packbits(array.is_valid().to_numpy(zero_copy_only=False)).tobytes())
        array = pc.fill_null(array, "")
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    _, offsets, data = array.buffers()
    ends = np.frombuffer(offsets, dtype=width)[array.offset:array.offset + len(array) + 1]
    h.update((ends - ends[0]).astype(np.int64).tobytes())
    if data is not None and ends[-1] > ends[0]:
        h.update(memoryview(data)[int(ends[0]):int(ends[-1])])
    return True


def _held_by(column: pd.Series | pd.Index) -> tuple | None:
    """Where a column's (or an index's) values are held: its buffers' addresses, or None."""
    if isinstance(column, pd.RangeIndex):
        return ("range", column.start, column.stop, column.step)
    to_arrow = getattr(column.array, "__arrow_array__", None)
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow" \
            and to_arrow is not None:     # held by Arrow (Python strings: converted anew)
        return tuple((c.offset, len(c), tuple(b.address if b is not None else 0
                                               for b in c.buffers()))
                     for c in to_arrow().chunks)
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biuf":
        values = column.to_numpy()             # a (read-only) view of the table's array
        return (values.__array_interface__["data"][0], values.shape, values.strides)
    return None


#: Digests of the tables last hashed, by where their values are held (:func:`_table_digest`),
#: each with a shallow copy of its table that keeps those buffers as they were.
_DIGESTS: OrderedDict = OrderedDict()
_DIGESTS_KEPT = 16


def _table_digest(name: str, frame: pd.DataFrame) -> str:
    """SHA-256 of one table's documented columns, remembered by the buffers holding them.

    Hashing the 780,000 pupils takes 0.2 s, and every report of a build asks for the digest
    of the same tables. The digest is remembered under the addresses of the buffers that
    hold each column's values and the table's index (or a range index's bounds), with a
    shallow copy of the table.
    With pandas' copy-on-write, that copy shares the buffers, so no change can reach them in
    place: a value set in the table, a column or index replaced, gives the table new buffers
    and so a new key. Columns of another kind (categories, nullable numbers) are hashed on
    every call.
    """
    columns = [c.name for c in TABLES[name] if c.name in frame.columns]
    held = [_held_by(frame.index), *(_held_by(frame[c]) for c in columns)]
    key = None
    if all(b is not None for b in held):
        key = (name, tuple(columns), tuple(str(t) for t in frame[columns].dtypes),
               frame.shape, tuple(held))
        if key in _DIGESTS:
            _DIGESTS.move_to_end(key)
            return _DIGESTS[key][0]
    h = hashlib.sha256()
    table = frame[columns]
    h.update(repr((name, columns, table.shape, str(table.index.dtype))).encode())
    _hash_kinds(h, table.index)
    h.update(pd.util.hash_pandas_object(table.index).to_numpy().tobytes())
    for col in columns:
        _hash_column(h, table[col])
    digest = h.hexdigest()
    if key is not None:      # the copy keeps the buffers alive, as they are
        _DIGESTS[key] = (digest, frame.copy(deep=False))
        if len(_DIGESTS) > _DIGESTS_KEPT:
            _DIGESTS.popitem(last=False)
    return digest


@dataclass(frozen=True)
class Dataset:
    """The four tables of an evaluation, plus what is known about where they came from.

    Attributes
    ----------
    pupils, schools, surveys, tracking : pandas.DataFrame
        The tables of DESIGN section 3, validated.
    truth : pandas.DataFrame or None
        True effects (synthetic data only): one row per phase and outcome.
    meta : dict
        ``synthetic`` (bool), ``scenario``, ``seed`` and other provenance.

    Examples
    --------
    >>> from evaluation.synthetic import generate
    >>> ds = generate(seed=1, include_population=False)
    >>> ds.is_synthetic
    True
    """

    pupils: pd.DataFrame
    schools: pd.DataFrame
    surveys: pd.DataFrame
    tracking: pd.DataFrame
    truth: pd.DataFrame | None = None
    meta: dict = field(default_factory=dict)

    @property
    def is_synthetic(self) -> bool:
        """Whether the data were generated (every report then carries a banner)."""
        return bool(self.meta.get("synthetic", False))

    def digest(self) -> str:
        """Return a SHA-256 of the tables' documented columns (values, index, names, shapes).

        Two data sets with the same digest give the same results, so a long-lived process
        (a warm kernel, the tests) computes what depends only on the data once. A table's
        digest is remembered by the buffers that hold its values (:func:`_table_digest`):
        a table changed in place, or given a new column or index, gets a new digest.

        Examples
        --------
        >>> from evaluation.synthetic import generate
        >>> a = generate(seed=1, include_population=False)
        >>> a.digest() == generate(seed=1, include_population=False).digest()
        True
        """
        h = hashlib.sha256()
        for name in TABLE_NAMES:
            h.update(_table_digest(name, getattr(self, name)).encode())
        return h.hexdigest()

    def clusters(self) -> list[str]:
        """Names of the clusters in ``schools.cluster``, sorted."""
        return sorted(self.schools["cluster"].dropna().unique().tolist())

    def copy(self) -> Dataset:
        """Return a Dataset with its own tables and meta (copy-on-write: cheap until changed).

        Examples
        --------
        >>> from evaluation.synthetic import generate
        >>> ds = generate(seed=1, include_population=False)
        >>> other = ds.copy()
        >>> other.pupils.loc[other.pupils.index[0], "fsm"] = not ds.pupils["fsm"].iloc[0]
        >>> bool(other.pupils["fsm"].iloc[0] == ds.pupils["fsm"].iloc[0])
        False
        """
        import copy

        # pandas' copy-on-write (always on from pandas 3): a shallow copy shares the values
        # until either table is changed, and then the change is that table's alone
        return replace(self, pupils=self.pupils.copy(deep=False),
                       schools=self.schools.copy(deep=False),
                       surveys=self.surveys.copy(deep=False),
                       tracking=self.tracking.copy(deep=False),
                       truth=None if self.truth is None else self.truth.copy(deep=False),
                       meta=copy.deepcopy(self.meta))

    def for_schools(self, school_ids) -> Dataset:
        """Return a new Dataset restricted to the given schools."""
        ids = set(school_ids)
        return Dataset(
            **{t: getattr(self, t)[getattr(self, t)["school_id"].isin(ids)] for t in TABLE_NAMES},
            truth=self.truth,
            meta=self.meta,
        )


SUPPORTED = (".parquet", ".csv")
#: Field separators recognised in a CSV header (the one that yields the most schema columns).
DELIMITERS = (",", ";", "\t", "|")


def _utf16_without_bom(data: bytes) -> str | None:
    """Return the UTF-16 byte order of text without a byte-order mark (None if not UTF-16).

    Text in UTF-16 whose characters are mostly ASCII (a CSV's header and digits) has a zero
    byte in every other position: after each character in little-endian order, before it in
    big-endian. UTF-8 text has none.
    """
    head = data[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _decode(path: Path, data: bytes) -> str:
    """Text of a CSV file: UTF-8 (with or without a byte-order mark) or UTF-16.

    UTF-16 is read with or without a byte-order mark (Excel's "Unicode text" has one; other
    tools write none): its zero bytes tell the byte order. Any other encoding is refused.
    """
    if data[:4] == b"PK\x03\x04":
        raise DataError(f"{path}: this is a zip archive (an Excel workbook?), not a CSV file; "
                        "save the sheet as 'CSV UTF-8 (comma delimited)'")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16)
        except UnicodeDecodeError:
            raise DataError(f"{path}: looks like UTF-16 text without a byte-order mark but "
                            f"cannot be read as {utf16.upper()}; expected a CSV file in UTF-8: "
                            "save it as 'CSV UTF-8 (comma delimited)'") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise DataError(
            f"{path}: not UTF-8 text: byte 0x{data[err.start]:02x} on line {line} cannot be "
            "read (is it Windows-1252 or Latin-1?); expected a CSV file in UTF-8: save it as "
            "'CSV UTF-8 (comma delimited)' in Excel, or convert it with "
            f"`iconv -f WINDOWS-1252 -t UTF-8`.") from None


def _excel_separator(text: str) -> tuple[str | None, str]:
    r"""Return the delimiter Excel's separator line names (``sep=;`` before the header).

    Returns the delimiter (None without the line) and the text from the header on.

    Examples
    --------
    >>> _excel_separator("sep=;\na;b\n1;2\n")
    (';', 'a;b\n1;2\n')
    >>> _excel_separator("a,b\n")
    (None, 'a,b\n')
    """
    first, _, rest = text.partition("\n")
    m = re.fullmatch(r'"?sep=(.)"?\r?', first)
    return (m.group(1), rest) if m else (None, text)


def _header(text: str, expected: set[str]) -> tuple[str, list[str]]:
    """Return the delimiter and column names of a CSV's first line."""
    first = text.splitlines()[0] if text else ""
    best = (",", next(csv.reader([first], delimiter=",")))
    score = len(expected & set(best[1]))
    for sep in DELIMITERS[1:]:
        names = next(csv.reader([first], delimiter=sep))
        if len(expected & set(names)) > score:
            best, score = (sep, names), len(expected & set(names))
    return best


def _short_or_long_rows(path: Path, text: str, sep: str, width: int) -> DataError:
    rows = csv.reader(io.StringIO(text), delimiter=sep)
    next(rows)
    bad, counts, n = [], set(), 0
    for fields in rows:
        if not fields:  # blank line: holds nothing
            continue
        if len(fields) != width:
            bad.append(n)
            counts.add(len(fields))
        n += 1
    if not bad:
        return DataError(f"{path}: cannot be parsed as a CSV file (check quotes)")
    return DataError(
        f"{path}: {describe_rows(bad, n)} have {', '.join(map(str, sorted(counts)))} fields "
        f"where the header has {width}; expected one field per column on every row (a missing "
        "value is an empty field between two delimiters).")


def _refuse_blank_lines(path: Path, text: str) -> None:
    """Refuse blank lines between records (at the end of the file they are harmless).

    A CSV reader skips them, so the data rows that messages count would no longer be the
    file's lines less one: a blank line is refused, naming its lines, instead.
    """
    lines = [i + 1 for i, line in enumerate(text.rstrip().splitlines()) if not line.strip()]
    if not lines:
        return
    shown = ", ".join(map(str, lines[:SHOW])) + (f" and {len(lines) - SHOW} more"
                                                  if len(lines) > SHOW else "")
    raise DataError(f"{path}: {len(lines)} blank line{'s' if len(lines) > 1 else ''} between "
                    f"records (line{'s' if len(lines) > 1 else ''} {shown}); expected one "
                    "record on every line from the header to the last record: delete the "
                    "blank lines (messages count data rows from 1 below the header)")


def read_csv_text(path: str | Path, known_columns=None) -> pd.DataFrame:
    """Read a CSV file as text, exactly: every cell a string, nothing guessed or dropped.

    Parameters
    ----------
    path : str or pathlib.Path
        The file: UTF-8 (a byte-order mark is allowed) or UTF-16 (with or without one). A
        first line ``sep=;`` (Excel's) names the delimiter.
    known_columns : iterable of str, optional
        Column names the header should hold; the delimiter (``,``, ``;``, tab or ``|``) is
        the one that splits the header into most of them (default: the schema's columns).

    Returns
    -------
    pandas.DataFrame
        One ``str`` column per header field; empty cells are ``""`` (never NaN).

    Raises
    ------
    DataError
        Naming the file: empty, not UTF-8, a workbook, a repeated column name, or rows with
        more or fewer fields than the header (which rows, how many).

    Examples
    --------
    >>> read_csv_text("nope.csv")
    Traceback (most recent call last):
    ...
    evaluation.exceptions.DataError: nope.csv: file not found
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    data = path.read_bytes()
    named, text = _excel_separator(_decode(path, data))
    if not text.strip():
        raise DataError(f"{path}: empty file; expected a header row naming the columns, then "
                        "one row per record")
    _refuse_blank_lines(path, text)
    known = {c.name for cols in TABLES.values() for c in cols} if known_columns is None \
        else set(known_columns)
    sep, names = _header(text, known)
    if named is not None and named != sep:
        names = next(csv.reader([text.partition("\n")[0].rstrip("\r")], delimiter=named))
        sep = named
    dups = sorted({n for n in names if names.count(n) > 1})
    if dups:
        raise DataError(f"{path}: column(s) {dups} appear more than once in the header; "
                        "expected each column once")
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid:  # its message quotes the row (identifiers): locate it ourselves
        raise _short_or_long_rows(path, text, sep, len(names)) from None
    return table.to_pandas()


def _read_parquet(path: Path) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file; expected a Parquet file")
    try:
        df = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a damaged file
        raise DataError(f"{path}: cannot be read as a Parquet file ({type(err).__name__}: "
                        f"{err}); expected a Parquet file written by pandas or arrow") from None
    if isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1:
        return df
    return df.reset_index() if any(df.index.names) else df.reset_index(drop=True)


_READERS = {".csv": read_csv_text, ".parquet": _read_parquet}


def read_table(path: str | Path, table: str) -> pd.DataFrame:
    """Read one table file (CSV or Parquet) and validate it by the schema's rules.

    Parameters
    ----------
    path : str or pathlib.Path
        ``<table>.csv`` (UTF-8, comma-separated; ``;``, tab and ``|`` are recognised from the
        header) or ``<table>.parquet``.
    table : {"pupils", "schools", "surveys", "tracking"}
        Which table the file holds.

    Returns
    -------
    pandas.DataFrame
        As :func:`evaluation.schema.validate` returns it; a CSV and a Parquet file holding
        the same values give the same frame.

    Raises
    ------
    DataError
        Naming the file and what is wrong with it.

    Examples
    --------
    >>> read_table("nope.csv", "schools")
    Traceback (most recent call last):
    ...
    evaluation.exceptions.DataError: nope.csv: file not found
    """
    path = Path(path)
    if path.suffix not in _READERS:
        raise DataError(f"{path}: unsupported file type {path.suffix!r}; expected .parquet or "
                        ".csv")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    return one_chunk(validate(_READERS[path.suffix](path), table, str(path)))


def one_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with each Arrow-backed column (text) in one contiguous piece.

    A Parquet file's row groups give its text columns in several chunks, and pyarrow's
    ``take`` joins a chunked column's pieces before selecting from it: rows taken from a
    780,000-pupil table copied every pupil's text each time (11 ms a column for 700 pupils,
    against 0.5 ms from one chunk). Values, dtypes and index are unchanged; ``frame``
    itself is not changed (a shallow copy gets the joined columns).

    Examples
    --------
    >>> import pyarrow as pa
    >>> text = pd.Series(pa.chunked_array([["a"], ["b", None]]), dtype="str")
    >>> frame = pd.DataFrame({"x": text})
    >>> one = one_chunk(frame)
    >>> one["x"].array.__arrow_array__().num_chunks, one["x"].equals(text)
    (1, True)
    >>> frame["x"].array.__arrow_array__().num_chunks
    2
    """
    import pyarrow as pa

    out = frame.copy(deep=False)
    for i in range(frame.shape[1]):         # by position: names may repeat
        column = frame.iloc[:, i]
        values = column.array
        chunked = values.__arrow_array__() if hasattr(values, "__arrow_array__") else None
        # (a dictionary column's chunks may hold different dictionaries: left as it is)
        if (isinstance(chunked, pa.ChunkedArray) and chunked.num_chunks > 1
                and not pa.types.is_dictionary(chunked.type)):
            out.isetitem(i, pd.Series(chunked.combine_chunks(), dtype=column.dtype,
                                      index=frame.index))
    return out


def find_table(directory: Path, table: str) -> Path:
    """Return the one file holding a table (``<table>.parquet`` or ``<table>.csv``)."""
    found = [directory / f"{table}{ext}" for ext in SUPPORTED if (directory / f"{table}{ext}"
                                                                   ).is_file()]
    if len(found) > 1:
        raise DataError(f"{directory}: both {found[0].name} and {found[1].name} exist; keep one "
                        f"(which of the two holds the {table} table cannot be guessed)")
    if found:
        return found[0]
    near = sorted(p.name for p in directory.iterdir()
                  if p.name.lower().split(".")[0] == table and p.is_file())
    raise DataError(
        f"{directory}: no {table}.parquet or {table}.csv"
        + (f" (found {near}: names are lower case, and only .parquet and .csv are read)"
           if near else "")
        + f"; a data directory holds {', '.join(t + '.parquet|.csv' for t in TABLE_NAMES)}")


def read_meta(path: Path) -> dict:
    """Read ``meta.json`` (``{"synthetic": false}`` when absent); DataError when malformed."""
    if not path.exists():
        return {"synthetic": False}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text; expected a JSON object") from None
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON ({err.msg} at line {err.lineno}, column "
                        f"{err.colno}); expected a JSON object such as "
                        '{"synthetic": false}') from None
    if not isinstance(meta, dict):
        raise DataError(f"{path}: holds a JSON {type(meta).__name__}; expected a JSON object "
                        'such as {"synthetic": false}')
    if not isinstance(meta.get("synthetic", False), bool):
        raise DataError(f"{path}: key 'synthetic' is {meta['synthetic']!r}; expected true or "
                        "false (JSON booleans)")
    return meta


def _read_truth(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        return pd.read_csv(path)
    except (ValueError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot be read as a CSV file of true effects ({err})") from None


def _refuse(bad, path: Path, where: str, says: str) -> None:
    """Raise a DataError naming ``path``, ``where`` (the column) and the rows of ``bad``."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        raise DataError(f"{path}: {where}: {describe_rows(np.flatnonzero(bad), len(bad))} "
                        f"{says}")


def _cross_checks(tables: dict, paths: dict) -> None:
    """Rules between tables: known schools, matching phases, EM pupils only where linked."""
    schools = tables["schools"].set_index("school_id")     # unique: validated by its key
    listed = paths["schools"].name
    # each row's school, found once (780,000 pupils: mapping each column by school took
    # 0.2 s a column)
    where = {}
    for table in ("pupils", "surveys", "tracking"):
        df = tables[table]
        where[table] = schools.index.get_indexer(df["school_id"])
        unknown = where[table] < 0
        ids = list(dict.fromkeys(df.loc[unknown, "school_id"]))
        found = ", ".join(repr(v) for v in ids[:5]) + (
            f" and {len(ids) - 5} others" if len(ids) > 5 else "")
        _refuse(unknown, paths[table], "column 'school_id'",
                f"name schools missing from {listed} (found {found}); expected every "
                f"school_id to be a school_id of {listed}")
    pupils = tables["pupils"]
    at = where["pupils"]           # every pupil's school is known here
    _refuse(pupils["phase"].to_numpy() != schools["phase"].to_numpy()[at], paths["pupils"],
            "column 'phase'", f"differ from the phase of their school in {listed}; expected a "
            "pupil's phase to be the phase of the school it is recorded in")
    linked = schools["em_linked"].to_numpy(dtype=bool)[at]
    _refuse(pupils["em"].to_numpy(dtype=bool) & ~linked, paths["pupils"], "column 'em'",
            f"are EM pupils in schools whose em_linked is false in {listed}; expected EM "
            "pupils only in schools with linked EM data (set em_linked to true for their "
            "school, or em to false)")
    _refuse(pupils.duplicated(["pupil_id", "phase"], keep=False), paths["pupils"],
            "column 'pupil_id'", "repeat a pupil in the same phase in another cohort; expected "
            "each pupil once per phase (a pupil sits each key stage once)")
    _contradictions(tables, paths)


def _contradictions(tables: dict, paths: dict) -> None:
    """Refuse records that contradict themselves or another table (review of issue 14)."""
    from evaluation.schema import OUTCOMES

    schools = tables["schools"]
    comparison = (schools["role"] == "comparison").to_numpy()
    linked = schools["em_linked"].to_numpy(dtype=bool)
    for col, what, has, want in (
            ("em_linked", linked, "linked EM data", "false"),
            ("em_phase", schools["em_phase"].notna(), "an EM phase", "blank"),
            ("cluster", schools["cluster"].notna(),
             "a cluster (its pupils would join the cluster's report)", "blank")):
        _refuse(comparison & np.asarray(what), paths["schools"], f"column {col!r}",
                f"are comparison schools with {has}; expected {want} for a school outside the "
                "programme (or its role to be trial or partner)")
    _refuse((schools["role"] == "partner").to_numpy() & linked, paths["schools"],
            "column 'em_linked'", "are partner schools with linked EM data; expected false for "
            "a partner school (EM target groups are in trial schools: if the school had one, "
            "its role is trial)")
    em_phase = schools["em_phase"].fillna("").to_numpy(dtype=str)
    _refuse(((schools["phase"] == "primary").to_numpy() & np.char.startswith(em_phase,
                                                                             "secondary"))
            | ((schools["phase"] == "secondary").to_numpy() & (em_phase == "primary")),
            paths["schools"], "column 'em_phase'", "name an EM phase of the other school "
            "phase; expected 'primary' for a primary school and 'secondary_1' or "
            "'secondary_2' for a secondary school")
    pupils = tables["pupils"]
    primary = (pupils["phase"] == "primary").to_numpy()
    for col in OUTCOMES["secondary"]:
        _refuse(primary & pupils[col].notna().to_numpy(), paths["pupils"], f"column {col!r}",
                "are primary pupils with a key stage 4 result; expected it blank for a primary "
                "pupil (is the pupil's phase, or the column, wrong?)")
    # five A*-C including English and maths are five A*-C
    _refuse(pupils["gcse_5ac_em"].eq(1) & pupils["gcse_5ac"].eq(0), paths["pupils"],
            "columns 'gcse_5ac_em' and 'gcse_5ac'", "have 5+ A*-C including English and maths "
            "(1) but not 5+ A*-C (0); expected gcse_5ac to be 1 wherever gcse_5ac_em is 1")
    tracking = tables["tracking"]
    # a pupil is its id within its school (schools may number their pupils alike)
    _refuse(tracking.groupby(["school_id", "pupil_id"])["fsm"].transform("nunique") > 1,
            paths["tracking"], "column 'fsm'", "give one pupil more than one FSM status; "
            "expected one status per pupil for the whole year (a class's FSM and other pupils "
            "are compared from term to term, so a pupil whose status changed would move "
            "between the groups: use the status at the start of the year)")
    _refuse(tracking.duplicated(["school_id", "pupil_id", "subject", "term"], keep=False),
            paths["tracking"], "column 'class_id'", "put one pupil in more than one class for "
            "the same subject and term; expected one class per pupil, subject and term (the "
            "pupil would count twice in the school's gap)")
    surveys = tables["surveys"]
    # a respondent is its id within its instrument (the table's key: pupils and staff may be
    # numbered alike)
    _refuse(surveys.groupby(["instrument", "respondent_id"])["school_id"].transform("nunique")
            > 1, paths["surveys"], "column 'respondent_id'", "give one respondent answers in "
            "more than one school; expected each respondent in one school (their baseline and "
            "follow-up answers are paired)")


def read_dataset(directory: str | Path) -> Dataset:
    """Read and validate the four tables of a data directory.

    Parameters
    ----------
    directory : str or pathlib.Path
        Holds ``pupils``, ``schools``, ``surveys`` and ``tracking`` as ``.parquet`` or ``.csv``
        (one of the two per table); optionally ``meta.json`` and ``truth.csv`` (written by the
        synthetic generator).

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        When a file is missing, doubled, unreadable or breaks the schema (file, column, rows
        and what was expected), or when tables disagree (a school missing from ``schools``, a
        pupil's phase not its school's, an EM pupil in a school without linked EM data, a
        pupil twice in one phase).

    Notes
    -----
    Every table is parsed and checked by the schema (about 3 s for 780,000 pupils). The
    checked tables are then kept for the process under the SHA-256 of every file of the
    directory: a warm kernel rendering many reports reads the files once, a changed file is
    read and checked again, and each call returns its own copy of the tables (pandas'
    copy-on-write), so the same files give the same Dataset whatever ran before. In a build,
    one worker reads and checks them and the others load its checked tables
    (:func:`evaluation.shared.computed_once`, 0.1 s).

    Examples
    --------
    >>> from evaluation import config
    >>> ds = read_dataset(config.SYNTHETIC_DIR / "default")  # doctest: +SKIP
    >>> read_dataset("/nonexistent")
    Traceback (most recent call last):
    ...
    evaluation.exceptions.DataError: /nonexistent: no such data directory
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: no such data directory")
    hashes = file_hashes(directory)
    key = (str(directory.resolve()), tuple(hashes.items()))
    if key not in _READ:
        from evaluation.shared import computed_once

        _READ.clear()                      # one data set at a time: memory stays bounded
        # in a build, one worker reads and checks the files; the others load its tables
        _READ[key] = computed_once("dataset", repr(key),
                                   lambda: _read_dataset(directory, hashes))
    return _READ[key].copy()


#: The last Dataset read, by its directory and the SHA-256 of each of its files.
_READ: dict = {}


def _read_dataset(directory: Path, hashes: dict) -> Dataset:
    paths = {table: find_table(directory, table) for table in TABLE_NAMES}
    tables = {table: read_table(path, table) for table, path in paths.items()}
    _cross_checks(tables, paths)
    meta = read_meta(directory / META_FILE)
    truth = _read_truth(directory / TRUTH_FILE)
    unused = {t: cols for t, df in tables.items() if (cols := unused_columns(df, t))}
    meta = {**meta, "directory": str(directory), "file_hashes": hashes,
            "unused_columns": unused}
    return Dataset(**tables, truth=truth, meta=meta)


def write_dataset(ds: Dataset, directory: str | Path, generated: bool = False) -> Path:
    """Write a Dataset as Parquet files (plus ``meta.json`` and ``truth.csv``).

    Parameters
    ----------
    ds : Dataset
        What to write.
    directory : str or pathlib.Path
        Created if needed; existing table files are replaced.
    generated : bool
        ``ds`` is :func:`evaluation.synthetic.generate`'s output, unchanged (``python -m
        evaluation data``): ``meta.json`` records the files written, so that the world can be
        known for the generator's own while they are unchanged (:func:`generator_world`).

    Returns
    -------
    pathlib.Path
        The directory.

    Examples
    --------
    >>> from evaluation.synthetic import generate
    >>> write_dataset(generate(seed=1, include_population=False), "/tmp/em-demo")  # doctest: +SKIP
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for table in TABLE_NAMES:
        getattr(ds, table).reset_index(drop=True).to_parquet(directory / f"{table}.parquet",
                                                             index=False)
    meta = {k: v for k, v in ds.meta.items() if k not in _RECORD_KEYS}
    written = [f"{table}.parquet" for table in TABLE_NAMES]
    if ds.truth is not None:
        ds.truth.to_csv(directory / TRUTH_FILE, index=False)
        written.append(TRUTH_FILE)
    if generated and meta.get("synthetic"):   # a file changed later is no longer the world's
        hashes = file_hashes(directory)
        meta[GENERATED_FILES] = {name: hashes[name] for name in written}
        # as read back from the file (tuples become lists), with the generator's code
        meta[GENERATED_WORLD] = _world_digest(json.loads(json.dumps(meta, default=str)))
    (directory / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return directory


def generator_world(directory: str | Path) -> dict | None:
    """Return ``meta.json`` of a data set the generator wrote and nobody changed, else None.

    The generator records the SHA-256 of every file it writes (``meta["generated_files"]``);
    a data set whose files all still have them, with no other table file beside them, is
    exactly the synthetic world ``meta`` describes (seed, scenario, effects, parameters), so
    that world can be generated again (the design-value report does), as long as ``meta``
    itself and the generator's code are unchanged too (``meta["generated_world"]``). Edited,
    hand-made or real data, an edited ``meta.json`` and data written by another version of
    the generator give None.

    Examples
    --------
    >>> generator_world("/nonexistent") is None
    True
    """
    directory = Path(directory)
    try:
        meta = read_meta(directory / META_FILE)
    except DataError:
        return None
    recorded = meta.get(GENERATED_FILES)
    if not meta.get("synthetic") or not isinstance(recorded, dict) or not recorded:
        return None
    hashes = file_hashes(directory)
    tables = {n for n in hashes if n.split(".")[0] in (*TABLE_NAMES, TRUTH_FILE.split(".")[0])}
    if tables != set(recorded) or any(hashes[n] != h for n, h in recorded.items()):
        return None
    if meta.get(GENERATED_WORLD) != _world_digest(meta):
        return None
    return meta


def file_hashes(directory: str | Path) -> dict[str, str]:
    """SHA-256 of every data file in a directory (for the provenance appendix).

    Examples
    --------
    >>> file_hashes("/nonexistent")
    {}
    """
    directory = Path(directory)
    if not directory.is_dir():
        return {}
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.iterdir())
        if p.is_file() and p.suffix in (".parquet", ".csv", ".json") and not p.name.startswith(".")
    }

"""School-level inputs of the school reports: one performance table joined to destinations by URN.

Read once (per process) from the DfE's files as published (:mod:`evaluation.io.dfe`), kept in
memory and keyed by the files' names, sizes and modification times, so that a warm kernel
rendering many school reports reads and joins them once.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import config
from evaluation.exceptions import DataError

#: The default school file and destinations folder (slugs of ``config.published_dir()``).
DEFAULT_SOURCE = "dfe-ks4-2023-national"
DEFAULT_DESTINATIONS = "dfe-ks4-destinations-2017-2022-national"

#: Column of the school table -> candidate columns of a KS4 performance table, first found wins.
ATTAINMENT_COLUMNS = {
    "name": ("SCHNAME", "SCHNAME.x"),
    "la": ("LANAME", "LEA"),
    "school_type": ("SCHOOLTYPE", "SCHOOLTYPE.x", "NFTYPE"),
    "pupils": ("TOTPUPS",),
    "share_dis": ("PTFSM6CLA1A",),
    "prior_low": ("PTPRIORLO",),
    "prior_high": ("PTPRIORHI",),
    "att8_dis": ("ATT8SCR_FSM6CLA1A",),
    "att8_other": ("ATT8SCR_NFSM6CLA1A",),
    "p8_dis": ("P8MEA_FSM6CLA1A",),
    "p8_other": ("P8MEA_NFSM6CLA1A",),
}
#: Columns of a KS4 destinations file (``<year>_england_ks4-pupdest.csv``).
DESTINATION_COLUMNS = {"n_dis": "COHORT_DIS", "k_dis": "OVERALL_DEST_DIS",
                       "rate_dis": "OVERALL_DESTPER_DIS", "n_other": "COHORT_NONDIS",
                       "k_other": "OVERALL_DEST_NONDIS", "rate_other": "OVERALL_DESTPER_NONDIS"}
#: Most decimal places a published figure is taken to have (finer: binary noise of a sum).
MAX_DECIMALS = 6
_YEAR = re.compile(r"^(\d{4})_.*ks4-pupdest\.csv$", re.IGNORECASE)


@dataclass(frozen=True)
class SchoolData:
    """Every school of one performance-table file, with its destinations over the years.

    Attributes
    ----------
    schools : pandas.DataFrame
        One row per school (index ``urn``, text): ``name, la, phase, school_type, pupils,
        share_dis, prior_low, prior_high, att8_dis, att8_other, att8_gap, p8_dis, p8_other,
        p8_gap`` (gaps: other minus disadvantaged), NaN where the file has a code.
    codes : pandas.DataFrame
        The DfE's code (``SUPP``, ``NE``, ...) in place of each missing number, same shape.
    destinations : pandas.DataFrame
        One row per school and year with a destinations row: ``urn, year, n_dis, k_dis,
        rate_dis, n_other, k_other, rate_other`` (counts of pupils; rates in percent).
    sources : tuple of str
        The files read, in order.
    year : str
        The performance table's academic year (e.g. ``2022/23``; "" where neither the
        package's registry nor the file's name gives it).
    la_named : bool
        Whether the file names each school's local authority (``LANAME``); if not, ``la``
        is ``LA <code>`` from its ``LEA`` column.
    """

    schools: pd.DataFrame = field(repr=False)
    codes: pd.DataFrame = field(repr=False)
    destinations: pd.DataFrame = field(repr=False)
    sources: tuple = ()
    year: str = ""
    la_named: bool = True

    @property
    def among(self) -> str:
        """Return the schools each school is ranked among, in words (what the file holds).

        Examples
        --------
        >>> s = pd.DataFrame({"la": ["LA 936"] * 2}, index=pd.Index(["1", "2"], name="urn"))
        >>> SchoolData(s, s, s).among
        'every school in the performance table (2 schools, all in LA 936)'
        """
        las = self.schools["la"].dropna().unique()
        where = (f", all in {las[0]}" if len(las) == 1 else f" in {len(las):,} local authorities")
        return f"every school in the performance table ({len(self.schools):,} schools{where})"

    @property
    def years(self) -> list[int]:
        """Destination years available (publication years of the files)."""
        return sorted(int(y) for y in self.destinations["year"].unique())

    def input_hash(self, urn: str, k: int = 20, threshold: int | None = None) -> str:
        """Hash of what one school's page shows: its own figures and those from other schools.

        Its own rows in every file, and what its page shows that rests on other schools, as
        shown (:func:`evaluation.schools.result.shown_from_others`: its ranks, the medians,
        the numbers of schools ranked, its similar schools and their figures), and what every
        page says of the table (:attr:`among`, :attr:`year`, the names of the files read). A
        change to one school's data changes the key of every page whose shown numbers change,
        and no other (review 17, A1). ``k`` and ``threshold`` as in
        :func:`~evaluation.schools.result.evaluate_school` (default: the analysis plan's).

        Examples
        --------
        >>> figures = ["pupils", "share_dis", "prior_low", "prior_high", "att8_dis",
        ...            "att8_gap", "p8_dis", "p8_gap"]
        >>> s = pd.DataFrame({"name": ["A", "B"], "la": "X", "phase": "secondary",
        ...                   **{c: [1.0, 2.0] for c in figures}},
        ...                  index=pd.Index(["1", "2"], name="urn"))
        >>> d = SchoolData(s, pd.DataFrame(index=s.index),
        ...                pd.DataFrame(columns=["urn", "year", *DESTINATION_COLUMNS]))
        >>> before = d.input_hash("1", threshold=10)
        >>> s2 = s.assign(att8_gap=[1.0, 0.5])  # the other school's gap: school 1's rank moves
        >>> after = SchoolData(s2, d.codes, d.destinations).input_hash("1", threshold=10)
        >>> len(before), after != before
        (16, True)
        """
        from evaluation.schools.result import shown_from_others

        row = self.schools.loc[urn]
        dest = self.destinations[self.destinations["urn"] == urn].drop(columns="urn")
        code = self.codes.loc[urn] if urn in self.codes.index else pd.Series(dtype=object)
        # a missing code is None, whatever the column holds (NaN once any school has a code:
        # one school's code changed every key, second review of issue 17)
        codes = {c: (None if pd.isna(v) else str(v)) for c, v in code.items()}
        payload = json.dumps({"school": row.to_dict(), "codes": codes,
                              "dest": dest.to_dict(orient="records"),
                              "others": shown_from_others(self, urn, k, threshold),
                              # what every page prints about the table: the schools it ranks
                              # among, the year, the files read (their names)
                              "table": [self.among, self.year,
                                        [Path(s).name for s in self.sources]]},
                             sort_keys=True, default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def published_decimals(values) -> int:
    """Return the fewest decimal places that hold every finite value as read (its precision).

    Examples
    --------
    >>> [published_decimals(v) for v in ([37.7, 48.5, np.nan], [0.46, 1.0], [87.0])]
    [1, 2, 0]
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    for d in range(MAX_DECIMALS):
        if np.allclose(np.round(v, d), v, rtol=0, atol=10.0 ** -(d + 6)):
            return d
    return MAX_DECIMALS


def published_difference(minuend, subtrahend):
    """Return ``minuend - subtrahend`` at the precision the two are published to.

    Binary floating point gives 48.5 - 37.7 = 10.799999999999997 but 55.1 - 44.3 =
    10.800000000000004; both gaps are 10.8 as published and shown, so they rank, and take a
    median, as equal (the difference of two numbers of ``d`` decimals has ``d`` decimals).

    Examples
    --------
    >>> a = published_difference(pd.Series([48.5, 55.1]), pd.Series([37.7, 44.3]))
    >>> a.tolist(), bool(a.iloc[0] == a.iloc[1])
    ([10.8, 10.8], True)
    """
    d = max(published_decimals(minuend), published_decimals(subtrahend))
    return (minuend - subtrahend).round(d)


def _first(values: pd.DataFrame, candidates: tuple, path: str, required: bool) -> str | None:
    got = next((c for c in candidates if c in values.columns), None)
    if got is None and required:
        raise DataError(f"{path}: no column {' or '.join(repr(c) for c in candidates)}; "
                        f"expected a KS4 performance table with disadvantage breakdowns "
                        f"(columns found: {sorted(values.columns)[:12]}...)")
    return got


def _attainment(table) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    rows = table.values["row_type"] == "school"
    values, codes = table.values[rows], table.codes[rows]
    urn = values["URN"].astype(str).str.strip()
    dup = urn[urn.duplicated(keep=False)]
    if len(dup):
        raise DataError(f"{table.path}: column 'URN': {dup.nunique()} URNs appear more than once "
                        f"(first: {sorted(dup.unique())[:5]}); expected one row per school")
    out = pd.DataFrame(index=pd.Index(urn.to_numpy(), name="urn"))
    code = pd.DataFrame(index=out.index)
    required = ("name", "att8_dis", "att8_other", "share_dis")
    for name, candidates in ATTAINMENT_COLUMNS.items():
        col = _first(values, candidates, table.path, name in required)
        if col is None:
            out[name] = np.nan
            continue
        out[name] = values[col].to_numpy()
        if name == "la" and col == "LEA":  # a code, not a name: say so wherever it is shown
            out[name] = "LA " + values[col].astype(str).str.strip().to_numpy()
        if col in codes.columns:
            code[name] = codes[col].to_numpy()
    out["phase"] = "secondary"  # a KS4 table holds secondaries only
    # gaps at the figures' published precision: equal shown gaps rank equal (review 17, A4)
    out["att8_gap"] = published_difference(out["att8_other"], out["att8_dis"])
    out["p8_gap"] = published_difference(out["p8_other"], out["p8_dis"])
    named = _first(values, ATTAINMENT_COLUMNS["la"], table.path, False) != "LEA"
    return out.sort_index(), code.sort_index(), named


def _destinations(folder: Path) -> tuple[pd.DataFrame, list[str]]:
    from evaluation.io.dfe import read_performance_tables
    from evaluation.io.dfe.cache import cached_read

    frames, read = [], []
    for path in sorted(folder.glob("*ks4-pupdest.csv")):
        m = _YEAR.match(path.name)
        if not m:
            continue
        t = cached_read("performance_tables", read_performance_tables, path)
        rows = t.values["row_type"].isin(["school", "special school"])
        v = t.values[rows]
        missing = [c for c in DESTINATION_COLUMNS.values() if c not in v.columns]
        if missing:
            raise DataError(f"{path}: missing destination columns {missing}; expected the KS4 "
                            "destination measures by disadvantage")
        f = pd.DataFrame({k: pd.to_numeric(v[c], errors="coerce").to_numpy()
                          for k, c in DESTINATION_COLUMNS.items()})
        f.insert(0, "year", int(m.group(1)))
        f.insert(0, "urn", v["URN"].astype(str).str.strip().to_numpy())
        frames.append(f)
        read.append(str(path))
    if not frames:
        return pd.DataFrame(columns=["urn", "year", *DESTINATION_COLUMNS]), read
    out = pd.concat(frames, ignore_index=True)
    out = out.drop_duplicates(["urn", "year"], keep="first")
    return out.sort_values(["urn", "year"]).reset_index(drop=True), read


def _performance_file(folder: Path) -> Path:
    """Find the school file of a source folder: the one with a URN and Attainment 8 by group."""
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            header = fh.readline()
        if "URN" in header and "ATT8SCR_FSM6CLA1A" in header:
            return path
    raise DataError(f"{folder}: no CSV with columns 'URN' and 'ATT8SCR_FSM6CLA1A'; expected a "
                    "KS4 performance table (national or one LA)")


def _year(root: Path, source: str, path: Path) -> str:
    """Return a performance table's academic year: the registry's, else its file name's.

    Examples
    --------
    >>> _year(Path("/nonexistent"), "x", Path("2016-2017_936_ks4final.csv"))
    '2016/17'
    """
    from evaluation.io.dfe.registry import known_sources

    known = known_sources(root).get(source)
    if known is not None and known.year:
        return known.year
    m = re.search(r"(?<!\d)(\d{4})-(\d{4})(?!\d)", path.name)
    return f"{m.group(1)}/{m.group(2)[2:]}" if m else ""


_CACHE: dict = {}


def _stamp(paths: list[Path]) -> tuple:
    return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths)


def load_schools(published_dir: str | Path | None = None, source: str = DEFAULT_SOURCE,
                 destinations: str | None = DEFAULT_DESTINATIONS) -> SchoolData:
    """Read a KS4 performance table and join every destinations year by URN (cached).

    Parameters
    ----------
    published_dir : path, optional
        Folder of published sources (default ``config.published_dir()``).
    source : str
        The performance-table folder (national or one LA).
    destinations : str or None
        The destinations folder (``<year>_england_ks4-pupdest.csv`` files); None: none.

    Returns
    -------
    SchoolData
        The same object again while the files are unchanged (same size and time).

    Examples
    --------
    >>> load_schools("/nonexistent")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    evaluation.exceptions.DataError: /nonexistent/dfe-ks4-2023-national: ...
    """
    from evaluation.io.dfe import read_performance_tables
    from evaluation.io.dfe.cache import cached_read

    root = Path(published_dir) if published_dir else config.published_dir()
    folder = root / source
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder; expected the published KS4 performance "
                        "table (set EVALUATION_PUBLISHED_DIR or --published)")
    main = _performance_file(folder)
    dest_dir = root / destinations if destinations else None
    dest_files = sorted(dest_dir.glob("*ks4-pupdest.csv")) if dest_dir and dest_dir.is_dir() \
        else []
    key = _stamp([main, *dest_files])
    if key in _CACHE:
        return _CACHE[key]
    schools, codes, la_named = _attainment(
        cached_read("performance_tables", read_performance_tables, main))
    dest, read = _destinations(dest_dir) if dest_files else (
        pd.DataFrame(columns=["urn", "year", *DESTINATION_COLUMNS]), [])
    dest = dest[dest["urn"].isin(schools.index)].reset_index(drop=True)
    data = SchoolData(schools, codes, dest, (str(main), *read), _year(root, source, main),
                      la_named)
    _CACHE.clear()
    _CACHE[key] = data
    return data

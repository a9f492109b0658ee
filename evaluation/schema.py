"""Column names, types and allowed values of the four tables; strict, typed validation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evaluation.exceptions import DataError

if TYPE_CHECKING:
    import pandera.pandas as pa

PHASES = ("primary", "secondary")
SEN_LEVELS = ("none", "support", "statement")
ETHNICITIES = ("white", "mixed", "asian", "black", "chinese", "other", "unclassified")
ROLES = ("trial", "partner", "comparison")
INSTRUMENTS = ("pupil", "staff")
WAVES = ("baseline", "follow_up")
TERMS = ("autumn", "spring", "summer")
SUBJECTS = ("reading", "writing", "numeracy")
COHORTS = (2008, 2009, 2010)

#: Columns that identify a person: never shown in any output (nor in an error message).
IDENTIFIERS = ("pupil_id", "respondent_id")

#: Outcome columns by phase (the plan in analysis.yml picks among them).
OUTCOMES = {
    "primary": ("ks2_aps", "ks2_l4_em", "ks2_ep_eng", "ks2_ep_mat"),
    "secondary": ("gcse_capped_points", "gcse_5ac_em", "gcse_5ac", "ks4_ep_eng", "ks4_ep_mat"),
}
PRIOR = {"primary": "ks1_aps", "secondary": "ks2_aps"}

#: Spellings of a yes/no flag in a text file (compared after trimming, in any case).
TRUE_SPELLINGS = ("1", "true", "yes", "y")
FALSE_SPELLINGS = ("0", "false", "no", "n")
#: Spellings of a missing number or flag in a text file (a blank cell, or R's ``NA``). In text
#: columns only a blank cell is missing: ``NA`` is a name like any other.
MISSING_SPELLINGS = ("", "NA")

#: A number written in a text file (spaces around it aside): ASCII digits with an optional
#: minus sign and decimal point; no plus sign, exponent (``1e2``), thousands separator, comma
#: or other script's digits (``２４``).
NUMBER_TEXT = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"

#: How many failing rows and values a message lists before saying how many more there are.
SHOW = 5


@dataclass(frozen=True)
class Column:
    """One documented column: name, pandas dtype, nullability, checks and meaning."""

    name: str
    dtype: str
    description: str
    nullable: bool = False
    allowed: tuple | None = None
    low: float | None = None
    high: float | None = None

    def expected(self, note: str = "") -> str:
        """Say what a value of this column must be (used by every error message).

        Examples
        --------
        >>> TABLES["pupils"][1].expected()
        'a whole number from 2000 to 2030, not blank'
        """
        what = {
            "str": "text",
            "int64": "a whole number",
            "float64": "a number",
            "bool": "a yes/no flag written " + ", ".join(
                f"{t}/{f}" for t, f in zip(TRUE_SPELLINGS, FALSE_SPELLINGS, strict=True))
            + " (any case)",
        }[self.dtype]
        if self.allowed is not None:
            what = "one of " + ", ".join(_show(v) for v in self.allowed)
        if self.low is not None and self.high is not None:
            what += f" from {self.low:g} to {self.high:g}"
        return what + note + (" or blank (missing)" if self.nullable else ", not blank")

    def to_pandera(self) -> pa.Column:
        """Return the pandera column for this specification (checks only, no coercion)."""
        import pandera.pandas as pa  # imported on use: reports read validated data without it

        checks = []
        if self.allowed is not None:
            checks.append(pa.Check.isin(list(self.allowed)))
        if self.low is not None and self.high is not None:
            checks.append(pa.Check.in_range(self.low, self.high))
        return pa.Column(self.dtype, checks=checks, nullable=self.nullable, coerce=False)


def _c(name, dtype, description, **kw) -> Column:
    return Column(name, dtype, description, **kw)


#: The programme's phases a school took part in (``schools.em_phase``).
EM_PHASES = ("secondary_1", "secondary_2", "primary")

TABLES: dict[str, tuple[Column, ...]] = {
    "pupils": (
        _c("pupil_id", "str", "Pupil identifier (never shown)."),
        _c("cohort", "int64", "Year of the outcome assessment.", low=2000, high=2030),
        _c("school_id", "str", "School identifier (URN or synthetic id)."),
        _c("phase", "str", "Phase of the outcome assessment.", allowed=PHASES),
        _c("em", "bool", "In an Extra Mile target group (pupil-level EM data linked)."),
        _c("fsm", "bool", "Eligible for free school meals."),
        _c("female", "bool", "Female."),
        _c("sen", "str", "Special educational needs provision.", allowed=SEN_LEVELS),
        _c("eal", "bool", "English as an additional language."),
        _c("ethnicity", "str", "Major ethnic group.", allowed=ETHNICITIES),
        _c("lac", "bool", "Looked-after child."),
        _c("idaci", "float64", "IDACI score of the home postcode.", nullable=True, low=0, high=1),
        _c("ks1_aps", "float64", "KS1 average point score (primary prior attainment).",
           nullable=True, low=3, high=27),
        _c("ks2_aps", "float64", "KS2 average (fine) point score: primary outcome, "
           "secondary prior attainment.", nullable=True, low=9, high=39),
        _c("ks2_l4_em", "float64", "Level 4+ in English and maths at KS2 (1/0).",
           nullable=True, allowed=(0.0, 1.0)),
        _c("ks2_ep_eng", "float64", "Two levels of progress KS1-KS2 in English (1/0).",
           nullable=True, allowed=(0.0, 1.0)),
        _c("ks2_ep_mat", "float64", "Two levels of progress KS1-KS2 in maths (1/0).",
           nullable=True, allowed=(0.0, 1.0)),
        _c("gcse_capped_points", "float64", "Capped GCSE point score, best 8 (QCA points).",
           nullable=True, low=0, high=464),
        _c("gcse_5ac_em", "float64", "5+ A*-C GCSEs including English and maths (1/0).",
           nullable=True, allowed=(0.0, 1.0)),
        _c("gcse_5ac", "float64", "5+ A*-C GCSEs (1/0).", nullable=True, allowed=(0.0, 1.0)),
        _c("ks4_ep_eng", "float64", "Three levels of progress KS2-KS4 in English (1/0).",
           nullable=True, allowed=(0.0, 1.0)),
        _c("ks4_ep_mat", "float64", "Three levels of progress KS2-KS4 in maths (1/0).",
           nullable=True, allowed=(0.0, 1.0)),
    ),
    "schools": (
        _c("school_id", "str", "School identifier."),
        _c("school_name", "str", "School name (fictional in synthetic data)."),
        _c("la", "str", "Local authority."),
        _c("phase", "str", "Phase.", allowed=PHASES),
        _c("cluster", "str", "Named group of schools reported together (blank: none).",
           nullable=True),
        _c("role", "str", "Role in the programme.", allowed=ROLES),
        _c("em_phase", "str", "EM phase (secondary_1, secondary_2, primary; blank: none).",
           nullable=True, allowed=EM_PHASES),
        _c("em_activity", "str", "Activity the school chose (blank: none; a trial school's "
           "blank is reported as '(not recorded)').", nullable=True),
        _c("em_linked", "bool", "Pupil-level EM target-group data link to the NPD."),
        _c("fsm_pct", "float64", "Share of pupils eligible for FSM (%).", low=0, high=100),
    ),
    "surveys": (
        _c("respondent_id", "str", "Respondent identifier (never shown)."),
        _c("school_id", "str", "School identifier."),
        _c("instrument", "str", "Survey instrument.", allowed=INSTRUMENTS),
        _c("wave", "str", "Survey wave.", allowed=WAVES),
        _c("item", "str", "Item code (see evaluation.surveys for the wording)."),
        _c("score", "float64", "Agreement, 1 (disagree completely) to 10 (agree completely).",
           nullable=True, low=1, high=10),
    ),
    "tracking": (
        _c("pupil_id", "str", "Pupil identifier (never shown)."),
        _c("school_id", "str", "School identifier."),
        _c("class_id", "str", "Class identifier."),
        _c("term", "str", "Term.", allowed=TERMS),
        _c("subject", "str", "Subject.", allowed=SUBJECTS),
        _c("aps", "float64", "Average point score this term.", nullable=True, low=0, high=60),
        _c("fsm", "bool", "Eligible for free school meals."),
    ),
}

UNIQUE_KEYS = {
    "pupils": ["pupil_id", "cohort"],
    "schools": ["school_id"],
    "surveys": ["respondent_id", "instrument", "wave", "item"],
    "tracking": ["pupil_id", "class_id", "term", "subject"],
}

#: Tables that must have at least one row (``surveys`` and ``tracking`` may be header-only).
NON_EMPTY = ("pupils", "schools")


def schema_for(table: str) -> pa.DataFrameSchema:
    """Return the pandera schema of one of the four tables (types and checks, no coercion).

    :func:`validate` parses and checks the tables itself; this schema states the same rules in
    pandera's terms, for users who check their own frames with pandera. A validated table
    passes it.

    Parameters
    ----------
    table : {"pupils", "schools", "surveys", "tracking"}
        Table name.

    Returns
    -------
    pandera.DataFrameSchema

    Examples
    --------
    >>> sorted(schema_for("schools").columns)[:3]
    ['cluster', 'em_activity', 'em_linked']
    """
    if table not in TABLES:
        raise ValueError(f"`table` should be one of {sorted(TABLES)}; got {table!r}")
    import pandera.pandas as pa

    return pa.DataFrameSchema({c.name: c.to_pandera() for c in TABLES[table]},
                              strict=False, coerce=False, name=table)


# --- messages -------------------------------------------------------------------------------

def _show(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return repr(value) if isinstance(value, str) else str(value)


def describe_rows(positions, n_rows: int) -> str:
    """Say which data rows (counted from 1 below the header) a problem is on.

    Examples
    --------
    >>> describe_rows([0, 2, 3, 4, 5, 6, 9], 10)
    '7 of 10 rows (rows 1, 3, 4, 5, 6 and 2 more)'
    """
    pos = list(dict.fromkeys(int(p) for p in positions))
    shown = ", ".join(str(p + 1) for p in pos[:SHOW])
    more = f" and {len(pos) - SHOW} more" if len(pos) > SHOW else ""
    word = "row" if n_rows == 1 else "rows"
    return f"{len(pos)} of {n_rows:,} {word} (row{'s' if len(pos) > 1 else ''} {shown}{more})"


def _found(values, column: str) -> str:
    if column in IDENTIFIERS:
        return "values not shown (identifier)"
    vals = list(dict.fromkeys(_show(v) for v in values))
    more = f" and {len(vals) - SHOW} other values" if len(vals) > SHOW else ""
    return "found " + ", ".join(vals[:SHOW]) + more


@dataclass(frozen=True)
class Problem:
    """One rule broken by some rows of one column."""

    column: str
    positions: tuple
    found: tuple
    expected: str
    missing: bool = False     # the rows hold a missing value where none is allowed

    def line(self, n_rows: int) -> str:
        """Return the message line: column, rows (first few, how many), found, expected."""
        found = "a blank cell" if all(v is None for v in self.found) else _found(
            [v for v in self.found if v is not None], self.column)
        if self.missing and found != "a blank cell":     # NA, and perhaps blank cells too
            found += (" (missing) and blank cells" if None in self.found else " (missing)")
        return (f"column {self.column!r}: {describe_rows(self.positions, n_rows)}: {found}; "
                f"expected {self.expected}")


def _problem(column: Column, mask, raw: pd.Series, expected: str | None = None) -> Problem:
    pos = np.flatnonzero(np.asarray(mask, dtype=bool))
    found = tuple(None if _missing_scalar(v) else v for v in raw.iloc[pos[:200]].tolist())
    return Problem(column.name, tuple(pos.tolist()), found, expected or column.expected())


def _missing_scalar(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))


# --- parsing: one explicit rule per type ----------------------------------------------------

def _kind(s: pd.Series) -> str:
    """Classify a column: 'text', 'bool', 'int', 'float', 'mixed: ...' or 'unsupported'."""
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return _kind(pd.Series(np.asarray(s.astype(object)), index=s.index, dtype=object))
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_integer_dtype(dt):
        return "int"
    if pd.api.types.is_float_dtype(dt):
        return "float"
    if pd.api.types.is_string_dtype(dt) and not pd.api.types.is_object_dtype(dt):
        return "text"
    if not pd.api.types.is_object_dtype(dt):
        return f"unsupported type {dt}"
    kinds = set()
    for v in s.tolist():
        if _missing_scalar(v):
            continue
        if isinstance(v, str):
            kinds.add("text")
        elif isinstance(v, bool | np.bool_):
            kinds.add("bool")
        elif isinstance(v, int | np.integer):
            kinds.add("int")
        elif isinstance(v, float | np.floating):
            kinds.add("float")
        else:
            kinds.add(type(v).__name__)
    if kinds <= {"int", "float"} and kinds:
        return "float" if "float" in kinds else "int"
    if len(kinds) == 1:
        return kinds.pop()
    if not kinds:
        return "text"
    if kinds <= {"text", "bool", "int", "float"}:
        return "mixed"  # read as the text each value would be in a CSV file
    return "unsupported values of type " + ", ".join(sorted(kinds - {"text", "bool", "int",
                                                                      "float"}))


def _object_missing(s: pd.Series) -> np.ndarray:
    return np.asarray(s.isna(), dtype=bool)


def _text_values(s: pd.Series) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """(text, trimmed text with "" for missing, missing mask) of a text column.

    A cell is missing when it is empty or holds only spaces; other text is kept exactly.
    """
    text = s if _kind_is_string_dtype(s) else s.astype("str")
    stripped = text.fillna("").str.strip()
    miss = np.asarray(text.isna(), dtype=bool) | (stripped == "").to_numpy(dtype=bool)
    return text, stripped, miss


def _kind_is_string_dtype(s: pd.Series) -> bool:
    return (pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype)
            and not isinstance(s.dtype, pd.CategoricalDtype))


#: Columns that join tables or tell records apart: written exactly, without spaces around.
KEYS = (*IDENTIFIERS, "school_id", "class_id")

#: Characters no cell holds, in the regular-expression syntax of Arrow (RE2): control
#: characters (C0 but tab and line feed, DEL, C1) and every invisible format character
#: (Unicode's Cf: byte-order mark, zero-width spaces and joiners, soft hyphen, direction
#: marks and overrides).
_INVISIBLE = r"[\x00-\x08\x0b-\x1f\x7f-\x9f\p{Cf}]"

#: Names that group records (reports by cluster, rows by activity or authority): written
#: without spaces around them, and one spelling each (case apart), or one group is two.
GROUPS = ("cluster", "em_activity", "la")


def _text_problems(col: Column, text: pd.Series, miss: np.ndarray) -> list:
    """Return the problems of invisible characters in text and spaces around an identifier.

    Arrow's kernels: about 0.1 s for 780,000 cells.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    probs = []
    arr = pa.array(text, type=pa.large_string(), from_pandas=True)
    hidden = pc.fill_null(pc.match_substring_regex(arr, _INVISIBLE), False) \
        .to_numpy(zero_copy_only=False)
    if hidden.any():
        probs.append(_problem(col, hidden, text, "text without control characters or "
                              "invisible marks (a NUL, a byte-order mark or a zero-width space "
                              "inside a cell)"))
    if col.name in KEYS or col.name in GROUPS:
        spaced = ~miss & pc.fill_null(pc.not_equal(arr, pc.utf8_trim_whitespace(arr)),
                                      False).to_numpy(zero_copy_only=False)
        if spaced.any():
            what = "an identifier" if col.name in KEYS else "a name"
            probs.append(_problem(col, spaced, text, f"{what} without spaces before or "
                                  "after it (with one, it names another record or group)"))
    if col.name in GROUPS:
        values = pd.Series(text[~miss].unique())
        folded = values.str.casefold()
        twins = folded.duplicated(keep=False).to_numpy(dtype=bool)
        if twins.any():
            clash = set(folded[twins])
            bad = (~miss & text.str.casefold().isin(clash).fillna(False).to_numpy(bool))
            probs.append(_problem(col, bad, text, "one spelling of each name (these differ "
                                  "only in capitals, so one group would be reported as "
                                  "two)"))
    return probs


def _parse_str(s: pd.Series, col: Column, kind: str):
    if kind == "text":
        text, _, miss = _text_values(s)
        out = text.astype("str") if text.dtype != "str" else text
        return (out.where(~miss) if miss.any() else out.copy()), miss, \
            _text_problems(col, out, miss)
    if kind == "int":  # whole-number identifiers in Parquet (e.g. URNs): written as text
        miss = _object_missing(s)
        out = pd.Series([None if m else str(int(v)) for v, m in zip(s.tolist(), miss, strict=True)],
                        index=s.index, dtype=object)
        return out.astype("str"), miss, []
    bad = ~_object_missing(s)
    return None, ~bad, [_problem(col, bad, s, f"text; the column holds {kind} values")]


def _parse_bool(s: pd.Series, col: Column, kind: str):
    if kind == "bool":
        miss = np.asarray(s.isna(), dtype=bool)
        vals = np.asarray(s.astype(object).where(~miss, False), dtype=bool)
        return pd.Series(vals, index=s.index, dtype=bool), miss, []
    if kind == "int":
        miss = np.asarray(s.isna(), dtype=bool)
        nums = pd.to_numeric(s.where(~miss, 0)).to_numpy()
        bad = ~miss & ~np.isin(nums, (0, 1))
        probs = [_problem(col, bad, s)] if bad.any() else []
        return pd.Series(nums == 1, index=s.index, dtype=bool), miss, probs
    if kind == "text":
        _, stripped, miss = _text_values(s)
        low = stripped.str.lower()
        yes = low.isin(TRUE_SPELLINGS).to_numpy(dtype=bool)
        no = low.isin(FALSE_SPELLINGS).to_numpy(dtype=bool)
        na = stripped.isin(MISSING_SPELLINGS).to_numpy(dtype=bool)
        miss = miss | na
        bad = ~miss & ~yes & ~no
        probs = [_problem(col, bad, s)] if bad.any() else []
        return pd.Series(yes, index=s.index, dtype=bool), miss, probs
    miss = np.asarray(s.isna(), dtype=bool)
    return None, miss, [_problem(col, ~miss, s, col.expected() + f"; the column holds {kind} "
                                 "values (a flag is stored as true/false or 1/0, not 1.0/0.0)")]


def _numbers(s: pd.Series, col: Column, kind: str):
    """Float values and missing mask of a numeric column, with problems for non-numbers."""
    if kind in ("int", "float"):
        miss = np.asarray(s.isna(), dtype=bool)
        return pd.to_numeric(s).astype("float64").to_numpy(), miss, []
    if kind == "text":
        _, stripped, miss = _text_values(s)
        miss = miss | stripped.isin(MISSING_SPELLINGS).to_numpy(dtype=bool)
        written = stripped.str.fullmatch(NUMBER_TEXT).to_numpy(dtype=bool)
        nums = pd.to_numeric(stripped.where(~miss & written), errors="coerce") \
            .astype("float64").to_numpy()
        bad = ~miss & (~written | np.isnan(nums))     # never a silent NaN
        if not bad.any():
            return nums, miss, []
        expected = col.expected(" written in digits (a point for decimals; no plus sign, "
                                "exponent or thousands separators)")
        return nums, miss, [_problem(col, bad, s, expected)]
    miss = np.asarray(s.isna(), dtype=bool)
    return None, miss, [_problem(col, ~miss, s, col.expected() + f"; the column holds {kind} "
                                 "values")]


def _parse_float(s: pd.Series, col: Column, kind: str):
    if kind == "bool":
        miss = np.asarray(s.isna(), dtype=bool)
        return None, miss, [_problem(col, ~miss, s, col.expected() + "; the column holds "
                                     "true/false values")]
    nums, miss, probs = _numbers(s, col, kind)
    if nums is None:
        return None, miss, probs
    bad_inf = ~miss & ~np.isfinite(nums)
    if kind != "text" and bad_inf.any():
        probs = [*probs, _problem(col, bad_inf, s, col.expected(" (finite)"))]
    return pd.Series(np.where(miss, np.nan, nums), index=s.index, dtype="float64"), miss, probs


def _parse_int(s: pd.Series, col: Column, kind: str):
    if kind == "bool":
        miss = np.asarray(s.isna(), dtype=bool)
        return None, miss, [_problem(col, ~miss, s, col.expected() + "; the column holds "
                                     "true/false values")]
    nums, miss, probs = _numbers(s, col, kind)
    if nums is None or probs:
        return None, miss, probs
    frac = ~miss & (np.mod(nums, 1) != 0)
    if kind == "text":     # the text itself: 2010.0000000000001 is 2010.0 as a double
        whole = s.astype("string").str.strip().str.fullmatch(r"[+-]?\d+(\.0*)?")
        frac |= ~miss & ~np.asarray(whole.fillna(True), dtype=bool)
    if frac.any():
        return None, miss, [_problem(col, frac, s, col.expected(" (no fraction)"))]
    if col.nullable:
        return pd.Series(pd.array(np.where(miss, None, nums), dtype="Int64"), index=s.index), \
            miss, []
    return pd.Series(np.where(miss, 0, nums).astype("int64"), index=s.index), miss, []


#: The rule that reads each documented type.
PARSERS: dict[str, Callable] = {
    "str": _parse_str, "bool": _parse_bool, "int64": _parse_int, "float64": _parse_float,
}


def _check(col: Column, raw: pd.Series, out: pd.Series, miss: np.ndarray,
           unreadable: np.ndarray) -> list[Problem]:
    """Missing values where none are allowed, values not allowed, values out of range."""
    probs = []
    if not col.nullable and miss.any():
        # the cells as written: a blank one is "a blank cell", an ``NA`` is quoted as such
        written = raw.astype("string").str.strip() if raw.dtype != bool else raw
        shown = raw.where(written.isin(MISSING_SPELLINGS[1:]).fillna(False).to_numpy(bool))
        probs.append(replace(_problem(col, miss, shown, col.expected()), missing=True))
    present = ~miss & ~unreadable
    if col.allowed is not None:
        ok = np.asarray(out.isin(list(col.allowed)), dtype=bool)
        bad = present & ~ok
        if bad.any():
            probs.append(_problem(col, bad, raw))
    if col.low is not None and col.high is not None:
        vals = out.to_numpy(dtype="float64", na_value=np.nan)
        bad = present & ((vals < col.low) | (vals > col.high))
        if bad.any():
            probs.append(_problem(col, bad, raw))
    return probs


def _missing_columns(df: pd.DataFrame, table: str, source: str) -> None:
    missing = [c.name for c in TABLES[table] if c.name not in df.columns]
    dups = sorted({str(c) for c in df.columns if list(df.columns).count(c) > 1})
    if dups:
        raise DataError(f"{source}: column(s) {dups} appear more than once in the header of "
                        f"table {table!r}; each column must appear once.")
    if not missing:
        return
    norm = {str(c).strip().lower().replace(" ", "_"): str(c) for c in df.columns}
    hints = "; ".join(f"{m} (found {norm[m]!r}?)" for m in missing if m in norm)
    raise DataError(
        f"{source}: missing columns {missing} in table {table!r}"
        + (f"; did you mean: {hints}" if hints else "")
        + f". Expected columns: {[c.name for c in TABLES[table]]}; "
        f"found: {[str(c) for c in df.columns]}."
    )


def _refuse_unnamed_values(df: pd.DataFrame, table: str, source: str) -> None:
    """Refuse a column without a name that holds values (empty: a trailing delimiter)."""
    for pos, name in enumerate(df.columns):
        if str(name).strip():
            continue
        raw = df.iloc[:, pos]
        held = ~np.asarray(raw.isna(), dtype=bool)
        if _kind(raw) == "text":
            held &= ~_text_values(raw)[2]
        if held.any():
            raise DataError(
                f"{source}: table {table!r}: column {pos + 1} has no name in the header but "
                f"holds values on {describe_rows(np.flatnonzero(held), len(df))}; expected "
                "every column that holds values to be named (an unnamed column is accepted "
                "only when all its cells are empty, as a trailing delimiter leaves it)")


def unused_columns(df: pd.DataFrame, table: str) -> list[str]:
    """Columns of a table that no analysis reads (an unnamed empty column included).

    Examples
    --------
    >>> unused_columns(pd.DataFrame(columns=["school_id", "notes", ""]), "schools")
    ['notes', '(an unnamed empty column)']
    """
    known = {c.name for c in TABLES[table]}
    return [str(c) if str(c).strip() else "(an unnamed empty column)" for c in df.columns
            if c not in known]


def validate(df: pd.DataFrame, table: str, source: str = "<DataFrame>") -> pd.DataFrame:
    """Parse every column of a table by its documented rule, check it, return a typed copy.

    Text (from a CSV, or a text column in Parquet) is read by explicit rules, never guessed:
    flags accept ``1/0``, ``true/false``, ``yes/no``, ``y/n`` in any case; whole numbers must
    be whole; numbers use a decimal point; a blank cell (or ``NA`` in a numeric or flag
    column) is missing, and is an error where the column allows no missing values. Text
    columns keep their text exactly (``NA`` is a name, not a missing value). Typed columns
    (Parquet, DataFrames) must hold the documented type; integers 0/1 are accepted as flags
    and whole-number identifiers as text. Nothing is dropped, rounded or recoded.

    Parameters
    ----------
    df : pandas.DataFrame
        The table as read (text from a CSV, or typed columns).
    table : {"pupils", "schools", "surveys", "tracking"}
        Which table it is.
    source : str
        File name (or other label) used in error messages.

    Returns
    -------
    pandas.DataFrame
        A new DataFrame (same index, schema columns in schema order, then any other columns
        unchanged) with each column in its documented dtype: ``str``, ``int64``, ``float64``
        (missing: NaN) or ``bool``. Other columns are kept as they are and never read by an
    analysis (:func:`unused_columns` names them; ``make check`` and the data-quality
    appendix list them), but a column without a name must be empty.

    Raises
    ------
    DataError
        Naming the file, every failing column, the rows (data rows counted from 1 below the
        header: the first few and how many), the values found and what was expected.

    Examples
    --------
    >>> import pandas as pd
    >>> validate(pd.DataFrame({"school_id": ["1"]}), "schools", "schools.csv")
    Traceback (most recent call last):
    ...
    evaluation.exceptions.DataError: schools.csv: missing columns ...
    >>> bad = pd.DataFrame({"pupil_id": ["a"], "cohort": ["2010.6"]})
    >>> validate(bad, "pupils")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    evaluation.exceptions.DataError: <DataFrame>: missing columns ['school_id', ...
    """
    if table not in TABLES:
        raise ValueError(f"`table` should be one of {sorted(TABLES)}; got {table!r}")
    _missing_columns(df, table, source)
    n = len(df)
    _refuse_unnamed_values(df, table, source)
    if n == 0 and table in NON_EMPTY:
        raise DataError(f"{source}: table {table!r} has a header but no rows; expected at least "
                        "one row.")
    out, problems = {}, []
    for col in TABLES[table]:
        raw = df[col.name]
        kind = _kind(raw)
        if kind == "mixed":
            miss = np.asarray(raw.isna(), dtype=bool)
            raw = pd.Series([None if m else str(v) for v, m in zip(raw.tolist(), miss,
                                                                    strict=True)],
                            index=raw.index, dtype=object).astype("str")
            kind = "text"
        if kind not in ("text", "bool", "int", "float"):
            miss = np.asarray(raw.isna(), dtype=bool)
            problems.append(_problem(col, ~miss, raw, f"{col.expected()}; the column holds "
                                     f"{kind}"))
            continue
        parsed, miss, probs = PARSERS[col.dtype](raw, col, kind)
        problems += probs
        if parsed is None:
            continue
        unreadable = np.zeros(len(raw), dtype=bool)
        for p in probs:
            unreadable[list(p.positions)] = True
        checks = _check(col, raw, parsed, miss, unreadable)
        problems += checks
        if not probs and not checks:
            out[col.name] = parsed
    if problems:
        raise DataError(
            f"{source}: table {table!r} is invalid ({len(problems)} problem"
            f"{'s' if len(problems) > 1 else ''}; rows are data rows counted from 1 below the "
            "header):\n  " + "\n  ".join(p.line(n) for p in problems))
    extra = [c for c in df.columns if c not in out]
    result = pd.DataFrame(out, index=df.index)
    for c in extra:
        result[c] = df[c]
    key = UNIQUE_KEYS[table]
    dup = result.duplicated(key, keep=False).to_numpy()
    if dup.any():
        raise DataError(
            f"{source}: table {table!r}: columns {key}: {describe_rows(np.flatnonzero(dup), n)} "
            f"are duplicates of another row on {' + '.join(key)}; expected each "
            f"{' + '.join(key)} to appear once.")
    return result

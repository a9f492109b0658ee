"""Column names, types and allowed values of the four tables; validation with pandera."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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

#: Columns that identify a person: never shown in any output.
IDENTIFIERS = ("pupil_id", "respondent_id")

#: Outcome columns by phase (the plan in analysis.yml picks among them).
OUTCOMES = {
    "primary": ("ks2_aps", "ks2_l4_em", "ks2_ep_eng", "ks2_ep_mat"),
    "secondary": ("gcse_capped_points", "gcse_5ac_em", "gcse_5ac", "ks4_ep_eng", "ks4_ep_mat"),
}
PRIOR = {"primary": "ks1_aps", "secondary": "ks2_aps"}

#: Short names of the outcomes for chart titles and axes.
OUTCOME_LABELS = {
    "ks2_aps": "KS2 average point score", "ks2_l4_em": "KS2 level 4+ English & maths",
    "ks2_ep_eng": "KS1-KS2 expected progress, English",
    "ks2_ep_mat": "KS1-KS2 expected progress, maths",
    "gcse_capped_points": "GCSE capped points", "gcse_5ac_em": "5+ A*-C incl. English & maths",
    "gcse_5ac": "5+ A*-C GCSEs", "ks4_ep_eng": "KS2-KS4 expected progress, English",
    "ks4_ep_mat": "KS2-KS4 expected progress, maths",
}


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

    def to_pandera(self) -> pa.Column:
        """Return the pandera column for this specification."""
        import pandera.pandas as pa  # imported on use: reports read validated data without it

        checks = []
        if self.allowed is not None:
            checks.append(pa.Check.isin(list(self.allowed), error=f"one of {list(self.allowed)}"))
        if self.low is not None and self.high is not None:
            checks.append(
                pa.Check.in_range(self.low, self.high, error=f"between {self.low} and {self.high}")
            )
        return pa.Column(self.dtype, checks=checks, nullable=self.nullable, coerce=True)


def _c(name, dtype, description, **kw) -> Column:
    return Column(name, dtype, description, **kw)


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
           nullable=True),
        _c("em_activity", "str", "Activity the school chose (blank: none).", nullable=True),
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


def schema_for(table: str) -> pa.DataFrameSchema:
    """Return the pandera schema of one of the four tables.

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

    return pa.DataFrameSchema(
        {c.name: c.to_pandera() for c in TABLES[table]},
        strict=False,
        coerce=True,
        name=table,
    )


def _rows(index_values, limit: int = 10) -> str:
    vals = list(dict.fromkeys(index_values))
    shown = ", ".join(str(v) for v in vals[:limit])
    more = f" and {len(vals) - limit} more" if len(vals) > limit else ""
    return f"rows {shown}{more}" if vals else "all rows"


def validate(df: pd.DataFrame, table: str, source: str = "<DataFrame>") -> pd.DataFrame:
    """Validate a table against its schema and return a coerced copy.

    Parameters
    ----------
    df : pandas.DataFrame
        The table as read.
    table : {"pupils", "schools", "surveys", "tracking"}
        Which table it is.
    source : str
        File name (or other label) used in error messages.

    Returns
    -------
    pandas.DataFrame
        A new DataFrame with columns coerced to their documented types.

    Raises
    ------
    DataError
        Naming the file, each failing column, the rows (0-based data rows) and what was expected.

    Examples
    --------
    >>> import pandas as pd
    >>> validate(pd.DataFrame({"school_id": ["1"]}), "schools", "schools.csv")
    Traceback (most recent call last):
    ...
    evaluation.exceptions.DataError: schools.csv: missing columns ...
    """
    schema = schema_for(table)
    missing = [c.name for c in TABLES[table] if c.name not in df.columns]
    if missing:
        close = {
            m: [c for c in df.columns if c.lower().replace(" ", "_") == m or m in str(c).lower()]
            for m in missing
        }
        hints = "; ".join(f"{m} (found {v[0]!r}?)" for m, v in close.items() if v)
        raise DataError(
            f"{source}: missing columns {missing} in table {table!r}"
            + (f"; did you mean: {hints}" if hints else "")
            + f". Expected columns: {[c.name for c in TABLES[table]]}."
        )
    from pandera.errors import SchemaErrors

    try:
        out = schema.validate(df.copy(), lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
        lines = []
        for (column, check), grp in cases.groupby(["column", "check"], dropna=False, sort=False):
            idx = grp["index"].dropna().tolist()
            found = ", ".join(repr(v) for v in list(dict.fromkeys(grp["failure_case"]))[:5])
            lines.append(f"column {column!r}: {_rows(idx)} fail {check} (found {found})")
        raise DataError(f"{source}: table {table!r} is invalid:\n  " + "\n  ".join(lines)) from None
    key = UNIQUE_KEYS[table]
    dup = out.duplicated(key, keep=False)
    if dup.any():
        raise DataError(
            f"{source}: table {table!r} has {int(dup.sum())} duplicated rows on {key} "
            f"({_rows(out.index[dup].tolist())}); each {' + '.join(key)} must appear once."
        )
    return out

"""The `Dataset` (pupils, schools, surveys, tracking) and its reading and writing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaluation.exceptions import DataError
from evaluation.schema import TABLES, validate

TABLE_NAMES = tuple(TABLES)
META_FILE = "meta.json"
TRUTH_FILE = "truth.csv"
STAMP_FILE = ".validated.json"
SCHEMA_HASH = hashlib.sha256(repr(TABLES).encode()).hexdigest()


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

    def clusters(self) -> list[str]:
        """Names of the clusters in ``schools.cluster``, sorted."""
        return sorted(self.schools["cluster"].dropna().unique().tolist())

    def for_schools(self, school_ids) -> Dataset:
        """Return a new Dataset restricted to the given schools."""
        ids = set(school_ids)
        return Dataset(
            **{t: getattr(self, t)[getattr(self, t)["school_id"].isin(ids)] for t in TABLE_NAMES},
            truth=self.truth,
            meta=self.meta,
        )


def _read_table(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype={"pupil_id": str, "school_id": str, "respondent_id": str,
                                        "class_id": str})
    raise DataError(f"{path}: unsupported file type {path.suffix!r}; expected .parquet or .csv")


def _find(directory: Path, table: str) -> Path:
    for ext in (".parquet", ".csv"):
        p = directory / f"{table}{ext}"
        if p.exists():
            return p
    raise DataError(
        f"{directory}: no {table}.parquet or {table}.csv; a data directory holds "
        f"{', '.join(t + '.parquet|.csv' for t in TABLE_NAMES)}"
    )


def read_dataset(directory: str | Path) -> Dataset:
    """Read and validate the four tables of a data directory.

    Parameters
    ----------
    directory : str or pathlib.Path
        Holds ``pupils``, ``schools``, ``surveys`` and ``tracking`` as ``.parquet`` or ``.csv``;
        optionally ``meta.json`` and ``truth.csv`` (written by the synthetic generator).

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        When a file is missing or breaks the schema (file, column, rows and what was expected),
        or when a table refers to a school that is not in ``schools``.

    Notes
    -----
    Validation is the slow part on a national extract. After a directory validates, the SHA-256
    of its files and of the schema are written to ``.validated.json``; while neither changes,
    Parquet tables (which keep their types) are not validated again.

    Examples
    --------
    >>> from evaluation import config
    >>> ds = read_dataset(config.SYNTHETIC_DIR / "default")  # doctest: +SKIP
    """
    directory = Path(directory)
    hashes = file_hashes(directory)
    stamp = {"schema": SCHEMA_HASH, "files": hashes}
    stamp_path = directory / STAMP_FILE
    trusted = stamp_path.exists() and json.loads(stamp_path.read_text()) == stamp
    tables = {}
    for table in TABLE_NAMES:
        path = _find(directory, table)
        raw = _read_table(path)
        tables[table] = raw if trusted and path.suffix == ".parquet" else validate(
            raw, table, str(path))
    known = set(tables["schools"]["school_id"])
    for table in ("pupils", "surveys", "tracking"):
        unknown = ~tables[table]["school_id"].isin(known)
        if unknown.any():
            rows = tables[table].index[unknown].tolist()
            raise DataError(
                f"{_find(directory, table)}: column 'school_id': {int(unknown.sum())} rows "
                f"(rows {', '.join(map(str, rows[:10]))}) name schools missing from schools table"
            )
    if not trusted:
        try:  # the same bytes validate the same way: skip pandera next time
            stamp_path.write_text(json.dumps(stamp, sort_keys=True))
        except OSError:
            pass
    meta_path = directory / META_FILE
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {"synthetic": False}
    truth_path = directory / TRUTH_FILE
    truth = pd.read_csv(truth_path) if truth_path.exists() else None
    meta = {**meta, "directory": str(directory), "file_hashes": hashes}
    return Dataset(**tables, truth=truth, meta=meta)


def write_dataset(ds: Dataset, directory: str | Path) -> Path:
    """Write a Dataset as Parquet files (plus ``meta.json`` and ``truth.csv``).

    Parameters
    ----------
    ds : Dataset
        What to write.
    directory : str or pathlib.Path
        Created if needed; existing table files are replaced.

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
    meta = {k: v for k, v in ds.meta.items() if k not in ("directory", "file_hashes")}
    (directory / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    if ds.truth is not None:
        ds.truth.to_csv(directory / TRUTH_FILE, index=False)
    return directory


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

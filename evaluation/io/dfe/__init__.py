"""Readers for the DfE's published files as they are: tables, releases, EES files, panels.

Performance tables, statistical releases, explore-education-statistics files and school
panels; CSV, xlsx or ods.
"""

from __future__ import annotations

from pathlib import Path

from evaluation import config
from evaluation.exceptions import DataError
from evaluation.io.dfe._common import (
    EES_CODES,
    PERFORMANCE_CODES,
    REASONS,
    SFR_CODES,
    SHORT_ROW,
    category,
    meta_labels,
    read_rows,
    reason,
)
from evaluation.io.dfe.cache import cached_read
from evaluation.io.dfe.ees import EESTable, ees_release, read_ees
from evaluation.io.dfe.panel import SchoolPanel, read_school_panel
from evaluation.io.dfe.performance import PerformanceTable, read_performance_tables
from evaluation.io.dfe.registry import PublishedSource, known_sources, published_sources
from evaluation.io.dfe.releases import ReleaseTable, read_sfr

#: Hand-made files in the DfE's layouts used by the examples (no real data).
FIXTURES = config.PROJECT_ROOT / "tests" / "fixtures" / "dfe"

#: Layout name -> reader; every reader takes (path, metadata=None).
LAYOUTS = {
    "performance_tables": read_performance_tables,
    "sfr_counts": read_sfr,
    "ees": read_ees,
    "ees_long": lambda path, metadata=None: ees_release(read_ees(path, metadata)),
    "school_panel": read_school_panel,
}


def read_statistical_release(path: str | Path, layout: str | None = None,
                             metadata: str | Path | None = None) -> ReleaseTable:
    """Read statistical-release counts by FSM / disadvantage into one tidy table.

    Parameters
    ----------
    path : str or pathlib.Path
        An SFR underlying-data CSV (LA file with ``<measure>_<sex>_<group>_<yy>`` columns, or
        the national file by characteristic) or an explore-education-statistics file with an
        FSM / disadvantage filter.
    layout : {"sfr_counts", "ees_long"}, optional
        Detected from the columns when omitted (``time_period`` -> ``ees_long``).
    metadata : str or pathlib.Path, optional
        The DfE's metadata (SFR text or ``.meta.csv``); found beside the file when omitted.

    Returns
    -------
    ReleaseTable

    Raises
    ------
    DataError
        The file matches neither layout, or (EES) has no FSM / disadvantage breakdown; the
        message says what each expects and what was found.

    Examples
    --------
    >>> r = read_statistical_release(FIXTURES / "sfr_la_2015.csv")
    >>> r.layout, int(r.table["area_name"].nunique())
    ('sfr_counts', 6)
    """
    path = Path(path)
    if layout is None:
        header, _ = read_rows(path)
        layout = "ees_long" if "time_period" in header else "sfr_counts"
    if layout not in ("sfr_counts", "ees_long"):
        raise ValueError(f"`layout` should be one of ['sfr_counts', 'ees_long']; got {layout!r}")
    return LAYOUTS[layout](path, Path(metadata) if metadata else None)


def read_published(source: PublishedSource, index: int = 0):
    """Read one file of a registered source with the reader of its layout.

    The parsed file is kept on disk, keyed by its content (:mod:`evaluation.io.dfe.cache`).

    Examples
    --------
    >>> import tempfile, shutil
    >>> d = Path(tempfile.mkdtemp()) / "dfe-sfr05-2014"
    >>> _ = shutil.copytree(FIXTURES, d, ignore=lambda *a: [])
    >>> _ = (d / "SFR05_2014_UD_LA_2.csv").write_bytes((FIXTURES / "sfr_la_2015.csv").read_bytes())
    >>> _ = (d / "SFR05_2014_UD_national_1.csv").write_bytes(b"")
    >>> read_published(published_sources(d.parent)["dfe-sfr05-2014"]).layout
    'sfr_counts'
    """
    if not 0 <= index < len(source.paths):
        raise ValueError(f"`index` should be in 0..{len(source.paths) - 1} for source "
                         f"{source.slug!r}; got {index}")
    layout = source.layout_for(index)
    return cached_read(layout, LAYOUTS[layout], source.paths[index], source.metadata_for(index))


__all__ = ["DataError", "EESTable", "EES_CODES", "FIXTURES", "LAYOUTS", "PERFORMANCE_CODES",
           "PerformanceTable", "PublishedSource", "REASONS", "ReleaseTable", "SFR_CODES",
           "SHORT_ROW", "SchoolPanel", "category", "ees_release", "known_sources",
           "meta_labels", "published_sources", "read_ees", "read_performance_tables",
           "read_published", "read_rows", "read_school_panel", "read_sfr",
           "read_statistical_release", "reason"]

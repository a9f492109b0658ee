"""Which reports exist: one per cluster in the data, one overall, one per published source."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation import config
from evaluation.render import ReportSpec, slugify

CLUSTER_NOTEBOOK = "cluster_report.ipynb"
OVERALL_NOTEBOOK = "evaluation_overall.ipynb"
PUBLISHED_NOTEBOOK = "published_gaps.ipynb"
SCHOOL_SUPPORT_NOTEBOOK = "school_support.ipynb"
#: A published source's report kind -> (notebook, slug prefix); kind "none": no report.
SOURCE_REPORTS = {"gaps": (PUBLISHED_NOTEBOOK, "published"),
                  "school_support": (SCHOOL_SUPPORT_NOTEBOOK, "school-support")}


def _clusters(data_dir: Path) -> list[str]:
    for ext, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
        path = data_dir / f"schools{ext}"
        if path.exists():
            return sorted(reader(path, columns=["cluster"])["cluster"].dropna().unique())
    return []


def report_specs(data_dir: str | Path = config.SYNTHETIC_DIR / "default",
                 published_dir: str | Path | None = None,
                 seed: int = config.DEFAULT_SEED) -> list[ReportSpec]:
    """List every report to render, in index order.

    Parameters
    ----------
    data_dir : path
        The pupil data set (its ``schools`` table names the clusters).
    published_dir : path, optional
        Published DfE files (one report per source found there whose registry entry asks
        for one); default :func:`evaluation.config.published_dir`.
    seed : int
        Passed to every pupil-level report (bootstrap and random tie-breaking).

    Returns
    -------
    list of ReportSpec

    Examples
    --------
    >>> [s.slug for s in report_specs("/nonexistent", "/nonexistent")]
    ['overall']
    """
    data_dir = Path(data_dir)
    common = {"data_dir": str(Path(data_dir).resolve()), "seed": int(seed)}
    specs = [ReportSpec("overall", "Extra Mile evaluation: overall", OVERALL_NOTEBOOK,
                        common, "overall")]
    for cluster in _clusters(data_dir):
        specs.append(ReportSpec(f"cluster-{slugify(cluster)}", cluster, CLUSTER_NOTEBOOK,
                                {**common, "cluster": cluster}, "cluster"))
    published_dir = Path(published_dir) if published_dir else config.published_dir()
    for slug, source in _published_sources(published_dir).items():
        if source.report in SOURCE_REPORTS:
            notebook, prefix = SOURCE_REPORTS[source.report]
            specs.append(ReportSpec(f"{prefix}-{slug}", source.title, notebook,
                                    {"source": slug, "published_dir": str(published_dir.resolve())},
                                    "published"))
    return specs


def _published_sources(published_dir: Path) -> dict:
    if not published_dir.is_dir():
        return {}
    from evaluation.io.dfe import published_sources

    return published_sources(published_dir)

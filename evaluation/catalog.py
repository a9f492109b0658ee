"""Which reports exist: one per cluster in the data, one overall, one per published source."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evaluation import config
from evaluation.render import ReportSpec, slugify

CLUSTER_NOTEBOOK = "cluster_report.ipynb"
OVERALL_NOTEBOOK = "evaluation_overall.ipynb"
PUBLISHED_NOTEBOOK = "published_gaps.ipynb"


def _clusters(data_dir: Path) -> list[str]:
    for ext, reader in ((".parquet", pd.read_parquet), (".csv", pd.read_csv)):
        path = data_dir / f"schools{ext}"
        if path.exists():
            return sorted(reader(path, columns=["cluster"])["cluster"].dropna().unique())
    return []


def report_specs(data_dir: str | Path = config.SYNTHETIC_DIR / "default",
                 published_dir: str | Path = config.PUBLISHED_DIR,
                 seed: int = config.DEFAULT_SEED) -> list[ReportSpec]:
    """List every report to render, in index order.

    Parameters
    ----------
    data_dir : path
        The pupil data set (its ``schools`` table names the clusters).
    published_dir : path
        Published DfE files (one report per source found there).
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
    for slug, source in _published_sources(Path(published_dir)).items():
        specs.append(ReportSpec(f"published-{slug}", source.title, PUBLISHED_NOTEBOOK,
                                {"source": slug}, "published"))
    return specs


def _published_sources(published_dir: Path) -> dict:
    if not published_dir.is_dir():
        return {}
    from evaluation.io.dfe import published_sources

    return published_sources(published_dir)

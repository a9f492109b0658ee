"""Which reports exist: one per cluster in the data, one overall, one per published source."""

from __future__ import annotations

from pathlib import Path

from evaluation import config
from evaluation.exceptions import DataError
from evaluation.io.dataset import find_table, generator_world, read_table
from evaluation.render import ReportSpec, slugify

CLUSTER_NOTEBOOK = "cluster_report.ipynb"
OVERALL_NOTEBOOK = "evaluation_overall.ipynb"
PUBLISHED_NOTEBOOK = "published_gaps.ipynb"
SCHOOL_SUPPORT_NOTEBOOK = "school_support.ipynb"
DESIGN_VALUE_NOTEBOOK = "design_value.ipynb"
#: A published source's report kind -> (notebook, slug prefix); kind "none": no report.
SOURCE_REPORTS = {"gaps": (PUBLISHED_NOTEBOOK, "published"),
                  "school_support": (SCHOOL_SUPPORT_NOTEBOOK, "school-support")}


def _clusters(data_dir: Path) -> list[str]:
    """Cluster names of the data set's ``schools`` table, read and checked as for analysis."""
    if not any((data_dir / f"schools{ext}").is_file() for ext in (".parquet", ".csv")):
        return []
    path = find_table(data_dir, "schools")
    names = sorted(read_table(path, "schools")["cluster"].dropna().unique().tolist())
    by_slug: dict[str, list[str]] = {}
    for name in names:
        by_slug.setdefault(slugify(name), []).append(name)
    if "" in by_slug:
        raise DataError(f"{path}: column 'cluster': {by_slug['']!r} contain no letter or digit "
                        "(a-z, 0-9), so no report file can be named after them; expected each "
                        "cluster name to contain at least one")
    clashes = {slug: group for slug, group in by_slug.items() if len(group) > 1}
    if clashes:
        listed = "; ".join(f"{' and '.join(repr(n) for n in group)} (both cluster-{slug})"
                           for slug, group in clashes.items())
        raise DataError(f"{path}: column 'cluster': cluster names that differ only in case or "
                        f"punctuation would share one report file: {listed}; expected names "
                        "that differ in their letters or digits")
    return names


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

    Raises
    ------
    DataError
        The ``schools`` table is invalid, or two cluster names give the same slug (both named).

    Examples
    --------
    >>> [s.slug for s in report_specs("/nonexistent", "/nonexistent")]
    ['overall']
    """
    data_dir = Path(data_dir)
    common = {"data_dir": str(Path(data_dir).resolve()), "seed": int(seed)}
    specs = [ReportSpec("overall", "Extra Mile evaluation: overall", OVERALL_NOTEBOOK,
                        common, "overall")]
    world = generator_world(data_dir)
    if world is not None and world.get("scenario") == "default":
        # the 2011 design against full linkage: the generator's world of these very data (an
        # edited or other data set would be compared with a world it is not; eighth review)
        specs.append(ReportSpec("design-value", "What full data linkage would have bought",
                                DESIGN_VALUE_NOTEBOOK, common, "design_value"))
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


SCHOOL_NOTEBOOK = "school_report.ipynb"
#: A school report's slug (its pages' and record's file names), from its URN.
SCHOOL_SLUG = "school-{urn}"


def school_specs(published_dir: str | Path | None = None, limit: int | None = None,
                 source: str | None = None, destinations: str | None = None
                 ) -> list[ReportSpec]:
    """List one school report per school of a KS4 performance table, in URN order.

    Parameters
    ----------
    published_dir : path, optional
        Published DfE files (default :func:`evaluation.config.published_dir`).
    limit : int, optional
        Only the first ``limit`` schools (small builds, tests, the bench).
    source, destinations : str, optional
        Source folders (default :data:`evaluation.schools.data.DEFAULT_SOURCE` and
        ``DEFAULT_DESTINATIONS``).

    Returns
    -------
    list of ReportSpec
        Slug ``school-<URN>``, kind ``school``.

    Examples
    --------
    >>> school_specs("/nonexistent")
    []
    """
    from evaluation.schools import data as sd

    root = Path(published_dir) if published_dir else config.published_dir()
    source = source or sd.DEFAULT_SOURCE
    destinations = destinations or sd.DEFAULT_DESTINATIONS
    if not (root / source).is_dir():
        return []
    schools = sd.load_schools(root, source, destinations).schools
    urns = schools.index.tolist()[:limit] if limit else schools.index.tolist()
    common = {"published_dir": str(root.resolve()), "source": source,
              "destinations": destinations}
    return [ReportSpec(SCHOOL_SLUG.format(urn=urn), str(schools.at[urn, "name"]), SCHOOL_NOTEBOOK,
                       {"urn": str(urn), **common}, "school") for urn in urns]

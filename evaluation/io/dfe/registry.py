"""Which published sources exist: the package's registry and the folders a user filled."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from evaluation import config
from evaluation.exceptions import DataError, EvaluationWarning
from evaluation.yaml_file import read_yaml

#: Kinds of report a source can have.
REPORTS = ("gaps", "school_support", "none")


@dataclass(frozen=True)
class PublishedSource:
    """One published source: ``<published dir>/<slug>/`` holding the files the registry lists.

    Attributes
    ----------
    slug, title, layout : str
        Identifier, display title, and layout (a key of :data:`evaluation.io.dfe.LAYOUTS`).
    paths : tuple of pathlib.Path
        Data files; the first is the main one.
    metadata : tuple of pathlib.Path
        The DfE's column dictionaries: one per file, or one for all (may be empty).
    licence, provenance, download : str
        Attribution text, where the files came from and where a user downloads them.
    phase, year, measure, report : str
        ``primary`` / ``secondary``, academic year, the gap measure's stem, and the report kind
        (``gaps``, ``school_support`` or ``none``).
    layouts : tuple of str
        Per-file layouts when the files differ (empty: every file has ``layout``).
    share : str
        Where the share of the group comes from when not from the main file:
        ``<file>:<column>`` (e.g. ``england_census.csv:PNUMFSMEVER``, the census's FSM-ever
        share, joined on URN); empty: the main file's own share column.

    Examples
    --------
    >>> s = known_sources()["dfe-ks4-2017-la936"]
    >>> s.layout, s.measure, s.report
    ('performance_tables', 'BASICS_94', 'gaps')
    """

    slug: str
    title: str
    layout: str
    paths: tuple[Path, ...]
    licence: str
    provenance: str
    metadata: tuple[Path, ...] = ()
    phase: str = ""
    year: str = ""
    measure: str = ""
    report: str = "gaps"
    download: str = ""
    layouts: tuple[str, ...] = ()
    share: str = ""

    def layout_for(self, index: int = 0) -> str:
        """Layout of file ``index`` (``layouts`` when given per file, else ``layout``)."""
        return self.layouts[index] if self.layouts else self.layout

    @property
    def path(self) -> Path:
        """The main data file."""
        return self.paths[0]

    def metadata_for(self, index: int = 0) -> Path | None:
        """Return the column dictionary of file ``index`` (one may serve all); None if absent."""
        if not self.metadata:
            return None
        path = self.metadata[index] if len(self.metadata) == len(self.paths) \
            else self.metadata[0]
        return path if path.is_file() else None


_SOURCE_KEYS = ("slug", "title", "layout", "files", "licence", "provenance")


def _source(meta: dict, folder: Path, where: str) -> PublishedSource:
    from evaluation.io.dfe import LAYOUTS

    missing = [k for k in _SOURCE_KEYS if k not in meta]
    if missing:
        raise DataError(f"{where}: front matter lacks keys {missing}; "
                        f"expected {list(_SOURCE_KEYS)}")
    if meta["layout"] not in LAYOUTS:
        raise DataError(f"{where}: `layout` should be one of {sorted(LAYOUTS)}; "
                        f"got {meta['layout']!r}")
    report = str(meta.get("report", "gaps"))
    if report not in REPORTS:
        raise DataError(f"{where}: `report` should be one of {list(REPORTS)}; got {report!r}")
    layouts = tuple(meta.get("layouts") or ())
    bad = [x for x in layouts if x not in LAYOUTS]
    if bad or layouts and len(layouts) != len(meta["files"]):
        raise DataError(f"{where}: `layouts` should give one of {sorted(LAYOUTS)} per file "
                        f"({len(meta['files'])}); got {list(layouts)}")
    metadata = meta.get("metadata") or ()
    metadata = (metadata,) if isinstance(metadata, str) else tuple(metadata)
    return PublishedSource(
        slug=str(meta["slug"]), title=str(meta["title"]), layout=meta["layout"],
        paths=tuple(folder / f for f in meta["files"]), licence=str(meta["licence"]),
        provenance=str(meta["provenance"]), metadata=tuple(folder / m for m in metadata),
        phase=str(meta.get("phase", "")), year=str(meta.get("year", "")),
        measure=str(meta.get("measure", "")), report=report,
        download=str(meta.get("download", "")), layouts=layouts,
        share=str(meta.get("share", "")))


def known_sources(directory: str | Path | None = None) -> dict[str, PublishedSource]:
    """Every source the package's registry (``evaluation/io/dfe/registries/published.yml``) knows.

    Parameters
    ----------
    directory : str or pathlib.Path, optional
        Where the source folders would be (default :func:`evaluation.config.published_dir`).

    Returns
    -------
    dict of str to PublishedSource
        Whether or not their files are present.

    Examples
    --------
    >>> "research-ks4-2013-2015-national" in known_sources()
    True
    """
    directory = Path(directory) if directory is not None else config.published_dir()
    text = resources.files("evaluation.io.dfe").joinpath("registries", "published.yml").read_text()
    registry = read_yaml(text, "published.yml")
    return {slug: _source({"slug": slug, **meta}, directory / slug, f"published.yml: {slug}")
            for slug, meta in sorted(registry.items())}


def _front_matter(readme: Path) -> dict:
    text = readme.read_text(encoding="utf-8")
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, flags=re.S)
    if not match:
        raise DataError(f"{readme}: expected YAML front matter between '---' lines with keys "
                        f"{list(_SOURCE_KEYS)}; found first line {text.splitlines()[:1]}")
    # the line the front matter starts on (blank lines may follow the first "---")
    first = text.count("\n", 0, match.start(1)) + 1
    meta = read_yaml(match.group(1), f"{readme}: front matter", first_line=first) or {}
    if not isinstance(meta, dict):
        raise DataError(f"{readme}: front matter: expected keys {list(_SOURCE_KEYS)}, one per "
                        f"line ('key: value'); found a {type(meta).__name__}")
    return meta


def published_sources(directory: str | Path | None = None) -> dict[str, PublishedSource]:
    """List the sources whose files are in ``directory``: registered ones, README folders.

    A registered source (see :func:`known_sources`) counts when its folder exists; a folder
    the registry does not know counts when its ``README.md`` has YAML front matter with the
    keys ``slug, title, layout, files, licence, provenance``.

    Parameters
    ----------
    directory : str or pathlib.Path, optional
        Folder holding one sub-folder per source (default
        :func:`evaluation.config.published_dir`: ``$EVALUATION_PUBLISHED_DIR`` or
        ``data/published``).

    Returns
    -------
    dict of str to PublishedSource
        Sorted by slug; empty when the folder holds none.

    Raises
    ------
    DataError
        A source folder without all its listed files (the message names them, the formats
        tried, what the folder holds and where to download them), a README without the
        expected keys, or data files at the top of the folder (the message says which folder
        each belongs in).

    Warns
    -----
    EvaluationWarning
        A folder neither registered nor described by a README (it is not read).

    Examples
    --------
    >>> published_sources("/nonexistent")
    {}
    """
    directory = Path(directory) if directory is not None else config.published_dir()
    if not directory.is_dir():
        return {}
    known = known_sources(directory)
    _refuse_loose_files(directory, known)
    out = {}
    for slug, source in known.items():
        if (directory / slug).is_dir():
            out[slug] = source
    for readme in sorted(directory.glob("*/README.md")):
        if readme.parent.name not in out:
            meta = _front_matter(readme)
            src = _source(meta, readme.parent, str(readme))
            out[src.slug] = src
    unknown = sorted(f.name for f in directory.iterdir() if f.is_dir()
                     and not f.name.startswith(".") and f.name not in out
                     and not (f / "README.md").is_file())
    if unknown:
        warnings.warn(f"{directory}: folders {unknown} are not read: neither registered "
                      f"sources (known: {sorted(known)}) nor described by a README.md with "
                      f"front matter (keys {list(_SOURCE_KEYS)}); rename each to a known slug "
                      "or add its README (see data/published/README.md)", EvaluationWarning,
                      stacklevel=2)
    for slug, src in list(out.items()):
        out[slug] = _with_downloads(src, directory)
    return dict(sorted(out.items()))


#: Data files a user may drop at the top of the published folder instead of in a source folder.
_DATA_SUFFIXES = (".csv", ".xlsx", ".ods", ".xls", ".txt", ".zip")


def _refuse_loose_files(directory: Path, known: dict[str, PublishedSource]) -> None:
    """Refuse data files at the top of the folder (never read), saying where each belongs."""
    loose = sorted(f.name for f in directory.iterdir()
                   if f.is_file() and f.suffix.lower() in _DATA_SUFFIXES)
    if not loose:
        return
    homes = {p.stem: slug for slug, src in known.items() for p in src.paths}
    where = [f"{name} -> {homes[Path(name).stem]}/" if Path(name).stem in homes
             else f"{name} -> ?" for name in loose]
    raise DataError(f"{directory}: data files at the top of the published folder are not read: "
                    f"{where[:10]}; put each source's files in a folder named by its slug "
                    "(known slugs are listed in data/published/README.md)")


#: Formats a download may come in, tried (same name, other suffix) when the listed file is absent.
DOWNLOAD_SUFFIXES = (".csv", ".xlsx", ".ods")


def _with_downloads(src: PublishedSource, directory: Path) -> PublishedSource:
    """Replace each absent file of a source by its xlsx / ods / csv twin, or raise.

    The DfE offers most files as CSV and as a spreadsheet: ``ks2final.xlsx`` in place of the
    listed ``ks2final.csv`` is read as it is. A file absent in every format raises an error
    naming it, the formats tried, what the folder holds and where to download it.
    """
    paths, absent = [], []
    for p in src.paths:
        twins = [p] + [p.with_suffix(x) for x in DOWNLOAD_SUFFIXES if x != p.suffix]
        found = next((t for t in twins if t.is_file()), None)
        paths.append(found or p)
        if found is None:
            absent.append(p.name)
    if absent:
        folder = directory / src.slug
        held = sorted(f.name for f in folder.iterdir()) if folder.is_dir() else []
        raise DataError(f"{folder}: files of source {src.slug!r} not found: {absent} (also "
                        f"looked for them as {list(DOWNLOAD_SUFFIXES)}); the folder holds "
                        f"{held[:12] or 'nothing'}; download them from "
                        f"{src.download or src.provenance} and keep the names listed "
                        f"(see data/published/README.md)")
    if paths == list(src.paths):
        return src
    return replace(src, paths=tuple(paths))

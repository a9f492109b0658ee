"""Published files read from the disk cache are the files as read, and a change reads again."""

import pickle
import shutil
from pathlib import Path

import pandas as pd
from published_data import real_dir

from evaluation.io.dfe import FIXTURES, published_sources, read_performance_tables, read_published
from evaluation.io.dfe.cache import CACHE_ENV, cache_dir, cached_read


def _frames(obj) -> dict:
    return {k: v for k, v in vars(obj).items() if isinstance(v, pd.DataFrame)}


def _same(a, b) -> None:
    assert type(a) is type(b)
    fa, fb = _frames(a), _frames(b)
    assert fa.keys() == fb.keys() and fa
    for k in fa:
        pd.testing.assert_frame_equal(fa[k], fb[k], check_exact=True)
    rest = {k: v for k, v in vars(a).items() if k not in fa}
    assert rest == {k: v for k, v in vars(b).items() if k not in fb}


def _sources(root):
    return [(slug, s, i) for slug, s in published_sources(root).items()
            for i in range(len(s.paths))]


def test_a_cached_read_equals_a_fresh_one_and_a_changed_file_is_read_again(tmp_path,
                                                                           monkeypatch):
    folder = tmp_path / "published"
    folder.mkdir()
    path = folder / "2021-2022_999_ks2final.csv"
    shutil.copy(FIXTURES / path.name, path)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))

    def read():
        return cached_read("performance_tables", read_performance_tables, path)

    first = read()
    kept = sorted(cache_dir().glob("*.pickle"))
    assert len(kept) == 1
    _same(read(), first)                                  # from the cache
    monkeypatch.setenv(CACHE_ENV, "")
    _same(read(), first)                                  # the cache off: the same
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    (folder / "meta.txt").write_text("a file beside it")  # the metadata beside: read again
    read()
    assert len(sorted(cache_dir().glob("*.pickle"))) == 2
    (folder / "meta.txt").unlink()
    kept[0].write_bytes(b"not a pickle")                  # damaged: read again, replaced
    _same(read(), first)
    assert pickle.loads(kept[0].read_bytes()).__class__ is first.__class__


def test_two_files_of_one_folder_are_kept_apart(tmp_path, monkeypatch):
    """Review of the cache (issue 17): the key held the folder's files but not which of them
    was read, so each year's destinations file of a folder gave the first year's table."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    for year in (2017, 2018):
        (tmp_path / f"{year}.csv").write_text(f"year\n{year}\n")

    def read(p):
        return Path(p).read_text()

    got = [cached_read("demo", read, tmp_path / f"{y}.csv") for y in (2017, 2018, 2017, 2018)]
    assert got == ["year\n2017\n", "year\n2018\n"] * 2


def test_every_real_published_file_reads_the_same_from_the_cache(tmp_path, monkeypatch):
    checked = 0
    for _slug, source, i in _sources(real_dir()):
        monkeypatch.setenv(CACHE_ENV, "")                 # as read, no cache
        try:
            fresh = read_published(source, i)
        except Exception:        # a file its layout cannot read: never kept
            continue
        monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
        _same(read_published(source, i), fresh)          # read, and kept
        _same(read_published(source, i), fresh)          # from the cache
        checked += 1
    assert checked >= 10

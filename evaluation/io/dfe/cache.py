"""Published files as parsed, kept on disk and keyed by their content.

Reading a published file strictly (every cell by an explicit rule, every suppression code
counted) costs about a second per megabyte, and a build reads the same files again each time:
7 s of the evaluation's own reports, of which the national KS4 destinations take 3. The parsed
result is kept, one file per read, under ``EVALUATION_CACHE_DIR`` (default
``$XDG_CACHE_HOME/evaluation/published`` or ``~/.cache/evaluation/published``; an empty value
turns the cache off). The key holds everything the result depends on: the bytes of the file
and of every other file in its folder (the metadata found beside it), the reader, its
arguments, the readers' code and the versions of the libraries that parse. Change any of them
and the file is read again. Only the DfE's published files go through it (public data; never
pupil data). A file that cannot be read is never kept: its error is raised on every read.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path

#: Environment variable naming the cache folder; empty turns the cache off.
CACHE_ENV = "EVALUATION_CACHE_DIR"


def cache_dir() -> Path | None:
    """Return the folder of parsed published files, or None when the cache is off.

    Examples
    --------
    >>> import os
    >>> os.environ[CACHE_ENV] = ""
    >>> cache_dir() is None
    True
    >>> del os.environ[CACHE_ENV]
    """
    value = os.environ.get(CACHE_ENV)
    if value is not None:
        return Path(value) if value else None
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "evaluation" / "published"


@functools.cache
def _code_tag() -> bytes:
    """Return a digest of the readers' source and of the parsing libraries' versions."""
    from importlib.metadata import version

    h = hashlib.sha256()
    for f in sorted(Path(__file__).parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    for lib in ("numpy", "pandas", "pyarrow", "openpyxl", "odfpy"):
        try:
            h.update(f"{lib}={version(lib)}".encode())
        except Exception:   # not installed: its readers are not used
            h.update(f"{lib}=none".encode())
    return h.digest()


def _key(name: str, path: Path, args: tuple) -> str:
    h = hashlib.sha256(_code_tag())
    h.update(f"{name}|{args!r}|{path.name}|".encode())    # the file read, then its folder
    h.update(path.read_bytes())
    for f in sorted(p for p in path.parent.iterdir() if p.is_file()):
        data = f.read_bytes()
        h.update(f"{f.name}|{len(data)}|".encode())
        h.update(data)
    return h.hexdigest()[:40]


def cached_read(name: str, reader: Callable, path: str | Path, *args):
    r"""Return ``reader(path, *args)``, from the cache when the same inputs were read before.

    Parameters
    ----------
    name : str
        The reader's name in the key (a layout name such as ``performance_tables``).
    reader : callable
        Reads ``path``; its result must pickle.
    path : str or pathlib.Path
        The published file.
    *args
        The reader's other arguments (part of the key by their ``repr``).

    Examples
    --------
    >>> import tempfile
    >>> os.environ[CACHE_ENV] = tempfile.mkdtemp()
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "t.csv").write_text("a\n1\n")
    >>> calls = []
    >>> def read(p):
    ...     calls.append(p)
    ...     return Path(p).read_text()
    >>> cached_read("demo", read, d / "t.csv") == cached_read("demo", read, d / "t.csv")
    True
    >>> len(calls)                 # the second read came from the cache
    1
    >>> _ = (d / "t.meta.txt").write_text("changed")   # a file beside it changes the key
    >>> _ = cached_read("demo", read, d / "t.csv"); len(calls)
    2
    >>> cached_read("demo", read, d / "t.meta.txt")     # another file of the folder: its own
    'changed'
    >>> del os.environ[CACHE_ENV]
    """
    folder = cache_dir()
    path = Path(path)
    if folder is None or not path.is_file():
        return reader(path, *args)
    file = folder / f"{name}-{_key(name, path, args)}.pickle"
    try:
        with open(file, "rb") as fh:
            return pickle.load(fh)
    except FileNotFoundError:
        pass
    except Exception:   # a damaged or foreign file: read again and replace it
        file.unlink(missing_ok=True)
    result = reader(path, *args)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, file)
    except OSError:         # a read-only or full disk: the result is still returned
        pass
    return result

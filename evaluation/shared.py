"""Results that the worker processes of one build compute once and share, on disk.

Every report of a build reads the same checked tables (:func:`evaluation.io.read_dataset`,
about 3 s for 780,000 pupils) and needs the counts linked across the whole report set
(:func:`evaluation.linked.linked_counts`, 4-5 s), and a cluster's
matching and impact estimates are asked for by its own report and by the overall report
(:func:`evaluation.results.evaluate`). Each worker's warm kernel keeps them in memory, but
without this module each worker would also compute them.
:func:`computed_once` lets the first process compute a result while the others wait for it
(a file lock), and all read the same file afterwards. The build names the folder in the
environment variable ``EVALUATION_SHARED_DIR`` (one folder per version of the code and of the
libraries that compute the results); outside a build (a folder set by hand, whose name is
not a build's: :func:`in_build`), or where the folder cannot be written, nothing is shared
and the result is simply computed. The results
are unsuppressed (pupil-level tables, every linked count): the build's folder is a private
temporary one of the machine that runs it, removed when the build ends, never one under the
reports (on a Dask cluster each machine's workers share their own).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import re
from collections.abc import Callable
from pathlib import Path

from evaluation.exceptions import DataError, PlanError

#: Environment variable naming the folder of shared results (set by ``evaluation.engine``).
SHARED_ENV = "EVALUATION_SHARED_DIR"


def computed_once(name: str, key: str, compute: Callable[[], object],
                  folder: str | Path | None = None):
    """Return ``compute()``, computed by one process of the build and read by the others.

    Parameters
    ----------
    name : str
        What the result is (the start of its file name).
    key : str
        Everything the result depends on (the content of the data and the plan, the seed);
        the folder itself is per version of the code.
    compute : callable
        Computes the result (which must pickle). A :class:`~evaluation.exceptions.DataError`
        or :class:`~evaluation.exceptions.PlanError` it raises is shared too: the other
        processes raise it without computing (bad data failed every report of a build, each
        after reading and checking 780,000 pupils again: 104 s before the message).
    folder : path, optional
        The folder of shared results; by default the build's (``EVALUATION_SHARED_DIR``, in a
        build only). Another is for processes that share results of their own (the test
        suite's workers share generated data sets).

    Examples
    --------
    >>> import os, tempfile
    >>> calls = []
    >>> def compute():
    ...     calls.append(1)
    ...     return {"n": 3}
    >>> os.environ[SHARED_ENV] = os.path.join(tempfile.mkdtemp(), "0123456789abcdef")
    >>> computed_once("demo", "k", compute), computed_once("demo", "k", compute), len(calls)
    ({'n': 3}, {'n': 3}, 1)
    >>> del os.environ[SHARED_ENV]
    """
    if folder is None:
        if not in_build():       # a folder set by hand may hold other code's results
            return compute()
        folder = os.environ[SHARED_ENV]
    path = Path(folder) / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:32]}.pickle"
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)   # its owner's alone
        if not _private(path.parent):
            return compute()
        lock = _locked(path.with_suffix(".lock"))
        lock.__enter__()
    except OSError:              # a folder that cannot be written: compute, share nothing
        return compute()
    try:
        if path.is_file():
            with path.open("rb") as fh:
                value = pickle.load(fh)
            if isinstance(value, _Failed):
                raise value.error
            return value
        try:
            value = compute()
        except (DataError, PlanError) as error:  # the input's fault: the same for every process
            _write(path, _Failed(error))
            raise
        _write(path, value)
        return value
    finally:
        lock.__exit__(None, None, None)


class _Failed:
    """What :func:`computed_once` keeps when the input was at fault: the error to raise."""

    def __init__(self, error: BaseException):
        self.error = error


def _write(path: Path, value) -> None:
    """Pickle ``value`` to ``path`` (readable by this user only), or nothing if it cannot."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with contextlib.suppress(OSError):
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)


def in_build() -> bool:
    """Whether this process renders a build's report: its shared folder is a build's own.

    A build names one folder per version of the code and of the libraries
    (``engine.build._shared_folder``: 16 hex digits); ``EVALUATION_SHARED_DIR`` set by hand
    (a notebook session) names none, and results computed by other code could be there.

    Examples
    --------
    >>> import os
    >>> os.environ[SHARED_ENV] = "/tmp/evaluation-shared-x/0123456789abcdef"
    >>> in_build()
    True
    >>> os.environ[SHARED_ENV] = "/tmp/my-results"
    >>> in_build()
    False
    >>> del os.environ[SHARED_ENV]
    """
    folder = os.environ.get(SHARED_ENV)
    return bool(folder) and is_version_folder(Path(folder))


def is_version_folder(folder: Path) -> bool:
    """Whether ``folder`` is named as a build names its folder of one version (16 hex digits).

    Examples
    --------
    >>> is_version_folder(Path("/tmp/x/0123456789abcdef")), is_version_folder(Path("/tmp/x"))
    (True, False)
    """
    return re.fullmatch(r"[0-9a-f]{16}", folder.name) is not None


def unusable(folder: str | Path) -> str:
    """Why ``folder`` cannot hold a build's shared results ("" when it can).

    The build says so once (each worker then computes every result itself: correct, slower).

    Examples
    --------
    >>> import tempfile
    >>> unusable(tempfile.mkdtemp())
    ''
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as err:
        return f"it cannot be created ({err.strerror})"
    if not _private(folder):
        return ("it is open to other users (the results hold pupil-level tables, and a "
                "pickle placed there would run when loaded)")
    return ""


def _private(folder: Path) -> bool:
    """Whether ``folder`` is this user's and no one else's to read or write.

    A folder others can write (``EVALUATION_SHARED_DIR`` in /tmp) would let them place a
    pickle under a result's predictable name, which loading runs; one others can read shows
    them pupil-level tables. Such a folder is not used.
    """
    if not hasattr(os, "getuid"):
        return True
    st = folder.stat()
    return st.st_uid == os.getuid() and not st.st_mode & 0o077


@contextlib.contextmanager
def _locked(path: Path):
    """Hold an exclusive lock on ``path`` (other processes wait) where the system has one."""
    try:
        import fcntl
    except ImportError:         # no POSIX locks: each process computes for itself
        yield
        return
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)

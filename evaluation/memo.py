"""Results computed once per content in a long-lived process (a warm kernel, a build, tests).

A cluster's survey and tracking summaries are needed twice in one build: by the report that
shows them and by the disclosure control that links every report's counts
(:mod:`evaluation.linked`). :func:`by_content` keys a pure function's results by the content
of its arguments (tables hashed by value, index and column names), so the second call returns
the first result whatever ran in between: in the same process from memory, and, with
``shared=True``, in the build's other worker processes from the build's shared results
(:func:`evaluation.shared.computed_once`; whichever worker computes the linked counts, usually
the first cluster report's, computes every cluster's summaries, and the other worker's reports
read them).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections import OrderedDict

import pandas as pd


def content_key(*args, **kwargs) -> str:
    """Return a SHA-256 of arguments: DataFrames by content, anything else by ``repr``.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1, 2]})
    >>> content_key(a, "pupil") == content_key(a.copy(), "pupil")
    True
    >>> content_key(a, "pupil") == content_key(a.assign(x=[1, 3]), "pupil")
    False
    """
    h = hashlib.sha256()
    for value in (*args, *sorted(kwargs.items())):
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], pd.DataFrame):
            h.update(repr(value[0]).encode())
            value = value[1]
        if isinstance(value, pd.DataFrame):
            h.update(repr((list(value.columns), [str(t) for t in value.dtypes],
                           value.shape)).encode())
            h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
        else:
            h.update(repr(value).encode())
        h.update(b"\x00")
    return h.hexdigest()


def kept(cache: OrderedDict, key: str, compute, maxsize: int, shared_as: str | None = None):
    """Return ``cache[key]``, computed once: the most recently used ``maxsize`` are kept.

    With ``shared_as``, a result not in ``cache`` is computed once per build as well, by
    :func:`evaluation.shared.computed_once` under that name (outside a build, simply
    computed).

    Examples
    --------
    >>> cache, calls = OrderedDict(), []
    >>> kept(cache, "k", lambda: calls.append(1) or 3, maxsize=2), kept(cache, "k", int, 2)
    (3, 3)
    >>> len(calls)
    1
    """
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    if shared_as is None:
        value = compute()
    else:
        from evaluation.shared import computed_once

        value = computed_once(shared_as, key, compute)
    cache[key] = value
    if len(cache) > maxsize:
        cache.popitem(last=False)
    return value


def by_content(maxsize: int = 128, shared: bool = False):
    """Decorate a pure function so that it runs once per content of its arguments.

    With ``shared``, once per build: a result not in this process's memory is computed by
    :func:`evaluation.shared.computed_once`, under the function's name and the arguments'
    content key, in the build's folder (one per version of the code); outside a build
    (:func:`evaluation.shared.in_build`), simply computed.

    The function's results must not be modified by callers (the package's results are
    frozen; a returned DataFrame is given to each caller as a copy).

    Examples
    --------
    >>> calls = []
    >>> @by_content()
    ... def total(frame):
    ...     calls.append(1)
    ...     return int(frame["x"].sum())
    >>> total(pd.DataFrame({"x": [1, 2]})), total(frame=pd.DataFrame({"x": [1, 2]})), len(calls)
    (3, 3, 1)
    """
    def decorate(func):
        cache: OrderedDict[str, object] = OrderedDict()
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)   # f(x) and f(x, default) are one call
            bound.apply_defaults()
            value = kept(cache, content_key(**bound.arguments), lambda: func(*args, **kwargs),
                         maxsize, f"{func.__module__}.{func.__qualname__}" if shared else None)
            return value.copy() if isinstance(value, pd.DataFrame) else value

        wrapper.cache_clear = cache.clear
        return wrapper
    return decorate

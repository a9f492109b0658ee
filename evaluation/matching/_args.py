"""Argument forms MatchIt users write: one name for a list, R's dotted names, value vectors."""

from __future__ import annotations

import functools
import inspect

import numpy as np
import pandas as pd


def as_columns(name: str, value) -> list[str] | None:
    """Return a column list from a list/tuple of names or one name (``exact="married"``).

    MatchIt takes a formula or a character vector; a single string is one column, never
    its characters.

    Examples
    --------
    >>> as_columns("exact", "married"), as_columns("exact", ("a", "b")), as_columns("x", None)
    (['married'], ['a', 'b'], None)
    """
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple, pd.Index)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TypeError(f"`{name}` should be a column name or a list of column names; got "
                    f"{type(value).__name__} {value!r}")


def distance_input(data: pd.DataFrame, distance) -> tuple[str, np.ndarray | None]:
    """``distance`` as (name, values): a method or column name, or given values.

    Values (MatchIt's numeric ``distance``) may be a Series aligned to ``data.index`` or an
    array of ``len(data)`` numbers; they are named ``"<values>"`` in the result's spec.

    Examples
    --------
    >>> d = pd.DataFrame({"x": [1.0, 2.0]})
    >>> distance_input(d, "glm")
    ('glm', None)
    >>> distance_input(d, [0.2, 0.4])[1].tolist()
    [0.2, 0.4]
    """
    if isinstance(distance, str):
        return distance, None
    if isinstance(distance, pd.Series):
        if not distance.index.equals(data.index):
            raise ValueError("`distance` given as a Series must have the index of `data` "
                             f"({len(data)} rows); got {len(distance)} rows with another "
                             "index")
        distance = distance.to_numpy()
    values = np.asarray(distance, dtype=float)
    if values.ndim != 1 or len(values) != len(data):
        raise ValueError(f"`distance` should be 'glm', 'mahalanobis', a column name or "
                         f"{len(data)} numbers (one per row of `data`); got shape "
                         f"{values.shape}")
    bad = ~np.isfinite(values)
    if bad.any():
        rows = list(data.index[bad][:5])
        raise ValueError(f"`distance` values must be finite; {int(bad.sum())} are not "
                         f"(e.g. index {rows})")
    return "<values>", values


def checked_signature(func):
    """Turn a call with an argument ``func`` lacks into a TypeError that names it.

    The message lists the supported arguments and, for R's dotted names (``m.order``), the
    snake_case one to use.
    """
    sig = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            sig.bind(*args, **kwargs)
        except TypeError as err:
            unknown = [k for k in kwargs if k not in sig.parameters]
            hints = [f"{k!r} (did you mean {k.replace('.', '_')!r}?)"
                     if k.replace(".", "_") in sig.parameters else repr(k) for k in unknown]
            what = (f"unsupported argument(s) {', '.join(hints)}" if unknown else str(err))
            raise TypeError(f"{func.__name__}(): {what}; supported arguments: "
                            f"{list(sig.parameters)}") from None
        return func(*args, **kwargs)
    return wrapper


def s_weights_input(data: pd.DataFrame, s_weights) -> np.ndarray | None:
    """Return sampling weights from a column name or values (MatchIt's ``s.weights``).

    Examples
    --------
    >>> s_weights_input(pd.DataFrame({"w": [1.0, 2.0]}), "w").tolist()
    [1.0, 2.0]
    """
    if s_weights is None:
        return None
    if isinstance(s_weights, str):
        if s_weights not in data.columns:
            raise ValueError(f"`s_weights` names column {s_weights!r}, which is not in "
                             f"`data` (columns: {list(data.columns)})")
        values = data[s_weights].to_numpy(float)
    else:
        _, values = distance_input(data, s_weights)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise ValueError(f"`s_weights` must be finite and non-negative; {int(bad.sum())} "
                         f"value(s) are not (e.g. index {list(data.index[bad][:5])})")
    return values

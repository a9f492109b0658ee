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
                            f"{[p for p in sig.parameters if p != 'self']}") from None
        return func(*args, **kwargs)
    return wrapper


def flag(name: str, value) -> bool:
    """Return a True/False argument, refusing anything else (``replace="yes"`` is not True).

    Examples
    --------
    >>> flag("replace", np.True_)
    True
    >>> flag("k2k", "no")
    Traceback (most recent call last):
    ...
    ValueError: `k2k` should be True or False; got 'no' (str)
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"`{name}` should be True or False; got {value!r} "
                     f"({type(value).__name__})")


def r_pmatch(value: str, choices) -> str | None:
    """R's ``pmatch`` of one string: the exact match, else the only choice it begins.

    Returns None when nothing or more than one choice matches (an empty string matches
    nothing), as MatchIt's ``match_arg`` then fails.

    Examples
    --------
    >>> r_pmatch("st", ("sturges", "fd", "scott")), r_pmatch("s", ("sturges", "scott"))
    ('sturges', None)
    """
    if value in choices:
        return value
    hits = [c for c in choices if value and c.startswith(value)]
    return hits[0] if len(hits) == 1 else None


def _number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def caliper_input(caliper, std_caliper) -> tuple[dict, dict] | tuple[None, None]:
    """Return ``caliper`` as {name: width} and ``std_caliper`` as {name: bool}.

    MatchIt's ``caliper`` is a number (on the distance) or a named vector (``""`` or
    ``distance`` for the distance, else covariates); here a number or a dict. Its
    ``std.caliper`` is one logical or one per caliper, in the caliper's order: here a bool,
    a list of bools in the dict's order, or a dict by name.

    Examples
    --------
    >>> caliper_input({"distance": 0.1, "income": 5.0}, [True, False])
    ({'distance': 0.1, 'income': 5.0}, {'distance': True, 'income': False})
    >>> caliper_input([0.1], True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `caliper` should be a number (on the distance) or a dict ...; got [0.1] (list)
    """
    if caliper is None:
        return None, None
    spec = caliper if isinstance(caliper, dict) else {"distance": caliper}
    if not (isinstance(caliper, dict) or _number(caliper)) or not all(
            isinstance(k, str) and _number(v) for k, v in spec.items()):
        raise ValueError("`caliper` should be a number (on the distance) or a dict of names to "
                         "numbers (e.g. {'distance': 0.2, 'ks2_aps': 0.5}); got "
                         f"{caliper!r} ({type(caliper).__name__})")
    names = list(spec)
    if isinstance(std_caliper, (bool, np.bool_)):
        std = dict.fromkeys(names, bool(std_caliper))
    elif isinstance(std_caliper, dict):
        std = {n: std_caliper.get(n) for n in names}
    elif isinstance(std_caliper, (list, tuple)) and len(std_caliper) == len(names):
        std = dict(zip(names, std_caliper, strict=True))
    else:
        raise ValueError(f"`std_caliper` should be True or False, or one of them per caliper "
                         f"({names}, as a list in that order or a dict); got {std_caliper!r}")
    if not all(isinstance(v, (bool, np.bool_)) for v in std.values()):
        raise ValueError(f"`std_caliper` should give True or False for each caliper {names}; "
                         f"got {std_caliper!r}")
    return spec, {k: bool(v) for k, v in std.items()}


def s_weights_input(data: pd.DataFrame, s_weights) -> np.ndarray | None:
    """Return sampling weights from a column name or values (MatchIt's ``s.weights``).

    Examples
    --------
    >>> s_weights_input(pd.DataFrame({"w": [1.0, 2.0]}), "w").tolist()
    [1.0, 2.0]
    """
    if s_weights is None:
        return None
    if isinstance(s_weights, (bool, np.bool_)) or _number(s_weights):
        raise ValueError(f"`s_weights` should be a column name or one weight per row of "
                         f"`data` ({len(data)}); got {s_weights!r}")
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

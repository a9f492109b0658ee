"""Argument forms MatchIt users write: one name for a list, R's dotted names, value vectors."""

from __future__ import annotations

import functools
import inspect
import re

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


#: ``distance`` names match() computes: the propensity score and MatchIt's
#: ``matchit_distances()`` (``transform_covariates``).
DISTANCES = ("glm", "mahalanobis", "robust_mahalanobis", "euclidean", "scaled_euclidean")
#: MatchIt's other propensity-score methods (R packages this project does not reproduce).
_OTHER_DISTANCES = ("cbps", "gam", "nnet", "rpart", "bart", "randomforest", "elasticnet",
                    "lasso", "ridge", "gbm", "glmnet")


def _aligned(data: pd.DataFrame, values, name: str):
    """Values given as a Series must carry ``data``'s index: return them as an array."""
    if isinstance(values, pd.Series):
        if not values.index.equals(data.index):
            raise ValueError(f"`{name}` given as a Series must have the index of `data` "
                             f"({len(data)} rows); got {len(values)} rows with another "
                             "index")
        values = values.to_numpy()
    return values


def distance_input(data: pd.DataFrame, distance, used: bool = True
                   ) -> tuple[str, np.ndarray | None]:
    """``distance`` as (name, values): a method or column name, or given values.

    A method name is read in any case, as MatchIt's ``tolower(distance)``; a string that is
    neither one of ``DISTANCES`` nor a column of ``data`` is refused (when the method uses
    a distance, ``used``) with the supported values. Values (MatchIt's numeric
    ``distance``) may be a Series aligned to ``data.index`` or an array of ``len(data)``
    numbers; they are named ``"<values>"`` in the result's spec.

    Examples
    --------
    >>> d = pd.DataFrame({"x": [1.0, 2.0]})
    >>> distance_input(d, "glm"), distance_input(d, "Scaled_Euclidean"), distance_input(d, "x")
    (('glm', None), ('scaled_euclidean', None), ('x', None))
    >>> distance_input(d, [0.2, 0.4])[1].tolist()
    [0.2, 0.4]
    >>> distance_input(d, "manhattan")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `distance`='manhattan' is not supported and is not a column of `data`; ...
    """
    if isinstance(distance, str):
        if distance.lower() in DISTANCES:
            return distance.lower(), None
        if distance in data.columns or not used:
            return distance, None
        supported = (f"supported: {', '.join(repr(d) for d in DISTANCES)} (MatchIt's glm "
                     "propensity score, with `link`, and its matchit_distances()), the name of "
                     "a numeric column of `data`, or one value per row")
        if distance.lower() in _OTHER_DISTANCES:
            raise ValueError(f"`distance`={distance!r} (a MatchIt propensity-score method "
                             f"fitted by another R package) is not supported; {supported}")
        raise ValueError(f"`distance`={distance!r} is not supported and is not a column of "
                         f"`data`; {supported}")
    values = np.asarray(_aligned(data, distance, "distance"), dtype=float)
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


#: What a required argument is, for the message when it is left out.
REQUIRED = {
    "treatment": ("the name of the 0/1 (or boolean) treatment column, or a MatchIt formula "
                  "such as 'treat ~ x1 + x2'; e.g. match(data, 'treat', ['x1', 'x2'])"),
}


def checked_signature(func):
    """Turn a call with an argument ``func`` lacks into a TypeError that names it.

    The message lists the supported arguments and, for R's dotted names (``m.order``), the
    snake_case one to use; a required argument left out (``treatment``) is named with what
    to give.
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
            given = set(list(sig.parameters)[:len(args)]) | set(kwargs)
            missing = [name for name, p in sig.parameters.items()
                       if p.default is p.empty and name not in given
                       and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            if missing and not unknown and len(args) <= len(sig.parameters):
                raise TypeError(f"{func.__name__}(): `{missing[0]}` is required (no default): "
                                f"{REQUIRED.get(missing[0], 'give it')}") from None
            what = (f"unsupported argument(s) {', '.join(hints)}" if unknown else str(err))
            raise TypeError(f"{func.__name__}(): {what}; supported arguments: "
                            f"{[p for p in sig.parameters if p != 'self']}") from None
        return func(*args, **kwargs)
    return wrapper


_NAME = r"(?:`[^`]+`|[A-Za-z_.][A-Za-z0-9_.]*)"


def formula_input(treatment, covariates) -> tuple[str, list[str] | None]:
    """Return (treatment, covariates) from ``treatment``: a column name or a MatchIt formula.

    ``"treat ~ x1 + x2"`` is MatchIt's formula: the treatment column on the left, covariate
    columns joined by ``+`` on the right (names with spaces in backticks, as in R). Other
    formula terms (``x1:x2``, ``I(x^2)``, ``factor(x)``, ``.``, ``-``) are refused with what
    to do instead; so is a formula together with ``covariates``.

    Examples
    --------
    >>> formula_input("treat ~ age + `prior score`", None)
    ('treat', ['age', 'prior score'])
    >>> formula_input("em", ["x"])
    ('em', ['x'])
    >>> formula_input("t ~ a * b", None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `treatment` formula 't ~ a * b': term 'a * b' is not a column name; ...
    """
    if not isinstance(treatment, str):
        raise TypeError(f"`treatment` should be a column name or a formula string such as "
                        f"'treat ~ x1 + x2'; got {type(treatment).__name__} {treatment!r}")
    if "~" not in treatment:
        return treatment, covariates
    lhs, _, rhs = treatment.partition("~")
    how = ("write the right-hand side as column names joined by '+' (make interactions, "
           "powers or factors columns of `data` first), or pass the treatment column as "
           "`treatment` and the covariates as `covariates`, e.g. match(data, 'treat', "
           "['x1', 'x2'])")
    if covariates is not None:
        raise ValueError(f"`treatment` is the formula {treatment!r}, which names the "
                         f"covariates, and `covariates` is given too ({covariates!r}); give "
                         "the covariates once")
    if not re.fullmatch(rf"\s*{_NAME}\s*", lhs):
        raise ValueError(f"`treatment` formula {treatment!r}: the left-hand side should be the "
                         f"treatment column's name; got {lhs.strip()!r}")
    terms = [t.strip() for t in rhs.split("+")]
    for t in terms:
        if not re.fullmatch(_NAME, t) or t in (".", "1", "0"):
            raise ValueError(f"`treatment` formula {treatment!r}: term {t!r} is not a column "
                             f"name; {how}")
    names = [t.strip("`") for t in [lhs.strip(), *terms]]
    return names[0], list(dict.fromkeys(names[1:]))


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
        values = np.asarray(_aligned(data, s_weights, "s_weights"), dtype=float)
        if values.ndim != 1 or len(values) != len(data):
            raise ValueError(f"`s_weights` should be a column name or one weight per row of "
                             f"`data` ({len(data)}); got shape {values.shape}")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise ValueError(f"`s_weights` must be finite and non-negative; {int(bad.sum())} "
                         f"value(s) are not (e.g. index {list(data.index[bad][:5])})")
    return values

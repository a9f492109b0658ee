"""Columns as R factors: which columns are categorical and their levels in R's order."""

from __future__ import annotations

import pandas as pd


def is_categorical(series: pd.Series) -> bool:
    """Return True for string / categorical columns (one dummy per level)."""
    return isinstance(series.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
    )


def levels(series: pd.Series) -> list:
    """Levels of a categorical column in R's factor order (categories, else sorted values)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in present]
    return sorted(series.dropna().unique(), key=str)

"""Small-cell suppression for anything shown: primary and secondary suppression, then formatting."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.schema import IDENTIFIERS

FOOTNOTE = (
    "{marker} = suppressed: the figure rests on fewer than {threshold} pupils, or would let a "
    "suppressed figure be worked out from a total."
)


@dataclass(frozen=True)
class SafeTable:
    """A table fit to publish: small cells suppressed and marked, numbers formatted.

    Attributes
    ----------
    frame : pandas.DataFrame
        Display strings (numbers formatted, suppressed cells replaced by the marker).
    n_suppressed : int
        Cells suppressed (primary plus secondary).
    footnote : str
        Explains the marker; empty when nothing was suppressed.
    values : pandas.DataFrame
        The same table with suppressed cells as NaN (numeric, for tests and further use).
    hidden : pandas.DataFrame
        True where a cell was suppressed (columns as in ``values``).

    Examples
    --------
    >>> t = suppress(pd.DataFrame({"n": [3, 40], "rate": [50.0, 61.2]}), {"rate": "n"},
    ...              threshold=10)
    >>> t.frame["rate"].tolist()
    ['c', '61.2']
    """

    frame: pd.DataFrame
    n_suppressed: int
    footnote: str
    values: pd.DataFrame = field(repr=False)
    hidden: pd.DataFrame = field(repr=False)

    def select(self, columns: Sequence[str]) -> SafeTable:
        """Return the shown columns ``columns`` (display names) as a table of their own.

        Suppression was decided on the whole table, so a split keeps every rule: a part
        shows no cell the whole would hide. The footnote stays when the part hides a cell.

        Examples
        --------
        >>> t = suppress(pd.DataFrame({"n": [3, 40], "rate": [50.0, 61.2], "x": [1, 2]}),
        ...              {"rate": "n"}, threshold=10)
        >>> t.select(["rate"]).frame["rate"].tolist(), t.select(["x"]).footnote
        (['c', '61.2'], '')
        """
        where = [list(self.frame.columns).index(c) for c in columns]
        hidden = self.hidden.iloc[:, where]
        n = int(hidden.to_numpy().sum())
        return SafeTable(self.frame.iloc[:, where], n, self.footnote if n else "",
                         self.values.iloc[:, where], hidden)

    def _repr_html_(self) -> str:
        numeric = [pd.api.types.is_numeric_dtype(self.values[c])
                   and not pd.api.types.is_bool_dtype(self.values[c])
                   for c in self.values.columns]
        head = "".join(f'<th class="{"num" if n else "txt"}">{html.escape(str(c))}</th>'
                       for c, n in zip(self.frame.columns, numeric, strict=True))
        rows = "".join(
            "<tr>" + "".join(f'<td class="{"num" if n else "txt"}">{html.escape(str(v))}</td>'
                             for v, n in zip(row, numeric, strict=True)) + "</tr>"
            for row in self.frame.itertuples(index=False)
        )
        table = (f'<table class="em-table"><thead><tr>{head}</tr></thead>'
                 f"<tbody>{rows}</tbody></table>")
        note = f'<p class="em-footnote">{html.escape(self.footnote)}</p>' if self.footnote else ""
        return table + note


def _below(n: pd.Series, threshold: int) -> pd.Series:
    n = pd.to_numeric(n, errors="coerce")
    return n.notna() & (n > 0) & (n < threshold)


def suppress(
    table: pd.DataFrame,
    counts: Mapping[str, str | Sequence[str]],
    threshold: int = 10,
    marker: str = "c",
    totals: Mapping[str, Sequence[str]] | None = None,
    decimals: int | Mapping[str, int] = 1,
    labels: Mapping[str, str] | None = None,
) -> SafeTable:
    """Suppress every figure that rests on fewer pupils than the threshold.

    Parameters
    ----------
    table : pandas.DataFrame
        Tidy table with statistics and the counts they rest on. Not modified.
    counts : mapping
        Statistic column -> the count column(s) it rests on (a gap rests on two counts).
        Count columns are themselves suppressed when 0 < n < threshold.
    threshold : int
        Smallest number of pupils a shown figure may rest on (``analysis.yml``).
    marker : str
        Shown in place of a suppressed value.
    totals : mapping, optional
        Total column -> the count columns that add up to it. When exactly one part of a total
        is suppressed in a row, the smallest other part is suppressed too (secondary
        suppression), so the suppressed one cannot be worked out by subtraction.
    decimals : int or mapping
        Decimal places for float columns (per column when a mapping).
    labels : mapping, optional
        Column renames for display.

    Returns
    -------
    SafeTable

    Raises
    ------
    ValueError
        If the table holds an identifier column (``pupil_id``, ``respondent_id``) or a
        column named in ``counts`` is missing.

    Examples
    --------
    >>> df = pd.DataFrame({"n_fsm": [4, 30], "n_other": [50, 60], "n": [54, 90]})
    >>> safe = suppress(df, {}, threshold=10, totals={"n": ["n_fsm", "n_other"]})
    >>> safe.frame.iloc[0].tolist()
    ['c', 'c', '54']
    """
    leaked = [c for c in table.columns if c in IDENTIFIERS]
    if leaked:
        raise ValueError(f"`table` holds identifier columns {leaked}; they are never shown")
    missing = sorted(
        {c for stat, ns in counts.items() for c in [stat, *([ns] if isinstance(ns, str) else ns)]}
        - set(table.columns)
    )
    if missing:
        raise ValueError(f"`counts` names columns not in `table`: {missing}")
    values = table.copy()
    hidden = pd.DataFrame(False, index=table.index, columns=table.columns)
    count_cols = {c for ns in counts.values() for c in ([ns] if isinstance(ns, str) else ns)}
    for total, parts in (totals or {}).items():
        count_cols.update([total, *parts])
    for col in count_cols:
        hidden[col] |= _below(table[col], threshold)
    for total, parts in (totals or {}).items():
        parts = list(parts)
        part_hidden = hidden[parts]
        one = part_hidden.sum(axis=1) == 1
        for idx in table.index[one & ~hidden[total]]:
            visible = [p for p in parts if not hidden.at[idx, p]]
            if visible:
                smallest = min(visible, key=lambda p: table.at[idx, p])
                hidden.at[idx, smallest] = True
    for stat, ns in counts.items():
        ns = [ns] if isinstance(ns, str) else list(ns)
        hidden[stat] |= table[ns].apply(lambda s: _below(s, threshold)).any(axis=1)
    n_suppressed = int(hidden.to_numpy().sum())
    for col in table.columns:
        if hidden[col].any():
            numeric = pd.api.types.is_numeric_dtype(values[col])
            values[col] = (values[col].astype("float64") if numeric
                           else values[col].astype(object)).where(~hidden[col], np.nan)
    frame = pd.DataFrame(index=table.index)
    for col in table.columns:
        frame[col] = [
            marker if hidden.at[i, col] else _fmt(v, _decimals(decimals, col))
            for i, v in table[col].items()
        ]
    if labels:
        frame = frame.rename(columns=dict(labels))
    footnote = FOOTNOTE.format(marker=marker, threshold=threshold) if n_suppressed else ""
    return SafeTable(frame.reset_index(drop=True), n_suppressed, footnote,
                     values.reset_index(drop=True), hidden.reset_index(drop=True))


def _decimals(decimals: int | Mapping[str, int], col: str) -> int:
    return decimals.get(col, 1) if isinstance(decimals, Mapping) else decimals


def _fmt(v, decimals: int) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        if float(v).is_integer() and decimals == 0:
            return f"{int(v):,}"
        text = f"{float(v):,.{decimals}f}"
        return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no -0.0
    return str(v)


def safe_count(n: int, threshold: int = 10, marker: str = "c") -> str:
    """Format one count for running text, suppressed when 0 < n < threshold.

    Examples
    --------
    >>> safe_count(7), safe_count(196)
    ('c', '196')
    """
    return marker if 0 < n < threshold else f"{int(n):,}"

"""Small-cell suppression for anything shown: primary and secondary suppression, then formatting."""

from __future__ import annotations

import html
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluation.schema import IDENTIFIERS
from evaluation.sdc_rules import Rules, nk_dominated, p_ratio_fails

#: The dominance rules applied to a mean or a sum, as ACRO names them.
DOMINANCE = ("NKCheck", "PPercentCheck")

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
    checks : pandas.DataFrame
        For the output checker's log (:mod:`evaluation.output_log`), never shown: per cell
        ``"ok"`` or the rules it fails, named as ACRO names them (``MinimumThresholdCheck``,
        ``PresenceOfZeroCheck``; :mod:`evaluation.sdc_rules`), and ``SecondarySuppression``
        for a cell hidden only so that another cannot be worked out.
    caption : str
        Shown above the table (``<caption>``) and logged with it; empty for none.

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
    checks: pd.DataFrame | None = field(default=None, repr=False)
    caption: str = ""

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
        checks = None if self.checks is None else self.checks.iloc[:, where]
        return SafeTable(self.frame.iloc[:, where], n, self.footnote if n else "",
                         self.values.iloc[:, where], hidden, checks, self.caption)

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
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        table = (f'<table class="em-table">{caption}<thead><tr>{head}</tr></thead>'
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
    decimals: int | Mapping[str, int | Sequence[int]] = 1,
    labels: Mapping[str, str] | None = None,
    hide: Mapping[str, Sequence[bool]] | None = None,
    contributions: Mapping[str, Sequence[Sequence[float] | None]] | None = None,
    rules: Rules | None = None,
    together: Mapping[str, Sequence[str]] | None = None,
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
        Decimal places for float columns (per column when a mapping; per row where a
        column's entry is a sequence, one per row: measures published to different places).
    labels : mapping, optional
        Column renames for display.
    hide : mapping, optional
        Count column -> one flag per row: counts hidden whatever their size, because a count
        shown elsewhere would let a suppressed one be worked out
        (:func:`protect`, :class:`evaluation.linked.LinkedCounts`). Every statistic resting
        on a hidden count is hidden too, so a hidden statistic never tells a small count
        from a protecting one.
    contributions : mapping, optional
        Statistic column (a mean or a sum of pupils' values) -> per row, the values it is
        computed from (one per pupil; None for a row with none). Each cell is checked with
        ACRO's dominance rules (:func:`evaluation.sdc_rules.nk_dominated`: ``NKCheck``;
        :func:`evaluation.sdc_rules.p_ratio_fails`: ``PPercentCheck``) and hidden when it
        fails one.
    rules : Rules, optional
        The rules' parameters (``analysis.yml``'s ``disclosure``); default ACRO's, with
        ``threshold``.
    together : mapping, optional
        Statistic -> the statistics of the same row that would give it away (a difference
        and one of its terms); these are hidden wherever it is hidden by a dominance rule.

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

    One pupil's score dominating a mean hides it (``NKCheck``, ``PPercentCheck``):

    >>> t = pd.DataFrame({"n": [12, 12], "mean": [41.5, 5.0]})
    >>> values = [[2.0] * 11 + [480.0], [5.0] * 12]
    >>> s = suppress(t, {"mean": "n"}, contributions={"mean": values})
    >>> s.frame["mean"].tolist(), s.checks["mean"].tolist()
    (['c', '5.0'], ['NKCheck; PPercentCheck; ', 'ok'])
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
    pos = {c: i for i, c in enumerate(table.columns)}
    hidden = np.zeros(table.shape, dtype=bool)     # rows x columns, in the table's order
    count_cols = {c for ns in counts.values() for c in ([ns] if isinstance(ns, str) else ns)}
    for total, parts in (totals or {}).items():
        count_cols.update([total, *parts])
    for col in count_cols:
        hidden[:, pos[col]] |= _below(table[col], threshold).to_numpy(dtype=bool)
    for col, flags in (hide or {}).items():
        if col not in table.columns:
            raise ValueError(f"`hide` names a column not in `table`: {col!r}")
        hidden[:, pos[col]] |= np.asarray(flags, dtype=bool)
    for total, parts in (totals or {}).items():
        where = [pos[p] for p in parts]
        one = hidden[:, where].sum(axis=1) == 1
        for row in np.flatnonzero(one & ~hidden[:, pos[total]]):
            visible = [j for j in where if not hidden[row, j]]
            if visible:
                hidden[row, min(visible, key=lambda j: table.iat[row, j])] = True
    for stat, ns in counts.items():
        ns = [ns] if isinstance(ns, str) else list(ns)
        hidden[:, pos[stat]] |= hidden[:, [pos[c] for c in ns]].any(axis=1)
    rules = Rules(safe_threshold=threshold) if rules is None else rules
    dominated = _dominance(table, contributions or {}, rules)
    for stat, f in dominated.items():
        hidden[:, pos[stat]] |= f["NKCheck"] | f["PPercentCheck"]
    for stat, others in (together or {}).items():
        if stat in dominated:
            for other in others:
                hidden[:, pos[other]] |= (dominated[stat]["NKCheck"]
                                          | dominated[stat]["PPercentCheck"])
    checks = _checks(table, counts, count_cols, hidden, threshold, dominated)
    n_suppressed = int(hidden.sum())
    for col, i in pos.items():
        if hidden[:, i].any():
            numeric = pd.api.types.is_numeric_dtype(values[col])
            values[col] = (values[col].astype("float64") if numeric
                           else values[col].astype(object)).where(~hidden[:, i], np.nan)
    frame = pd.DataFrame({
        col: [marker if h else format_value(v, d)
              for v, h, d in zip(table[col].tolist(), hidden[:, i],
                                 row_decimals(decimals, col, len(table)), strict=True)]
        for col, i in pos.items()}, columns=table.columns, dtype=object)
    if labels:
        frame = frame.rename(columns=dict(labels))
    footnote = FOOTNOTE.format(marker=marker, threshold=threshold) if n_suppressed else ""
    return SafeTable(frame, n_suppressed, footnote, values.reset_index(drop=True),
                     pd.DataFrame(hidden, columns=table.columns),
                     checks.reset_index(drop=True))


def _dominance(table, contributions, rules) -> dict[str, dict[str, np.ndarray]]:
    """Per statistic with contributions: per row, whether it fails ``NKCheck``/``PPercentCheck``."""
    out = {}
    for stat, cells in contributions.items():
        if stat not in table.columns:
            raise ValueError(f"`contributions` names a column not in `table`: {stat!r}")
        cells = list(cells)
        if len(cells) != len(table):
            raise ValueError(f"`contributions[{stat!r}]` has {len(cells)} rows; `table` has "
                             f"{len(table)}")
        shown = table[stat].notna().to_numpy()
        nk = [bool(s) and v is not None and nk_dominated(v, rules)
              for v, s in zip(cells, shown, strict=True)]
        pp = [bool(s) and v is not None and p_ratio_fails(v, rules)
              for v, s in zip(cells, shown, strict=True)]
        out[stat] = {"NKCheck": np.array(nk, dtype=bool), "PPercentCheck": np.array(pp, dtype=bool)}
    return out


def _checks(table, counts, count_cols, hidden, threshold, dominated=None) -> pd.DataFrame:
    """Each cell's failing rules, as ACRO names them (see ``SafeTable.checks``)."""
    pos = {c: i for i, c in enumerate(table.columns)}
    zero = np.zeros(table.shape, dtype=bool)
    small = np.zeros(table.shape, dtype=bool)
    for col in count_cols:
        n = pd.to_numeric(table[col], errors="coerce").to_numpy(dtype="float64",
                                                                na_value=np.nan)
        zero[:, pos[col]] = n == 0
        small[:, pos[col]] = n < threshold
    for stat, ns in counts.items():
        ns = [ns] if isinstance(ns, str) else list(ns)
        idx = [pos[c] for c in ns]
        for f in (zero, small):
            f[:, pos[stat]] |= f[:, idx].any(axis=1)
    dom = {name: np.zeros(table.shape, dtype=bool) for name in DOMINANCE}
    for stat, f in (dominated or {}).items():
        for name in DOMINANCE:
            dom[name][:, pos[stat]] = f[name]
    primary = small | dom["NKCheck"] | dom["PPercentCheck"]
    secondary = hidden & ~primary
    out = np.full(table.shape, "", dtype=object)
    for name, f in (("PresenceOfZeroCheck", zero), *dom.items(),
                    ("MinimumThresholdCheck", small), ("SecondarySuppression", secondary)):
        out = np.where(f, out + f"{name}; ", out)
    out[out == ""] = "ok"
    return pd.DataFrame(out, index=table.index, columns=table.columns, dtype=object)


def row_decimals(decimals, col: str, n: int) -> list[int]:
    """Return the decimal places of each of a column's ``n`` rows (``suppress``'s ``decimals``).

    Examples
    --------
    >>> row_decimals({"gap": [1, 2]}, "gap", 2), row_decimals(2, "gap", 2)
    ([1, 2], [2, 2])
    """
    d = decimals.get(col, 1) if isinstance(decimals, Mapping) else decimals
    if isinstance(d, (int, np.integer)):
        return [int(d)] * n
    if len(d) != n:
        raise ValueError(f"`decimals[{col!r}]`: expected {n} places, one per row; got {len(d)}")
    return [int(x) for x in d]


def format_value(v, decimals: int) -> str:
    """Return a table cell's text: every table's figures, and what the keys say a page shows.

    Examples
    --------
    >>> format_value(-0.04, 1), format_value(1234.0, 0), format_value(None, 1)
    ('0.0', '1,234', '')
    """
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        if float(v).is_integer() and decimals == 0:
            return f"{int(v):,}"
        return f"{float(v):z,.{decimals}f}"      # z: a value rounding to 0 reads 0, never -0
    return str(v)


#: Rounding unit (percentage points) of a rate as a reader sees it: one decimal.
RATE_UNIT = 0.1


def rate_unit(rates) -> float:
    """Return the rounding unit of published rates: 1 where all are whole, else :data:`RATE_UNIT`.

    A reader who sees only whole percentages (the DfE rounds its performance-table and
    destination rates so) knows each rate to half a point either side, not to a twentieth.

    Examples
    --------
    >>> rate_unit([94.0, 100.0, float("nan")]), rate_unit([94.0, 69.2])
    (1.0, 0.1)
    """
    r = np.asarray(rates, dtype=float)
    r = r[np.isfinite(r)]
    return 1.0 if len(r) and np.all(np.abs(r - np.round(r)) < 1e-9) else RATE_UNIT


def count_range(rate, size, unit: float = RATE_UNIT) -> tuple[np.ndarray, np.ndarray]:
    """Return the least and greatest counts a rate (percent, to ``unit``) of ``size`` allows.

    The rate is first rounded to ``unit``, as a reader sees it (99.1667% of 1,200 is shown
    as 99.2, which allows 1,190 or 1,191); then every whole ``k`` with ``100 * k / size``
    within half a unit of it, ends included, and the nearest whole number to
    ``rate * size / 100`` (a rate published on another base than the cohort shown, 57% of 22
    say, allows no ``k`` exactly: the nearest reading stays).

    Examples
    --------
    >>> lo, hi = count_range(np.array([95.0, 94.0, 57.0]), np.array([194, 160, 22]), unit=1.0)
    >>> lo.tolist(), hi.tolist()      # 95% of 194: 184 or 185; 94% of 160: 150 or 151
    ([184.0, 150.0, 13.0], [185.0, 151.0, 13.0])
    >>> [v.tolist() for v in count_range(np.array([100 * 1190 / 1200]), np.array([1200]))]
    [[1190.0], [1191.0]]
    """
    rate, size = np.asarray(rate, dtype=float), np.asarray(size, dtype=float)
    rate = np.round(rate / unit) * unit               # as shown
    near = np.rint(rate * size / 100)
    lo = np.minimum(np.ceil((rate - unit / 2) * size / 100 - 1e-9), near)
    hi = np.maximum(np.floor((rate + unit / 2) * size / 100 + 1e-9), near)
    return np.clip(lo, 0, size), np.clip(hi, 0, size)


def rates_revealing_counts(table: pd.DataFrame, pairs, columns, t: int,
                           counts=None) -> dict[str, list[bool]]:
    """Hide ``columns`` of each row where a rate of its group size may give a count below ``t``.

    A percentage of n pupils gives how many reached the measure and how many did not (95.5%
    of 22 is 1 pupil not reaching it); where any count the rate allows (:func:`count_range`,
    at the rate's rounding unit, :func:`rate_unit`) leaves fewer than the threshold reaching
    it or not, none included (100% says every pupil reached it), the row's ``columns`` are
    hidden (every statistic that, with the others, gives the rate back: the other group's
    rate, the gap, the intervals). A whole percentage of more than 100 pupils allows several
    counts: 95% of 194 is 184 or 185, so 9 or 10 without (review 14 of issue 14).

    Parameters
    ----------
    table : pandas.DataFrame
        The table as computed (rates in percent).
    pairs : iterable of (str, str)
        ``(rate column, group-size column)``; pairs not in the table are skipped.
    columns : iterable of str
        Columns hidden together where any pair gives a small count (those in the table).
    t : int
        The disclosure threshold.
    counts : dict of str to str, optional
        Rate column -> the column of its published count, where the source gives one (the
        intervals rest on it): that count is checked too.

    Returns
    -------
    dict of str to list of bool
        A ``hide`` mapping for :func:`safe_table`.

    Examples
    --------
    >>> t = pd.DataFrame({"fsm_value": [69.2, 50.0, 100.0], "n_fsm": [13, 40, 31],
    ...                   "non_fsm_value": [95.5, 60.0, 50.0], "n_non_fsm": [22, 50, 40]})
    >>> rates_revealing_counts(t, [("fsm_value", "n_fsm"), ("non_fsm_value", "n_non_fsm")],
    ...                        ["fsm_value", "non_fsm_value"], 10)["fsm_value"]
    [True, False, True]
    """
    small = np.zeros(len(table), dtype=bool)
    for rate, n in pairs:
        if rate not in table or n not in table:
            continue
        size = table[n].to_numpy(dtype=float)
        lo, hi = count_range(table[rate].to_numpy(dtype=float), size, rate_unit(table[rate]))
        with np.errstate(invalid="ignore"):   # none included: 100% says every pupil did
            small |= (size > 0) & ((lo < t) | (size - hi < t))
            k = (counts or {}).get(rate)
            if k in table:
                k = table[k].to_numpy(dtype=float)
                small |= (size > 0) & ((k < t) | (size - k < t))
    return {c: small.tolist() for c in columns if c in table}


def safe_count(n: int, threshold: int = 10, marker: str = "c") -> str:
    """Format one count for running text, suppressed when 0 < n < threshold.

    Examples
    --------
    >>> safe_count(7), safe_count(196)
    ('c', '196')
    """
    return marker if 0 < n < threshold else f"{int(n):,}"


Relation = tuple[Hashable, Sequence[Hashable]]


def _checked(values: Mapping[Hashable, int], relations: Sequence[Relation],
             at_most: Sequence[Relation]) -> list:
    """Check that ``values`` solve every relation and inequality; return ``at_most`` listed.

    ``at_most`` comes back as (key, list of parts). The solver takes the counts themselves
    as one solution of what a reader knows: counts that broke a relation would make an
    interval look wider than the truth.

    Raises
    ------
    ValueError
        If a relation or an inequality names an unknown key or does not hold.
    """
    for total, parts in relations:
        unknown = [k for k in [total, *parts] if k not in values]
        if unknown:
            raise ValueError(f"`relations` names counts not in `values`: {unknown[:5]}")
        if values[total] != sum(values[p] for p in parts):
            raise ValueError(f"relation {total!r} = sum of {list(parts)[:5]} does not hold: "
                             f"{values[total]} != {sum(values[p] for p in parts)}")
    at_most = [(key, list(parts)) for key, parts in at_most]
    for key, parts in at_most:
        unknown = [k for k in [*_lhs(key), *parts] if k not in values]
        if unknown:
            raise ValueError(f"`at_most` names counts not in `values`: {unknown[:5]}")
        if sum(values[k] for k in _lhs(key)) > sum(values[p] for p in parts):
            raise ValueError(f"inequality {key!r} <= sum of {parts[:5]} does not hold: "
                             f"{sum(values[k] for k in _lhs(key))} > "
                             f"{sum(values[p] for p in parts)}")
    return at_most


def narrowest(values: Mapping[Hashable, int], relations: Sequence[Relation],
              hidden: Iterable[Hashable], zero_ok: Iterable[Hashable] = (),
              at_most: Sequence[Relation] = (), _memo: dict | None = None,
              _unasked: frozenset = frozenset(), _width: float | None = None,
              _trusted: bool = False) -> dict[Hashable, tuple[float, float]]:
    """Smallest and largest value of each hidden count consistent with everything shown.

    The attacker's view: shown counts are known, each hidden count is a whole number of at
    least 1 (zeros are shown), every relation ``total = sum(parts)`` holds and every
    inequality ``(key, parts)`` of ``at_most`` has ``key <= sum(parts)`` (a survey item's
    paired respondents are at most those of either wave; a class's FSM pupils at most its
    pupils).

    Parameters
    ----------
    values : mapping
        Every count by key, hidden ones included: the true counts. Where the hidden ones
        are at least their least value (1, or 0 for those in ``zero_ok``), they are one
        solution of what the reader knows, and each interval holds its count's value; a
        hidden 0 a reader takes as at least 1 is not (the intervals are then those of the
        reader's view, as if it were).
    relations : sequence of (total, parts)
        Linear relations between the counts, by key.
    hidden : iterable
        Keys of the hidden counts.
    zero_ok : iterable, optional
        Hidden counts that may be 0 (hidden with a rate, not for being small).
    at_most : sequence of (key, parts), optional
        Inequalities ``values[key] <= sum(values[p] for p in parts)`` a reader knows hold;
        ``key`` may be a list of keys, whose sum is at most the parts'.

    Returns
    -------
    dict
        Hidden key -> (lowest, highest); ``inf`` when nothing bounds it from above.

    Raises
    ------
    ValueError
        If a relation or an inequality names an unknown key or does not hold for
        ``values``.

    Examples
    --------
    >>> narrowest({"t": 20, "a": 9, "b": 11}, [("t", ["a", "b"])], ["a", "b"])
    {'a': (1.0, 19.0), 'b': (1.0, 19.0)}

    Paired respondents are at most those of a wave: with 12 at baseline shown, a hidden
    paired count lies between 1 and 12.

    >>> narrowest({"paired": 8, "baseline": 12}, [], ["paired"],
    ...           at_most=[("paired", ["baseline"])])
    {'paired': (1.0, 12.0)}
    """
    hidden = set(hidden)
    zero_ok = set(zero_ok)
    if not _trusted:           # protect() has checked them once for all its rounds
        at_most = _checked(values, relations, at_most)
    # reaching it means unbounded: far above the counts, as a count bounded only through
    # others (a = b + c, each at most a shown 5) can exceed their sum (review 22)
    cap = float(10 * sum(abs(v) for v in values.values()) + 10 ** 6)
    out = {}
    low = {k: 0.0 if k in zero_ok else 1.0 for k in hidden}
    high = dict.fromkeys(hidden, cap)
    # an inequality with one hidden count is a bound on it; the others are constraints
    inequalities = []
    for key, parts in at_most:
        terms = [*((k, 1.0) for k in _lhs(key)), *((p, -1.0) for p in parts)]
        unknown = [(k, sign) for k, sign in terms if k in hidden]
        if len(unknown) != 1:
            if unknown:
                inequalities.append((key, list(parts)))
            continue
        (k, sign), = unknown
        known = sum(sg * values[kk] for kk, sg in terms if kk not in hidden)
        if sign > 0:             # k + known <= 0
            high[k] = min(high[k], -known)
        else:                    # known - k <= 0
            low[k] = max(low[k], known)
    linked = [*relations, *inequalities]
    ineq_rels = {id(rel) for rel in inequalities}
    # hidden counts that share no relation, directly or through other hidden counts, bound
    # each other not at all: solve each connected group on its own (small programs)
    for keys, rels in _components([k for k in values if k in hidden], linked):
        # a group's intervals depend on its hidden counts alone (protect() asks again and
        # again with a few more hidden): solved once per group
        group = (frozenset(keys), frozenset(keys) & _unasked)
        if _memo is not None and group in _memo:
            out.update(_memo[group])
            continue
        solved = _solve_group(values, keys, rels, ineq_rels, low, high, cap, _unasked, _width)
        if _memo is not None:
            _memo[group] = solved
        out.update(solved)
    return {k: out[k] for k in values if k in hidden and k in out}


def _solve_group(values, keys, rels, ineq_rels, low, high, cap, unasked, width=None) -> dict:
    """Intervals of one group of hidden counts linked by relations and inequalities.

    With ``width``, a count shown to be at least that wide by solutions already in hand
    (the data themselves, and each program's optimum) is not solved for: its interval is
    then the span of those solutions, which the exact one contains (protect() asks only
    whether each is as wide as ``width``).
    """
    from scipy import optimize
    from scipy.sparse import csc_array

    col = {k: i for i, k in enumerate(keys)}
    a, rhs = _equations(values, [r for r in rels if id(r) not in ineq_rels], col)
    ia, irhs = _equations(values, [r for r in rels if id(r) in ineq_rels], col)
    # key - sum(parts) = rhs for a relation; key - sum(parts) <= rhs for an inequality: one
    # sparse constraint, as milp() takes it (given as two dense ones, milp converted and
    # stacked them on every call, a third of each small program's time)
    cons = [optimize.LinearConstraint(csc_array(np.vstack([a, ia])),
                                      np.concatenate([rhs, np.full(len(irhs), -np.inf)]),
                                      np.concatenate([rhs, irhs]))] if len(rhs) + len(irhs) else []
    if not cons:
        return {k: (low[k], np.inf if high[k] >= cap else high[k]) for k in keys
                if k not in unasked}
    if len(rhs) == 1 and not len(irhs) and set(np.abs(a[0])) <= {0.0, 1.0}:
        return _one_equation(keys, a[0], float(rhs[0]), low, high, cap, unasked)
    bounds = optimize.Bounds([low[k] for k in keys], [high[k] for k in keys])
    out = {}
    # the data are one solution, unless a hidden 0 is read as at least 1: then only the
    # programs' own (checked) solutions bound the intervals from inside
    data = np.array([float(values[k]) for k in keys])
    fits = bool(np.all(data >= bounds.lb))
    seen_low = data if fits else np.full(len(keys), np.inf)
    seen_high = data.copy() if fits else np.full(len(keys), -np.inf)

    def solve(c, presolve=True):
        r = optimize.milp(c, constraints=cons, integrality=np.ones(len(keys)), bounds=bounds,
                          options={"presolve": presolve})
        if r.status != 0:
            # the data are a solution, so "infeasible" (or any failure) with presolve is
            # presolve's error too: solve again without it before giving up
            return solve(c, presolve=False) if presolve else r
        x = np.round(r.x)
        if not _feasible(x, cons, bounds):
            if presolve:         # HiGHS's presolve has returned a wrong point: solve again
                return solve(c, presolve=False)
            raise RuntimeError(f"the attacker's program returned a point that breaks its "
                               f"constraints ({r.message})")
        np.minimum(seen_low, x, out=seen_low)
        np.maximum(seen_high, x, out=seen_high)
        return r

    if width is not None and len(keys) > 2:   # two solutions far apart witness many at once
        for sense in (1.0, -1.0):
            solve(np.full(len(keys), sense))
    for k, i in col.items():
        if k in unasked:         # already known to be wide enough
            continue
        if width is not None and seen_high[i] - seen_low[i] >= width:
            out[k] = (float(seen_low[i]), float(seen_high[i]))
            continue
        relaxed = _relaxed_optima(i, cons, bounds)
        # where both relaxed optima are whole-number solutions they are the interval: no search
        searches = () if _relaxed_corners(relaxed, cons, bounds, seen_low, seen_high) \
            else (True, False)
        # HiGHS's presolve has also called a value optimal with a better one feasible (the
        # least of a school's EM pupils 6, not 2; eighth review of issue 14): an interval
        # that counts (any, or, with ``width``, one narrower than it) is solved again
        # without it, and every solution found widens it, unless the programs without
        # whole numbers prove it already (:func:`_relaxation_confirms`)
        for presolve in searches:
            if not presolve and ((width is not None and seen_high[i] - seen_low[i] >= width)
                                 or _relaxation_confirms(seen_low[i], seen_high[i],
                                                         relaxed)):
                break
            for sense in (1.0, -1.0):
                c = np.zeros(len(keys))
                c[i] = sense
                r = solve(c, presolve)
                if r.status != 0:
                    raise RuntimeError(f"the attacker's program for {k!r} failed: {r.message}")
        ends = (seen_low[i], np.inf if seen_high[i] >= cap else seen_high[i])
        out[k] = (float(ends[0]), float(ends[1]))
    return out


def _relaxed_optima(i: int, cons, bounds) -> list | None:
    """Count ``i``'s least and greatest value without integrality (and without presolve).

    ``milp``'s two results, or None where either failed. Each costs about 1 ms, against
    1.5-4 ms for a whole-number program with presolve and 9-13 ms without; both
    :func:`_relaxed_corners` and :func:`_relaxation_confirms` read them.

    Examples
    --------
    >>> from scipy import optimize
    >>> cons = [optimize.LinearConstraint(np.array([[1.0, 1.0]]), 20.0, 20.0)]
    >>> bounds = optimize.Bounds([1.0, 1.0], [100.0, 100.0])
    >>> [float(r.x[0]) for r in _relaxed_optima(0, cons, bounds)]
    [1.0, 19.0]
    """
    from scipy import optimize

    out = []
    for sense in (1.0, -1.0):
        c = np.zeros(len(bounds.lb))
        c[i] = sense
        r = optimize.milp(c, constraints=cons, integrality=np.zeros(len(c)), bounds=bounds,
                          options={"presolve": False})
        if r.status != 0:
            return None
        out.append(r)
    return out


def _relaxed_corners(relaxed, cons, bounds, seen_low: np.ndarray,
                     seen_high: np.ndarray) -> bool:
    """Whether a count's relaxed optima are whole-number solutions, which then bound it.

    ``relaxed`` is :func:`_relaxed_optima`'s. Where both optima are such points, they are the
    count's interval, and ``seen_low``, ``seen_high`` now hold it. Without integrality a
    count's least and greatest value bound its whole-number ones; an optimum that is itself a
    whole-number point meeting every constraint is therefore the whole-number optimum. The
    programs here are sums of counts, whose relaxations mostly have such corners: the two
    relaxed programs then settle the count, and no whole-number program is solved for it.
    Every point taken is checked (:func:`_feasible`), so an
    error of the solver can only give a value a true solution has: an interval is never
    widened beyond the truth, which would err away from hiding.

    Examples
    --------
    >>> from scipy import optimize
    >>> cons = [optimize.LinearConstraint(np.array([[1.0, 1.0]]), 20.0, 20.0)]
    >>> bounds = optimize.Bounds([1.0, 1.0], [100.0, 100.0])
    >>> low, high = np.array([5.0, 15.0]), np.array([5.0, 15.0])
    >>> relaxed = _relaxed_optima(0, cons, bounds)
    >>> _relaxed_corners(relaxed, cons, bounds, low, high), float(low[0]), float(high[0])
    (True, 1.0, 19.0)
    >>> cons = [optimize.LinearConstraint(np.array([[2.0, 1.0]]), 8.0, 8.0)]   # 2a + b = 8
    >>> bounds = optimize.Bounds([1.0, 1.0], [100.0, 3.0])                      # b <= 3
    >>> relaxed = _relaxed_optima(0, cons, bounds)
    >>> _relaxed_corners(relaxed, cons, bounds, np.array([3.0, 2.0]), np.array([3.0, 2.0]))
    False
    """
    if relaxed is None:
        return False
    found = True
    for r in relaxed:
        x = np.round(r.x)
        if not (np.allclose(r.x, x, rtol=0, atol=1e-9) and _feasible(x, cons, bounds)):
            found = False             # a fractional corner: the whole-number program decides
            continue
        np.minimum(seen_low, x, out=seen_low)
        np.maximum(seen_high, x, out=seen_high)
    return found


def _relaxation_confirms(lowest: float, highest: float, relaxed) -> bool:
    """Whether the relaxed optima prove that a count spans ``lowest`` to ``highest``.

    ``lowest`` and ``highest`` are values of whole-number solutions in hand, ``relaxed`` is
    :func:`_relaxed_optima`'s. The relaxed least and greatest value bound the whole-number
    ones, so where they round inwards to ``lowest`` and ``highest`` those are the
    whole-number optimum, and the programs without presolve (9-13 ms each) are not solved.
    It is asked only where :func:`_relaxed_corners` found a fractional optimum (or none),
    and holds where the whole-number values in hand round from it (in random programs,
    about two times in three; review 22). It can only ever end a search early with an
    interval that is a true solution's, never widen one: a wrong bound here errs towards
    hiding.

    Examples
    --------
    >>> from scipy import optimize
    >>> cons = [optimize.LinearConstraint(np.array([[1.0, 1.0]]), 20.0, 20.0)]
    >>> bounds = optimize.Bounds([1.0, 1.0], [100.0, 100.0])
    >>> relaxed = _relaxed_optima(0, cons, bounds)
    >>> _relaxation_confirms(1.0, 19.0, relaxed)
    True
    >>> _relaxation_confirms(2.0, 19.0, relaxed)    # 1 was not found: solve on
    False
    """
    if relaxed is None:
        return False
    least, greatest = relaxed[0].fun, -relaxed[1].fun
    return bool(np.ceil(least - 1e-6) >= lowest and np.floor(greatest + 1e-6) <= highest)


def _feasible(x: np.ndarray, cons, bounds, tol: float = 1e-6) -> bool:
    """Whether ``x`` is within ``bounds`` and meets every constraint (``milp``'s)."""
    if np.any(x < bounds.lb - tol) or np.any(x > bounds.ub + tol):
        return False
    return all(np.all(con.A @ x >= con.lb - tol) and np.all(con.A @ x <= con.ub + tol)
               for con in cons)


def _one_equation(keys, coef, rhs, low, high, cap, unasked) -> dict:
    """Intervals of counts bound by one equation ``sum(coef * x) = rhs`` (coefficients +-1).

    What ``milp`` would find, in closed form: every other count ranges over whole numbers
    between its bounds, so their signed sum ranges over every whole number between its
    least and greatest, and each count over what that leaves it, within its own bounds.

    Examples
    --------
    >>> _one_equation(["a", "b"], np.array([1.0, 1.0]), 20.0, {"a": 1.0, "b": 1.0},
    ...               {"a": 41.0, "b": 41.0}, 41.0, frozenset())
    {'a': (1.0, 19.0), 'b': (1.0, 19.0)}
    """
    lo = np.array([low[k] for k in keys])
    hi = np.array([high[k] for k in keys])
    term_lo = np.where(coef > 0, lo, -hi) * (coef != 0)     # the least of coef * x
    term_hi = np.where(coef > 0, hi, -lo) * (coef != 0)
    out = {}
    for i, k in enumerate(keys):
        if k in unasked:
            continue
        if coef[i] == 0:         # in the group through a relation that cancels it out
            ends = (lo[i], hi[i])
        else:
            rest_lo = term_lo.sum() - term_lo[i]
            rest_hi = term_hi.sum() - term_hi[i]
            # coef * x = rhs - rest, rest anywhere in [rest_lo, rest_hi]
            a, b = sorted((coef[i] * (rhs - rest_hi), coef[i] * (rhs - rest_lo)))
            ends = (max(lo[i], a), min(hi[i], b))
        if ends[0] > ends[1]:
            raise RuntimeError(f"the attacker's program for {k!r} failed: no solution")
        out[k] = (float(ends[0]), np.inf if ends[1] >= cap else float(ends[1]))
    return out


def _lhs(key) -> list:
    """List the keys on the left of an inequality: a key, or a list of keys (their sum)."""
    return list(key) if isinstance(key, list) else [key]


def _components(keys, relations):
    """Group hidden ``keys`` linked through ``relations``; yield (keys, relations) per group."""
    parent = {k: k for k in keys}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    members = []
    for rel in relations:
        total, parts = rel
        inside = [k for k in dict.fromkeys([*_lhs(total), *parts]) if k in parent]
        for k in inside[1:]:
            parent[find(k)] = find(inside[0])
        members.append((rel, inside))
    groups: dict = {}
    for k in keys:
        groups.setdefault(find(k), ([], []))[0].append(k)
    for rel, inside in members:
        if inside:
            groups[find(inside[0])][1].append(rel)
    yield from groups.values()


def _equations(values, relations, col):
    rows, rhs = [], []
    for total, parts in relations:
        row, b = np.zeros(len(col)), 0.0
        for key, sign in [*((k, 1.0) for k in _lhs(total)), *[(p, -1.0) for p in parts]]:
            if key in col:
                row[col[key]] += sign
            else:
                b -= sign * values[key]
        if row.any():
            rows.append(row)
            rhs.append(b)
    return np.array(rows).reshape(len(rows), len(col)), np.array(rhs)


def protect(values: Mapping[Hashable, int], relations: Sequence[Relation],
            threshold: int = 10, width: int | None = None,
            max_rounds: int = 50, shown: Iterable[Hashable] = (),
            implies: Iterable[tuple[Hashable, Hashable]] = (),
            at_most: Sequence[Relation] = (),
            sensitive: Iterable[Hashable] = ()) -> frozenset:
    """Choose the counts to hide so that no small count can be worked out from the rest.

    Primary suppression hides every count with ``0 < n < threshold``, and the ``sensitive``
    ones whatever their size (a 0 behind a rate of 0% or 100%). Secondary suppression
    then hides as little as possible (fewest counts, then the smallest pupils in total,
    found by ``scipy.optimize.milp``) so that, for every hidden count, the values consistent
    with everything shown (:func:`narrowest`) span at least ``width`` (default: the
    threshold). Each relation that holds a hidden count holds at least two; a hidden count
    that is still too narrowly bounded adds a constraint to hide one more count next to it,
    and the program is solved again.

    Parameters
    ----------
    values : mapping
        Counts by key (the cells of every table, text and report that share them).
    relations : sequence of (total, parts)
        ``values[total] == sum(values[p] for p in parts)`` for each, as published tables
        let a reader see.
    threshold : int
        Smallest count shown (``analysis.yml``: ``disclosure.threshold``).
    width : int, optional
        Smallest width of the interval an attacker may narrow a hidden count to.
    max_rounds : int
        Bound on re-solves (each adds constraints; a pattern hiding every linked cell is
        always safe, so the loop ends).
    shown : iterable, optional
        Counts that stay shown whatever (printed elsewhere); the others protect the hidden.
    implies : iterable of (key, key), optional
        Pairs ``(a, b)``: where ``a`` is hidden, ``b`` is hidden too (a rate resting on a
        hidden count is hidden, so the counts the rate would give are not published).
    at_most : sequence of (key, parts), optional
        Inequalities ``values[key] <= sum(values[p] for p in parts)`` that a reader knows
        hold (a survey item's paired respondents are at most those of either wave): the
        attacker of :func:`narrowest` uses them too, so a hidden count is never left bounded
        by shown ones more narrowly than ``width``. ``key`` may be a list of keys: their
        sum is at most the parts' (a phase's EM and comparison pupils together are at most
        its schools' pupils of the year).
    sensitive : iterable, optional
        Counts hidden as if small whatever their value, and protected like them (the pupils
        of a group reaching a measure where none or all of them did: the rate is withheld,
        so 0 must not be worked out either). They may be 0.

    Returns
    -------
    frozenset
        The keys to hide (primary and secondary).

    Raises
    ------
    ValueError
        If a relation or an inequality names an unknown key or does not hold.

    Examples
    --------
    >>> counts = {"all": 180, "a": 31, "b": 46, "c": 96, "d": 7}
    >>> sorted(protect(counts, [("all", ["a", "b", "c", "d"])]))
    ['a', 'd']
    """
    width = threshold if width is None else width
    keys = list(values)
    idx = {k: i for i, k in enumerate(keys)}
    at_most = _checked(values, relations, at_most)
    sensitive = set(sensitive) & set(idx)
    primary = {k for k, v in values.items() if 0 < v < threshold} | sensitive
    if not primary:
        return frozenset()
    n = len(keys)
    # fewest hidden counts first; among those, the fewest pupils hidden; zeros never hidden
    total_size = sum(values.values()) + 1
    cost = np.array([1.0 + values[k] / total_size for k in keys])
    lower = np.array([1.0 if k in primary else 0.0 for k in keys])
    fixed = set(shown) - primary
    implies = list(implies)
    zero_ok = {b for _, b in implies} | sensitive   # hidden with a rate, whatever their size
    upper = np.array([0.0 if (values[k] == 0 and k not in zero_ok) or k in fixed else 1.0
                      for k in keys])
    rows = _Rows(n)
    for total, parts in relations:
        members = [idx[k] for k in dict.fromkeys([total, *parts])]
        for m in members:                 # s_m <= sum of the others' s
            rows.add({j: (-1.0 if j == m else 1.0) for j in members}, 0.0)
    # Necessary for each relation alone: a hidden part m, with the relation's total shown, lies
    # between its least value (1, or 0 for a count that may be 0) and v_m plus the other hidden
    # parts' values less their least each, so those must carry at least width - v_m + least_m
    # (any other relation only narrows it further). Stated up front, these spare most of the
    # rounds below.
    least = {k: 0 if k in zero_ok else 1 for k in keys}
    for total, parts in relations:
        parts = list(dict.fromkeys(parts))
        for m in parts:
            need = width - values[m] + least[m]
            if need <= 0 or upper[idx[m]] == 0:
                continue
            row: dict = {}
            for j in parts:
                if j != m:
                    row[idx[j]] = row.get(idx[j], 0.0) + max(values[j] - least[j], 0)
            if total not in parts:
                row[idx[total]] = row.get(idx[total], 0.0) + need  # a hidden total: m unbounded
            row[idx[m]] = row.get(idx[m], 0.0) - need
            rows.add(row, 0.0)
    for a, b in implies:                  # s_b >= s_a
        if a in idx and b in idx and a != b:
            rows.add({idx[b]: 1.0, idx[a]: -1.0}, 0.0)
    links = [*relations, *at_most]
    neighbours: dict = {}
    for t, ps in links:
        link = (*_lhs(t), *ps)
        for k in link:
            neighbours.setdefault(k, []).append(link)
    memo: dict = {}
    # hiding more only widens the others' intervals: a count wide enough under a pattern is
    # wide enough under any pattern hiding all of it and more (its programs are not solved again)
    wide_under: list[tuple[frozenset, set]] = []
    hidden = set(primary)
    x, added = None, 0
    for _ in range(max_rounds):
        x = _cheapest(cost, rows, lower, upper, x, added)
        if x is None:       # no pattern meets every width (small data): hide all it can
            return _hide_all(keys, values, fixed, zero_ok)
        added = len(rows)
        hidden = {k for k in keys if x[idx[k]] > 0.5}
        pattern = frozenset(hidden)
        known = set().union(*(w for h, w in wide_under if h <= pattern))
        intervals = narrowest(values, relations, hidden, zero_ok, at_most, _memo=memo,
                              _unasked=frozenset(known), _width=width, _trusted=True)
        narrow = {k for k, (lo, hi) in intervals.items() if hi - lo < width}
        wide_under.append((pattern, set(intervals) - narrow))
        if not narrow:
            return frozenset(hidden)
        # in the counts' order, never a set's: a set of strings iterates in an order that
        # changes with Python's hash seed, and the solver breaks ties by the rows' order
        # (seventeenth review of issue 14: two builds chose different cells, and the two
        # patterns together gave a class's 6 FSM pupils back)
        for k in sorted(narrow, key=idx.__getitem__):   # hide one more count linked to it
            near = {p for link in neighbours.get(k, []) for p in link}
            near |= {p for q in list(near) for link in neighbours.get(q, []) for p in link}
            candidates = sorted(idx[p] for p in near - hidden
                                if (values[p] > 0 or p in zero_ok) and p not in fixed)
            if candidates:
                rows.add(dict.fromkeys(candidates, 1.0), 1.0)
    return _hide_all(keys, values, fixed, zero_ok)


def _cheapest(cost, rows, lower, upper, last=None, solved_rows: int = 0):
    """Return the cheapest 0/1 pattern meeting ``rows``, or None when none does.

    With ``last``, the pattern of the same program before rows ``solved_rows`` onwards were
    added: only the groups of counts those rows link (directly or through other rows) are
    solved again, the rest keep ``last``'s values. The cost is a sum over counts and the
    groups share no row, so a pattern is cheapest exactly when each group's part is, and
    ``last``'s parts outside the new rows' groups still are. The default data's program has
    4,300 counts in some 260 such groups; each round adds a few rows to a few groups.
    """
    from scipy import optimize
    from scipy.sparse.csgraph import connected_components

    n = len(cost)
    if not len(rows):
        return lower.copy()             # nothing links the counts: the least of each
    a, lb = rows.matrix(), rows.lower()
    todo = np.ones(n, dtype=bool)
    if last is not None:
        linked = (a != 0).astype(np.int8)
        _, group = connected_components(linked.T @ linked, directed=False)
        new = np.unique(a[solved_rows:].indices) if solved_rows < len(rows) else []
        todo = np.isin(group, group[new])
    x = lower.copy() if last is None else last.copy()
    cols = np.flatnonzero(todo)
    if len(cols):
        keep = np.flatnonzero(np.asarray((a[:, cols] != 0).sum(axis=1)).ravel() > 0)
        sub = a[keep][:, cols]
        cons = [optimize.LinearConstraint(sub, lb[keep], np.inf)] if len(keep) else []
        r = optimize.milp(cost[cols], constraints=cons, integrality=np.ones(len(cols)),
                          bounds=optimize.Bounds(lower[cols], upper[cols]))
        if r.status != 0:
            return None
        x[cols] = np.round(r.x)
    return x


class _Rows:
    """Rows of ``A x >= lb`` for :func:`protect`, kept sparse (thousands of counts)."""

    def __init__(self, n: int):
        self.n, self.cols, self.coefs, self.starts, self.lbs = n, [], [], [0], []

    def add(self, row: dict, lb: float) -> None:
        self.cols += list(row)
        self.coefs += list(row.values())
        self.starts.append(len(self.cols))
        self.lbs.append(lb)

    def __len__(self) -> int:
        return len(self.lbs)

    def matrix(self):
        from scipy import sparse

        return sparse.csr_array((np.array(self.coefs, dtype=float),
                                 np.array(self.cols, dtype=np.int64),
                                 np.array(self.starts, dtype=np.int64)),
                                shape=(len(self.lbs), self.n))

    def lower(self) -> np.ndarray:
        return np.array(self.lbs, dtype=float)


class HiddenAll(frozenset):
    """A pattern of :func:`protect` that hides every count that may be hidden.

    Returned when no finer pattern meets every width: safe, but far from minimal, and a
    report says so instead of claiming to suppress as little as possible.

    Examples
    --------
    >>> isinstance(protect({"t": 10, "a": 2, "b": 8}, [("t", ["a", "b"])], shown=["t"]),
    ...            HiddenAll)         # a and b between 1 and 9 whatever is hidden
    True
    """


def _hide_all(keys, values, fixed, zero_ok) -> frozenset:
    """Return the most conservative pattern: every count that may be hidden.

    A data set too small for any finer pattern gets tables of markers, never a failed report.
    """
    return HiddenAll(k for k in keys if k not in fixed and (values[k] > 0 or k in zero_ok))

"""ACRO's output-checking rules (threshold, N-K dominance, p-ratio, residual df, zeros, missing).

The SACRO project's ACRO package (version 1.0.2) is what trusted research environments' output
checkers use. It needs pandas <= 2.3.3 and this package uses pandas 3, so ACRO is not a
dependency: its rules are applied here with its names, its defaults (ACRO's ``default.yaml``)
and its definitions (``acro/sdcchecks.py``), configured from ``analysis.yml``'s
``disclosure`` section; ``tests/test_disclosure_acro.py`` shows the same outcome as ACRO,
cell by cell, on tables ACRO itself checked (``tests/fixtures/acro/``).

Each check returns, per cell, whether the cell fails; :func:`check_table` names the failing
checks of each cell as ACRO's outcome tables do (``"NKCheck; PPercentCheck; "``, ``"ok"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

#: ACRO 1.0.2's checks for a frequency table and for a table of means or sums, in ACRO's
#: order (its statbarn ontology; the checks that never fail a cell, such as the manual review
#: of linked tables, are left out).
CHECKS = {
    "count": ("PresenceOfZeroCheck", "MinimumThresholdCheck"),
    "mean": ("NKCheck", "PPercentCheck", "MinimumThresholdCheck"),
    "sum": ("NKCheck", "PPercentCheck", "MinimumThresholdCheck"),
}


@dataclass(frozen=True)
class Rules:
    """ACRO's risk appetite: the parameters of its checks, with ACRO 1.0.2's defaults.

    Attributes
    ----------
    safe_threshold : int
        A cell resting on fewer contributors fails ``MinimumThresholdCheck``.
    safe_dof_threshold : int
        A model with fewer residual degrees of freedom fails ``MinimumDoFCheck``.
    safe_nk_n, safe_nk_k : int, float
        ``NKCheck``: a cell fails when its largest ``n`` contributions make up at least
        ``k`` of its total.
    safe_pratio_p : float
        ``PPercentCheck``: a cell fails when its total less its two largest contributions is
        less than ``p`` times the largest.
    zeros_are_disclosive : bool
        ``PresenceOfZeroCheck``: a frequency cell of zero fails.
    check_missing_values : bool
        ``MissingCheck``: a cell with a missing contribution (or none) is flagged for review.

    Examples
    --------
    >>> Rules().safe_nk_n, Rules().safe_nk_k, Rules().safe_pratio_p
    (2, 0.9, 0.1)
    """

    safe_threshold: int = 10
    safe_dof_threshold: int = 10
    safe_nk_n: int = 2
    safe_nk_k: float = 0.9
    safe_pratio_p: float = 0.1
    zeros_are_disclosive: bool = True
    check_missing_values: bool = False

    @classmethod
    def from_plan(cls, plan) -> Rules:
        """Return the rules of a plan's ``disclosure`` section (``threshold``: ``safe_threshold``).

        Examples
        --------
        >>> from evaluation.plan import load_plan
        >>> Rules.from_plan(load_plan()).safe_threshold
        10
        """
        d = plan.section("disclosure")
        known = {k: d[k] for k in asdict(cls()) if k in d}
        return cls(safe_threshold=int(d["threshold"]), **known)


def below_threshold(n, rules: Rules = Rules()) -> np.ndarray:
    """``MinimumThresholdCheck``: fewer contributors than ``safe_threshold`` (zero included).

    Examples
    --------
    >>> below_threshold([0, 4, 10]).tolist()
    [True, True, False]
    """
    return np.asarray(n, dtype=float) < rules.safe_threshold


def zero(n, rules: Rules = Rules()) -> np.ndarray:
    """``PresenceOfZeroCheck``: an empty frequency cell, when zeros are disclosive.

    Examples
    --------
    >>> zero([0, 3]).tolist(), zero([0, 3], Rules(zeros_are_disclosive=False)).tolist()
    ([True, False], [False, False])
    """
    n = np.asarray(n, dtype=float)
    return (n == 0) if rules.zeros_are_disclosive else np.zeros(n.shape, dtype=bool)


def nk_dominated(values: Sequence[float], rules: Rules = Rules()) -> bool:
    """``NKCheck`` of one cell: its ``n`` largest values are at least ``k`` of its total.

    An empty cell or one summing to zero does not fail (ACRO divides 0 by 0).

    Examples
    --------
    >>> nk_dominated([2] * 10 + [400, 300]), nk_dominated([1] * 9 + [30, 30])
    (True, False)
    """
    v = _present(values)
    total = v.sum()
    if not len(v) or total == 0:
        return False
    top = np.sort(v)[::-1][:rules.safe_nk_n].sum()
    return bool(top / total >= rules.safe_nk_k)


def _present(values: Sequence[float]) -> np.ndarray:
    """Return the values of a cell as floats, missing ones left out."""
    v = np.asarray(values, dtype=float).ravel()
    return v[~np.isnan(v)]


def p_ratio_fails(values: Sequence[float], rules: Rules = Rules()) -> bool:
    """``PPercentCheck`` of one cell: (total - two largest) < ``p`` x largest.

    As ACRO computes it: when the largest value is 0 the ratio is the remainder itself (0,
    so the cell fails); an empty cell passes.

    Examples
    --------
    >>> p_ratio_fails([1] * 9 + [1000]), p_ratio_fails(list(range(1, 26)))
    (True, False)
    """
    v = _present(values)
    if not len(v):
        return False
    top = np.sort(v)[::-1][:2]
    top1 = top[0]
    rest = v.sum() - top.sum()
    ratio = rest if top1 == 0 else rest / top1
    return bool(ratio < rules.safe_pratio_p)


def has_missing(values: Sequence[float]) -> bool:
    """``MissingCheck`` of one cell: a missing value among its contributions, or none at all.

    Examples
    --------
    >>> has_missing([1.0, None]), has_missing([]), has_missing([2.0])
    (True, True, False)
    """
    v = pd.Series(values, dtype=float)
    return bool(v.empty or v.isna().any())


def dof_check(df_resid: float, rules: Rules = Rules()) -> tuple[str, str]:
    """``MinimumDoFCheck`` of a model: its status and ACRO's summary line.

    Examples
    --------
    >>> dof_check(9)
    ('fail', 'MinimumDoFCheck: fail dof=9 < 10')
    """
    dof = int(df_resid)
    ok = dof >= rules.safe_dof_threshold
    status = "pass" if ok else "fail"
    return status, (f"MinimumDoFCheck: {status} dof={dof} {'>=' if ok else '<'} "
                    f"{rules.safe_dof_threshold}")


def check_table(data: pd.DataFrame, index: str, columns: str, values: str | None = None,
                aggfunc: str = "count", rules: Rules = Rules()) -> pd.DataFrame:
    """ACRO's outcome table of a cross-tabulation of ``data``: the failing checks of each cell.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per contributor.
    index, columns : str
        The columns whose values make the table's rows and columns.
    values : str, optional
        The column summarised (``aggfunc`` ``"mean"`` or ``"sum"``); none for counts.
    aggfunc : {"count", "mean", "sum"}
    rules : Rules

    Returns
    -------
    pandas.DataFrame
        Per cell ``"ok"`` or the names of the failing checks, each followed by ``"; "``.

    Examples
    --------
    >>> d = pd.DataFrame({"s": ["a"] * 12 + ["b"] * 3, "t": "x"})
    >>> check_table(d, "s", "t")["x"].tolist()
    ['ok', 'MinimumThresholdCheck; ']
    """
    if aggfunc not in CHECKS:
        raise ValueError(f"`aggfunc` should be one of {list(CHECKS)}; got {aggfunc!r}")
    if (values is None) != (aggfunc == "count"):
        raise ValueError("`values` is needed for a mean or a sum, and only then")
    rows = sorted(data[index].dropna().unique())
    cols = sorted(data[columns].dropna().unique())
    out = pd.DataFrame("", index=pd.Index(rows, name=index), columns=pd.Index(cols, name=columns),
                       dtype=object)
    groups = data.groupby([index, columns], sort=False)
    for r in rows:
        for c in cols:
            cell = groups.get_group((r, c)) if (r, c) in groups.groups else data.iloc[:0]
            n = len(cell)
            vals = cell[values].tolist() if values else []
            fails = {
                "PresenceOfZeroCheck": bool(zero([n], rules)[0]),
                "MinimumThresholdCheck": bool(below_threshold([n], rules)[0]),
                "NKCheck": values is not None and nk_dominated(vals, rules),
                "PPercentCheck": values is not None and p_ratio_fails(vals, rules),
            }
            names = [k for k in CHECKS[aggfunc] if fails[k]]
            if values is not None and rules.check_missing_values and has_missing(vals):
                names.append("MissingCheck")
            out.at[r, c] = "".join(f"{k}; " for k in names) or "ok"
    return out


def status(outcome: pd.DataFrame) -> str:
    """Return an output's status from its outcome table, as ACRO gives it.

    ``fail`` when a cell fails a check, ``review`` when cells are only flagged by
    ``MissingCheck``, else ``pass``.

    Examples
    --------
    >>> status(pd.DataFrame({"x": ["ok", "NKCheck; "]})), status(pd.DataFrame({"x": ["ok"]}))
    ('fail', 'pass')
    """
    flags = {k for v in outcome.to_numpy().ravel() for k in str(v).split("; ") if k
             and k != "ok"}
    return "fail" if flags - {"MissingCheck"} else "review" if flags else "pass"

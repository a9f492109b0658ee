"""MatchIt's ``unit.id`` for nearest-neighbour matching without replacement.

MatchIt 4.7 (``nn_matchC_*``): every unit may be matched a limited number of times (a
control ``reuse.max`` times, a focal unit ``ratio`` times). After a focal unit takes a
control, the count of every unit sharing a ``unit.id`` with either of them goes up by one, and
a unit that reaches its limit leaves the pool: units with the same ``unit.id`` (the same pupil
observed twice, say) are used up together. Units already out are not counted again. MatchIt
ignores ``unit.id`` with replacement (``reuse.max`` at least the number of focal units) and
where the ids are all distinct among the focal units and among the others.
"""

from __future__ import annotations

import numpy as np


def unit_codes(data, columns: list[str], treat: np.ndarray, reuse_max: int
               ) -> np.ndarray | None:
    """Code each row's ``unit_id`` (the combination of ``columns``); None where MatchIt ignores it.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"family": [1, 2, 2, 3]})
    >>> unit_codes(d, ["family"], np.array([True, False, False, True]), 1).tolist()
    [0, 1, 1, 2]

    Ids distinct within each group (as MatchIt counts them) mean no grouping:

    >>> unit_codes(d, ["family"], np.array([True, False, True, False]), 1) is None
    True
    """
    n1 = int(treat.sum())
    if reuse_max >= n1:
        return None
    codes = data.groupby(list(columns), sort=False, dropna=False).ngroup().to_numpy()
    if (len(np.unique(codes[treat])) == n1
            and len(np.unique(codes[~treat])) == int((~treat).sum())):
        return None
    return codes


class UnitGroups:
    """Counts of matches per unit and the pool, shared by the units of each ``unit_id``.

    ``eligible`` is updated in place; ``allowed`` is each unit's limit.
    """

    def __init__(self, codes: np.ndarray, eligible: np.ndarray, allowed: np.ndarray):
        self.eligible = eligible
        self.allowed = allowed.tolist()
        self.times = [0] * len(codes)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(int(codes.max()) + 2))
        self.members = [order[bounds[g]:bounds[g + 1]].tolist()
                        for g in range(len(bounds) - 1)]
        self.codes = codes.tolist()

    def use(self, t: int, c: int) -> list[int]:
        """Count the match of ``t`` and ``c``; return the units that leave the pool."""
        g1, g2 = self.codes[t], self.codes[c]
        units = self.members[g1] if g1 == g2 else sorted(self.members[g1] + self.members[g2])
        out = []
        for u in units:
            if not self.eligible[u]:
                continue
            self.times[u] += 1
            if self.times[u] >= self.allowed[u]:
                self.eligible[u] = False
                out.append(u)
        return out

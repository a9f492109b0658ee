"""Similar schools: nearest neighbours on size, disadvantaged share and prior attainment.

Computed once for every school of a file (one k-d tree per phase on standardised features),
then looked up per report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

#: Features of similarity (columns of ``SchoolData.schools``), standardised within phase.
FEATURES = ("pupils", "share_dis", "prior_low", "prior_high")


@dataclass(frozen=True)
class SimilarSchools:
    """The ``k`` most similar schools of every school (same phase, Euclidean distance on z-scores).

    Attributes
    ----------
    neighbours : pandas.DataFrame
        Index ``urn``; columns ``rank`` 1..k as lists: ``urns`` (the neighbours, nearest
        first; ties broken by URN) and ``distances``.
    k : int
    features : tuple of str
    unmatched : tuple of str
        URNs without every feature (no similar schools found for them).
    """

    neighbours: pd.DataFrame = field(repr=False)
    k: int = 20
    features: tuple = FEATURES
    unmatched: tuple = ()

    def of(self, urn: str) -> list[str]:
        """Return the similar schools of one school (empty when it lacks a feature)."""
        return list(self.neighbours.at[urn, "urns"]) if urn in self.neighbours.index else []


def similar_schools(schools: pd.DataFrame, k: int = 20,
                    features: tuple = FEATURES) -> SimilarSchools:
    """Find each school's ``k`` nearest neighbours within its phase.

    Each feature is standardised (mean 0, SD 1) over the schools of the phase that have every
    feature; distances are Euclidean in that space (scipy ``cKDTree``). A school is never its
    own neighbour.

    Parameters
    ----------
    schools : pandas.DataFrame
        ``SchoolData.schools``: index ``urn``, a ``phase`` column and the features.
    k : int
        Neighbours per school (fewer when the phase has fewer other schools).
    features : tuple of str
        Columns to match on.

    Returns
    -------
    SimilarSchools

    Examples
    --------
    >>> s = pd.DataFrame({"phase": ["secondary"] * 4, "pupils": [100, 110, 900, 1000],
    ...                   "share_dis": [20, 21, 60, 61], "prior_low": [10, 10, 30, 30],
    ...                   "prior_high": [30, 30, 10, 10]},
    ...                  index=pd.Index(["1", "2", "3", "4"], name="urn"))
    >>> similar_schools(s, k=1).of("1"), similar_schools(s, k=1).of("4")
    (['2'], ['3'])
    """
    missing = [c for c in ("phase", *features) if c not in schools.columns]
    if missing:
        raise ValueError(f"`schools` lacks columns {missing}; expected 'phase' and {features}")
    rows, unmatched = {}, []
    for _, group in schools.groupby("phase", sort=True):
        x = group[list(features)].astype(float)
        ok = x.notna().all(axis=1)
        unmatched += group.index[~ok].tolist()
        x = x[ok].sort_index()
        if len(x) < 2:
            continue
        sd = x.std(ddof=0).replace(0, 1.0)
        z = ((x - x.mean()) / sd).to_numpy()
        kk = min(k + 1, len(x))
        dist, idx = cKDTree(z).query(z, k=kk)
        urns = x.index.to_numpy()
        for i, urn in enumerate(urns):
            order = [j for j in np.lexsort((urns[idx[i]], dist[i])) if idx[i][j] != i][:k]
            rows[urn] = {"urns": tuple(urns[idx[i][j]] for j in order),
                         "distances": tuple(float(dist[i][j]) for j in order)}
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["urns", "distances"])
    frame.index.name = "urn"
    return SimilarSchools(frame.sort_index(), k, tuple(features), tuple(sorted(unmatched)))

"""Which inference methods the simulation study found fit for few-school designs (`auto`).

``bench/simulation_study.py`` measures, over replications of the Manchester design in the
calibrated synthetic world (9 linked secondary schools), the 95% CI coverage of every inference
method for every pre-specified outcome. A method is **fit** for the design when every outcome's
coverage lies in 93-97%. Its verdicts are committed in ``evaluation/data/inference_fitness.csv``
(``method, fit, worst_coverage, reps, run_date``).

The rule ``fit_outcome(inference="auto")`` follows with fewer schools than the plan's
``inference.wild_bootstrap_below``: the first of `FEW_CLUSTER_PREFERENCE` (wild cluster
bootstrap, then CR2 with Bell-McCaffrey degrees of freedom, then CR1 with t(G - 1)) that is not
marked unfit by a verdict resting on at least `MIN_REPS` replications; without such a verdict
the preference order stands (a provisional verdict from fewer replications is reported but
never acted on).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import pandas as pd

#: Preference order of methods with few clusters.
FEW_CLUSTER_PREFERENCE = ("wild", "CR2", "CR1")
#: Fewest replications behind a verdict that the ``auto`` rule acts on.
MIN_REPS = 500
#: Coverage range of a fit method.
FIT_RANGE = (0.93, 0.97)


@lru_cache(maxsize=1)
def verdicts() -> pd.DataFrame:
    """Return the committed verdicts (empty when none are committed), indexed by method.

    Examples
    --------
    >>> list(verdicts().columns)
    ['fit', 'worst_coverage', 'reps', 'run_date']
    """
    path = resources.files("evaluation") / "data" / "inference_fitness.csv"
    if not path.is_file():
        return pd.DataFrame(columns=["fit", "worst_coverage", "reps", "run_date"])
    return pd.read_csv(path, index_col="method")


def few_cluster_method(table: pd.DataFrame | None = None) -> tuple[str, str]:
    """Return the method ``auto`` uses with few clusters, and why (``""``: first preference).

    Parameters
    ----------
    table : pandas.DataFrame, optional
        Verdicts as `verdicts` returns them (default: the committed ones).

    Examples
    --------
    >>> t = pd.DataFrame({"fit": [False, True], "worst_coverage": [0.91, 0.95],
    ...                   "reps": [500, 500], "run_date": ["d", "d"]}, index=["wild", "CR2"])
    >>> few_cluster_method(t)[0]
    'CR2'
    >>> few_cluster_method(t.assign(reps=120))[0]
    'wild'
    """
    table = verdicts() if table is None else table
    skipped = []
    for method in FEW_CLUSTER_PREFERENCE:
        if method in table.index:
            row = table.loc[method]
            if int(row["reps"]) >= MIN_REPS and not bool(row["fit"]):
                skipped.append(f"{method} (coverage {float(row['worst_coverage']):.1%} over "
                               f"{int(row['reps'])} simulated replications)")
                continue
        note = ("" if not skipped else "the simulation study found " + ", ".join(skipped)
                + f" outside {FIT_RANGE[0]:.0%}-{FIT_RANGE[1]:.0%} for this design, so "
                + method)
        return method, note
    return FEW_CLUSTER_PREFERENCE[-1], "no method was found fit; CR1 is the last resort"

"""Benchmarks for the E-value from the measured covariates (observed-covariate E-values).

An E-value says how strong a hidden characteristic would have to be to explain a finding; it
does not say whether such a characteristic is plausible. McGowan and Greevy (2020,
"Contextualizing E-values for interpretable sensitivity to unmeasured confounding analyses",
arXiv:2011.07030) benchmark it against the characteristics the data *do* record: leave one
measured covariate out of the model, see how far the interval's limit nearer no effect moves,
and express that shift as an E-value (:func:`evaluation.confounding.observed_covariate_e_value`,
R ``tipr::observed_covariate_e_value``). A finding whose interval E-value is below the
strongest measured covariate's could be explained away by a hidden characteristic no stronger
than one the evaluation already knows about, and is judged fragile
(:class:`evaluation.confounding.OutcomeConfounding`).

Every model here uses the same analytic inference (``CR1``, cluster-robust), so that the full
and reduced intervals differ only in the covariate left out; a covariate's powers
(``ks2_aps^2``) leave with it.
"""

from __future__ import annotations

import math

import pandas as pd

from evaluation.confounding import is_common, observed_covariate_e_value, ratio_interval
from evaluation.exceptions import NotEstimableError
from evaluation.models import fit_outcome

#: The inference of the benchmark fits (the same for the full and every reduced model).
BENCHMARK_INFERENCE = "CR1"


def covariate_groups(covariates: list[str]) -> dict[str, list[str]]:
    """Group model terms by the covariate they come from (a column and its powers).

    Examples
    --------
    >>> covariate_groups(["ks2_aps", "fsm", "ks2_aps^2"])
    {'ks2_aps': ['ks2_aps', 'ks2_aps^2'], 'fsm': ['fsm']}
    """
    groups: dict[str, list[str]] = {}
    for term in covariates:
        groups.setdefault(term.split("^")[0], []).append(term)
    return groups


def covariate_benchmarks(data: pd.DataFrame, outcome: str, family: str,
                         covariates: list[str], *, treatment: str = "em",
                         weights: str | None = "weights", cluster: str = "school_id",
                         alpha: float = 0.05, outcome_range: tuple | None = None,
                         common: bool | None = None) -> pd.DataFrame:
    """Return the observed-covariate E-value of every measured covariate for one outcome.

    Parameters
    ----------
    data : pandas.DataFrame
        The analysed (matched) pupils.
    outcome, family : str
        As :func:`evaluation.models.fit_outcome`.
    covariates : list of str
        The model's covariates (``Plan.model_covariates``); each column leaves the model with
        its powers.
    treatment, weights, cluster : str
        As :func:`evaluation.models.fit_outcome`.
    alpha : float
        1 - confidence level of the intervals.
    outcome_range : tuple, optional
        Possible values of the outcome.
    common : bool, optional
        Whether a 0/1 outcome is common (default: from ``data``).

    Returns
    -------
    pandas.DataFrame
        One row per covariate: ``covariate``, ``rr_ci_low``, ``rr_ci_high`` (the model
        without it, risk-ratio scale) and ``e_value`` (NaN when the full model's interval
        includes no effect or the reduced model cannot be fitted); sorted strongest first.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> n = 600
    >>> d = pd.DataFrame({"school_id": np.repeat(np.arange(12), 50),
    ...                   "x": rng.normal(size=n), "z": rng.normal(size=n)})
    >>> d["em"] = (d["x"] + rng.normal(size=n) > 0).astype(int)
    >>> d["y"] = 0.5 * d["em"] + 1.0 * d["x"] + rng.normal(size=n)
    >>> d["weights"] = 1.0
    >>> b = covariate_benchmarks(d, "y", "gaussian", ["x", "z"], outcome_range=(-10, 10))
    >>> b["covariate"].tolist(), bool(b["e_value"].iloc[0] > b["e_value"].iloc[1])
    (['x', 'z'], True)
    """
    if common is None:
        common = is_common(data, outcome)
    args = {"treatment": treatment, "weights": weights, "cluster": cluster, "alpha": alpha,
            "inference": BENCHMARK_INFERENCE, "outcome_range": outcome_range}
    full = fit_outcome(data, outcome, family, covariates, **args).summary().iloc[0]
    _, lo, hi, _ = ratio_interval(full, common)
    rows = []
    for base, terms in covariate_groups(covariates).items():
        kept = [c for c in covariates if c not in terms]
        try:
            red = fit_outcome(data, outcome, family, kept, **args).summary().iloc[0]
            _, lo_a, hi_a, _ = ratio_interval(red, common)
        except NotEstimableError:
            lo_a = hi_a = float("nan")
        rows.append({"covariate": base, "rr_ci_low": lo_a, "rr_ci_high": hi_a,
                     "e_value": observed_covariate_e_value(lo, hi, lo_a, hi_a)})
    out = pd.DataFrame(rows, columns=["covariate", "rr_ci_low", "rr_ci_high", "e_value"])
    return out.sort_values("e_value", ascending=False, na_position="last",
                           kind="stable").reset_index(drop=True)


def strongest(benchmarks: pd.DataFrame) -> tuple[float, str | None]:
    """Return the largest observed-covariate E-value and its covariate ((NaN, None): none).

    Examples
    --------
    >>> strongest(pd.DataFrame({"covariate": ["a", "b"], "e_value": [1.2, float("nan")]}))
    (1.2, 'a')
    """
    vals = benchmarks.dropna(subset=["e_value"])
    if vals.empty:
        return float("nan"), None
    top = vals.iloc[int(vals["e_value"].to_numpy().argmax())]
    value = float(top["e_value"])
    return (value, str(top["covariate"])) if math.isfinite(value) else (float("nan"), None)

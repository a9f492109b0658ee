"""Quick simulation study (11 schools, known effects): small bias, default CIs cover, naive don't.

The full study is ``bench/simulation_study.py`` (on ``evaluation.synthetic``); this one uses its
own small DGP (11 schools of 18 EM pupils and 60-160 comparators, as in the Manchester design)
with an effect that varies across schools, which is what makes clustering matter. The target is
the population effect on EM pupils (schools drawn afresh), the estimand cluster-robust
inference is about; conditioning on the schools drawn would make every method look better.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from evaluation.models import fit_outcome
from evaluation.multilevel import fit_multilevel

REPS = 40
COVARIATES = ["prior", "fsm"]
#: Every inference method the package offers for the design (as bench/simulation_study.py).
METHODS = ("wild", "CR2", "multilevel", "naive")


def _replication(seed):
    rng = np.random.default_rng(seed)
    parts = []
    for s in range(11):
        m = 18 + 60 + 10 * s
        em = np.arange(m) < 18
        fsm = rng.random(m) < np.where(em, 0.6, 0.25)
        prior = rng.normal(-0.3 * fsm, 1)
        tau = 5.0 + rng.normal(0, 3)                      # school-specific effect, points
        gamma = 0.4 + rng.normal(0, 0.4)                  # school-specific effect, log-odds
        eta = -0.2 + rng.normal(0, 0.3) + 0.8 * prior - 0.4 * fsm
        p1, p0 = expit(eta + gamma), expit(eta)
        parts.append(pd.DataFrame({
            "school_id": s, "em": em, "fsm": fsm, "prior": prior,
            "y": rng.normal(0, 4) + 8 * prior - 3 * fsm + tau * em + rng.normal(0, 10, m),
            "yb": (rng.random(m) < np.where(em, p1, p0)).astype(float),
            }))
    df = pd.concat(parts, ignore_index=True)
    n_e = df.groupby("school_id")["em"].transform("sum")
    n_c = (~df["em"]).groupby(df["school_id"]).transform("sum")
    df["weights"] = np.where(df["em"], 1.0, n_e / n_c * (~df["em"]).sum() / df["em"].sum())
    return df


def _population_truth():
    """Effects on EM pupils over the population of schools (Monte Carlo, 1.8 million pupils)."""
    rng = np.random.default_rng(99)
    n = 100_000 * 18
    fsm = rng.random(n) < 0.6
    eta = (-0.2 + np.repeat(rng.normal(0, 0.3, 100_000), 18) + 0.8 * rng.normal(-0.3 * fsm, 1)
           - 0.4 * fsm)
    gamma = np.repeat(0.4 + rng.normal(0, 0.4, 100_000), 18)
    return {"y": 5.0, "yb": float(np.mean(expit(eta + gamma) - expit(eta)))}


@pytest.fixture(scope="module")
def study():
    rows, truth = [], _population_truth()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(REPS):
            df = _replication(seed)
            for outcome, family in (("y", "gaussian"), ("yb", "binomial")):
                sd = df[outcome].std()
                for method in METHODS:
                    res = (fit_multilevel(df, outcome, family, COVARIATES, treatment="em",
                                          group="school_id", weights="weights")
                           if method == "multilevel" else
                           fit_outcome(df, outcome, family, COVARIATES, inference=method,
                                       n_boot=199, random_state=seed))
                    rows.append({"outcome": outcome, "method": method,
                                 "err": (res.estimate - truth[outcome]) / sd,
                                 "covered": res.ci_low <= truth[outcome] <= res.ci_high})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("outcome", ["y", "yb"])
def test_bias_is_small_in_sd_units(study, outcome):
    err = study.loc[(study["outcome"] == outcome) & (study["method"] == "wild"), "err"]
    # Monte Carlo SE of the mean is about 0.01 SD here; 0.03 is three of them
    assert abs(err.mean()) < 0.03


@pytest.mark.parametrize("outcome", ["y", "yb"])
def test_default_inference_covers_and_naive_does_not(study, outcome):
    cover = study[study["outcome"] == outcome].groupby("method")["covered"].mean()
    assert cover["wild"] >= 0.85            # 95% nominal; 40 reps: P(< 0.85) < 1%
    assert cover["naive"] < cover["wild"]


@pytest.mark.parametrize("outcome", ["y", "yb"])
def test_cr2_covers(study, outcome):
    """CR2 with Bell-McCaffrey df covers too. The multilevel model is fitted and kept in the
    study but not asserted: with effects that vary between schools its random-intercept
    model (one effect for all schools; unweighted, or with the matching weights as lmer's
    prior weights) covered the points outcome only 82.5% in this DGP (measured 2026-11-25 and
    again with weights); bench/simulation_study.py judges every method's fitness on
    the synthetic Manchester design."""
    cover = study[study["outcome"] == outcome].groupby("method")["covered"].mean()
    assert cover["CR2"] >= 0.85


def test_the_full_study_runs_and_judges_fitness():
    """Two replications of bench/simulation_study.py: every method, both targets, verdicts."""
    import importlib.util
    from pathlib import Path

    from evaluation.plan import load_plan

    path = Path(__file__).resolve().parents[1] / "bench" / "simulation_study.py"
    spec = importlib.util.spec_from_file_location("simulation_study", path)
    sim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sim)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = sim.replicate(1, load_plan(), 99, ("CR2", "multilevel"), 3)
    table = sim.summarise(pd.DataFrame(rows))
    assert set(table.index.get_level_values("method")) == {"CR2", "multilevel"}
    assert table["failed"].eq(0).all() and table["reps"].eq(1).all()
    # the identified target differs from the true effect by the known hidden bias
    assert (table["bias_sd"] != table["bias_id_sd"]).all()
    verdict = sim.fitness(table)
    assert not verdict["fit"].any()       # one replication covers 0% or 100%: never 93-97%

"""Simulation study of the outcome models: bias, RMSE and CI coverage under the Manchester design.

Each replication draws the EM programme schools from ``evaluation.synthetic.generate`` with
known effects (``include_population=False``), builds the secondary analysis sample, matches it
exactly on school and cohort (``evaluation.matching.match``, ATT weights), fits every secondary
outcome of the plan and compares the estimate with the replication's true average effect on
EM pupils (``Dataset.truth.effect``: points, or a risk difference on the 0-1 scale).

    .venv/bin/python bench/simulation_study.py --reps 500 --boot 399

Prints, per outcome: true effect, mean estimate, bias and RMSE in outcome SD units, and the
95% CI coverage of the default inference (wild cluster bootstrap below 30 schools), of CR1
with t(G-1), and of naive model-based (non-clustered) standard errors.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # small matrices: threads only oversubscribe shared cores

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from evaluation.matching import match  # noqa: E402
from evaluation.models import fit_outcome  # noqa: E402
from evaluation.plan import load_plan  # noqa: E402
from evaluation.sample import analysis_sample  # noqa: E402
from evaluation.synthetic import generate  # noqa: E402

#: True effects: points for the Gaussian outcome, log-odds for the binary ones (0: null).
EFFECTS = {"gcse_capped_points": 20.0, "gcse_5ac_em": 0.4, "gcse_5ac": 0.0, "ks4_ep_eng": 0.25,
           "ks4_ep_mat": 0.0}
METHODS = ("wild", "naive", "CR1")


def replicate(seed: int, plan, n_boot: int, methods=METHODS, degree: int = 1) -> list[dict]:
    """Fit every secondary outcome of one synthetic replication with every method."""
    ds = generate(seed=seed, include_population=False, effects=EFFECTS)
    sample = analysis_sample(ds.pupils, "secondary", plan)
    data = match(sample.data, treatment="em", covariates=plan.covariates("secondary"),
                 method="exact", exact=["school_id", "cohort"]).matched_data()
    prior = plan.prior("secondary")
    covariates = plan.covariates("secondary") + [f"{prior}^{k}" for k in range(2, degree + 1)]
    truth = ds.truth.set_index(["phase", "outcome"])
    rows = []
    for spec in plan.outcomes("secondary"):
        name = spec["name"]
        y = data[name].dropna()
        sd = float(y.std(ddof=1))
        for method in methods:
            res = fit_outcome(data, name, spec["family"], covariates,
                              inference=method, n_boot=n_boot, random_state=seed)
            rows.append({"seed": seed, "outcome": name, "family": spec["family"],
                         "method": method, "truth": float(truth.loc[("secondary", name),
                                                                   "effect"]),
                         "estimate": res.estimate, "ci_low": res.ci_low,
                         "ci_high": res.ci_high, "sd": sd, "n_schools": res.n_schools})
    return rows


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Bias, RMSE (SD units) and coverage per outcome and method."""
    df = df.assign(err=(df["estimate"] - df["truth"]) / df["sd"],
                   covered=(df["ci_low"] <= df["truth"]) & (df["truth"] <= df["ci_high"]))
    main = df[df["method"] == "wild"].groupby("outcome", sort=False).agg(
        family=("family", "first"), true_effect=("truth", "mean"),
        mean_estimate=("estimate", "mean"), bias_sd=("err", "mean"),
        rmse_sd=("err", lambda e: float(np.sqrt(np.mean(e ** 2)))),
        mcse_bias=("err", lambda e: float(e.std(ddof=1) / np.sqrt(len(e)))),
        schools=("n_schools", "median"))
    cover = df.pivot_table(index="outcome", columns="method", values="covered",
                           aggfunc="mean", sort=False)
    cover.columns = [f"coverage_{c}" for c in cover.columns]
    return main.join(cover[[f"coverage_{m}" for m in METHODS if m in df["method"].unique()]])


def main(argv=None) -> int:
    """Run the study and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--boot", type=int, default=399, help="bootstrap replications")
    parser.add_argument("--seed", type=int, default=1, help="first replication seed")
    parser.add_argument("--methods", default="wild,naive",
                        help=f"comma-separated subset of {','.join(METHODS)}")
    parser.add_argument("--prior-degree", type=int, default=None,
                        help="powers of prior attainment up to this degree "
                             "(default: the plan's prior_degree)")
    parser.add_argument("--out", help="optional CSV of every replication's estimates")
    args = parser.parse_args(argv)
    plan = load_plan()
    if args.prior_degree is None:
        args.prior_degree = int(plan.raw.get("prior_degree", 1))
    start = time.perf_counter()
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation/convergence notes are counted, not shown
        for i in range(args.reps):
            rows += replicate(args.seed + i, plan, args.boot, args.methods.split(","),
                              args.prior_degree)
            if (i + 1) % 50 == 0:
                print(f"  {i + 1} replications, {time.perf_counter() - start:.0f} s",
                      file=sys.stderr)
    df = pd.DataFrame(rows)
    if args.out:
        df.to_csv(args.out, index=False)
    table = summarise(df)
    mc = 1.96 * np.sqrt(0.95 * 0.05 / args.reps)
    print(f"Simulation study: {args.reps} replications, {args.boot} bootstrap reps, "
          f"methods {args.methods}, prior degree {args.prior_degree}, "
          f"secondary phase, {time.perf_counter() - start:.0f} s "
          f"(coverage Monte Carlo 95% margin +/- {mc:.3f})")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

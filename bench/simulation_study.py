"""Simulation study of the outcome models: bias, RMSE and CI coverage under the Manchester design.

Each replication draws the EM programme schools from ``evaluation.synthetic.generate`` with
known effects (``include_population=False``; the calibrated world of `WorldParams`, with its
selection on the unobserved support ``w``), builds the secondary analysis sample, matches it
exactly on school and cohort once (``evaluation.matching.match``, ATT weights) and fits every
secondary outcome of the plan with every inference method on the same matched data.

Two targets per replication (``Dataset.truth``): the true average effect on EM pupils
(``effect``) and what the design can identify, ``effect + bias_hidden`` (the true effect plus
the known bias of selection on ``w``, which no inference method can remove). Bias and RMSE are
reported against both (outcome SD units); **coverage is of the identified target**, the
question an inference method answers; coverage of the true effect is shown beside it.

A method is **fit** for the design when its coverage of every outcome lies in 93-97%
(`FIT_RANGE`); ``--fitness`` writes the verdicts (``bench/inference_fitness.csv``) that the
report shows.

    .venv/bin/python bench/simulation_study.py --reps 500 --boot 399
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
from evaluation.multilevel import fit_multilevel  # noqa: E402
from evaluation.plan import load_plan  # noqa: E402
from evaluation.sample import analysis_sample  # noqa: E402
from evaluation.synthetic import generate  # noqa: E402

#: True effects: points for the Gaussian outcome, log-odds for the binary ones (0: null).
EFFECTS = {"gcse_capped_points": 20.0, "gcse_5ac_em": 0.4, "gcse_5ac": 0.0, "ks4_ep_eng": 0.25,
           "ks4_ep_mat": 0.0}
METHODS = ("CR2", "wild", "multilevel", "CR1", "naive")
#: Coverage range within which a method is fit for the design.
FIT_RANGE = (0.93, 0.97)


def _fit(data, name, family, covariates, method, n_boot, seed):
    if method == "multilevel":
        res = fit_multilevel(data, name, family, covariates, treatment="em",
                             group="school_id", weights="weights")
        return res.estimate, res.ci_low, res.ci_high
    res = fit_outcome(data, name, family, covariates, inference=method, n_boot=n_boot,
                      random_state=seed)
    return res.estimate, res.ci_low, res.ci_high


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
        row = truth.loc[("secondary", name)]
        for method in methods:
            try:
                est, lo, hi = _fit(data, name, spec["family"], covariates, method, n_boot, seed)
            except Exception as err:  # noqa: BLE001 - a failed fit is counted, not hidden
                est, lo, hi = np.nan, np.nan, np.nan
                print(f"  seed {seed} {name} {method}: {type(err).__name__}: {err}",
                      file=sys.stderr)
            rows.append({"seed": seed, "outcome": name, "family": spec["family"],
                         "method": method, "truth": float(row["effect"]),
                         "bias_hidden": float(row["bias_hidden"]),
                         "estimate": est, "ci_low": lo, "ci_high": hi, "sd": sd,
                         "n_schools": int(data["school_id"].nunique())})
    return rows


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Per outcome and method: bias and RMSE (SD units, against the true effect and against the
    identified target), coverage of both, failed fits, and whether the method is fit."""
    target = df["truth"] + df["bias_hidden"]
    ok = df["estimate"].notna()
    df = df.assign(err=(df["estimate"] - df["truth"]) / df["sd"],
                   err_id=(df["estimate"] - target) / df["sd"],
                   covered=(df["ci_low"] <= target) & (target <= df["ci_high"]),
                   covered_true=(df["ci_low"] <= df["truth"]) & (df["truth"] <= df["ci_high"]))
    out = df[ok].groupby(["outcome", "method"], sort=False).agg(
        reps=("err", "size"), true_effect=("truth", "mean"),
        hidden_bias=("bias_hidden", "mean"), mean_estimate=("estimate", "mean"),
        bias_sd=("err", "mean"), bias_id_sd=("err_id", "mean"),
        rmse_sd=("err", lambda e: float(np.sqrt(np.mean(e ** 2)))),
        coverage=("covered", "mean"), coverage_true=("covered_true", "mean"))
    out["failed"] = df[~ok].groupby(["outcome", "method"]).size().reindex(out.index).fillna(0)
    lo, hi = FIT_RANGE
    out["fit"] = (out["coverage"] >= lo) & (out["coverage"] <= hi) & (out["failed"] == 0)
    return out


def fitness(table: pd.DataFrame) -> pd.DataFrame:
    """One row per method: fit for the design when every outcome's coverage is in range."""
    g = table.groupby(level="method", sort=False)
    return pd.DataFrame({"fit": g["fit"].all(), "worst_coverage": g["coverage"].agg(
        lambda c: c.iloc[np.argmax(np.abs(c - 0.95))]), "reps": g["reps"].min()})


def _run(args, plan, start: float) -> pd.DataFrame:
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # separation/convergence notes are counted, not shown
        for i in range(args.reps):
            rows += replicate(args.seed + i, plan, args.boot, args.methods.split(","),
                              args.prior_degree)
            if (i + 1) % 10 == 0:
                print(f"  {i + 1} replications, {time.perf_counter() - start:.0f} s",
                      file=sys.stderr, flush=True)
                if args.out:                      # partial results survive an interruption
                    pd.DataFrame(rows).to_csv(args.out, index=False)
    df = pd.DataFrame(rows)
    if args.out:
        df.to_csv(args.out, index=False)
    return df


def main(argv=None) -> int:
    """Run the study and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--boot", type=int, default=399, help="bootstrap replications")
    parser.add_argument("--seed", type=int, default=1, help="first replication seed")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help=f"comma-separated subset of {','.join(METHODS)}")
    parser.add_argument("--prior-degree", type=int, default=None,
                        help="powers of prior attainment up to this degree "
                             "(default: the plan's prior_degree)")
    parser.add_argument("--out", help="optional CSV of every replication's estimates")
    parser.add_argument("--fitness", help="optional CSV of the methods' fitness verdicts")
    parser.add_argument("--from-csv", nargs="+", metavar="CSV",
                        help="summarise replications already run (the --out files of runs "
                             "over disjoint seeds, e.g. two halves run in parallel) instead "
                             "of running any")
    args = parser.parse_args(argv)
    plan = load_plan()
    if args.prior_degree is None:
        args.prior_degree = int(plan.raw.get("prior_degree", 1))
    start = time.perf_counter()
    if args.from_csv:
        df = pd.concat([pd.read_csv(f) for f in args.from_csv], ignore_index=True)
        dup = df.duplicated(["seed", "outcome", "method"])
        if dup.any():
            raise SystemExit(f"--from-csv: {int(dup.sum())} rows repeat a seed, outcome and "
                             "method; give files of disjoint seeds")
        args.reps = int(df["seed"].nunique())
        args.methods = ",".join(df["method"].drop_duplicates())
    else:
        df = _run(args, plan, start)
    table = summarise(df)
    verdict = fitness(table)
    if args.fitness:   # the columns evaluation.inference_fitness.verdicts() reads
        verdict.assign(run_date=time.strftime("%Y-%m-%d", time.gmtime())).to_csv(
            args.fitness, index_label="method")
    mc = 1.96 * np.sqrt(0.95 * 0.05 / args.reps)
    print(f"Simulation study: {args.reps} replications, {args.boot} bootstrap reps, "
          f"methods {args.methods}, prior degree {args.prior_degree}, "
          f"secondary phase, {time.perf_counter() - start:.0f} s "
          f"(coverage Monte Carlo 95% margin +/- {mc:.3f})")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"\nFit for the design (coverage of every outcome in {FIT_RANGE}):")
    print(verdict.to_string(float_format=lambda v: f"{v:.3f}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

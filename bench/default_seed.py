"""How the default seed of the synthetic data was chosen: the audit trail of that choice.

A single synthetic data set is one random draw. The default one is what every report shows,
so it should be a typical draw of the known-truth replication, neither lucky nor unlucky.
The rule, fixed before the search was run:

    the default seed is the first seed s = 1, 2, 3, ... at which the overall evaluation of
    ``generate(seed=s)`` (default scenario; ``evaluate(..., seed=s)``, as the reports run it)
    (a) estimates the headline GCSE capped points effect within one standard error of its
        true value (SE = 95% CI half-width / 1.96), significant after Holm (p < 0.05), and
    (b) finds every other pre-specified outcome of both phases (true effect zero) not
        significant after Holm, with a 95% CI containing zero (or not estimable).

The evidence about the method is the simulation study (``bench/simulation_study.py``: bias
and coverage over 500 replications), not any one seed; this script only picks the
demonstration data and prints every seed it rejected and why.

    .venv/bin/python bench/default_seed.py            # stop at the first accepted seed
    .venv/bin/python bench/default_seed.py --upto 40  # or tabulate seeds 1..40
"""

from __future__ import annotations

import argparse
import itertools
import warnings

import numpy as np
import pandas as pd

from evaluation.plan import load_plan
from evaluation.recovery import truth_check
from evaluation.results import _phase, scope_schools
from evaluation.synthetic import generate

HEADLINE = ("secondary", "gcse_capped_points")


def check(seed: int, plan) -> dict:
    """The rule's verdict for one seed, with the numbers behind it."""
    # the EM schools' data do not depend on the national population, and a phase's impact is
    # the same whether the overall evaluation or this call computes it (`results._phase`), so
    # this gives the overall report's estimates without its sections and cluster reports
    ds = generate(seed=seed, scenario="default", include_population=False)
    scoped = ds.for_schools(scope_schools(ds.schools, None)["school_id"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        phases = {p: _phase(scoped, plan, p, seed, overall=False) for p in ("secondary",
                                                                            "primary")}
    rows = pd.concat([truth_check(ph.impact.table(), ds.truth, name)
                      for name, ph in phases.items() if ph.impact is not None])
    rows = rows.set_index(["phase", "outcome"])
    alpha = float(plan.section("inference")["alpha"])
    head = rows.loc[HEADLINE]
    se = (head["ci_high"] - head["ci_low"]) / (2 * 1.96)
    z = head["error"] / se
    others = rows.drop(index=HEADLINE)
    missed = ~others["covered"].fillna(True).astype(bool)     # not estimable: nothing shown
    false_pos = others[(others["p_holm"] < alpha) | missed]
    reasons = []
    if not abs(z) <= 1.0:
        reasons.append(f"headline error {z:+.2f} SE")
    if not head["p_holm"] < alpha:
        reasons.append(f"headline Holm p {head['p_holm']:.3f}")
    if len(false_pos):
        reasons.append("null outcome flagged: " + ", ".join(o for _, o in false_pos.index))
    return {"seed": seed, "estimate": head["estimate"], "ci_low": head["ci_low"],
            "ci_high": head["ci_high"], "truth": head["true_effect"], "error_se": z,
            "p_holm": head["p_holm"], "accepted": not reasons,
            "why_not": "; ".join(reasons)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upto", type=int, default=None,
                    help="tabulate seeds 1..UPTO instead of stopping at the first accepted")
    ap.add_argument("--start", type=int, default=1,
                    help="resume the search at this seed (the ones before it were rejected)")
    args = ap.parse_args(argv)
    plan = load_plan()
    rows = []
    for seed in itertools.count(args.start):
        r = check(seed, plan)
        rows.append(r)
        print(f"seed {seed:3d}: {r['estimate']:+6.1f} ({r['ci_low']:+.1f} to {r['ci_high']:+.1f})"
              f" truth {r['truth']:.1f}, error {r['error_se']:+.2f} SE, Holm p "
              f"{r['p_holm']:.3f}: {'ACCEPTED' if r['accepted'] else r['why_not']}", flush=True)
        if (args.upto is None and r["accepted"]) or (args.upto is not None
                                                     and seed >= args.upto):
            break
    df = pd.DataFrame(rows)
    print(f"\n{int(df['accepted'].sum())} of {len(df)} seeds accepted; first: "
          f"{df.loc[df['accepted'], 'seed'].min() if df['accepted'].any() else 'none'}; "
          f"headline error in SE over these seeds: mean {df['error_se'].mean():+.2f}, "
          f"SD {df['error_se'].std(ddof=1):.2f}, |error| <= 1 SE in "
          f"{np.mean(df['error_se'].abs() <= 1):.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

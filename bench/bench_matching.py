"""Benchmark: 1:1 nearest-neighbour matching at national scale, vs R MatchIt 4.7 and peers.

Builds a synthetic national cohort (600,000 pupils, 3,000 schools, about 1% EM pupils
concentrated in 150 schools), then times on identical data the matching call alone,
in-process on each side: ``evaluation.matching.match`` (logistic propensity score, exact on
school or no strata), R MatchIt 4.7.x (``bench_matching.R``, from the library on ``R_LIBS``;
skipped with a message when R or MatchIt >= 4.7 is absent) and the Python peers installed in
``bench/.venv-peers`` (psmpy, causalml, pymatchit-causal). Prints a table: tool, seconds,
peak MB (allocation peak of the call: tracemalloc in Python, R's gc "max used"), the ratios
of the tool's time and memory to ours on the same rows and strata, and whether the matched
set is identical to ours.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
PEERS = HERE / ".venv-peers" / "bin" / "python"
COVS = ["prior", "fsm", "female", "sen", "eal"]
sys.path.insert(0, str(HERE.parent / "tests"))


def cohort(n: int = 600_000, schools: int = 3_000, em_schools: int = 150, seed: int = 1
           ) -> pd.DataFrame:
    """National-scale synthetic cohort; EM pupils (about 1%) in ``em_schools`` schools."""
    rng = np.random.default_rng(seed)
    school = np.sort(rng.integers(0, schools, n))
    fsm = rng.random(n) < 0.16
    prior = np.round(rng.normal(27 - 3 * fsm, 4), 2)
    em_school = np.zeros(schools, bool)
    em_school[rng.choice(schools, em_schools, replace=False)] = True
    lin = -1.6 + 1.2 * fsm - 0.08 * (prior - 27)
    em = em_school[school] & (rng.random(n) < 1 / (1 + np.exp(-lin)))
    return pd.DataFrame({
        "id": np.arange(n).astype(str), "school_id": np.char.add("S", school.astype(str)),
        "em": em, "prior": prior, "fsm": fsm.astype(int),
        "female": rng.integers(0, 2, n), "eal": (rng.random(n) < 0.15).astype(int),
        "sen": rng.choice(["none", "support", "statement"], n, p=[0.8, 0.16, 0.04])})


def ours(d: pd.DataFrame, exact: list[str] | None = ("school_id",), **kw):
    """Time our call (best of 3, after a warm-up) and its allocation peak (a 4th call)."""
    from evaluation.matching import match

    exact = list(exact) if exact else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        match(d.head(2000), "em", COVS, exact=exact, **kw)  # warm-up (imports)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            m = match(d, "em", COVS, exact=exact, **kw)
            times.append(time.perf_counter() - t0)
        tracemalloc.start()  # a separate call for memory: tracing slows the call down
        match(d, "em", COVS, exact=exact, **kw)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return min(times), peak, set(d.loc[m.weights.to_numpy() > 0, "id"]), m


#: Where the bench looks for MatchIt 4.7.x: R_LIBS (a private library built from upstream
#: sources; Debian's MatchIt 4.5.1 is not the reference, see DESIGN section 4).
R_MIN_VERSION = (4, 7)


def r_version() -> tuple[str | None, str]:
    """MatchIt's version on ``R_LIBS``, or None and why it cannot be used."""
    lib = os.environ.get("R_LIBS", "")
    try:
        p = subprocess.run(["Rscript", "-e", 'cat(as.character(packageVersion("MatchIt")))'],
                           capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        return None, "Rscript not installed: R MatchIt skipped"
    if p.returncode:
        return None, (f"MatchIt not found on R_LIBS={lib or '(unset)'}: R MatchIt skipped "
                      "(build MatchIt 4.7.x into a private library and run "
                      "R_LIBS=<library> make bench)")
    version = p.stdout.strip()
    if tuple(int(v) for v in version.split(".")[:2]) < R_MIN_VERSION:
        return None, (f"MatchIt {version} on R_LIBS={lib or '(unset)'} is older than 4.7: R "
                      "MatchIt skipped (its nearest-neighbour code differs; build 4.7.x into "
                      "a private library and run R_LIBS=<library> make bench)")
    return version, ""


def r_matchit(csv: Path, strata: str):
    out = CACHE / f"r_matched_{csv.stem}_{strata}.csv"
    p = subprocess.run(["Rscript", str(HERE / "bench_matching.R"), str(csv), str(out),
                        strata], capture_output=True, text=True, timeout=3600)
    if p.returncode:
        return None, "failed: " + (p.stderr.strip().splitlines() or ["?"])[-1][:80]
    version, secs, peak = p.stdout.strip().splitlines()[-1].split(",")
    ids = set(pd.read_csv(out, dtype=str)["id"])
    dist = pd.read_csv(out.with_name(out.stem + "_distance.csv"), dtype={"id": str})
    return (f"R MatchIt {version}", float(secs), float(peak), ids, dist), ""


#: Peer scripts: argv = cohort.csv, out.csv, strata ("school" or "none"); each prints
#: "seconds,peak MB" of the matching call (propensity model included) and writes the ids
#: of the matched pupils.
PEER_CODE = {
    "causalml": """
import sys, time, tracemalloc, pandas as pd
from sklearn.linear_model import LogisticRegression
from causalml.match import NearestNeighborMatch
d = pd.read_csv(sys.argv[1], dtype={'id': str})
X = pd.get_dummies(d[COVS_LIST], drop_first=True).astype(float)
tracemalloc.start(); t0 = time.perf_counter()
d['ps'] = LogisticRegression(penalty=None, max_iter=1000).fit(X, d['em']).predict_proba(X)[:, 1]
nn = NearestNeighborMatch(replace=False, ratio=1, random_state=1)
m = (nn.match_by_group(data=d, treatment_col='em', score_cols=['ps'], groupby_col='school_id')
     if sys.argv[3] == 'school' else nn.match(data=d, treatment_col='em', score_cols=['ps']))
secs = time.perf_counter() - t0; peak = tracemalloc.get_traced_memory()[1] / 2**20
pd.DataFrame({'id': m['id']}).to_csv(sys.argv[2], index=False)
print(f'{secs},{peak}')
""",
    "pymatchit-causal": """
import sys, time, tracemalloc, warnings, pandas as pd
from pymatchit import MatchIt
warnings.simplefilter('ignore')
d = pd.read_csv(sys.argv[1], dtype={'id': str})
tracemalloc.start(); t0 = time.perf_counter()
m = MatchIt(d, method='nearest', distance='glm',
            exact=['school_id'] if sys.argv[3] == 'school' else None)
m.fit('em ~ ' + ' + '.join(COVS_LIST))
secs = time.perf_counter() - t0; peak = tracemalloc.get_traced_memory()[1] / 2**20
pd.DataFrame({'id': d.loc[m.weights.to_numpy() > 0, 'id']}).to_csv(sys.argv[2], index=False)
print(f'{secs},{peak}')
""",
    "psmpy": """
import sys, time, tracemalloc, warnings, pandas as pd
from psmpy import PsmPy
warnings.simplefilter('ignore')
d = pd.read_csv(sys.argv[1], dtype={'id': str})
X = pd.get_dummies(d[['id', 'em'] + COVS_LIST], columns=['sen'], drop_first=True)
X[[c for c in X if c.startswith('sen_')]] = X[[c for c in X if c.startswith('sen_')]].astype(int)
tracemalloc.start(); t0 = time.perf_counter()
psm = PsmPy(X, treatment='em', indx='id')
psm.logistic_ps(balance=False)
psm.kdtree_matched(matcher='propensity_score', replacement=False, caliper=None)
secs = time.perf_counter() - t0; peak = tracemalloc.get_traced_memory()[1] / 2**20
ids = pd.concat([psm.matched_ids['id'], psm.matched_ids['matched_ID']]).dropna().astype(str)
pd.DataFrame({'id': ids}).to_csv(sys.argv[2], index=False)
print(f'{secs},{peak}')
""",
}
PEER_CODE = {k: v.replace("COVS_LIST", repr(COVS)) for k, v in PEER_CODE.items()}
#: Peers that cannot match within strata: run without strata on the same rows.
NO_STRATA = {"psmpy": "no exact/group option: run without strata"}


def peer(name: str, csv: Path, strata: str):
    if not PEERS.exists():
        return None, "not installed (python -m venv bench/.venv-peers; pip install " + name + ")"
    out = CACHE / f"{name}_matched_{csv.stem}_{strata}.csv"
    try:
        p = subprocess.run([str(PEERS), "-c", PEER_CODE[name], str(csv), str(out), strata],
                           capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return None, "did not finish within 5 minutes"
    if p.returncode:
        return None, "failed: " + (p.stderr.strip().splitlines() or ["?"])[-1][:80]
    secs, peak = map(float, p.stdout.strip().splitlines()[-1].split(","))
    return (name, secs, peak, set(pd.read_csv(out, dtype=str)["id"])), ""


def main() -> None:
    CACHE.mkdir(exist_ok=True)
    full = cohort()
    sub = full[full.groupby("school_id")["em"].transform("any")].reset_index(drop=True)
    csv_sub, csv_full = CACHE / "cohort_em_schools.csv", CACHE / "cohort_all.csv"
    sub.assign(em=sub["em"].astype(int)).to_csv(csv_sub, index=False)
    full.assign(em=full["em"].astype(int)).to_csv(csv_full, index=False)
    print(f"cohort: {len(full):,} pupils in {full['school_id'].nunique():,} schools; "
          f"{int(full['em'].sum()):,} EM pupils in {sub['school_id'].nunique()} schools; "
          f"{len(sub):,} pupils in schools with EM pupils")
    cases = {  # (rows, strata) -> our result
        ("all", "school"): ours(full),
        ("all", "none"): ours(full, None),
        ("em schools", "school"): ours(sub),
        ("em schools", "none"): ours(sub, None),
    }
    version, why_not_r = r_version()
    runs = ([("R MatchIt", rows, strata) for rows, strata in cases] if version else [])
    runs += [("psmpy", "em schools", "none"), ("causalml", "em schools", "school"),
             ("pymatchit-causal", "em schools", "school")]
    rows, notes, measured = [], [], {}
    for (which, strata), (secs, peak, _, _) in cases.items():
        rows.append(("evaluation.matching", which, strata, secs, peak, "1.0", "1.0", "-"))
    if why_not_r:
        rows.append(("R MatchIt", "-", "-", np.nan, np.nan, "-", "-", why_not_r))
    for tool, which, strata in runs:
        csv = csv_sub if which == "em schools" else csv_full
        res, why = (r_matchit(csv, strata) if tool == "R MatchIt" else peer(tool, csv, strata))
        if tool in NO_STRATA:
            why = (why + "; " if why else "") + NO_STRATA[tool]
        if res is None:
            rows.append((tool, which, strata, np.nan, np.nan, "-", "-", why))
            continue
        name, s, pk, other = res[:4]
        ours_s, ours_pk, ids, m = cases[(which, strata)]
        same = "yes" if other == ids else f"no ({len(other ^ ids):,} pupils differ)"
        if tool in NO_STRATA:
            same += "; " + NO_STRATA[tool]
        rows.append((name, which, strata, s, pk, f"{s / ours_s:.1f}", f"{pk / ours_pk:.1f}",
                     same))
        if tool == "R MatchIt":
            measured[(which, strata)] = (name, s, pk)
            dist = res[4].set_index("id")["distance"].reindex(
                (sub if which == "em schools" else full)["id"]).to_numpy()
            gap = np.abs(dist - m.distance.to_numpy()).max()
            notes.append(f"propensity score, ours vs R glm ({which}, strata {strata}, "
                         f"{len(dist):,} rows): max |difference| = {gap:.1e}")
    table = pd.DataFrame(rows, columns=["tool", "rows", "strata", "seconds", "peak MB",
                                        "time / ours", "memory / ours",
                                        "identical matched set"])
    with pd.option_context("display.width", 250, "display.max_colwidth", 90):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    goals = {"school": 15.0, "none": 10.0}
    for (which, strata), (name, s, pk) in measured.items():
        ours_s, ours_pk = cases[(which, strata)][:2]
        line = (f"{name} vs ours, {which}, strata {strata}: {s:.2f} s / {ours_s:.3f} s = "
                f"{s / ours_s:.1f}x; peak {pk:.0f} MB / {ours_pk:.0f} MB")
        if which == "all":
            line += (f" (goal >= {goals[strata]:.0f}x: "
                     f"{'met' if s / ours_s >= goals[strata] else 'NOT met'})")
        notes.append(line)
    r_none = CACHE / "r_matched_cohort_all_none.csv"
    if ("all", "none") in measured and r_none.exists():
        secs, _, ids, _ = ours(full, None, distance_options=R_GLM)
        other = set(pd.read_csv(r_none, dtype={"id": str})["id"])
        notes.append(f"ours with distance_options={R_GLM} (R's glm iterations), all, strata "
                     f"none: {secs:.3f} s; matched set identical to R MatchIt's: "
                     + ("yes" if ids == other else f"no ({len(ids ^ other):,} pupils differ)"))
    for n in notes:
        print(n)
    optimal_and_full(sub, version)


#: R's glm.control defaults: the propensity model stops where R's glm stops.
R_GLM = {"epsilon": 1e-8, "maxit": 25}


#: Schools (with EM pupils) in the optimal / full matching comparison (about 6,000 pupils):
#: R's optmatch takes minutes on all 150. Ours solves optmatch's networks with the port of its
#: solver (evaluation/matching/_lemon.py), compiled by numba (_lemon_jit.py).
OPTIMAL_SCHOOLS = 30


def _rounded_cost(d: pd.DataFrame, m, sub: np.ndarray) -> dict:
    """Total distance rounded as optmatch rounds it (our resolution), by school."""
    t = d["em"].to_numpy().astype(bool)
    ps = m.distance.to_numpy()
    school = d["school_id"].astype(str).to_numpy()
    out: dict = {}
    for s in np.unique(sub[~np.isnan(sub)]):
        k = np.flatnonzero(sub == s)
        a, b = k[t[k]], k[~t[k]]
        hub, spokes = (a[0], b) if len(a) == 1 else (b[0], a)
        eps = m.spec["resolution"][school[hub]]
        out[school[hub]] = out.get(school[hub], 0) + int(
            np.ceil(0.5 + np.abs(ps[spokes] - ps[hub]) / eps).sum())
    return out


def optimal_and_full(sub: pd.DataFrame, version: str | None) -> None:
    """Optimal pair and full matching within school, ours vs MatchIt + optmatch."""
    from evaluation.matching import match

    keep = sub["school_id"].isin(sub["school_id"].drop_duplicates().iloc[:OPTIMAL_SCHOOLS])
    d = sub[keep].reset_index(drop=True)
    csv = CACHE / "cohort_optimal.csv"
    d.assign(em=d["em"].astype(int)).to_csv(csv, index=False)
    print(f"\noptimal pair (1:1) and full matching within school: {len(d):,} pupils, "
          f"{int(d['em'].sum()):,} EM, {OPTIMAL_SCHOOLS} schools")
    rows = []
    for method in ("optimal", "full"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            match(d.head(500), "em", COVS, method=method, exact=["school_id"])  # warm-up
            t0 = time.perf_counter()
            m = match(d, "em", COVS, method=method, exact=["school_id"])
            secs = time.perf_counter() - t0
        ids = set(d.loc[m.weights.to_numpy() > 0, "id"])
        rows.append((f"evaluation.matching {method}", secs, "1.0", "-"))
        if not version:
            continue
        out = CACHE / f"r_matched_optimal_{method}.csv"
        p = subprocess.run(["Rscript", str(HERE / "bench_matching.R"), str(csv), str(out),
                            "school", method], capture_output=True, text=True, timeout=3600)
        if p.returncode:
            rows.append((f"R MatchIt {method}", np.nan, "-", "failed: "
                         + (p.stderr.strip().splitlines() or ["?"])[-1][:80]))
            continue
        ver, r_secs, _ = p.stdout.strip().splitlines()[-1].split(",")
        r_sets = pd.read_csv(out, dtype={"id": str})
        other = set(r_sets["id"])
        same = "yes" if other == ids else f"no ({len(other ^ ids):,} pupils differ)"
        r_sub = r_sets.set_index("id")["subclass"].reindex(d["id"]).to_numpy(float)
        ours_sub = m.subclass.to_numpy(dtype=float, na_value=np.nan)
        if np.array_equal(ours_sub, r_sub, equal_nan=True):
            same += "; subclasses identical (same numbers)"
        else:
            same += ("; subclasses differ, "
                     + ("same optimum (total rounded distance in every school)"
                        if _rounded_cost(d, m, ours_sub) == _rounded_cost(d, m, r_sub)
                        else "DIFFERENT optimum"))
        rows.append((f"R MatchIt {ver} + optmatch {method}", float(r_secs),
                     f"{float(r_secs) / secs:.1f}", same))
    table = pd.DataFrame(rows, columns=["tool", "seconds", "time / ours",
                                        "identical matched set"])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()

"""Benchmark: 1:1 nearest-neighbour matching within school at national scale, vs R and peers.

Builds a synthetic national cohort (600,000 pupils, 3,000 schools, about 1% EM pupils
concentrated in 150 schools), then times on identical data the matching call alone,
in-process on each side: ``evaluation.matching.match`` (logistic propensity score, exact on
school), R MatchIt (``bench_matching.R``) and the Python peers installed in
``bench/.venv-peers`` (psmpy, causalml, pymatchit-causal). Prints a table: tool, seconds,
peak MB (allocation peak of the call: tracemalloc in Python, R's gc "max used"), ratio of
the tool's time to ours, and whether the matched set is identical to ours.
"""

from __future__ import annotations

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


def ours(d: pd.DataFrame):
    from evaluation.matching import match

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        match(d.head(2000), "em", COVS, exact=["school_id"])  # warm-up (imports)
        t0 = time.perf_counter()
        m = match(d, "em", COVS, exact=["school_id"])
        secs = time.perf_counter() - t0
        tracemalloc.start()  # a second call for memory: tracing slows the call down
        match(d, "em", COVS, exact=["school_id"])
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return secs, peak, set(d.loc[m.weights.to_numpy() > 0, "id"]), m


def r_matchit(csv: Path):
    out = CACHE / "r_matched.csv"
    try:
        p = subprocess.run(["Rscript", str(HERE / "bench_matching.R"), str(csv), str(out)],
                           capture_output=True, text=True, timeout=1800)
    except FileNotFoundError:
        return None, "Rscript not installed (apt-get install r-base-core r-cran-matchit)"
    if p.returncode:
        return None, p.stderr.strip().splitlines()[-1]
    version, secs, peak = p.stdout.strip().splitlines()[-1].split(",")
    ids = set(pd.read_csv(out, dtype=str)["id"])
    return (f"R MatchIt {version}", float(secs), float(peak), ids), ""


PEER_CODE = {
    "causalml": """
import sys, time, tracemalloc, pandas as pd
from sklearn.linear_model import LogisticRegression
from causalml.match import NearestNeighborMatch
d = pd.read_csv(sys.argv[1], dtype={'id': str})
X = pd.get_dummies(d[COVS_LIST], drop_first=True).astype(float)
tracemalloc.start(); t0 = time.perf_counter()
d['ps'] = LogisticRegression(max_iter=200).fit(X, d['em']).predict_proba(X)[:, 1]
m = NearestNeighborMatch(replace=False, ratio=1, random_state=1).match_by_group(
    data=d, treatment_col='em', score_cols=['ps'], groupby_col='school_id')
secs = time.perf_counter() - t0; peak = tracemalloc.get_traced_memory()[1] / 2**20
pd.DataFrame({'id': m['id']}).to_csv(sys.argv[2], index=False)
print(f'{secs},{peak}')
""".replace("COVS_LIST", repr(COVS)),
}
PEER_NOTES = {
    "psmpy": "cannot match within strata (no exact/group option)",
    "pymatchit-causal": "no within-stratum (exact) matching in its nearest method",
}


def peer(name: str, parquet: Path):
    if not PEERS.exists():
        return None, "not installed (python -m venv bench/.venv-peers; pip install " + name + ")"
    mod = name.replace("-", "_")
    chk = subprocess.run([str(PEERS), "-c", f"import {mod.split('_')[0]}"],
                         capture_output=True, text=True)
    if chk.returncode:
        return None, "could not be installed / imported in bench/.venv-peers"
    if name not in PEER_CODE:
        return None, PEER_NOTES[name]
    out = CACHE / f"{name}_matched.csv"
    p = subprocess.run([str(PEERS), "-c", PEER_CODE[name], str(parquet), str(out)],
                       capture_output=True, text=True, timeout=3600)
    if p.returncode:
        return None, "failed: " + (p.stderr.strip().splitlines() or ["?"])[-1][:80]
    secs, peak = map(float, p.stdout.strip().splitlines()[-1].split(","))
    return (name, secs, peak, set(pd.read_csv(out, dtype=str)["id"])), ""


def reference_check(d: pd.DataFrame, m) -> bool:
    """Our matched set equals the documented greedy algorithm run school by school."""
    from matching_helpers import reference_greedy

    w = m.weights.to_numpy()
    dist = m.distance.to_numpy()
    t = d["em"].to_numpy()
    for _, rows in d.groupby("school_id").indices.items():
        if not t[rows].any():
            continue
        ref = reference_greedy(dist[rows], t[rows])
        if not np.allclose(ref, w[rows]):
            return False
    return True


def main() -> None:
    CACHE.mkdir(exist_ok=True)
    full = cohort()
    s_full, p_full, _, _ = ours(full)
    d = full
    # MatchIt 4.5.1 needs strata without EM pupils removed (#151): every tool gets these rows
    d = d[d.groupby("school_id")["em"].transform("any")].reset_index(drop=True)
    csv, parquet = CACHE / "cohort.csv", CACHE / "cohort.parquet"
    d.assign(em=d["em"].astype(int)).to_csv(csv, index=False)
    d.to_parquet(parquet)
    print(f"cohort: 600,000 pupils in 3,000 schools; {int(d['em'].sum()):,} EM pupils in "
          f"{d['school_id'].nunique()} schools; {len(d):,} pupils in schools with EM pupils")
    secs, peak, ids, m = ours(d)
    rows = [("evaluation.matching", secs, peak, "1.0", "-"),
            ("evaluation.matching, all 600,000 pupils", s_full, p_full, "-", "-")]
    notes = [f"ours equals the documented greedy algorithm (school by school): "
             f"{'yes' if reference_check(d, m) else 'NO'}"]
    results = [r_matchit(csv)] + [peer(p, csv) for p in ("psmpy", "causalml",
                                                              "pymatchit-causal")]
    names = ["R MatchIt", "psmpy", "causalml", "pymatchit-causal"]
    for (res, why), name in zip(results, names, strict=True):
        if res is None:
            rows.append((name, np.nan, np.nan, "-", why))
            continue
        tool, s, pk, other = res
        same = "yes" if other == ids else f"no ({len(other ^ ids)} pupils differ)"
        rows.append((tool, s, pk, f"{s / secs:.1f}", same))
    table = pd.DataFrame(rows, columns=["tool", "seconds", "peak MB", "time / ours",
                                        "identical matched set"])
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for n in notes:
        print(n)


if __name__ == "__main__":
    main()

"""Time the default report build: cold and warm `make reports`, and the cost of each report.

Usage: python bench/bench_build.py [--jobs 2]

Cold = reports/ removed (data and environment kept: "from a warm environment"); warm = run
again with nothing changed (should render nothing). Per report: kernel start + imports
(papermill's time outside the cells), execution (sum of cell times, from the executed
notebook's papermill metadata) and export (nbconvert, from the render record).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"


def make_reports(jobs: int) -> float:
    t0 = time.perf_counter()
    subprocess.run(["make", f"-j{jobs}", "reports"], cwd=ROOT, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - t0


def per_report() -> list[dict]:
    rows = []
    for rec_path in sorted((REPORTS / "records").glob("*.json")):
        rec = json.loads(rec_path.read_text())
        nb_path = REPORTS / "_executed" / f"{rec['slug']}.ipynb"
        if not nb_path.exists():
            continue
        nb = nbformat.read(str(nb_path), as_version=4)
        cells = sum(c.metadata.get("papermill", {}).get("duration") or 0 for c in nb.cells)
        tags = [c.metadata.get("tags", []) for c in nb.cells]
        after = next((i + 1 for i, t in enumerate(tags) if "injected-parameters" in t), None)
        setup = nb.cells[after] if after is not None and after < len(nb.cells) else None
        first_cell_imports = (setup.metadata.get("papermill", {}).get("duration") or 0
                              if setup is not None else 0)
        execute = rec["seconds"].get("execute", 0.0)
        rows.append({
            "report": rec["slug"], "status": rec["status"],
            "kernel_start": max(execute - cells, 0.0),
            "load_and_analyse": first_cell_imports,  # imports, read data, evaluate()
            "execute_cells": cells,
            "export": rec["seconds"].get("export", 0.0),
        })
    return rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    for sub in ("html", "_executed", "records", "logs"):
        shutil.rmtree(REPORTS / sub, ignore_errors=True)
    (REPORTS / "index.html").unlink(missing_ok=True)
    cold = make_reports(args.jobs)
    warm = make_reports(args.jobs)
    rows = per_report()
    print(f"make -j{args.jobs} reports: cold {cold:.1f} s, warm (nothing changed) {warm:.1f} s "
          f"(goal: cold under 60 s)")
    print(f"{'report':<42}{'status':<15}{'kernel':>8}{'cells':>8}{'of which setup':>16}"
          f"{'export':>8}{'total':>8}")
    for r in rows:
        total = r["kernel_start"] + r["execute_cells"] + r["export"]
        print(f"{r['report']:<42}{r['status']:<15}{r['kernel_start']:8.1f}{r['execute_cells']:8.1f}"
              f"{r['load_and_analyse']:16.1f}{r['export']:8.1f}{total:8.1f}")
    if rows:
        n = len(rows)
        print(f"{'mean of ' + str(n) + ' reports':<57}"
              f"{sum(r['kernel_start'] for r in rows) / n:8.1f}"
              f"{sum(r['execute_cells'] for r in rows) / n:8.1f}"
              f"{sum(r['load_and_analyse'] for r in rows) / n:16.1f}"
              f"{sum(r['export'] for r in rows) / n:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time the report builds: the evaluation's own reports, and school reports warm vs cold.

Usage: python bench/bench_build.py [--schools N] [--cold 6] [--workers 2] [--skip-own]

1. ``make reports`` with nothing built (environment and data kept: "from a warm
   environment"), then again with nothing changed (renders nothing).
2. School reports of the national KS4 table (``$EVALUATION_PUBLISHED_DIR``, else
   ``../shared/data/real``): every school (or the first ``--schools``) with one warm kernel
   per worker, timed at the 1,000th report and at the end, with the peak memory of the whole
   process tree (driver, workers and their kernels, sampled every 0.2 s); then the first
   ``--cold`` with a new kernel per report (papermill's own engine: today's render), in the
   same run; reports per minute of each, and whether the cold pages are byte-identical to
   the warm ones.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def published_dir() -> Path | None:
    value = os.environ.get("EVALUATION_PUBLISHED_DIR", "") or "../shared/data/real"
    path = Path(value) if Path(value).is_absolute() else (ROOT / value).resolve()
    return path if (path / "dfe-ks4-2023-national").is_dir() else None


def make_reports(published: Path | None) -> tuple[float, str]:
    """Run ``make reports`` (with the published files when found); seconds and its summary."""
    env = {**os.environ, "EVALUATION_PUBLISHED_DIR": str(published or "")}
    t0 = time.perf_counter()
    run = subprocess.run(["make", "reports"], cwd=ROOT, check=False, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env, text=True)
    lines = [ln for ln in run.stderr.splitlines() if ln.startswith(("build:", "index:"))]
    return time.perf_counter() - t0, "; ".join(lines)


class PeakMemory:
    """Largest total resident memory of this process and all its descendants."""

    def __init__(self, interval: float = 0.2):
        import psutil

        self.proc, self.interval, self.peak = psutil.Process(), interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self._stop.is_set():
            total = 0
            for p in [self.proc, *self.proc.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def school_build(specs, out: Path, workers: int, engine: str | None):
    from evaluation.engine.build import build

    shutil.rmtree(out, ignore_errors=True)
    done = []
    t0 = time.perf_counter()
    with PeakMemory() as mem:
        summary = build(specs, out, workers=workers, engine=engine, progress=False,
                        on_done=lambda rec: done.append(time.perf_counter() - t0))
    return summary, mem.peak, done


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--schools", type=int, default=0, help="default: every school")
    parser.add_argument("--cold", type=int, default=6)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--skip-own", action="store_true", help="skip the make reports timing")
    args = parser.parse_args()
    pub = published_dir()
    if not args.skip_own:
        for sub in ("html", "_executed", "records", "logs"):
            shutil.rmtree(ROOT / "reports" / sub, ignore_errors=True)
        (first, said), (again, _) = make_reports(pub), make_reports(pub)
        print(f"make reports (every core, warm kernels): nothing built {first:.1f} s, nothing "
              f"changed {again:.1f} s (goal: under 30 s from a warm environment)\n  {said}")
    if pub is None:
        print("school reports: skipped (no dfe-ks4-2023-national folder; set "
              "EVALUATION_PUBLISHED_DIR)")
        return 0
    sys.modules.setdefault("rfc3987_syntax", None)
    from evaluation.catalog import school_specs

    specs = school_specs(pub)
    tmp = Path(tempfile.mkdtemp(prefix="em-bench-"))
    warm_specs = specs[:args.schools] if args.schools else specs
    warm, warm_mem, times = school_build(warm_specs, tmp / "warm", args.workers, "warm")
    cold, cold_mem, _ = school_build(specs[:args.cold], tmp / "cold", args.workers, None)
    same = sum(s.html_path(tmp / "warm").read_bytes() == s.html_path(tmp / "cold").read_bytes()
               for s in specs[:args.cold])
    rate_w = 60 * len(warm_specs) / warm.seconds
    rate_c = 60 * args.cold / cold.seconds
    print(f"school reports, {args.workers} workers, national KS4 2022/23 table:")
    print(f"  warm kernels (one per worker):  {len(warm_specs):5d} reports in "
          f"{warm.seconds:6.1f} s = {rate_w:6.1f} reports/min; peak memory "
          f"{warm_mem / 2**30:.2f} GB; {warm.text().splitlines()[0]}")
    print(f"  one kernel per report (today):  {args.cold:5d} reports in {cold.seconds:6.1f} s "
          f"= {rate_c:6.1f} reports/min; peak memory {cold_mem / 2**30:.2f} GB")
    if len(times) >= 1000:
        print(f"  the 1,000th warm report was done at {times[999] / 60:.1f} min (goal <= 10), "
              "start-up included")
    print(f"  speed-up {rate_w / rate_c:.1f}x; cold pages byte-identical to warm: "
          f"{same} of {args.cold}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

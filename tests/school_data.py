"""A small published folder cut from the real national KS4 files (for fast school-report tests)."""

import csv
import io
from pathlib import Path

from published_data import real_dir

KS4 = "dfe-ks4-2023-national"
DEST = "dfe-ks4-destinations-2017-2022-national"


def _cut(src: Path, dst: Path, keep) -> None:
    text = src.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    i = rows[0].index("URN")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(rows[0])
    for r in rows[1:]:
        if len(r) > i and keep(r[i]):
            w.writerow(r)
    dst.write_text(out.getvalue(), encoding="utf-8")


def small_published(tmp: Path, n: int = 8) -> tuple[Path, list[str]]:
    """Copy the first ``n`` schools (by URN order in the file) of the real files into ``tmp``."""
    real = real_dir()
    src = real / KS4 / "england_filtered.csv"
    rows = list(csv.DictReader(io.StringIO(src.read_text(encoding="utf-8-sig"))))
    urns = sorted(r["URN"] for r in rows)[:n]
    (tmp / KS4).mkdir(parents=True)
    (tmp / DEST).mkdir()
    _cut(src, tmp / KS4 / src.name, lambda u: u in urns)
    for f in sorted((real / DEST).glob("*_england_ks4-pupdest.csv")):
        _cut(f, tmp / DEST / f.name, lambda u: u in urns)
    return tmp, urns

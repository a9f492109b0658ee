"""Every cell of every report notebook has a fixed id (issue 14, seventeenth review).

A cell without one gets a random id from nbformat at each render, so the design-value report
differed between two builds of the same data (8 lines of ``id="cell-id=..."``).
"""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_cell_has_a_fixed_unique_id(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    ids = [c.get("id") for c in cells]
    assert all(ids) and len(set(ids)) == len(ids), (path.name, ids)

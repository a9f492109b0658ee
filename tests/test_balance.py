"""Balance statistics: hand-computed values, WWC bands, love plot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.balance import balance, balance_table, wwc_band
from evaluation.matching import match


def test_hand_computed_smd_var_ratio_ecdf():
    d = pd.DataFrame({"em": [True, True, True, False, False, False],
                      "x": [1.0, 2.0, 3.0, 2.0, 4.0, 6.0], "b": [1, 0, 1, 0, 0, 1]})
    t = balance_table(d, "em", ["x", "b"]).set_index("variable")
    assert np.isclose(t.loc["x", "smd"], (2.0 - 4.0) / 1.0)  # treated SD = 1
    assert t.loc["x", "var_ratio"] == 1.0 / 4.0
    assert np.isclose(t.loc["x", "ecdf_max"], 2 / 3)
    p = 2 / 3
    assert np.isclose(t.loc["b", "smd"], (p - 1 / 3) / np.sqrt(p * (1 - p)))
    assert np.isclose(t.loc["b", "ecdf_mean"], 1 / 3)


def test_wwc_bands():
    assert [wwc_band(v) for v in (0.0, 0.05, 0.051, 0.25, 0.26, np.nan)] == [
        "satisfies", "satisfies", "requires adjustment", "requires adjustment",
        "does not satisfy", ""]


def test_balance_before_after():
    rng = np.random.default_rng(0)
    d = pd.DataFrame({"em": rng.random(200) < 0.3, "x": rng.normal(size=200),
                      "sen": rng.choice(["none", "support"], 200)})
    bs = balance(match(d, "em", ["x", "sen"]))
    assert set(bs.table["stage"]) == {"before", "after"}
    assert list(bs.table.loc[bs.table["stage"] == "before", "level"].fillna("-")) == [
        "-", "none", "support"]
    assert list(bs.summary().index) == ["distance", "x", "sennone", "sensupport"]

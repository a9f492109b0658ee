"""Formatting of the numbers a reader sees."""

import numpy as np

from evaluation.report.display import p_text, ratio_text


def test_p_values_read_below_a_thousandth_and_blank_when_missing():
    assert p_text([0.0004, 0.0005, 0.0349, np.nan, 1.0]).tolist() == [
        "<0.001", "0.001", "0.035", "", "1.000"]


def test_ratio_intervals_are_open_ended_beyond_0_01_and_100():
    assert ratio_text(1.534, 0.511, 4.57) == "1.53 (0.51 to 4.57)"
    # what a two-school logit gave before: 0.00 to 18319439924574594387863736456...
    assert ratio_text(0.73, 0.0, 1.83e85) == "0.73 (<0.01 to >100)"
    assert ratio_text(150.0, 99.0, np.inf) == ">100 (99.00 to >100)"
    assert ratio_text(np.nan, 0.5, 2.0) == ""

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


def test_every_decimal_a_reader_sees_is_formatted_without_a_minus_zero():
    # a gap of -0.04 read "a gap of -0.0 points" on a school's page (stop 35), where the
    # tables said 0.0: every fixed-point format of the package rounds with "z" (PEP 682), so
    # a value that rounds to 0 reads 0 wherever it is shown; a signed one goes through
    # numbers.signed, which leaves a zero unsigned ("95% CI +0.0 to +0.3" for a lower bound of
    # -0.04 seemed to exclude 0)
    import ast
    import re
    from pathlib import Path

    import evaluation

    root = Path(evaluation.__file__).parent
    spec = re.compile(r"^[+ -]?z?,?\.\d+f$|^[+ -]?z?,?\.\{[a-z_]+\}f$")
    bare = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
                text = "".join(v.value if isinstance(v, ast.Constant) else "{x}"
                               for v in node.format_spec.values)
                text = text.replace("{x}", "{decimals}")
                if (spec.match(text) and ("z" not in text or text.startswith("+"))) \
                        or re.match(r"^\+,?d$", text):      # "+0 months": signed(value, 0)
                    bare.append(f"{path.relative_to(root)}:{node.lineno}: {text}")
        # formats outside f-strings: "{:.1f}".format, "%.3f" (a float_format)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for found in re.findall(r"\{:[+ -]?,?\.\d+f\}|%[+ -]?\.\d+f", line):
                bare.append(f"{path.relative_to(root)}:{n}: {found}")
    # the build's own timings are never negative
    bare = [b for b in bare if not b.startswith(("engine/build.py", "cli.py", "numbers.py"))]
    assert not bare, "fixed-point formats without z (a -0.0 could be shown):\n" + "\n".join(bare)
    from evaluation.numbers import signed

    assert f"{-0.4:z.0f}" == "0" and signed(-0.04) == "0.0" and signed(0.05, 2) == "+0.05"


def test_a_difference_that_rounds_to_zero_gets_no_direction():
    # review 20: "about 0.0 GCSE grades fewer", "an FSM gap 0.0 points smaller", "+0 months"
    from evaluation.report.design_value import _miss
    from evaluation.report.summary import own_terms

    row = {"outcome": "gcse_capped_points", "estimate": -0.2, "ci_low": -9.0, "ci_high": 8.0}
    assert own_terms(row).startswith("no more or fewer GCSE grades (95% CI -1.5 to 1.3)")
    assert own_terms({**row, "estimate": -6.0}).startswith("about 1.0 GCSE grades fewer")
    assert _miss({"estimate": 1.02, "true_effect": 1.0}) == "less than 0.05 points off"
    assert _miss({"estimate": 1.3, "true_effect": 1.0}) == "0.3 points above"

"""Sections of the design-value report: the 2011 design beside full linkage, for a funder."""

from __future__ import annotations

import pandas as pd

from evaluation.design_value import DESIGNS, DesignValueResult
from evaluation.numbers import signed
from evaluation.report.appendix import world_parameters
from evaluation.report.display import Section
from evaluation.report.tables import effect_text, informative, safe_table, scale


def header(res: DesignValueResult) -> Section:
    """Title and what the report is."""
    return Section(res.title, "top", [
        "What the Extra Mile evaluation could have found had every trial school's pupil records "
        "been linked, set beside what the 2011 data allowed. Both columns come from the same "
        "synthetic data (no real pupil), analysed exactly as the evaluation reports are."],
        level=1)


def findings(res: DesignValueResult) -> Section:
    """Plain-words findings for a funder deciding whether data linkage is worth paying for."""
    t = res.table[res.table["phase"] == "secondary"].set_index(["scenario", "outcome"])
    head = "gcse_capped_points"
    a, b = t.loc[("default", head)], t.loc[("full_linkage", head)]
    ratio = res.ratio("secondary")
    pri = res.table[(res.table["phase"] == "primary")].groupby("scenario")["n_schools"].max()
    if a["counts_withheld"]:
        # its pupils are withheld as in the overall report, and with them what rests on them:
        # the overall report shows no estimate either (sixth review of issue 14)
        return Section("Findings", "findings", [
            f"With the 2011 data ({a['n_schools']} secondary schools linked) the overall "
            "report withholds how many pupils were analysed, so that a small count elsewhere "
            "cannot be worked out; the smallest effect the 2011 design could detect and its "
            "estimate rest on that number and are withheld here too.",
            f"With every trial school linked ({b['n_schools']} schools) the smallest effect "
            f"the evaluation could reliably detect on GCSE points would be {b['mdes']:z.2f} "
            f"standard deviations; on these synthetic data its estimate is {_estimate(b)}, "
            f"against a true effect of {signed(b['true_effect'], 1)} for its pupils.",
            f"In primary schools the 2011 data linked {pri.get('default', 0)} schools, too few "
            f"for any conclusion; full linkage would give {pri.get('full_linkage', 0)}."])
    text = [
        f"With the 2011 data ({a['n_schools']} secondary schools linked) the smallest effect "
        f"the evaluation could reliably detect on GCSE points was {a['mdes']:z.2f} standard "
        f"deviations; with every trial school linked ({b['n_schools']} schools) it would have "
        f"been {b['mdes']:z.2f}, and intervals about {ratio:z.1f} times narrower.",
        f"On these synthetic data the GCSE estimate is {_estimate(a)} with the 2011 data, "
        f"against a true effect of {signed(a['true_effect'], 1)} for its pupils; with full linkage "
        f"it is {_estimate(b)}, against {signed(b['true_effect'], 1)} for its pupils.",
        f"In primary schools the 2011 data linked {pri.get('default', 0)} schools, too few "
        f"for any conclusion; full linkage would give {pri.get('full_linkage', 0)}.",
        "More data narrows the interval but does not remove bias: the synthetic pupils were "
        "chosen partly on something no data set records, so either design's estimate can "
        f"miss the true effect by more than chance ({_miss(a)} with the 2011 data, "
        f"{_miss(b)} with full linkage; see the appendix).",
    ]
    return Section("Findings", "findings", text)


def _estimate(row) -> str:
    """Return an estimate in words, as the comparison table shows it (points, 95% CI)."""
    if not informative(row):
        return "not informative (too few schools for its interval to say anything)"
    return (f"{signed(row['estimate'], 1)} points (95% interval {signed(row['ci_low'], 1)} to "
            f"{signed(row['ci_high'], 1)})")


def _miss(row) -> str:
    """How far an estimate sits from its true effect, in words."""
    d = row["estimate"] - row["true_effect"]
    if round(d, 1) == 0:
        return "less than 0.05 points off"
    return f"{abs(d):z.1f} points {'above' if d > 0 else 'below'}"


def comparison(res: DesignValueResult) -> Section:
    """Show the two designs per phase and outcome, in the outcomes' own units."""
    t = res.table.copy()
    families = {o["name"]: o["family"] for ph in res.plan.raw["outcomes"].values() for o in ph}
    k = t["outcome"].map(lambda o: scale(families.get(o, "gaussian")))
    shown = pd.DataFrame({
        "Design": t["design"], "Phase": t["phase"].str.capitalize(),
        "Outcome": t["outcome"].map(res.plan.label),
        "EM pupils": t["n_em"], "Comparison pupils": t["n_comparison"],
        "Schools": t["n_schools"], "MDES (SD)": t["mdes"],
        "Expected 95% CI half-width (SD)": t["expected_halfwidth"],
        # one text per estimate, as every report shows it ("not informative" included)
        "Estimate (95% CI)": [effect_text({**r, "family": families.get(r["outcome"],
                                                                         "gaussian")})
                              for r in t.to_dict("records")],
        "True effect": t["true_effect"] * k})
    counts = {"EM pupils": "EM pupils", "Comparison pupils": "Comparison pupils"}
    decimals = {"MDES (SD)": 2, "Expected 95% CI half-width (SD)": 2}
    # a row whose pupils the overall report withholds shows nothing that rests on them
    hide = dict.fromkeys([*counts, "MDES (SD)", "Expected 95% CI half-width (SD)",
                          "Estimate (95% CI)"], t["counts_withheld"].tolist())
    return Section("The two designs side by side", "designs", [
        f"{DESIGNS[0][1]}, against {DESIGNS[1][1].lower()}. Estimates in points for point "
        "scores and in percentage points for the share of pupils reaching a threshold; MDES "
        "(the minimum detectable effect size) at 80% power, in standard deviations.",
        safe_table(res.plan, shown, counts, decimals=decimals, hide=hide)])


def world(res: DesignValueResult) -> Section:
    """Show the synthetic world's parameters and seed."""
    parts = [f"Synthetic data, seed {res.seed}: both designs come from the same synthetic "
             "world; full linkage adds the pupils of the trial schools whose records the 2011 "
             "data could not link."]
    table = world_parameters({"params": res.params})
    if table is not None:
        parts.append(safe_table(res.plan, table))
    return Section("Appendix: the synthetic world", "world", parts)


def index_record(res: DesignValueResult) -> dict:
    """Return the index page's entry: the MDES of both designs."""
    t = res.table[res.table["phase"] == "secondary"].set_index(["scenario", "outcome"])
    a, b = (t.loc[(s, "gcse_capped_points")] for s in ("default", "full_linkage"))
    mdes = "withheld" if a["counts_withheld"] else f"{a['mdes']:z.2f} SD"
    return {"title": res.title, "kind": "design_value", "phase": "both",
            "n_schools": int(b["n_schools"]),
            "headline": f"GCSE MDES {mdes} (2011) vs {b['mdes']:z.2f} SD (full linkage)",
            "status": "ok"}

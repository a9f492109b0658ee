"""The whole report set of one seed, built as the notebooks build it (evaluate, then sections)."""

from evaluation.plan import load_plan
from evaluation.report import sections
from evaluation.results import evaluate
from evaluation.synthetic import generate


def build(seed):
    """Return the plan and {cluster or None: (result, sections)} for every report of a seed."""
    plan = load_plan()
    ds = generate(seed=seed, scenario="default")
    overall = evaluate(ds, plan, cluster=None, seed=seed)
    reports = {None: (overall, sections(overall))}
    for name in overall.clusters:
        res = evaluate(ds, plan, cluster=name, seed=seed)
        reports[name] = (res, sections(res))
    return plan, reports

"""Evaluation of school programmes that aim to close the FSM attainment gap (Extra Mile).

The public API, as statsmodels' ``api`` modules give it: everything a notebook needs is
importable from here. Names are imported on first use, so ``import evaluation`` itself does
no work.

Examples
--------
>>> import evaluation as em
>>> em.load_plan().main_spec()["name"]
'manchester'
"""

from __future__ import annotations

import importlib

#: Public name -> the module that defines it.
_API = {
    "DEFAULT_SEED": "evaluation.config",
    "read_dataset": "evaluation.io",
    "Dataset": "evaluation.io",
    "load_plan": "evaluation.plan",
    "Plan": "evaluation.plan",
    "generate": "evaluation.synthetic",
    "analysis_sample": "evaluation.sample",
    "match": "evaluation.matching",
    "balance": "evaluation.balance",
    "fit_outcome": "evaluation.models",
    "estimate_impacts": "evaluation.models",
    "evaluate": "evaluation.results",
    "EvaluationResult": "evaluation.results",
    "PhaseResult": "evaluation.results",
    "evaluate_published": "evaluation.results",
    "evaluate_school_support": "evaluation.results",
    "sections": "evaluation.report",
    "show": "evaluation.report",
    "index_record": "evaluation.report",
    "save_record": "evaluation.render",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'evaluation' has no attribute {name!r}")


def __dir__():
    return __all__

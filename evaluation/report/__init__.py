"""Presentation: one module per report section and a registry of sections per kind of report.

Sections format results (:class:`evaluation.results.EvaluationResult`); they never fit,
match, read or write. The registry (:mod:`evaluation.report.registry`) drives the contents
list, the notebooks' cells and the tests: adding a section is one new module and one line in
``REPORTS``. It is imported when first asked for (``from evaluation.report import sections``):
a module that needs only the tables' formatting (the index page: ``evaluation.report.tables``)
does not import every section, their figures and the models (2.5 s of a build's last step).
"""

from __future__ import annotations

__all__ = ["CONTENTS", "RECORDS", "REPORTS", "index_record", "sections", "show"]


def __getattr__(name: str):
    if name in __all__:
        from evaluation.report import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'evaluation.report' has no attribute {name!r}")

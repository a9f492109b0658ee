"""The glossary: every technical word a report uses, explained (from ``analysis.yml``)."""

from __future__ import annotations

import html

from evaluation.report.display import Section


class _Terms:
    def __init__(self, terms: dict):
        self.terms = terms

    def _repr_html_(self) -> str:
        items = "".join(f"<dt>{html.escape(str(t))}</dt><dd>{html.escape(str(d))}</dd>"
                        for t, d in sorted(self.terms.items(), key=lambda kv: kv[0].lower()))
        return f'<dl class="em-glossary">{items}</dl>'


def glossary(res) -> Section:
    """List the plan's glossary (``analysis.yml: glossary``), alphabetically.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> plan = SimpleNamespace(raw={"glossary": {"FSM": "Free school meals."}})
    >>> "<dt>FSM</dt>" in glossary(SimpleNamespace(plan=plan))._repr_html_()
    True
    """
    return Section("Glossary", "glossary", [_Terms(res.plan.raw.get("glossary", {}))])

"""Building blocks the report notebooks display: sections, notices, the synthetic banner."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

from evaluation.disclosure import SafeTable
from evaluation.report.tables import p_value


def p_text(p) -> pd.Series:
    """Format p-values for readers: three decimals, ``<0.001`` below that, blank when missing.

    Examples
    --------
    >>> p_text([0.0004, 0.0349, float("nan"), 1.0]).tolist()
    ['<0.001', '0.035', '', '1.000']
    """
    values = pd.Series(p, dtype=float) if not isinstance(p, pd.Series) else p.astype(float)
    return values.map(p_value).astype(object)


def ratio_text(ratio: float, low: float, high: float) -> str:
    """Format a ratio and its CI for readers: two decimals, open-ended beyond 0.01 and 100.

    An interval from a handful of schools can reach 10^80; a reader needs to see only that
    it is unbounded for practical purposes.

    Examples
    --------
    >>> ratio_text(1.534, 0.511, 4.57)
    '1.53 (0.51 to 4.57)'
    >>> ratio_text(0.96, 1e-40, 8.2e12)
    '0.96 (<0.01 to >100)'
    >>> ratio_text(float("nan"), 0.5, 2.0)
    ''
    """
    if pd.isna(ratio):
        return ""

    def one(v: float) -> str:
        return "<0.01" if v < 0.005 else ">100" if v > 100 else f"{v:z.2f}"

    return f"{one(ratio)} ({one(low)} to {one(high)})"


@dataclass(frozen=True)
class Notice:
    """A boxed paragraph: ``note``, ``not estimable``, ``warning`` or ``findings``.

    Examples
    --------
    >>> n = Notice("Impact not estimable: no EM pupils.", "not estimable")
    >>> "not estimable" in n._repr_html_()
    True
    """

    text: str
    kind: str = "note"

    def _repr_html_(self) -> str:
        css = {"not estimable": "em-notice", "warning": "em-error", "findings": "em-findings",
               "banner": "em-banner"}.get(self.kind, "em-notice")
        label = "<strong>Not estimable.</strong> " if self.kind == "not estimable" else ""
        body = self.text if self.kind == "findings" else html.escape(self.text)
        return f'<div class="{css}" data-kind="{self.kind}">{label}{body}</div>'


#: Tables with more rows than this are folded (a reader opens them; print shows the first rows).
LONG_TABLE = 25


def long_table(table: SafeTable) -> str:
    """Fold a long table: a summary line to open it; printed, only that line and a note.

    Examples
    --------
    >>> from evaluation.disclosure import suppress
    >>> t = suppress(pd.DataFrame({"school": [f"S{i}" for i in range(40)], "n": 40}), {})
    >>> long_table(t).startswith('<details class="em-long">')
    True
    """
    n = len(table.frame)
    return ('<details class="em-long"><summary>Show the full table '
            f"({n:,} rows)</summary>{table._repr_html_()}</details>"
            '<p class="em-print-note">The full table of '
            f"{n:,} rows is in the HTML version of this report.</p>")


@dataclass(frozen=True)
class Section:
    """A titled report section: an anchor for the table of contents and its parts in order.

    Parts are objects with ``_repr_html_`` (``SafeTable``, ``Chart``, ``Notice``) or HTML-safe
    strings wrapped in ``<p>``. Raw DataFrames are refused: every table goes through the
    disclosure module first.

    Examples
    --------
    >>> s = Section("Provenance", "provenance", ["How this report was made."])
    >>> s._repr_html_().startswith('<section id="provenance">')
    True
    """

    title: str
    anchor: str
    parts: list = field(default_factory=list)
    level: int = 2

    def __post_init__(self):
        import pandas as pd

        for part in self.parts:
            if isinstance(part, pd.DataFrame):
                raise TypeError(f"section {self.title!r}: pass tables through "
                                "evaluation.disclosure.suppress, not as raw DataFrames")

    def _repr_html_(self) -> str:
        out = [f'<section id="{self.anchor}">',
               f"<h{self.level}>{html.escape(self.title)}</h{self.level}>"]
        for part in self.parts:
            if isinstance(part, SafeTable) and len(part.frame) > LONG_TABLE:
                out.append(long_table(part))
            elif hasattr(part, "_repr_html_"):
                out.append(part._repr_html_())
            else:
                out.append(f"<p>{html.escape(str(part))}</p>")
        out.append("</section>")
        return "\n".join(out)


def contents(sections: list[tuple[str, str]]) -> Section:
    """Return a table of contents linking to section anchors.

    Examples
    --------
    >>> 'href="#impact"' in contents([("Impact", "impact")])._repr_html_()
    True
    """

    class _Toc:
        def _repr_html_(self) -> str:
            items = "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for t, a in sections)
            return f'<nav class="em-toc"><ol>{items}</ol></nav>'

    return Section("Contents", "contents", [_Toc()])

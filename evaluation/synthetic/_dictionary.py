"""Render the data dictionary's column tables from `evaluation.schema.TABLES`."""

from __future__ import annotations

from evaluation.schema import IDENTIFIERS, TABLES, UNIQUE_KEYS

BEGIN = "<!-- BEGIN GENERATED COLUMNS: do not edit; see tests/test_synthetic.py -->"
END = "<!-- END GENERATED COLUMNS -->"


def _allowed(col) -> str:
    if col.allowed is not None:
        return ", ".join(f"`{v}`" for v in col.allowed)
    if col.low is not None and col.high is not None:
        return f"{col.low:g} to {col.high:g}"
    return ""


def render() -> str:
    """Return the Markdown tables of every table's columns, between the generated markers.

    Examples
    --------
    >>> "| `pupil_id` |" in render()
    True
    """
    out = [BEGIN]
    for table, cols in TABLES.items():
        out += ["", f"### `{table}`", "",
                f"One row per {' + '.join(UNIQUE_KEYS[table])}.", "",
                "| column | type | missing allowed | allowed values / range | meaning |",
                "| --- | --- | --- | --- | --- |"]
        for c in cols:
            flag = c.name in IDENTIFIERS and "never shown" not in c.description
            meaning = c.description + (" Identifier: never shown." if flag else "")
            out.append(f"| `{c.name}` | {c.dtype} | {'yes' if c.nullable else 'no'} | "
                       f"{_allowed(c)} | {meaning} |")
    out += ["", END]
    return "\n".join(out)

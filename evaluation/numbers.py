"""How a number reads: one rule for every table, sentence and figure label.

Fixed-point formats round with ``z`` (PEP 682), so a value that rounds to zero reads 0, never
-0; :func:`signed` gives a difference its sign, and a difference that rounds to zero none.
"""

from __future__ import annotations


def signed(value: float, decimals: int = 1) -> str:
    """Return ``value`` to ``decimals`` places with its sign, and a zero as it rounds, unsigned.

    An interval read "+0.0 to +0.3" for a lower bound of -0.04: it seemed to exclude zero.

    Examples
    --------
    >>> signed(2.345), signed(-1.25, 2), signed(-0.04), signed(0.04), signed(0.0, 0)
    ('+2.3', '-1.25', '0.0', '0.0', '0')
    """
    text = f"{value:+z.{decimals}f}"
    return text[1:] if float(text) == 0 else text

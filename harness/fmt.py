"""Number formats shared by the command line and the figures."""

from __future__ import annotations

import math


def sci(n: float) -> str:
    """Compact scientific notation for parameter counts: 1722 -> '1.7e3'."""
    mantissa, exponent = f"{n:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def log_size(x: float, bottom: int, top: int) -> str:
    """A log10 size that may be censored: -inf is at or below ``bottom``, +inf above ``top``."""
    if math.isnan(x):
        return "?"
    if x == -math.inf:
        return f"≤{sci(bottom)}"
    if x == math.inf:
        return f">{sci(top)}"
    return sci(10**x)


def size_summary(low: float, median: float, high: float, bottom: int, top: int) -> str:
    """'median [low – high]' of log10 sizes over seeds, or just the value when every seed agrees."""
    if low == high:
        return log_size(median, bottom, top)
    return f"{log_size(median, bottom, top)} [{log_size(low, bottom, top)} – {log_size(high, bottom, top)}]"

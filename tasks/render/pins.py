"""conda-build's pin expressions: ``min_pin='x.x', max_pin='x'`` -> ``>=1.2,<2.0a0``."""
from __future__ import annotations

import re

_NUM_PREFIX = re.compile(r"^(\d+)(.*)$")


def _places(pin: str | None) -> int | None:
    return len(pin.split(".")) if pin else None


def apply_pin_expressions(version: str, min_pin: str | None = "x.x.x.x.x.x", max_pin: str | None = "x") -> str:
    """Version constraint from a concrete version, as conda-build's apply_pin_expressions.

    ``3.0.20`` with max_pin ``x`` gives ``>=3.0.20,<4.0a0``; ``1.1.1w`` with ``x.x.x`` gives
    ``>=1.1.1w,<1.1.2a`` (a letter in the last pinned place bumps the number, then ``a``).
    """
    parts = str(version).split(".")
    lower = upper = ""
    low = _places(min_pin)
    if low:
        lower = ">=" + ".".join(parts[:low])
    high = _places(max_pin)
    if high:
        high = min(high, len(parts))
        head, last = parts[: high - 1], parts[high - 1]
        m = _NUM_PREFIX.match(last)
        if m is None:                   # no number to bump (e.g. 'a'): keep the place, add a
            upper = "<" + ".".join(head + [last]) + "a"
        else:
            bumped = str(int(m.group(1)) + 1)
            if m.group(2):              # alphabetic suffix such as 1.1.1w
                upper = "<" + ".".join(head + [bumped]) + "a"
            else:
                upper = "<" + ".".join(head + [bumped]) + ".0a0"
    return ",".join(x for x in (lower, upper) if x)

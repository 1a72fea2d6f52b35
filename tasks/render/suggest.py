"""'did you mean ...?' suggestions for misspelt keys, names and selectors."""
from __future__ import annotations

from typing import Iterable


def close_match(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate most like ``word`` (difflib is imported only when an error needs it)."""
    import difflib
    found = difflib.get_close_matches(word, [c for c in candidates if isinstance(c, str)], n=1, cutoff=cutoff)
    return found[0] if found else None

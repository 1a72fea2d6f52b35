"""Does a requirement accept the version the stack builds? (``foo 2.0`` against ``foo 1.0``)

A build/host/run requirement on a package of the stack is linked to the recipe that
makes it; when its version constraint excludes the version that recipe builds, the link
would be to the wrong version (and the solver would fail later, far from the cause). The
constraint is read with conda's meaning (``foo 1.2`` is ``1.2.*``) by py-rattler, the
client that installs the packages, imported only when a constrained requirement names a
package of the stack.
"""
from __future__ import annotations

from functools import lru_cache

from .matchspec import SpecError, client_spec


@lru_cache(maxsize=4096)
def accepts(spec: str, version: str) -> bool:
    """Whether the version part of ``spec`` accepts ``version`` (True when it cannot tell)."""
    try:
        parts = client_spec(spec).split()
    except SpecError:
        return True
    if len(parts) < 2 or parts[1] in ("*", ""):
        return True
    if "__condoit_pin_" in parts[1] or "@" in parts[1]:
        return True                         # an unresolved pin token or marker: nothing to check
    try:
        from rattler import Version, VersionSpec
        return bool(VersionSpec(parts[1]).matches(Version(version)))
    except Exception:  # noqa: BLE001 - a spec or version rattler cannot read is not ours to judge here
        return True

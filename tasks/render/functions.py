"""conda-build 3's jinja2 functions (compiler, stdlib, cdt, pin_subpackage, ...).

They are bound to one render: the target, the variant (whose reads are recorded), the
recipe directory, the versions of the recipe's own outputs (for ``pin_subpackage``) and
of the stack's packages (for ``pin_compatible``). A pin whose version is not known yet
returns the bare name and is noted, so the caller can render again once it is known.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..model import PKG_HASH_MARKER
from .inputs import ENVIRON, OS
from .pins import apply_pin_expressions
from .tracking import TrackingDict

# conda-build's DEFAULT_COMPILERS for unix targets, by language.
DEFAULT_COMPILERS: dict[str, dict[str, str]] = {
    "linux": {"c": "gcc", "cxx": "gxx", "fortran": "gfortran", "rust": "rust", "go": "go-cgo",
              "cuda": "nvcc", "objc": "gcc", "objcxx": "gxx"},
    "osx": {"c": "clang", "cxx": "clangxx", "fortran": "gfortran", "rust": "rust", "go": "go-cgo",
            "objc": "clang", "objcxx": "clangxx"},
    "win": {"c": "vs2017", "cxx": "vs2017", "fortran": "flang", "rust": "rust", "go": "go-cgo"},
}
DEFAULT_STDLIBS: dict[str, str] = {"linux": "sysroot", "osx": "macosx_deployment_target", "win": "vs"}
CDT_COS7_ARCHES = ("ppc64le", "aarch64", "ppc64", "s390x")


@dataclass(frozen=True)
class Versioned:
    """What a pin needs to know about a package: its version and build number/string."""

    version: str
    number: int = 0
    string: str | None = None

    def build_pattern(self) -> str:
        """Build string glob for an exact pin (the hash is not known at render time)."""
        if self.string:
            return self.string.replace(PKG_HASH_MARKER, "*")
        return f"*_{self.number}"


PIN_TOKEN = "__condoit_pin_{}__"


@dataclass(frozen=True)
class DeferredPin:
    """A ``pin_subpackage`` call made before the recipe's own versions were known."""

    name: str
    min_pin: str | None
    max_pin: str | None
    exact: bool

    def resolve(self, own: Mapping[str, Versioned]) -> str:
        known = own.get(self.name)
        if known is None:
            return self.name
        if self.exact:
            return f"{self.name} {known.version} {known.build_pattern()}"
        return f"{self.name} {apply_pin_expressions(known.version, self.min_pin, self.max_pin)}".rstrip()


@dataclass
class PinState:
    """What pins asked for during one render.

    ``pin_subpackage`` needs the versions of the recipe's own outputs, which the render
    itself produces: it returns a token (a valid package name) recorded in ``deferred``,
    and the caller replaces the tokens once the recipe is read. ``pin_compatible`` on a
    package of the stack whose version is not known yet is noted for a second render.
    """

    stack: Mapping[str, str] = field(default_factory=dict)          # package -> version
    deferred: dict[str, DeferredPin] = field(default_factory=dict)  # token -> pin
    unresolved_compatible: set[str] = field(default_factory=set)


def _with_version(name: str, target: str, version: str | None) -> str:
    out = f"{name}_{target}" if target != "noarch" else name
    return f"{out} {version}".rstrip() if version else out


def make_functions(target_platform: str, variant: TrackingDict, recipe_dir: Path,
                   pins: PinState) -> dict[str, Callable[..., Any]]:
    """The jinja2 globals conda-build defines, bound to this render."""
    os_name, _, arch = target_platform.partition("-")

    def from_variant(key: str, default: str) -> str:
        """``<name>_<target> [<version>]`` from the variant's ``key`` and ``key_version``."""
        name = str(_first(variant.get(key, default)))
        version = variant.get(f"{key}_version")
        return _with_version(name, str(variant.get("target_platform", target_platform)),
                             str(_first(version)) if version is not None else None)

    def compiler(language: str) -> str:
        default = DEFAULT_COMPILERS.get(os_name, {}).get(language, language)
        return from_variant(f"{language}_compiler", default)

    def stdlib(language: str) -> str:
        return from_variant(f"{language}_stdlib", DEFAULT_STDLIBS.get(os_name, "sysroot"))

    def cdt(package_name: str) -> str:
        if arch in CDT_COS7_ARCHES:
            cdt_name, cdt_arch = "cos7", arch
        else:
            cdt_name, cdt_arch = "cos6", "x86_64" if arch == "64" else "i686"
        cdt_name = str(variant.get("cdt_name", cdt_name))
        cdt_arch = str(variant.get("cdt_arch", cdt_arch))
        name, _, rest = package_name.partition(" ")
        return f"{name}-{cdt_name}-{cdt_arch}" + (f" {rest}" if rest else "")

    def pin_subpackage(subpackage_name: str, min_pin: str | None = "x.x.x.x.x.x",
                       max_pin: str | None = "x", exact: bool = False, **_: Any) -> str:
        token = PIN_TOKEN.format(len(pins.deferred))
        pins.deferred[token] = DeferredPin(str(subpackage_name), min_pin, max_pin, bool(exact))
        return token

    def pin_compatible(package_name: str, lower_bound: str | None = None, upper_bound: str | None = None,
                       min_pin: str | None = "x.x.x.x.x.x", max_pin: str | None = "x",
                       exact: bool = False, **_: Any) -> str:
        if lower_bound or upper_bound:
            parts = [f">={lower_bound}" if lower_bound else "", f"<{upper_bound}" if upper_bound else ""]
            return f"{package_name} {','.join(p for p in parts if p)}"
        version = pins.stack.get(package_name)
        if version is None and package_name in variant:
            version = str(_first(variant[package_name])).split(" ")[0]
        if version is None:
            pins.unresolved_compatible.add(package_name)
            return package_name
        if exact:
            return f"{package_name} {version}"
        return f"{package_name} {apply_pin_expressions(version, min_pin, max_pin)}".rstrip()

    return {
        "compiler": compiler, "stdlib": stdlib, "cdt": cdt,
        "pin_subpackage": pin_subpackage, "pin_compatible": pin_compatible,
        "environ": ENVIRON, "os": OS,     # the file loaders are loaders.py's
    }


def _first(value: Any) -> Any:
    """A variant value given as a list means several variants; we build the first."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else ""
    return value

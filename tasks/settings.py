"""Frozen settings of one condoit run: where things are and what we build for.

Sources, lowest first: built-in defaults, ``[tool.condoit]`` in the project's
pyproject.toml, ``condoit.yaml`` at the recipes root, ``CONDOIT_*`` environment
variables, then doit command-line variables (``doit recipes=/path target=linux-64 list``).
"""
from __future__ import annotations

import os
import platform as _platform
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Cross toolchains per target platform, for a linux-64 build machine (Debian packages).
DEFAULT_TRIPLETS: dict[str, str] = {
    "linux-aarch64": "aarch64-linux-gnu",
    "linux-64": "x86_64-linux-gnu",
    "linux-ppc64le": "powerpc64le-linux-gnu",
}

# Build requirements that resolve to tools of the build machine: name -> (command, Debian package).
DEFAULT_SYSTEM_TOOLS: dict[str, tuple[str, str]] = {
    "make": ("make", "make"),
    "cmake": ("cmake", "cmake"),
    "ninja": ("ninja", "ninja-build"),
    "meson": ("meson", "meson"),
    "perl": ("perl", "perl"),
    "tcl": ("tclsh", "tcl"),
    "pkg-config": ("pkg-config", "pkg-config"),
    "pkgconfig": ("pkg-config", "pkg-config"),
    "autoconf": ("autoconf", "autoconf"),
    "automake": ("automake", "automake"),
    "libtool": ("libtool", "libtool-bin"),
    "m4": ("m4", "m4"),
    "bison": ("bison", "bison"),
    "flex": ("flex", "flex"),
    "patch": ("patch", "patch"),
    "sed": ("sed", "sed"),
    "gawk": ("gawk", "gawk"),
    "texinfo": ("makeinfo", "texinfo"),
    "gettext": ("msgfmt", "gettext"),
    "git": ("git", "git"),
    "curl": ("curl", "curl"),
    "python": ("python3", "python3"),
    "zlib": ("true", "zlib1g-dev"),
}


TOOLCHAINS = ("auto", "zig", "gnu")


def default_zig_cache() -> Path:
    """Zig's cache (libc stubs, crt files, libc++), per user: its first build is paid once per
    machine, not once per condoit cache (tests make many)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "condoit" / "zig"


def detect_build_platform() -> str:
    """conda subdir of the machine we run on."""
    machine = _platform.machine().lower()
    system = _platform.system().lower()
    arch = {"x86_64": "64", "amd64": "64", "aarch64": "aarch64", "arm64": "arm64",
            "ppc64le": "ppc64le", "i686": "32", "i386": "32"}.get(machine, machine)
    osname = {"linux": "linux", "darwin": "osx", "windows": "win"}.get(system, system)
    return f"{osname}-{arch}"


@dataclass(frozen=True)
class Settings:
    """Everything a stage needs to know about the run, and nothing about one recipe."""

    root: Path = PROJECT_ROOT
    recipes_dir: Path = PROJECT_ROOT / "recipes"
    cache_dir: Path = PROJECT_ROOT / "cache"
    target_platform: str = "linux-aarch64"
    build_platform: str = field(default_factory=detect_build_platform)
    python: str = "3.11"
    numpy: str = "1.26"
    package_format: str = ".conda"
    compression_level: int = 16
    cpu_count: int = field(default_factory=lambda: os.cpu_count() or 1)
    max_glibc: str = ""                 # load_settings: unset -> the toolchain's glibc (zig), "none" -> no limit
    toolchain: str = "auto"             # zig | gnu | auto (zig when cross compiling, gnu natively)
    glibc: str = "2.17"                 # the glibc the zig toolchain links against (its symbol versions)
    zig_cache: Path = field(default_factory=lambda: default_zig_cache())   # shared by every cache
    compiler_cache: bool = True         # ccache in front of zig's compiles (Layout.compiler_cache)
    mirrors: tuple[str, ...] = ()
    strict: bool = False                # every render leniency (see tasks/render/lenient.py) an error
    variant_files: tuple[Path, ...] = ()  # extra variant files, last and highest (conda-build -m)
    triplets: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TRIPLETS))
    system_tools: Mapping[str, tuple[str, str]] = field(default_factory=lambda: dict(DEFAULT_SYSTEM_TOOLS))
    # beyond one machine (tasks/sharedcache/, tasks/remote.py); none of them enters a signature
    shared_cache: str = ""              # "" (off), a directory or file:// URL, or s3://bucket/prefix
    shared_stages: tuple[str, ...] = ("download", "compile", "package", "test")
    shared_write: bool = True           # False: this machine only restores, never publishes
    executor: str = ""                  # "" (local) or a Dask scheduler address, tcp://host:8786

    @property
    def toolchain_kind(self) -> str:
        """The toolchain compile uses: ``zig`` or ``gnu`` (``auto``: zig when cross compiling)."""
        if self.toolchain == "auto":
            return "zig" if self.cross else "gnu"
        return self.toolchain

    @property
    def cross(self) -> bool:
        return self.target_platform != self.build_platform

    @property
    def target_triplet(self) -> str:
        return self.triplets[self.target_platform]

    @property
    def build_triplet(self) -> str:
        return self.triplets[self.build_platform]

    def cache_key(self) -> dict[str, Any]:
        """The settings that change what every build produces (part of build stages' signatures).

        Portable: no path, no machine fact beyond the platforms (``cpu_count`` only sets
        CPU_COUNT/MAKEFLAGS; a build must not depend on it). ``python``/``numpy`` are variant
        values: they enter only the signatures of recipes that use them (tasks/signatures.py).
        """
        return {"target_platform": self.target_platform, "build_platform": self.build_platform}


def _flag(value: Any) -> bool:
    """A yes/no setting from a file (bool) or the command line (1/0, true/false, yes/no, on/off)."""
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")


_CONVERTERS = {
    "root": Path, "recipes_dir": Path, "cache_dir": Path, "zig_cache": Path,
    "max_glibc": lambda v: str(v).strip(), "glibc": lambda v: str(v).strip(),
    "toolchain": lambda v: str(v).strip().lower(),
    "compression_level": int, "cpu_count": int,
    "mirrors": lambda v: tuple(v) if isinstance(v, (list, tuple)) else tuple(x for x in str(v).split(",") if x),
    "strict": _flag, "shared_write": _flag, "compiler_cache": _flag,
    "shared_cache": lambda v: str(v).strip(), "executor": lambda v: str(v).strip(),
    "shared_stages": lambda v: tuple(v) if isinstance(v, (list, tuple)) else tuple(
        x.strip() for x in str(v).split(",") if x.strip()),
    "variant_files": lambda v: tuple(Path(x) for x in (v if isinstance(v, (list, tuple)) else str(v).split(","))
                                     if str(x).strip()),
}
PACKAGE_FORMATS = (".conda", ".tar.bz2")
ZSTD_LEVELS = (-7, 22)      # compression_level of .conda (negative: zstd's fast levels); .tar.bz2 is bzip2 -9
_ALIASES = {"recipes": "recipes_dir", "cache": "cache_dir", "target": "target_platform",
            "build": "build_platform", "format": "package_format", "variants": "variant_files"}


# doit's command-line variables that set a setting (`doit build zig_cache=/x`): the short names
# and every plain field; the rest (root, triplets, system_tools) come from files only.
VARIABLES = tuple(sorted(set(_ALIASES) | {f.name for f in fields(Settings)}
                         - {"root", "triplets", "system_tools"} - set(_ALIASES.values())))


def unknown_variables(argv: list[str], also: tuple[str, ...] = ()) -> str:
    """A message naming the ``name=value`` words of a doit command line no setting takes ("" if
    none): doit would silently ignore them, and a misspelt setting would change nothing."""
    known = set(VARIABLES) | set(also)
    words = [a.split("=", 1)[0] for a in argv[1:] if "=" in a and not a.startswith("-")]
    bad = [w for w in words if w not in known]
    if not bad:
        return ""
    import difflib     # only for a misspelt variable
    hints = [f"{w}= (did you mean {m[0]}=?)" if (m := difflib.get_close_matches(w, known, 1)) else f"{w}="
             for w in bad]
    return f"unknown variable {', '.join(hints)}; the variables are: {', '.join(sorted(known))}"


def _apply(values: dict[str, Any], source: Mapping[str, Any], base: Path, where: str) -> None:
    names = {f.name for f in fields(Settings)}
    for given, raw in source.items():
        key = _ALIASES.get(given.replace("-", "_"), given.replace("-", "_"))
        if key not in names:
            continue
        try:
            value = _CONVERTERS.get(key, lambda v: v)(raw)
        except (TypeError, ValueError):
            from .errors import CondoitError
            expected = "a whole number" if _CONVERTERS.get(key) is int else "a value of another kind"
            raise CondoitError(f"{given}={raw!r} ({where}): expected {expected}") from None
        if isinstance(value, Path) and not value.is_absolute():
            value = (base / value).resolve()
        elif isinstance(value, tuple) and value and all(isinstance(v, Path) for v in value):
            value = tuple(v if v.is_absolute() else (base / v).resolve() for v in value)
        values[key] = value


def _pyproject_section(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    import tomllib
    with open(path, "rb") as fh:
        return tomllib.load(fh).get("tool", {}).get("condoit", {})


def load_settings(overrides: Mapping[str, Any] | None = None, root: Path | None = None) -> Settings:
    """Settings from the config layers; ``overrides`` are doit's command-line variables."""
    root = (root or Path.cwd()).resolve()
    values: dict[str, Any] = {"root": root, "recipes_dir": root / "recipes", "cache_dir": root / "cache"}
    _apply(values, _pyproject_section(root), root, f"{root / 'pyproject.toml'} [tool.condoit]")
    env = {k[len("CONDOIT_"):].lower(): v for k, v in os.environ.items() if k.startswith("CONDOIT_")}
    _apply(values, env, Path.cwd(), "a CONDOIT_ environment variable")
    _apply(values, dict(overrides or {}), Path.cwd(), "the command line")
    stack_cfg = Path(values["recipes_dir"]) / "condoit.yaml"
    if stack_cfg.is_file():
        import yaml
        layered = yaml.safe_load(stack_cfg.read_text()) or {}
        _apply(values, layered, stack_cfg.parent, str(stack_cfg))
        _apply(values, env, Path.cwd(), "a CONDOIT_ environment variable")
        _apply(values, dict(overrides or {}), Path.cwd(), "the command line")
    settings = Settings(**values)
    from .errors import CondoitError
    if settings.package_format not in PACKAGE_FORMATS:
        raise CondoitError(f"package format {settings.package_format!r}; known: {', '.join(PACKAGE_FORMATS)}")
    low, high = ZSTD_LEVELS
    if settings.package_format == ".conda" and not low <= settings.compression_level <= high:
        raise CondoitError(f"compression_level {settings.compression_level}: zstd (.conda) takes {low} to {high}")
    if settings.cpu_count < 1:
        raise CondoitError(f"cpu_count {settings.cpu_count}: at least 1 (`make -j` gets it)")
    if settings.target_platform not in settings.triplets:
        raise CondoitError(f"unknown target platform {settings.target_platform!r}; "
                           f"known: {', '.join(sorted(settings.triplets))}")
    if settings.toolchain not in TOOLCHAINS:
        raise CondoitError(f"unknown toolchain {settings.toolchain!r}; known: {', '.join(TOOLCHAINS)}")
    if not re.fullmatch(r"2\.\d+", settings.glibc):
        raise CondoitError(f"glibc {settings.glibc!r}: expected a glibc version such as 2.17")
    return replace(settings, max_glibc=effective_max_glibc(settings))


def effective_max_glibc(settings: Settings) -> str:
    """``max_glibc`` as set; unset, the glibc the toolchain targets (zig), else no limit.
    ``none`` turns the check off whatever the toolchain."""
    if settings.max_glibc.lower() in ("none", "off", "no"):
        return ""
    if settings.max_glibc:
        return settings.max_glibc
    return settings.glibc if settings.toolchain_kind == "zig" else ""


def with_changes(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)

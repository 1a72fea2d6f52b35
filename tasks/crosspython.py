"""conda-build's Python conventions in a cross build: ``$PYTHON`` runs on the build machine
but builds for the target.

When the host prefix holds the target's python (aarch64) and the build prefix holds the
build machine's python of the same version (python@linux-64, which the plan adds to every
cross build with ``python`` in ``host``), the host prefix becomes a *virtual environment of
the build python* for the duration of the build, like conda-forge's ``cross-python``
(which uses ``crossenv``):

- ``$PREFIX/bin/python`` (and ``python3``, ``pythonX.Y``) are replaced by symlinks to the
  build python and ``$PREFIX/pyvenv.cfg`` names its home: ``sys.prefix`` is ``$PREFIX``,
  ``sys.executable`` is ``$PREFIX/bin/python`` (entry-point shebangs are right), pip and
  ``setup.py install`` write into ``$PREFIX/lib/pythonX.Y/site-packages`` and ``$PREFIX/bin``,
  and the pure-Python packages of the host prefix (pip, setuptools) are importable.
- The standard library and its compiled modules stay the build python's own (they run).
- ``_PYTHON_SYSCONFIGDATA_NAME`` names the *target* python's sysconfig data (a copy of it is
  put on ``PYTHONPATH``), and ``_PYTHON_HOST_PLATFORM`` the target: setuptools takes the
  extension suffix (``.cpython-311-aarch64-linux-gnu.so``), the Python headers
  (``INCLUDEPY``: ``$PREFIX/include/python3.11``) and the platform tag from the target,
  and ``CC``/``LDSHARED`` are the cross compiler.

Both files are made before the compile stage lists the host prefix, so neither is packaged;
the host prefix is made afresh for every build. ``$BUILD_PREFIX/bin/python`` becomes a
wrapper that runs ``$PREFIX/bin/python`` (for scripts that find python on ``PATH``).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import CondoitError
from .model import Recipe, spec_name
from .settings import Settings

CROSS_DIR = "condoit-cross-python"          # under the build prefix: the target's sysconfig data


def uses_python(recipe: Recipe) -> bool:
    """conda-build's test: the recipe names python in its build or host requirements."""
    specs = recipe.requirements.build + recipe.requirements.host
    return any(spec_name(s) == "python" for s in specs)


def hosts_python(recipe: Recipe) -> bool:
    return any(spec_name(s) == "python" for s in recipe.requirements.host)


@dataclass(frozen=True)
class CrossPython:
    """The two pythons of a cross build and the target's sysconfig data."""

    py_ver: str                 # "3.11"
    prefix: Path                # host prefix (target python)
    build_prefix: Path          # build prefix (build machine's python)
    sysconfigdata: str          # module name, e.g. _sysconfigdata__linux_aarch64-linux-gnu
    host_platform: str          # _PYTHON_HOST_PLATFORM, e.g. linux-aarch64

    @property
    def build_python(self) -> Path:
        return self.build_prefix / "bin" / f"python{self.py_ver}"

    @property
    def cross_dir(self) -> Path:
        return self.build_prefix / CROSS_DIR

    def environment(self, cc: str | None, cppflags: str = "") -> dict[str, str]:
        """The variables build.sh gets on top of conda-build's; ``CPPFLAGS`` puts the target's
        Python headers first (distutils of the standard library looks in the build python's)."""
        env = {"_PYTHON_SYSCONFIGDATA_NAME": self.sysconfigdata,
               "CPPFLAGS": f"-I{self.prefix}/include/python{self.py_ver} {cppflags}".strip(),
               "_PYTHON_HOST_PLATFORM": self.host_platform,
               "_PYTHON_PROJECT_BASE": str(self.prefix / "bin"),
               "PYTHONPATH": str(self.cross_dir)}
        if cc:
            env["LDSHARED"] = f"{cc} -shared"   # distutils adds $LDFLAGS; the target's own LDSHARED names its build's CC
        return env


def build_python_specs(recipe: Recipe, settings: Settings, stack_packages: set[str]) -> tuple[str, ...]:
    """What the build prefix gets besides the build requirements: the build machine's python
    of the host's version, for a cross build with python in host (its ``$PYTHON``)."""
    if not settings.cross or not hosts_python(recipe) or "python" not in stack_packages:
        return ()
    if any(spec_name(s) == "python" for s in recipe.requirements.build):
        return ()
    return (f"python {python_version(recipe, settings)}.*",)


def python_version(recipe: Recipe, settings: Settings) -> str:
    return ".".join(str(recipe.variant.get("python", settings.python)).split(".")[:2])


def host_platform(target: str) -> str:
    """sysconfig's platform name of a conda subdir: linux-64 -> linux-x86_64."""
    os_name, _, arch = target.partition("-")
    return f"{os_name}-" + {"64": "x86_64", "32": "i686"}.get(arch, arch)


def find_sysconfigdata(prefix: Path, py_ver: str, target: str) -> str | None:
    """The target python's ``_sysconfigdata_*`` module name (the one naming the target's arch
    when there are several)."""
    found = sorted(p.stem for p in (prefix / "lib" / f"python{py_ver}").glob("_sysconfigdata_*.py"))
    arch = host_platform(target).split("-", 1)[1]
    return next((n for n in found if arch in n), found[0] if found else None)


def cross_python(recipe: Recipe, settings: Settings, prefix: Path, build_prefix: Path) -> CrossPython | None:
    """The cross setup of this build, or None (native build, no python in host, or no build python)."""
    if not settings.cross or not hosts_python(recipe):
        return None
    py_ver = python_version(recipe, settings)
    if not (build_prefix / "bin" / f"python{py_ver}").exists() or not (prefix / "bin" / f"python{py_ver}").exists():
        return None
    name = find_sysconfigdata(prefix, py_ver, settings.target_platform)
    if name is None and recipe.build.noarch == "python":
        return None             # nothing to cross-compile: the host python builds it as it is
    if name is None:
        raise CondoitError(f"[{recipe.name}] the host python ({prefix}/bin/python{py_ver}) has no "
                           f"lib/python{py_ver}/_sysconfigdata_*.py: extensions cannot be cross-built "
                           "against it (rebuild the python package with its sysconfig data)")
    return CrossPython(py_ver, prefix, build_prefix, name, host_platform(settings.target_platform))


def prepare(cross: CrossPython) -> None:
    """Turn the host prefix into a virtual environment of the build python (see above)."""
    prefix, py_ver = cross.prefix, cross.py_ver
    cross.cross_dir.mkdir(parents=True, exist_ok=True)
    data = prefix / "lib" / f"python{py_ver}" / f"{cross.sysconfigdata}.py"
    shutil.copyfile(data, cross.cross_dir / data.name)
    for name in ("python", "python3", f"python{py_ver}"):
        link = prefix / "bin" / name
        if os.path.lexists(link):
            link.unlink()       # never written through: the file may be a hard link into rattler's cache
        link.symlink_to(cross.build_python)
    version = _full_version(cross.build_prefix, py_ver)
    (prefix / "pyvenv.cfg").write_text(f"home = {cross.build_prefix}/bin\ninclude-system-site-packages = false\n"
                                       f"version = {version}\n")
    wrapper = cross.build_prefix / "bin" / "python"
    if os.path.lexists(wrapper):
        wrapper.unlink()
    wrapper.write_text(f'#!/bin/sh\nexec "{prefix}/bin/python" "$@"\n')
    wrapper.chmod(0o755)


def _full_version(build_prefix: Path, py_ver: str) -> str:
    """X.Y.Z of the build python, from its conda-meta record (no process)."""
    for record in (build_prefix / "conda-meta").glob("python-[0-9]*.json"):
        return record.name[len("python-"):].split("-")[0]
    return py_ver

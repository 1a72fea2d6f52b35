"""One tool's build in this process, with nothing of the bench loaded first.

The benches time whole commands, so what starts a tool is part of its figure. This file
imports only ``resource`` and modules Python's start-up has already loaded (``os``, ``sys``,
``atexit``, ``warnings``; and ``runpy`` for doit, as ``-m`` does), so both tools start
alike: condoit as ``python -m doit`` would, the peer with ``rattler_build`` and its arguments
given in full (nothing of condoit's is imported to find its package format).

    python bench/launch.py [own-cpu FILE --] doit ARGS...
    python bench/launch.py [own-cpu FILE --] rattler-build RECIPE_YAML[:RECIPE_YAML...] OUT_DIR SKIP FORMAT BUILD_PLATFORM TARGET

``own-cpu FILE --`` also writes the process's own CPU seconds (user + system, none of its
children's) to FILE at exit. SKIP is rattler-build's skip_existing (``none`` or ``local``);
FORMAT its package format (``conda:16``). Several recipes, joined by ``:`` (os.pathsep), are
built by one peer process, as several ``doit`` targets are by one condoit process.
"""
from __future__ import annotations

import atexit
import os
import resource
import sys


def write_own_cpu(path: str, pid: int) -> None:
    """This process's own CPU seconds into ``path``. Registered before the tool starts, so it
    runs last at exit and counts the tool's own exit handlers (the engine's stamp index,
    gc.freeze) too; not in a child forked from it."""
    if os.getpid() != pid:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(path, "w") as fh:
        fh.write(f"{usage.ru_utime + usage.ru_stime}\n")


def doit_here(args: list[str]) -> None:
    """`python -m doit ARGS` in this process (sys.path and argv as -m sets them); doit's
    sys.exit ends the process with its status."""
    import runpy
    sys.path[0] = os.getcwd()
    sys.argv = ["doit", *args]
    runpy.run_module("doit", run_name="__main__", alter_sys=True)


def rattler_build(recipes: str, out: str, skip: str, fmt: str, build_platform: str, target: str) -> None:
    """The peer's build: `build_recipes` is its CLI's code path (it honours skip_existing)."""
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)
    from rattler_build import build_recipes
    build_recipes(recipes.split(os.pathsep), target_platform=target, build_platform=build_platform, channel=[],
                  output_dir=out, package_format=fmt, test="skip", skip_existing=skip)


def main(argv: list[str]) -> None:
    if argv[:1] == ["own-cpu"] and argv[2:3] == ["--"]:
        atexit.register(write_own_cpu, argv[1], os.getpid())
        argv = argv[3:]
    if argv[:1] == ["doit"]:
        doit_here(argv[1:])
    elif argv[:1] == ["rattler-build"] and len(argv) == 7:
        rattler_build(*argv[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])

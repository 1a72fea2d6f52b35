"""Build timings side by side: condoit (doit tasks) against py-rattler-build, same sources.

Each recipe (default bzip2 1.0.8; xz 5.4.1 with ``--recipes bzip2,xz``) is cross-compiled
for linux-aarch64 by both tools, offline, in scratch directories under /tmp. The peer gets a
recipe.yaml written at run time with the same archive (``file://``), the same one-line bench
patch, the same build.sh and the same toolchain and flags (copied from condoit's
``conda_build.sh`` re-entry script), and the same package format and compression level.
Printed: median [min-max] of N runs of cold build, no-op rebuild, patch edit, about:summary
edit, and the task-loading overhead of ``doit list --all``; the ratio is rattler-build/condoit.
For the cold builds also each tool's own process CPU (user + system of its main process alone,
not its build script, make, zig or ccache): with the same compiler doing ~95 % of the work for
both, that is the per-package overhead in which the tools differ.

Zig keeps what it builds for the first link (glibc 2.17's stubs, crt files, compiler-rt: about
half of a cold bzip2 build), so a build with a warm Zig cache is not cold. Each cold build (of
either tool) therefore starts from its own copy of a Zig cache as the setup script leaves it
on a new machine (``--zig-cache fresh``, the default), and with an empty compiler cache
(ccache) of its own; the no-op and edit runs go on with the caches of the last cold build, as
a user's would. ``--zig-cache user`` shares the per-user Zig cache instead.

    python bench/bench_build.py [-n 3] [--recipes bzip2,xz] [--generated 100] [--keep DIR] [--zig-cache fresh|user]

Every build the bench times starts through ``bench/launch.py``, which loads nothing of the
bench, so neither tool's figure carries the bench's own imports.
``python bench/bench_build.py rattler-build RECIPE_YAML OUT_DIR [none|local]`` runs one
peer build with condoit's package format (handy for timing it from outside);
``python bench/bench_build.py doit ARGS...`` runs doit in this process, like ``python -m doit``.
Either after ``own-cpu FILE --`` also writes the process's own CPU seconds to FILE at exit.
"""
from __future__ import annotations

import argparse
import difflib
import functools
import hashlib
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DODO = ROOT / "dodo.py"
LAUNCH = Path(__file__).resolve().parent / "launch.py"   # starts each timed build
TARGET = "linux-aarch64"
DOWNLOADS = Path("/tmp/condoit-bench-downloads")  # scratch cache kept between runs: fetch once
ENV = {k: v for k, v in os.environ.items() if not k.startswith("CONDOIT_")}
# condoit's build variables the peer sets itself (or which name condoit's own places)
PEER_OWN = {"PATH", "HOME", "PREFIX", "BUILD_PREFIX", "SRC_DIR", "RECIPE_DIR", "SHELL", "TERM", "LANG",
            "LC_ALL", "TZ", "CONDA_BUILD", "CONDA_BUILD_STATE", "SUBDIR", "ARCH", "target_platform",
            "build_platform", "PKG_NAME", "PKG_VERSION", "PKG_BUILDNUM", "PKG_BUILD_STRING", "PKG_HASH"}


@dataclass(frozen=True)
class Spec:
    """What the peer's recipe.yaml must say to match the shipped meta.yaml."""

    name: str
    version: str
    archive: str
    sha256: str
    edit_file: str                  # C file (path inside the tree) the bench patch appends to
    license: str
    license_files: tuple[str, ...]
    summary: str


SPECS = {s.name: s for s in (
    Spec("bzip2", "1.0.8", "bzip2-1.0.8.tar.gz",
         "ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269", "bzlib.c",
         "bzip2-1.0.6", ("LICENSE",), "high-quality data compressor"),
    Spec("xz", "5.4.1", "xz-5.4.1.tar.xz",
         "5d9827aa1875b21c288f78864bb26d2650b436ea8d2cad364e4921eb6266a5a5", "src/liblzma/common/common.c",
         "LGPL-2.1-or-later AND GPL-2.0-or-later", ("COPYING", "COPYING.GPLv2", "COPYING.LGPLv2.1"),
         "Data compression software with high compression ratio"),
)}

PEER_RECIPE = """\
package:
  name: {name}
  version: "{version}"
source:
  url: {url}
  sha256: {sha256}
  patches:
    - bench.patch
build:
  number: 0
requirements:
  run_exports:
    - ${{{{ pin_subpackage('{name}', upper_bound='x') }}}}
about:
  license: {license}
  license_file: [{license_files}]
  summary: "{summary}"
"""


Sample = tuple[float, float]  # one run: wall seconds, CPU seconds (user + system of its processes)


@dataclass(frozen=True)
class Row:
    """One line of a result table: the runs of each tool (None: not applicable)."""

    what: str
    condoit: list[Sample] | None
    peer: list[Sample] | None
    note: str = ""
    wall: bool = True   # False: a CPU figure only (its wall time is the whole command's, shown above)


# ---------------------------------------------------------------- running things

def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu(path: Path | None) -> list[str]:
    """The launcher words that make a command below write its own CPU to ``path`` (None: none)."""
    return [] if path is None else ["own-cpu", str(path), "--"]


def run(cmd: list[str], cwd: Path = ROOT) -> tuple[Sample, str]:
    """Run a command to completion; (wall, CPU) seconds and stdout. A failure stops the bench."""
    t0, c0 = time.perf_counter(), cpu_children()
    proc = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    seconds = (time.perf_counter() - t0, cpu_children() - c0)
    if proc.returncode:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        sys.exit(f"bench: `{shlex.join(cmd)}` failed ({proc.returncode}):\n{tail}")
    return seconds, proc.stdout


def doit(recipes: Path, cache: Path, *args: str, cpu_file: Path | None = None) -> tuple[Sample, list[str]]:
    """One `doit` command on a stack; seconds and the tasks that ran (doit's `.  task` lines).
    With ``cpu_file`` it starts through bench/launch.py (``own-cpu``), which writes its own CPU there."""
    launcher = ["-m", "doit"] if cpu_file is None else [str(LAUNCH), *own_cpu(cpu_file), "doit"]
    seconds, out = run([sys.executable, *launcher, "-f", str(DODO), "-d", str(ROOT), *args,
                        f"recipes={recipes}", f"cache={cache}"])
    return seconds, [line.split()[1] for line in out.splitlines() if line.startswith(". ")]


def zig_cache_for(where: Path, mode: str) -> list[str]:
    """doit's variable for a build's Zig cache: a fresh copy of the setup's (``fresh``) or none."""
    if mode != "fresh":
        return []
    from bench_makespan import fresh_zig_cache
    return [f"zig_cache={fresh_zig_cache(where)}"]


ZIG_CACHE_LINE = re.compile(r"ZIG_GLOBAL_CACHE_DIR=\S+; ZIG_LOCAL_CACHE_DIR=\S+")
CCACHE_DIR_WORD = re.compile(r" ccache_dir=(?!'')\S+")     # '': condoit's build had no compiler cache


def point_wrappers_at(tools: Path, zig_variable: list[str], ccache_dir: Path) -> None:
    """Give the peer's copy of condoit's compiler wrappers caches of their own, as fresh as
    condoit's build got: the Zig cache (``zig_variable``, none: the per-user one) and the
    compiler cache (ccache; every cold build of either tool starts with an empty one)."""
    ccache = shlex.quote(str(ccache_dir))
    zig = shlex.quote(zig_variable[0].split("=", 1)[1]) if zig_variable else ""
    for script in tools.iterdir():
        if script.is_file() and not script.is_symlink() and script.stat().st_size < 65536:
            text = script.read_bytes().decode("utf-8", "replace")
            new = CCACHE_DIR_WORD.sub(lambda _: f" ccache_dir={ccache}", text)
            if zig:
                new = ZIG_CACHE_LINE.sub(f"ZIG_GLOBAL_CACHE_DIR={zig}; ZIG_LOCAL_CACHE_DIR={zig}", new)
            if new != text:
                script.write_text(new)


def peer(recipe_dirs: list[Path], out: Path, skip: str = "none", cpu_file: Path | None = None) -> Sample:
    """One rattler-build run in a fresh process (whole command, like a `doit` run) building
    the recipes in order; with ``cpu_file``, its own CPU is written there."""
    recipes = os.pathsep.join(str(d / "recipe.yaml") for d in recipe_dirs)
    return run([sys.executable, str(LAUNCH), *own_cpu(cpu_file), "rattler-build",
                recipes, str(out), skip, *peer_settings()])[0]


def pairs_note(condoit: list[Sample], peer: list[Sample]) -> str:
    """How often condoit used less CPU than the peer run beside it: the runs are interleaved,
    so each pair shares the machine's moment (its speed drifts by a third here)."""
    fewer = sum(c[1] <= p[1] for c, p in zip(condoit, peer))
    return f"condoit used less CPU in {fewer} of {len(condoit)} side-by-side pairs"


def own_sample(whole: Sample, cpu_file: Path) -> Sample:
    """A run's whole-command wall time and its main process's own CPU (written at its exit)."""
    return whole[0], float(cpu_file.read_text())


@functools.cache
def peer_settings() -> tuple[str, str, str]:
    """The peer's package format (condoit's format and compression level), build platform
    and target, as bench/launch.py takes them."""
    from tasks.settings import load_settings
    settings = load_settings({}, root=ROOT)
    fmt = f"{settings.package_format.lstrip('.').replace('.', '-')}:{settings.compression_level}"
    return fmt, settings.build_platform, TARGET


def digest(paths: list[Path]) -> str:
    """sha256 over the given files' contents (to tell a rebuilt package from a stale one)."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.read_bytes())
    return h.hexdigest()


def packages(channel: Path) -> list[Path]:
    return sorted((channel / TARGET).glob("*.conda")) + sorted((channel / TARGET).glob("*.tar.bz2"))


# ---------------------------------------------------------------- the two recipes

def seed_archive(spec: Spec, seed: Path) -> Path:
    """The source archive in a plain directory; fetched once by condoit into a scratch cache."""
    from tasks.paths import Layout
    target = seed / spec.archive
    if not target.exists():
        blob = Layout(DOWNLOADS, TARGET).download(spec.sha256)
        if not blob.exists():
            doit(ROOT / "recipes", DOWNLOADS, f"download:{spec.name}")
        seed.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(blob, target)
    return target


def peer_exports(cache: Path, name: str, tools: Path) -> str:
    """condoit's toolchain and flags as bash exports, its paths replaced by the peer's variables.

    condoit's compiler wrappers (zig cc for glibc 2.17 by default: tasks/toolchain.py) are
    self-contained scripts in its build prefix: they are copied to ``tools``, first on the
    peer's PATH, so both tools compile with the same compiler."""
    from tasks.paths import Layout
    layout = Layout(cache, TARGET)
    shutil.copytree(layout.build_prefix(name) / "bin", tools, symlinks=True, dirs_exist_ok=True)
    script = layout.work(name, "compile") / "conda_build.sh"
    env = {k: shlex.split(v)[0] if v else "" for k, v in re.findall(r"^export (\w+)=(.*)$", script.read_text(), re.M)}
    marks = {env[k]: k for k in ("PREFIX", "BUILD_PREFIX", "SRC_DIR")}
    pattern = re.compile("|".join(re.escape(v) for v in sorted(marks, key=len, reverse=True)))
    lines = []
    for key in sorted(set(env) - PEER_OWN):
        parts, pos = [], 0
        for m in pattern.finditer(env[key]):
            parts += [shlex.quote(env[key][pos:m.start()]), f'"${{{marks[m.group()]}}}"']
            pos = m.end()
        parts.append(shlex.quote(env[key][pos:]))
        value = "".join(p for p in parts if p != "''") or "''"
        lines.append(f"export {key}={value}")
    lines.append(f'export PATH={shlex.quote(str(tools))}:"$PATH"')
    return "\n".join(lines) + "\n"


@dataclass
class Pair:
    """A recipe in both formats, in scratch directories, with the edits the bench makes."""

    spec: Spec
    archive: Path
    condoit_recipes: Path
    peer_dir: Path
    exports: str = ""
    summary: str = ""
    original: list[str] = field(default_factory=list)   # the edited file as shipped

    def __post_init__(self) -> None:
        shutil.copytree(ROOT / "recipes" / self.spec.name, self.condoit_recipes / self.spec.name)
        meta = self.meta.read_text()
        meta, count = re.subn(r"^(  sha256: \w+\n)", r"\1  patches:\n    - bench.patch\n", meta, count=1, flags=re.M)
        assert count == 1, "no sha256 line in source:"
        self.meta.write_text(meta)
        with tarfile.open(self.archive) as tf:
            member = next(m for m in tf.getmembers() if m.name.split("/", 1)[-1] == self.spec.edit_file)
            self.original = tf.extractfile(member).read().decode("latin-1").splitlines(keepends=True)  # type: ignore[union-attr]
        self.peer_dir.mkdir(parents=True, exist_ok=True)
        self.summary = self.spec.summary
        self.set_patch("0")

    @property
    def tools(self) -> Path:
        """The peer's copy of condoit's compiler wrappers (its build.sh puts them first on PATH)."""
        return self.peer_dir.parent / "toolchain-bin"

    @property
    def meta(self) -> Path:
        return self.condoit_recipes / self.spec.name / "meta.yaml"

    def set_patch(self, tag: str) -> None:
        """Write the bench patch (one line appended to a C file: the binaries change)."""
        f = self.spec.edit_file
        new = self.original + [f'const char condoit_bench_edit[] = "{tag}";\n']
        text = "".join(difflib.unified_diff(self.original, new, f"a/{f}", f"b/{f}"))
        for d in (self.condoit_recipes / self.spec.name, self.peer_dir):
            (d / "bench.patch").write_text(text, encoding="latin-1")

    def set_summary(self, tag: str) -> None:
        """Change about:summary in both recipes."""
        self.summary = f"{self.spec.summary} ({tag})"
        self.meta.write_text(re.sub(r"^(  summary: ).*$", lambda m: m.group(1) + self.summary,
                                    self.meta.read_text(), count=1, flags=re.M))
        self.write_peer()

    def write_peer(self, exports: str | None = None) -> None:
        """recipe.yaml and build.sh (condoit's exports, then the shipped build.sh) for the peer."""
        self.exports = exports if exports is not None else self.exports
        s = self.spec
        (self.peer_dir / "recipe.yaml").write_text(PEER_RECIPE.format(
            name=s.name, version=s.version, url=self.archive.resolve().as_uri(), sha256=s.sha256,
            license=s.license, license_files=", ".join(s.license_files), summary=self.summary))
        body = (ROOT / "recipes" / s.name / "build.sh").read_text()
        (self.peer_dir / "build.sh").write_text("# condoit's build environment\n" + self.exports + body)


# ---------------------------------------------------------------- scenarios

def pair_for(spec: Spec, work: Path) -> Pair:
    """A recipe's two scratch copies under ``work/<name>``; its archive in ``work/seed``."""
    return Pair(spec, seed_archive(spec, work / "seed"), work / spec.name / "condoit-recipes",
                work / spec.name / "peer-recipe")


def seed_cache(archives: Path, recipes: Path, cache: Path) -> None:
    """A cold cache holding only the source archives (the peer's are pre-seeded too).

    import_archives renders the stack to find the recipes' sources, and that leaves the
    compiled templates in the cache; they are removed, so the timed build compiles its
    templates as a first build does."""
    from tasks.paths import Layout
    run([sys.executable, "-m", "tasks.import_archives", str(archives), "--recipes", str(recipes),
         "--cache", str(cache)])
    shutil.rmtree(Layout(cache, TARGET).template_cache, ignore_errors=True)


def bench_recipe(pair: Pair, n: int, work: Path, zig_mode: str) -> list[Row]:
    """All build scenarios for one recipe, the two tools interleaved run by run."""
    name = pair.spec.name
    recipes = pair.condoit_recipes
    cold_c: list[Sample] = []
    cold_t: list[Sample] = []
    cold_p: list[Sample] = []
    own_c: list[Sample] = []
    own_p: list[Sample] = []
    for i in range(n):
        cache = work / name / f"condoit-{i}"
        seed_cache(pair.archive.parent, recipes, cache)
        zig = zig_cache_for(work / name / f"zig-condoit-{i}", zig_mode)
        cpu_c, cpu_p = work / name / f"own-cpu-condoit-{i}", work / name / f"own-cpu-peer-{i}"
        cold_c.append(doit(recipes, cache, f"index:{name}", *zig, cpu_file=cpu_c)[0])
        own_c.append(own_sample(cold_c[-1], cpu_c))
        cold_t.append(doit(recipes, cache, f"build:{name}", *zig)[0])
        if i == 0:
            pair.write_peer(peer_exports(cache, name, pair.tools))
        point_wrappers_at(pair.tools, zig_cache_for(work / name / f"zig-peer-{i}", zig_mode),
                          work / name / f"ccache-peer-{i}")
        cold_p.append(peer([pair.peer_dir], work / name / f"peer-{i}", cpu_file=cpu_p))
        own_p.append(own_sample(cold_p[-1], cpu_p))
    out = work / name / f"peer-{n - 1}"
    rows = [Row(f"{name}: cold build -> indexed package", cold_c, cold_p,
                "condoit `doit index:X`, peer tests skipped; archive pre-seeded; " + pairs_note(cold_c, cold_p)),
            Row(f"{name}: cold build, the tool's own process (not its build script)", own_c, own_p,
                "CPU only: the main process's user+sys at exit, without its children (build.sh, "
                "make, zig, ccache); both started through bench/launch.py", wall=False),
            Row(f"{name}: cold, then the test stage (qemu)", cold_t, None,
                "condoit `doit build:X` after the above; the peer's emulated test cannot run")]

    noop_c: list[Sample] = []
    noop_p: list[Sample] = []
    noop_s: list[Sample] = []
    ran: list[str] = []
    for _ in range(n):
        seconds, ran = doit(recipes, cache, f"build:{name}", *zig)
        noop_c.append(seconds)
        noop_p.append(peer([pair.peer_dir], out))
        noop_s.append(peer([pair.peer_dir], out, "local"))
    rows += [Row(f"{name}: no-op, `doit build:X` / peer rebuilds", noop_c, noop_p, f"condoit ran: {' '.join(ran) or 'nothing'}"),
             Row(f"{name}: no-op, peer skip_existing=local", noop_c, noop_s, "skips by build hash")]

    for kind in ("patch", "summary"):
        edit_c: list[Sample] = []
        edit_t: list[Sample] = []
        edit_p: list[Sample] = []
        edit_s: list[Sample] = []
        stale = changed = 0
        for i in range(n):
            before_c, before_p = digest(packages(cache / "channel")), digest(packages(out))
            if kind == "patch":
                pair.set_patch(f"edit {i + 1}")
            else:
                pair.set_summary(f"edit {i + 1}")
            seconds, ran = doit(recipes, cache, f"index:{name}", *zig)
            edit_c.append(seconds)
            seconds, ran_t = doit(recipes, cache, f"build:{name}", *zig)
            edit_t.append(seconds)
            ran += ran_t
            changed += digest(packages(cache / "channel")) != before_c
            edit_s.append(peer([pair.peer_dir], out, "local"))
            stale += digest(packages(out)) == before_p
            edit_p.append(peer([pair.peer_dir], out))
        what = "a patch" if kind == "patch" else "about:summary"
        rows += [Row(f"{name}: edit {what} -> indexed package", edit_c, edit_p,
                     f"condoit ran: {' '.join(t.split(':')[0] for t in ran)}; package changed {changed}/{n}"),
                 Row(f"{name}: edit {what}, then the test stage", edit_t, None, ""),
                 Row(f"{name}: edit {what}, peer skip_existing=local", None, edit_s,
                     f"no ratio: the peer kept a stale package {stale}/{n} times")]
    return rows


def bench_together(pairs: list[Pair], n: int, work: Path, zig_mode: str) -> list[Row]:
    """The recipes built cold by one command of each tool (``doit index:A index:B``, one peer
    process given both recipes), interleaved run by run. Each tool starts once, so the figures
    are the per-package work a stack build pays for every package, start-up shared."""
    names = [pair.spec.name for pair in pairs]
    where = work / "together"
    recipes = where / "condoit-recipes"
    for pair in pairs:
        shutil.copytree(pair.condoit_recipes / pair.spec.name, recipes / pair.spec.name)
    cold_c: list[Sample] = []
    cold_p: list[Sample] = []
    own_c: list[Sample] = []
    own_p: list[Sample] = []
    for i in range(n):
        cache = where / f"condoit-{i}"
        seed_cache(pairs[0].archive.parent, recipes, cache)
        zig = zig_cache_for(where / f"zig-condoit-{i}", zig_mode)
        cpu_c, cpu_p = where / f"own-cpu-condoit-{i}", where / f"own-cpu-peer-{i}"
        cold_c.append(doit(recipes, cache, *(f"index:{name}" for name in names), *zig, cpu_file=cpu_c)[0])
        own_c.append(own_sample(cold_c[-1], cpu_c))
        peer_zig = zig_cache_for(where / f"zig-peer-{i}", zig_mode)   # one Zig cache and ccache, as condoit's
        for pair in pairs:
            point_wrappers_at(pair.tools, peer_zig, where / f"ccache-peer-{i}")
        cold_p.append(peer([pair.peer_dir for pair in pairs], where / f"peer-{i}", cpu_file=cpu_p))
        own_p.append(own_sample(cold_p[-1], cpu_p))
        built = len(packages(cache / "channel")), len(packages(where / f"peer-{i}"))
        if built != (len(pairs), len(pairs)):
            sys.exit(f"bench: one command should have built {len(pairs)} packages; condoit, peer: {built}")
    both = " + ".join(names)
    return [Row(f"{both} in one command: cold build -> indexed packages", cold_c, cold_p,
                f"condoit `doit {' '.join(f'index:{name}' for name in names)}`, one peer process for both; "
                + pairs_note(cold_c, cold_p)),
            Row(f"{both} in one command: the tool's own process", own_c, own_p,
                "CPU only; each tool starts once, so this is the per-package work with start-up shared",
                wall=False)]


def bench_loading(n: int, generated: int, work: Path) -> list[Row]:
    """`doit list --all`: the shipped stack, and a generated stack (bench_render's recipes)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_render import generate
    gen = work / "generated"
    generate(gen, generated)
    rows = []
    for label, recipes in (("shipped stack", ROOT / "recipes"), (f"{generated} generated recipes", gen)):
        times: list[Sample] = []
        lines = 0
        for _ in range(n):
            seconds, out = run([sys.executable, "-m", "doit", "-f", str(DODO), "-d", str(ROOT), "list", "--all",
                                f"recipes={recipes}", f"cache={work / 'list-cache'}"])
            times.append(seconds)
            lines = len(out.splitlines())
        rows.append(Row(f"`doit list --all`, {label}", times, None, f"{lines} tasks listed"))
    return rows


# ---------------------------------------------------------------- report

def first_line(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except OSError:
        return "not found"
    return ((out.stdout or out.stderr).strip().splitlines() or ["?"])[0]


def machine_facts() -> list[str]:
    """Cores, CPU, load and the versions of everything measured."""
    from importlib.metadata import version
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--short", "--", "tasks", "dodo.py"], cwd=ROOT,
                           capture_output=True, text=True).stdout.splitlines()
    tree = (head.stdout.strip() + (f" + {len(dirty)} uncommitted files in tasks/" if dirty else "")
            if head.returncode == 0 else "not a git checkout")
    return [f"machine     {os.cpu_count()} cores, {cpu}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
            f"python      {platform.python_version()}; doit {version('doit')}; py-rattler-build "
            f"{version('py-rattler-build')}; py-rattler {version('py-rattler')}",
            f"compiler    condoit's default toolchain for both: zig cc {version('ziglang')} "
            f"(aarch64-linux-gnu.2.17), wrappers from condoit's build prefix",
            f"emulator    {first_line(['qemu-aarch64', '--version'])}",
            f"condoit     {ROOT}: {tree}"]


def cell(samples: list[Sample] | None, k: int) -> str:
    if not samples:
        return "-"
    xs = [s[k] for s in samples]
    return f"{statistics.median(xs):7.3f} [{min(xs):.3f}-{max(xs):.3f}]"


def ratio(row: Row, k: int) -> str:
    if not (row.condoit and row.peer):
        return "-"
    return f"{statistics.median(s[k] for s in row.peer) / statistics.median(s[k] for s in row.condoit):.2f}x"


def print_table(rows: list[Row], k: int, unit: str) -> None:
    """k=0: wall seconds, k=1: CPU seconds."""
    headers = ("scenario", f"condoit {unit}, median [min-max]", f"rattler-build {unit}, median [min-max]",
               "rb/condoit", "notes")
    table = [headers] + [(r.what, cell(r.condoit, k), cell(r.peer, k), ratio(r, k), r.note)
                         if r.wall or k else (r.what, "-", "-", "-", "CPU only: see the CPU table") for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    for k, line in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(line[:4], widths)) + "  " + line[4])
        if k == 0:
            print("  ".join("-" * w for w in widths) + "  -----")


def main(argv: list[str]) -> None:
    tool = argv[3:4] if argv[:1] == ["own-cpu"] and argv[2:3] == ["--"] else argv[:1]
    if tool in (["doit"], ["rattler-build"]):
        import launch
        if tool == ["rattler-build"]:   # RECIPE OUT [SKIP]: condoit's format, build platform, target
            at = argv.index("rattler-build")
            recipe, out, skip = (argv[at + 1:at + 4] + ["none"])[:3]
            sys.path.insert(0, str(ROOT))
            argv = [*argv[:at + 1], recipe, out, skip, *peer_settings()]
        launch.main(argv)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument("--recipes", default="bzip2", help="comma-separated: bzip2, xz (default bzip2)")
    parser.add_argument("--generated", type=int, default=100, help="recipes in the generated stack")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it (default: a temporary one)")
    parser.add_argument("--zig-cache", choices=("fresh", "user"), default="fresh",
                        help="each cold build starts from a copy of the setup's Zig cache (fresh, default) "
                             "or all builds share the per-user one (user)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.recipes.split(",")) - set(SPECS))
    if unknown:
        parser.error(f"--recipes: no bench recipe {', '.join(unknown)} (known: {', '.join(SPECS)})")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if args.keep:  # a fresh tree at the given place, kept afterwards
        work = args.keep
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
    else:  # mkdtemp made it already
        work = Path(tempfile.mkdtemp(prefix="bench-build-", dir="/tmp"))
    print("\n".join(machine_facts()), flush=True)
    t0 = time.perf_counter()
    try:
        rows: list[Row] = []
        pairs = [pair_for(SPECS[name], work) for name in args.recipes.split(",")]
        for pair in pairs:
            rows += bench_recipe(pair, args.n, work, args.zig_cache)
        if len(pairs) > 1:
            rows += bench_together(pairs, args.n, work, args.zig_cache)
        rows += bench_loading(args.n, args.generated, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"bench took {time.perf_counter() - t0:.0f} s; N={args.n} runs per figure\n")
    print_table(rows, 0, "wall s")
    print("\nThe same runs, CPU seconds (user + system of all the command's processes; steadier on a busy machine):\n")
    print_table(rows, 1, "CPU s")


if __name__ == "__main__":
    main(sys.argv[1:])

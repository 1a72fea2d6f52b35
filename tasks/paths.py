"""The one place that knows where every stage's files live under ``cache/``.

Nothing else builds cache paths by hand: stages ask a ``Layout`` for them.

    cache/
      .doit.db                doit's memory (losing it costs a re-check, not a rebuild)
      .lock                   one condoit run at a time
      downloads/<sha256>      content-addressed source archives (+ <sha256>.json origin)
      downloads/{md5,sha1,url}/<key>  index: file holding the sha256 of that content
      vcs/<kind>/<key>/       cached clones of git/hg/svn sources
      render/                 compiled meta.yaml templates, by content hash
      render/stacks/<key>.memo  the rendered stack per settings, with what its render read
      tool-versions.json      `<tool> --version` of build-machine tools, by binary (no process per run)
      rendered/<name>.yaml    ``doit render:<name>`` output
      work/<name>/<stage>/    a source stage's tree (extract, patch): shared by all targets
      work/<name>/<target>/<stage>/   a build stage's work (compile's copy, package root)
      work/<name>/<target>/compile/src_placehold...  the padded tree build.sh runs in
      prefix/<target>/<name>/_h_env...  the long, padded host prefix the build installs into
      stamps/<name>/[<target>/]<stage>.json  a stage's input signature and result, written last
      stamps/@stack/<stage>.json  the same for a stage of the whole stack (channel)
      stamps/@index.json      a copy of what the last run read of every stamp (tasks/stamp_index.py)
      logs/<name>/[<target>/]<stage>.log, logs/@stack/<stage>.log
      logs/@runs.jsonl        one line per stage run: start, end, CPU, peak memory (`doit report`)
      report/                 `doit report`: timeline.png, trace.json, graph.svg, slowest.txt
      channel/<subdir>/       the local channel (packages, repodata.json); channel/channeldata.json
      installer/              `doit installer`: <name>-<version>-Linux-aarch64.sh and its .sha256
      pkgs/                   py-rattler's package cache
      test/<target>/<name>/   test prefixes and work
      tmp/                    staging for atomic writes (same filesystem as the results)
      tmp/publish/            packages being written (emptied by every run that takes the lock)
      tmp/purge/              what `doit purge` removes, moved here first (tasks/purge.py)
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .settings import Settings

PLACEHOLDER_DIRNAME = "_h_env"
# conda-build pads host prefixes to 255 characters so any install prefix fits in binaries.
PADDED_PREFIX_LENGTH = 255
# The tree build.sh runs in is padded too (less: it is a working directory, and stays
# well under PATH_MAX with the source's own paths), so it has the same length in caches
# of different paths and the package stage can replace it by a canonical string.
SOURCE_DIRNAME = "src"
PADDED_SOURCE_LENGTH = 160
# Where packages say they were built: the strings they carry instead of the real host
# prefix and build tree, so that no cache path is in a package and two caches give the
# same bytes (``canonical_prefix``).
CANONICAL_PREFIX_ROOT = "/opt/condoit/"
CANONICAL_SOURCE_DIRNAME = "_src"


# Stages whose results do not depend on the target platform: shared by all targets. The
# engine says so with a Layout of no target (``Layout(cache, "")``); this set keeps
# ``Layout(cache).work(name, "patch")`` pointing at the shared tree.
SOURCE_STAGES = frozenset({"download", "extract", "patch"})
# The name a stage of the whole stack (not of one recipe) has in paths: its stamp is
# ``Layout(cache, "").stamp(STACK_DIRNAME, stage)``, its log likewise.
STACK_DIRNAME = "@stack"


@dataclass(frozen=True)
class Layout:
    """Paths of one cache; ``target`` separates what each target platform builds ("": shared)."""

    cache: Path
    target: str = "linux-aarch64"

    @classmethod
    def of(cls, settings: "Settings") -> "Layout":
        return cls(settings.cache_dir, settings.target_platform)

    def _scoped(self, name: str, stage: str) -> str:
        """``name`` for source stages (and a Layout of no target), ``name/<target>`` for the stages that build."""
        return name if (stage in SOURCE_STAGES or not self.target) else f"{name}/{self.target}"

    @property
    def doit_db(self) -> Path:
        return self.cache / ".doit.db"

    @property
    def lock(self) -> Path:
        return self.cache / ".lock"

    @property
    def tmp(self) -> Path:
        return self.cache / "tmp"

    # -- sources -------------------------------------------------------------
    @property
    def downloads(self) -> Path:
        return self.cache / "downloads"

    def download(self, sha256: str) -> Path:
        return self.downloads / sha256

    def download_meta(self, sha256: str) -> Path:
        return self.downloads / f"{sha256}.json"

    def download_alias(self, kind: str, key: str) -> Path:
        """Index entry naming the sha256 of content known by an md5, sha1 or URL key."""
        return self.downloads / kind / key

    def downloaded(self) -> list[str]:
        """The sha256 of every archive in the download cache."""
        return sorted(e.name for e in entries(self.downloads) if _is_sha256(e.name) and e.is_file())

    def download_aliases(self) -> list[tuple[Path, str]]:
        """Every index entry (md5, sha1 or URL key) with the sha256 it names."""
        found = []
        for kind in entries(self.downloads):
            if kind.is_dir():
                for entry in entries(kind):
                    try:
                        found.append((entry, entry.read_text().strip()))
                    except OSError:
                        continue
        return found

    @property
    def download_partials(self) -> Path:
        """Where downloads are written and verified before they enter the cache."""
        return self.tmp / "downloads"

    @property
    def publishing(self) -> Path:
        """Packages being written, renamed into the channel when complete (emptied per run)."""
        return self.tmp / "publish"

    @property
    def purging(self) -> Path:
        """Where `doit purge` moves what it removes, before deleting it."""
        return self.tmp / "purge"

    @property
    def core_claims(self) -> Path:
        """One file per running build script: the cores it was given (tasks/cores.py)."""
        return self.tmp / "cores"

    def vcs(self, kind: str, key: str) -> Path:
        return self.cache / "vcs" / kind / key

    def scratch(self, name: str, stage: str) -> Path:
        """Throw-away room of one stage run (same filesystem, so moves are renames)."""
        return self.tmp / "scratch" / f"{name}.{stage}"

    @property
    def compiler_cache(self) -> Path:
        """ccache's objects (the zig toolchain's C/C++ compiles; tasks/toolchain.py)."""
        return self.cache / "ccache"

    @property
    def tool_versions(self) -> Path:
        """`<tool> --version` of the build-machine tools, by binary (tasks/toolchain.py)."""
        return self.cache / "tool-versions.json"

    # -- per recipe ----------------------------------------------------------
    @property
    def template_cache(self) -> Path:
        """Compiled meta.yaml templates, by content hash (fast `doit list`)."""
        return self.cache / "render"

    @property
    def stack_memos_dir(self) -> Path:
        return self.template_cache / "stacks"

    def stack_memo(self, key: str) -> Path:
        """The rendered stack of one set of settings and what its render read (render/stack_memo.py)."""
        return self.stack_memos_dir / f"{key}.memo"

    def rendered(self, name: str) -> Path:
        return self.cache / "rendered" / f"{name}.yaml"

    def work(self, name: str, stage: str) -> Path:
        return self.cache / "work" / self._scoped(name, stage) / stage

    def failed_work(self, name: str, stage: str) -> Path:
        """Where ``fsutil.staged_dir`` keeps the tree of a failed attempt of a stage."""
        from .fsutil import failed_dir
        return failed_dir(self.work(name, stage))

    def stamp(self, name: str, stage: str) -> Path:
        # one joinpath, not three joins: asked for every job on every run
        return self.cache.joinpath("stamps", self._scoped(name, stage), f"{stage}.json")

    @property
    def stamp_index(self) -> Path:
        return self.cache / "stamps" / "@index.json"

    def log(self, name: str, stage: str) -> Path:
        return self.cache.joinpath("logs", self._scoped(name, stage), f"{stage}.log")

    @property
    def run_log(self) -> Path:
        """Every stage run, appended (tasks/runlog.py): the same file for every target."""
        return self.cache / "logs" / "@runs.jsonl"

    @property
    def report_dir(self) -> Path:
        return self.cache / "report"

    def prefix_base(self, name: str) -> Path:
        return self.cache / "prefix" / self.target / name

    def host_prefix(self, name: str) -> Path:
        """Long padded prefix (like conda-build's _h_env_placehold...) for relocatable binaries."""
        base = self.prefix_base(name)
        room = PADDED_PREFIX_LENGTH - len(str(base)) - 1
        return base / padded_component(PLACEHOLDER_DIRNAME, room)

    def canonical_host_prefix(self, name: str) -> str:
        """What packages record instead of ``host_prefix(name)``: same length, no cache path."""
        return canonical_prefix(len(str(self.host_prefix(name))))

    def build_source(self, name: str) -> Path:
        """The copy of the patched tree build.sh runs in, padded to PADDED_SOURCE_LENGTH
        characters (when the cache path leaves room) like the host prefix."""
        base = self.work(name, "compile")
        room = PADDED_SOURCE_LENGTH - len(str(base)) - 1
        return base / padded_component(SOURCE_DIRNAME, room)

    def canonical_build_source(self, name: str) -> str:
        """What packages carry instead of ``build_source(name)``: same length, no cache path."""
        return canonical_prefix(len(str(self.build_source(name))), CANONICAL_SOURCE_DIRNAME)

    def build_prefix(self, name: str) -> Path:
        return self.prefix_base(name) / "_build_env"

    def test_dir(self, name: str) -> Path:
        return self.cache / "test" / self.target / name

    # -- channel -------------------------------------------------------------
    @property
    def channel(self) -> Path:
        return self.cache / "channel"

    def channel_subdir(self, subdir: str) -> Path:
        return self.channel / subdir

    @property
    def package_cache(self) -> Path:
        return self.cache / "pkgs"

    @property
    def channeldata(self) -> Path:
        return self.channel / "channeldata.json"

    @property
    def channel_lock(self) -> Path:
        return self.cache / ".channel.lock"

    @property
    def installers(self) -> Path:
        """Where ``doit installer`` writes the self-extracting installer and its sha256."""
        return self.cache / "installer"

    # -- what the cache holds, for `doit purge` ----------------------------------------
    def recipe_entries(self) -> list[tuple[str, Path]]:
        """(recipe name, path) of every entry of one recipe, for every platform: work trees,
        stamps, logs, rendered recipes, host prefixes and test folders (not @stack's)."""
        found = [(e.name, e) for folder in ("work", "stamps", "logs") for e in entries(self.cache / folder)
                 if e.is_dir() and not e.name.startswith("@")]
        found += [(e.name[:-len(".yaml")], e) for e in entries(self.cache / "rendered") if e.name.endswith(".yaml")]
        found += [(e.name, e) for folder in ("prefix", "test") for platform in entries(self.cache / folder)
                  for e in entries(platform)]
        return found

    def stack_memos(self) -> list[Path]:
        """Every rendered-stack memo in the cache (one per settings a run had)."""
        return [e for e in entries(self.stack_memos_dir) if e.name.endswith(".memo")]


def entries(folder: Path) -> list[Path]:
    """A folder's entries, none if it is missing (a cache fills in as stages run)."""
    try:
        return sorted(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def _is_sha256(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def padded_component(dirname: str, room: int) -> str:
    """``dirname`` padded to ``room`` characters that always *end* the same way, with whole
    ``_placehold`` units (``_h_env___placehold_placehold...``): whatever the cache's path,
    a string that ends with the padded path ends with the same characters. lld (the zig
    toolchain's linker) orders merged string constants by their content, read from the end:
    a ragged end would order a compiled-in ``$PREFIX`` differently in two caches, and the
    canonical-path rewrite could not make their packages identical."""
    if room <= len(dirname):
        return dirname
    units, fill = divmod(room - len(dirname), 10)
    return dirname + "_" * fill + "_placehold" * units


def canonical_prefix(length: int, dirname: str = PLACEHOLDER_DIRNAME) -> str:
    """A path of exactly ``length`` characters that names no cache (``/opt/condoit/_h_env_placehold...``).

    The package stage replaces the real host prefix (``Layout.host_prefix``, whose path
    depends on where the cache is) by this string in every packaged file before it records
    prefix placeholders; the build tree likewise, with ``dirname`` ``_src``. The lengths
    match, so binaries are rewritten byte for byte, and the installer replaces the host
    prefix's canonical string by the install prefix like any placeholder.
    """
    head = CANONICAL_PREFIX_ROOT + dirname
    if length < len(head):
        raise ValueError(f"a path of {length} characters is shorter than {head!r}")
    return (head + "_placehold" * (length // 10 + 1))[:length]

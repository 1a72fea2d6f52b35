"""``url:`` sources: the cache, then mirrors, then the recipe's URLs, then the fallbacks
(Debian's sources, ``apt.DebianFallback``; the package index through pip,
``pip_sdist.PipSdistFallback``).

Each place is tried in turn; a 404, a broken transfer or a hash mismatch moves on to the
next. The error, when nothing delivers, lists every attempt (URL, expected and actual hash).
"""
from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any, Mapping, Protocol
from urllib.parse import urlsplit

from ..errors import CondoitError
from ..fsutil import remove_tree
from ..model import Source
from ..paths import Layout
from ..stagelog import StageLog
from .base import FetchContext, FetchError, Problem, SourceKind
from .cache import HASH_LENGTHS, DownloadCache, Expected
from .http import UrlFailed, download_http
from .local import download_file_url
from .mirrors import candidates, file_name


_HEX = re.compile(r"^[0-9a-fA-F]+$")


class Fallback(Protocol):
    """Another origin of a url source's archive, tried last; reads one ``extra:`` key."""

    extra_key: str

    def check(self, value: Any) -> str | None: ...
    def wanted(self, extra: Mapping[str, Any] | None, recipe_version: str) -> Any: ...
    def expected(self, wanted: Any, recipe: Expected) -> Expected: ...
    def candidates(self, wanted: Any, workdir: Path, log: StageLog) -> Any: ...


class UrlKind(SourceKind):
    name = "url"
    selected_by = "url"
    keys = {"url": "list", "fn": "str", "md5": "str", "sha1": "str", "sha256": "str"}
    # hashes conda-build also knows: accepted, not verified (sha256, sha1 or md5 are)
    accepted = ("sha224", "sha384", "sha512", "content_md5", "content_sha1", "content_sha224",
                "content_sha256", "content_sha384", "content_sha512")

    def __init__(self, fallbacks: tuple[Fallback, ...] = ()):
        self.fallbacks = fallbacks

    def prepare(self, options: dict[str, Any], recipe_dir: Path, problem: Problem) -> dict[str, Any]:
        for algo, length in HASH_LENGTHS.items():
            digest = options.get(algo)
            if digest is None:
                continue
            options[algo] = digest = digest.strip()
            if len(digest) != length or not _HEX.match(digest):
                problem(algo, f"source/{algo} must be {length} hex digits, got '{digest}'")
        return options

    def check_extra(self, extra: Mapping[str, Any], problem: Problem) -> None:
        for fallback in self.fallbacks:
            if extra.get(fallback.extra_key) is not None:
                error = fallback.check(extra[fallback.extra_key])
                if error:
                    problem(fallback.extra_key, error)

    def fetch(self, source: Source, fctx: FetchContext) -> dict[str, Any]:
        return download_url_source(source, fctx, self.fallbacks)

    def cached_path(self, source: Source, fetched: Mapping[str, Any], layout: Layout) -> Path:
        return layout.download(fetched["sha256"])

    def place(self, source: Source, fetched: Mapping[str, Any], into: Path, fctx: FetchContext) -> None:
        from ..unpack import unpack
        scratch = into.with_name(into.name + ".unpack")
        scratch.mkdir()
        unpack(fctx.layout.download(fetched["sha256"]), fetched["name"], into, scratch)

    def clean(self, source: Source, layout: Layout) -> None:
        DownloadCache(layout).remove(Expected.of(source), urls(source))


def urls(source: Source) -> tuple[str, ...]:
    """The recipe's URLs for one archive (mirrors of each other), in order."""
    return tuple(source.get("url", ()))


def archive_name(source: Source) -> str:
    return file_name(urls(source), source.get("fn"))


def fetch_url(url: str, dest: Path, fctx: FetchContext) -> None:
    """Write what ``url`` holds to ``dest`` (http, https or file)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        download_http(url, dest, fctx.log)
    elif scheme == "file":
        download_file_url(url, dest)
    else:
        raise UrlFailed(url, f"unsupported URL scheme '{scheme}' (http, https and file work)", False)


def download_url_source(source: Source, fctx: FetchContext, fallbacks: tuple[Fallback, ...] = ()) -> dict:
    """Make the source's archive a cache entry; its sha256 and file name are the stage output."""
    expected = Expected.of(source)
    name, recipe_urls = archive_name(source), urls(source)
    cache = DownloadCache(fctx.layout)
    found = cache.lookup(expected, recipe_urls)
    if found:
        fctx.log.note(f"{name}: in the download cache ({found})")
        return {"kind": "url", "sha256": found, "name": name}
    if not expected.given():
        fctx.log.note(f"WARNING: {name} has no sha256/sha1/md5 in the recipe; it cannot be verified")
    failures: list[str] = []
    for url in candidates(recipe_urls, name, expected.sha256, fctx.settings.mirrors):
        partial = cache.partial(url)
        try:
            fetch_url(url, partial, fctx)
            sha256 = cache.admit(partial, expected, url, name, recipe_urls)
        except FetchError as exc:
            fctx.log.note(f"failed: {exc}")
            failures.append(str(exc))
            continue
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        fctx.log.note(f"{name}: fetched from {url} ({sha256})")
        return {"kind": "url", "sha256": sha256, "name": name}
    for fallback in fallbacks:
        sha256 = _from_fallback(fallback, expected, name, recipe_urls, fctx, failures)
        if sha256:
            return {"kind": "url", "sha256": sha256, "name": name}
    raise FetchError(f"could not fetch {name} ({expected.describe()}); tried:\n  "
                     + "\n  ".join(failures or ["no URL given"]))


def _from_fallback(fallback: Fallback, expected: Expected, name: str, recipe_urls: tuple[str, ...],
                   fctx: FetchContext, failures: list[str]) -> str | None:
    """One fallback origin, when the recipe opts in; records its failures like the URLs'."""
    wanted = fallback.wanted(fctx.extra, fctx.version)
    if wanted is None:
        return None
    if not expected.given():
        failures.append(f"{wanted}: not used, the recipe gives no hash to check its files against")
        return None
    cache = DownloadCache(fctx.layout)
    alternative = fallback.expected(wanted, expected)
    if repack := alternative != expected:   # declared in the recipe with its own hash
        expected = alternative
        if found := cache.lookup(expected):
            fctx.log.note(f"{name}: {wanted} is in the download cache")
            return found
    rejected = False
    workdir = fctx.layout.scratch(fctx.recipe, "download") / f"fallback-{fallback.extra_key}"
    remove_tree(workdir)  # a killed run's leftovers
    workdir.mkdir(parents=True)
    try:
        for origin, path in fallback.candidates(wanted, workdir, fctx.log):
            try:
                sha256 = cache.admit(path, expected, origin, name, recipe_urls)
            except FetchError as exc:
                fctx.log.note(f"rejected: {exc}")
                failures.append(str(exc))
                rejected = True
                continue
            fctx.log.note(f"{name}: taken from {origin} ({sha256})"
                          + (f"; {wanted}, not the upstream file" if repack else ""))
            return sha256
        failures.append(f"{wanted}: no file with {expected.describe()}")
        hint = getattr(fallback, "rejected_hint", None)     # how to fix the recipe, when the origin knows
        if rejected and hint is not None:
            failures.append(hint(wanted))
    except CondoitError as exc:  # e.g. no apt, no such package or version
        failures.append(str(exc))
    finally:
        remove_tree(workdir)
    return None

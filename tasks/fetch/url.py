"""``url:`` sources: the cache, then mirrors, then the recipe's URLs, then Debian's sources.

Each place is tried in turn; a 404, a broken transfer or a hash mismatch moves on to the
next. The error, when nothing delivers, lists every attempt (URL, expected and actual hash).
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import CondoitError
from ..fsutil import remove_tree
from ..model import Source
from . import apt
from .base import FetchContext, FetchError
from .cache import DownloadCache, Expected
from .http import UrlFailed, download_http
from .local import download_file_url
from .mirrors import candidates, file_name


def fetch_url(url: str, dest: Path, fctx: FetchContext) -> None:
    """Write what ``url`` holds to ``dest`` (http, https or file)."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        download_http(url, dest, fctx.log)
    elif scheme == "file":
        download_file_url(url, dest)
    else:
        raise UrlFailed(url, f"unsupported URL scheme '{scheme}' (http, https and file work)", False)


def download_url_source(source: Source, fctx: FetchContext) -> dict:
    """Make the source's archive a cache entry; its sha256 and file name are the stage output."""
    expected = Expected.of(source)
    name = file_name(source.urls, source.fn)
    cache = DownloadCache(fctx.layout)
    found = cache.lookup(expected, source.urls)
    if found:
        fctx.log.note(f"{name}: in the download cache ({found})")
        return {"kind": "url", "sha256": found, "name": name}
    if not expected.given():
        fctx.log.note(f"WARNING: {name} has no sha256/sha1/md5 in the recipe; it cannot be verified")
    failures: list[str] = []
    for url in candidates(source.urls, name, expected.sha256, fctx.settings.mirrors):
        partial = cache.partial(url)
        try:
            fetch_url(url, partial, fctx)
            sha256 = cache.admit(partial, expected, url, name, source.urls)
        except FetchError as exc:
            fctx.log.note(f"failed: {exc}")
            failures.append(str(exc))
            continue
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        fctx.log.note(f"{name}: fetched from {url} ({sha256})")
        return {"kind": "url", "sha256": sha256, "name": name}
    sha256 = _from_debian(expected, name, source, fctx, failures)
    if sha256:
        return {"kind": "url", "sha256": sha256, "name": name}
    raise FetchError(f"could not fetch {name} ({expected.describe()}); tried:\n  "
                     + "\n  ".join(failures or ["no URL given"]))


def _from_debian(expected: Expected, name: str, source: Source, fctx: FetchContext,
                 failures: list[str]) -> str | None:
    """The Debian fallback, when the recipe opts in; records its failures like the URLs'."""
    debian = apt.debian_source(fctx.extra, fctx.version)
    if debian is None:
        return None
    if not expected.given():
        failures.append(f"{debian}: not used, the recipe gives no hash to check its files against")
        return None
    workdir = fctx.layout.scratch(fctx.recipe, "download") / "debian-source"
    remove_tree(workdir)  # a killed run's leftovers
    workdir.mkdir(parents=True)
    cache = DownloadCache(fctx.layout)
    try:
        for origin, path in apt.candidate_files(debian, workdir, fctx.log):
            try:
                sha256 = cache.admit(path, expected, origin, name, source.urls)
            except FetchError as exc:
                fctx.log.note(f"rejected: {exc}")
                failures.append(str(exc))
                continue
            fctx.log.note(f"{name}: taken from {origin} ({sha256})")
            return sha256
        failures.append(f"{debian}: no file with {expected.describe()}")
    except CondoitError as exc:  # no apt, no such package or version
        failures.append(str(exc))
    finally:
        remove_tree(workdir)
    return None

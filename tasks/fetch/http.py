"""http(s) downloads with requests: timeouts, retries for transient failures, progress on stderr.

The body is written byte for byte (no transparent gunzip of ``.tar.gz`` served with
``Content-Encoding: gzip``) and a body shorter than its Content-Length is a failure, so the
hash check downstream sees exactly what the server holds.
"""
from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..stagelog import StageLog
from .base import FetchError

CONNECT_TIMEOUT = 15.0      # seconds to open a connection
READ_TIMEOUT = 60.0         # seconds without a byte from the server
ATTEMPTS = 3                # per URL, for transient failures only
BACKOFF = 0.5               # seconds, doubled after every failed attempt
PROGRESS_MIN_SIZE = 4 << 20  # show progress for files at least this big
CHUNK = 1 << 16
USER_AGENT = "condoit (conda recipe builder)"


class UrlFailed(FetchError):
    """This URL did not deliver the file; ``transient`` failures are worth retrying."""

    def __init__(self, url: str, reason: str, transient: bool):
        self.url, self.reason, self.transient = url, reason, transient
        super().__init__(f"{url}: {reason}")


def download_http(url: str, dest: Path, log: StageLog) -> None:
    """Write the body of ``url`` to ``dest``, retrying transient failures with backoff."""
    delay = BACKOFF
    for attempt in range(1, ATTEMPTS + 1):
        try:
            _attempt(url, dest, log)
            return
        except UrlFailed as exc:
            log.note(f"attempt {attempt}/{ATTEMPTS}: {exc}")
            if not exc.transient or attempt == ATTEMPTS:
                raise
        time.sleep(delay)
        delay *= 2


def _attempt(url: str, dest: Path, log: StageLog) -> None:
    import requests  # imported on first download: doit's task loading must stay fast
    import urllib3
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    try:
        with requests.get(url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                          headers=headers, allow_redirects=True) as resp:
            if resp.status_code >= 400:
                transient = resp.status_code in (408, 425, 429) or resp.status_code >= 500
                raise UrlFailed(url, f"HTTP {resp.status_code} {resp.reason}", transient)
            total = int(resp.headers.get("Content-Length") or 0)
            progress = _Progress(url.rsplit("/", 1)[-1], total)
            received = 0
            with open(dest, "wb") as fh:
                for block in resp.raw.stream(CHUNK, decode_content=False):
                    fh.write(block)
                    received += len(block)
                    progress.update(received)
                fh.flush()
                os.fsync(fh.fileno())
            progress.done(received)
    except requests.exceptions.RequestException as exc:
        raise UrlFailed(url, _describe(exc), transient=not _is_permanent(exc)) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:  # body broken off mid-stream
        raise UrlFailed(url, f"transfer broken off: {exc}", transient=True) from None
    if total and received != total:
        raise UrlFailed(url, f"connection closed after {received} of {total} bytes", transient=True)
    log.note(f"{url}: {received} bytes")


def _is_permanent(exc: Exception) -> bool:
    import requests
    text = str(exc)
    return isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                            requests.exceptions.InvalidSchema)) or "resolve" in text


def _describe(exc: Exception) -> str:
    import requests
    text = str(exc)
    if isinstance(exc, requests.exceptions.Timeout):
        return f"timed out ({text})"
    if "resolve" in text:
        return "host name could not be resolved (no route to this host from here?)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
        return f"connection failed ({reason.group(0) if reason else text})"
    return text


@dataclass
class _Progress:
    """A progress line on stderr for big files, at most once a second."""

    label: str
    total: int
    last: float = 0.0

    @property
    def shown(self) -> bool:
        return self.total >= PROGRESS_MIN_SIZE

    def update(self, received: int) -> None:
        now = time.monotonic()
        if not self.shown or now - self.last < 1.0:
            return
        self.last = now
        end = "\r" if sys.stderr.isatty() else "\n"
        sys.stderr.write(f"  {self.label}: {received / 1e6:.1f} of {self.total / 1e6:.1f} MB "
                         f"({100 * received // self.total}%){end}")
        sys.stderr.flush()

    def done(self, received: int) -> None:
        if self.shown:
            sys.stderr.write(f"  {self.label}: {received / 1e6:.1f} MB done\n")
            sys.stderr.flush()

"""HTTP with the standard library: the user's proxies and CA bundle, retries with backoff, resume, verification.

Failures that waiting can fix (5xx, 429, timeouts, a connection dropped mid-body) are retried; any other
status is handed to the caller as `HttpStatus`, which knows what the code means for its service.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any

from taokit.errors import DownloadError

log = logging.getLogger("taokit.download")

RETRY_WAITS_S = [2.0, 5.0, 10.0]  # between attempts; a list so that tests can shorten it
TIMEOUT_S = 30.0
_CHUNK = 1 << 20
_TRANSIENT = {408, 429, 500, 502, 503, 504}


class HttpStatus(Exception):
    """A non-transient HTTP status; the caller turns it into a message that says what to do."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"HTTP {status} for {url}")
        self.url = url
        self.status = status


class _Transient(Exception):
    pass


@dataclass(frozen=True)
class Expected:
    """What a finished download must be; anything unknown is None and goes unchecked."""

    size: int | None = None
    sha256: str | None = None  # full hex digest
    sha256_prefix: str | None = None  # torchvision's file names carry the digest's first hex digits


@dataclass
class Request:
    url: str
    headers: dict[str, str] = field(default_factory=dict)  # sent to this host only, never across a redirect


def _ssl_context() -> ssl.SSLContext:
    # A proxy that re-signs TLS needs its CA bundle: SSL_CERT_FILE/SSL_CERT_DIR, never a switch that turns checks off.
    cafile, capath = os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None
    try:
        return ssl.create_default_context(cafile=cafile, capath=capath)
    except (OSError, ssl.SSLError) as err:
        raise DownloadError(f"SSL_CERT_FILE={cafile or ''} SSL_CERT_DIR={capath or ''}: not a readable CA bundle "
                            f"({getattr(err, 'strerror', None) or err}); point it at a PEM file or unset it") from None


def _open(request: Request, extra: dict[str, str] | None = None) -> Any:
    # ProxyHandler() reads HTTPS_PROXY/HTTP_PROXY and skips hosts in NO_PROXY.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler(),
                                         urllib.request.HTTPSHandler(context=_ssl_context()))
    req = urllib.request.Request(request.url, headers={"User-Agent": "taokit", **(extra or {})})
    for name, value in request.headers.items():
        req.add_unredirected_header(name, value)  # a storage redirect must not receive the NGC token
    try:
        return opener.open(req, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as err:
        err.close()
        if err.code in _TRANSIENT:
            raise _Transient(f"HTTP {err.code}") from None
        raise HttpStatus(request.url, err.code) from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, ssl.SSLCertVerificationError):
            raise DownloadError(f"{request.url}: the server's TLS certificate is not trusted ({err.reason.verify_message}); "
                                "behind a proxy that re-signs TLS, point SSL_CERT_FILE at its CA bundle") from None
        raise _Transient(str(err.reason)) from None
    except (TimeoutError, ConnectionError, HTTPException) as err:
        raise _Transient(str(err) or type(err).__name__) from None


def _with_retries(what: str, attempt: Callable[[], Any]) -> Any:
    waits = list(RETRY_WAITS_S)
    while True:
        try:
            return attempt()
        except _Transient as err:
            if not waits:
                raise DownloadError(f"{what}: failed after {len(RETRY_WAITS_S) + 1} tries ({err}); check the network "
                                    "and HTTPS_PROXY, or use a cached copy with TAOKIT_OFFLINE=1") from None
            wait = waits.pop(0)
            log.warning("%s: %s; retrying in %.0f s", what, err, wait)
            time.sleep(wait)


def get_json(request: Request) -> Any:
    """The JSON body of a GET, retried while the failure is transient."""

    def attempt() -> Any:
        with _open(request) as response:
            try:
                return json.loads(response.read())
            except (ValueError, HTTPException, OSError) as err:
                raise _Transient(f"unreadable answer ({err})") from None

    return _with_retries(request.url, attempt)


def download(request: Request, dest: Path, expected: Expected, label: str) -> str:
    """Fetch `request` into `dest` atomically; returns the file's SHA-256 hex digest.

    The bytes go to a partial file unique to this process, are verified, then renamed into place: a killed
    download leaves no `dest`, and two processes fetching the same file both end with one whole file.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    _check_free_space(dest.parent, expected.size, label)
    partial = dest.parent / f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.partial"
    try:
        started = time.monotonic()
        _with_retries(label, lambda: _fetch_into(request, partial, label))
        digest = verify(partial, expected, label)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    size = dest.stat().st_size
    log.info("downloaded %s (%.1f MB in %.1f s) to %s", label, size / 1e6, time.monotonic() - started, dest)
    return digest


def _fetch_into(request: Request, partial: Path, label: str) -> None:
    have = partial.stat().st_size if partial.exists() else 0
    with _open(request, {"Range": f"bytes={have}-"} if have else None) as response:
        resumed = have > 0 and response.status == 206 and \
            (response.headers.get("Content-Range") or "").startswith(f"bytes {have}-")
        if have and not resumed:
            have = 0  # the server ignored Range: start over
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        with open(partial, "ab" if resumed else "wb") as handle, _progress(label, total, have) as advance:
            try:
                while chunk := response.read(_CHUNK):
                    handle.write(chunk)
                    advance(len(chunk))
            except (TimeoutError, ConnectionError, HTTPException) as err:
                raise _Transient(f"connection lost after {handle.tell()} bytes ({type(err).__name__})") from None
            if total is not None and handle.tell() < total:
                raise _Transient(f"the body ended after {handle.tell()} of {total} bytes")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, expected: Expected, label: str) -> str:
    """The file's SHA-256 if it is what `expected` says; else a DownloadError naming the difference."""
    size = path.stat().st_size
    if expected.size is not None and size != expected.size:
        raise DownloadError(f"{label}: got {size} bytes, expected {expected.size}; run the command again")
    digest = file_sha256(path)
    if expected.sha256 and digest != expected.sha256.lower():
        raise DownloadError(f"{label}: SHA-256 {digest[:16]}… differs from the published {expected.sha256[:16]}…; "
                            "the download is corrupt or the source changed; run the command again")
    if expected.sha256_prefix and not digest.startswith(expected.sha256_prefix.lower()):
        raise DownloadError(f"{label}: SHA-256 {digest[:16]}… does not start with the {expected.sha256_prefix} "
                            "its name promises; run the command again")
    return digest


def _check_free_space(folder: Path, size: int | None, label: str) -> None:
    if size is None:
        return
    free = shutil.disk_usage(folder).free
    if free < size + (64 << 20):
        raise DownloadError(f"{label}: needs {size / 1e6:.0f} MB and {folder} has {free / 1e6:.0f} MB free; free "
                            "space there or set TAOKIT_HOME (or --dest) to a disk with room")


@contextmanager
def _progress(label: str, total: int | None, done: int) -> Iterator[Callable[[int], None]]:
    from taokit.engine.progress import is_interactive

    if not is_interactive():
        yield lambda n: None  # one line per file when it ends (download()), nothing per chunk in a log
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  transient=False) as bar:
        task = bar.add_task(label, total=total, completed=done)
        yield lambda n: bar.update(task, advance=n)

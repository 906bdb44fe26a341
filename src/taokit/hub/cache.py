"""Where fetched models live, how a cached copy is trusted, and who fetches under torchrun.

Each file has a hidden record beside it (`.NAME.taokit.json`: source, size, SHA-256), written on the first
fetch. A hit is re-hashed against it (about 0.1 s per 100 MB) and only read: a read-only cache works, and
a hit never touches the network. Correctness never rests on file locks (they silently succeed on some
network file systems): each process downloads to its own partial file and renames it into place.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from taokit.errors import DownloadError
from taokit.hub.http import file_sha256

log = logging.getLogger("taokit.download")

def _wait_for_rank0_s() -> float:
    """TAOKIT_DOWNLOAD_WAIT_S, read when needed (a bad value is one line, not an import-time traceback)."""
    text = os.environ.get("TAOKIT_DOWNLOAD_WAIT_S", "3600")
    try:
        return float(text)
    except ValueError:
        raise DownloadError(f"TAOKIT_DOWNLOAD_WAIT_S={text!r}: give seconds, e.g. 3600") from None


def home() -> Path:
    """TAOKIT_HOME, else $XDG_CACHE_HOME/taokit, else ~/.cache/taokit (clusters with a home quota set one)."""
    if os.environ.get("TAOKIT_HOME"):
        return Path(os.environ["TAOKIT_HOME"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "taokit"


def offline() -> bool:
    return os.environ.get("TAOKIT_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _record_path(path: Path) -> Path:
    return path.parent / f".{path.name}.taokit.json"


def write_record(path: Path, source: str, sha256: str) -> None:
    from taokit.engine.files import atomic_write_text

    record = {"source": source, "size": path.stat().st_size, "sha256": sha256}
    atomic_write_text(_record_path(path), json.dumps(record, indent=1) + "\n")


def cached_sha256(path: Path) -> str | None:
    """The SHA-256 of a cached file that is still what was fetched; None when it is absent or damaged.

    A damaged file (cut short, altered) is logged and left for the caller to fetch again.
    """
    if not path.is_file():
        return None
    record: dict[str, object] = {}
    try:
        record = json.loads(_record_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass  # copied in by hand without its record: trusted as it is, hashed for the run's record
    size, digest = path.stat().st_size, file_sha256(path)
    if record.get("size") not in (None, size) or record.get("sha256") not in (None, digest):
        log.warning("%s: the cached file is damaged (%d bytes, SHA-256 %s… against the %s… recorded); fetching it "
                    "again", path, size, digest[:12], str(record.get("sha256"))[:12])
        return None
    return digest


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0") or 0)


def wait_for_local_rank0(path: Path, label: str) -> str:
    """Under torchrun only local rank 0 downloads; the other ranks of the node wait for its file."""
    wait_s = _wait_for_rank0_s()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        digest = cached_sha256(path) if path.is_file() else None
        if digest is not None:
            return digest
        time.sleep(1.0)
    raise DownloadError(f"{label}: local rank 0 did not finish downloading {path} in {wait_s:.0f} s; "
                        "see its log, or fetch it first with `tao model download`")

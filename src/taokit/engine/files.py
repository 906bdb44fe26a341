"""Atomic file writes: write to a temporary file in the same directory, then rename into place."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it replaces `path` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, _mode_for(path))  # mkstemp makes 0600 files; outputs get the usual mode
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _mode_for(path: Path) -> int:
    """The replaced file's mode, else what a plain open() would give under the current umask."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """Rows as CSV text with Unix line ends (the csv module's default is \\r\\n)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def atomic_write_csv(path: Path, rows: Iterable[Sequence[object]]) -> None:
    atomic_write_text(path, csv_text(rows))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_with(path: Path, writer: Callable[[IO[bytes]], None]) -> None:
    """Call `writer` with an open binary file; the result replaces `path` only if it succeeds."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        writer(handle)
        handle.flush()
        os.fsync(handle.fileno())

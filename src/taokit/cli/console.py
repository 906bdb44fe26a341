"""Terminal output for the CLI: logging set-up, --log_file tee, result tables."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import IO, Any

from taokit.engine.progress import is_interactive
from taokit.errors import UsageError

_LOG_FORMAT = "%(asctime)s [taokit] %(levelname)s %(name)s: %(message)s"


class _Tee:
    """A text stream that writes to the console and to a log file."""

    def __init__(self, stream: IO[str], file: IO[str]) -> None:
        self._stream = stream
        self._file = file

    def write(self, text: str) -> int:
        self._file.write(text)
        self._file.flush()
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()
        self._file.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def setup_output(verbose: bool = False, log_file: Path | None = None) -> None:
    """Configure logging (rich on a terminal, plain lines elsewhere) and tee output to `log_file`."""
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handle = open(log_file, "a", encoding="utf-8")  # noqa: SIM115 - lives for the process
        except OSError as err:
            raise UsageError(f"--log_file {log_file}: cannot open for writing ({err.strerror})") from None
        if not isinstance(sys.stdout, _Tee):
            sys.stdout = _Tee(sys.stdout, handle)
            sys.stderr = _Tee(sys.stderr, handle)
    level = logging.DEBUG if verbose else logging.INFO
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_taokit", False):
            root.removeHandler(handler)
    handler: logging.Handler
    if is_interactive():
        from rich.logging import RichHandler

        handler = RichHandler(show_path=False, rich_tracebacks=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_LOG_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    handler._taokit = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("taokit").setLevel(level)
    logging.captureWarnings(True)


def print_table(title: str, headers: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for h in headers:
        table.add_column(h, justify="right" if h != headers[0] else "left")
    for row in rows:
        table.add_row(*[_cell(v) for v in row])
    Console(file=sys.stdout, width=200).print(table)  # tables size to their content, never wrapped


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def print_lines(lines: list[str]) -> None:
    for line in lines:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


def print_result(result: Any) -> None:
    """Print an action's Result: its tables, then its summary lines."""
    if result is None:
        return
    for table in result.tables:
        print_table(table.title, table.headers, table.rows)
    print_lines(result.lines)

"""The one place where domain errors become a one-line message and an exit code."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from taokit.errors import TaokitError

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("taokit")

EXIT_INTERRUPTED = 130


def report_errors(func: F) -> F:
    """Run a command; a TaokitError prints `error: <one line>` and exits with its code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TaokitError as err:
            print_error(str(err))
            raise typer.Exit(err.exit_code) from None
        except KeyboardInterrupt:
            print_error("interrupted; checkpoints written so far are kept")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except PermissionError as err:  # a folder or file the user may not write: their fix, not a bug
            print_error(f"{err.filename or 'a file'}: permission denied ({err.strerror}); choose a folder you can "
                        "write, or fix its owner")
            raise typer.Exit(2) from None
        except OSError as err:  # a full disk, a read-only filesystem, a path under a file: one line, exit 2
            print_error(f"{err.filename or 'a file'}: {err.strerror or err}; free space or choose another path")
            raise typer.Exit(2) from None
        except MemoryError:
            print_error("out of memory; lower the batch size (in the spec, or with -b where the action takes it)")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def one_line(message: str) -> str:
    """The user-facing line of an error message.

    torch's DataLoader re-raises a worker's exception with the worker's traceback folded into the
    message ("Caught DataError in DataLoader worker process 0. Original Traceback ..."); the line that
    matters is the last one, minus the exception's qualified name.
    """
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else message
    last = lines[-1]
    prefix, sep, rest = last.partition(": ")
    return rest if sep and prefix.startswith("taokit.errors.") else last


def print_error(message: str) -> None:
    sys.stderr.write(f"error: {one_line(message)}\n")
    sys.stderr.flush()

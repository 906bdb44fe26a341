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
        except MemoryError:
            print_error("out of memory; lower the batch size (training_config.batch_size_per_gpu or -b)")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def print_error(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()

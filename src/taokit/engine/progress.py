"""Progress for long work: a rich bar on a terminal, plain log lines elsewhere (CI, nohup, SSH logs)."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger("taokit.progress")


def is_interactive() -> bool:
    """True on a terminal; False under CI, nohup, pipes and `TAOKIT_PLAIN=1`."""
    if os.environ.get("TAOKIT_PLAIN") or os.environ.get("CI"):
        return False
    return sys.stderr.isatty()


class Progress:
    """Wraps an iterable. `postfix` (e.g. the running loss) is shown on the bar and in log lines."""

    def __init__(self, total: int, description: str, enabled: bool = True, log_every_s: float = 30.0) -> None:
        self.total = total
        self.description = description
        self.enabled = enabled
        self.postfix = ""
        self._interval = log_every_s

    def __call__(self, items: Iterable[T]) -> Iterator[T]:
        if not self.enabled:
            yield from items
            return
        if is_interactive():
            yield from self._rich(items)
        else:
            yield from self._plain(items)

    def _rich(self, items: Iterable[T]) -> Iterator[T]:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), TextColumn("{task.fields[postfix]}"))
        with RichProgress(*columns, transient=False) as bar:
            task = bar.add_task(self.description, total=self.total, postfix="")
            for item in items:
                yield item
                bar.update(task, advance=1, postfix=self.postfix)

    def _plain(self, items: Iterable[T]) -> Iterator[T]:
        """A line every `log_every_s` seconds and at the end; short loops stay quiet until they finish."""
        start = last = time.monotonic()
        done = 0
        for done, item in enumerate(items, start=1):
            yield item
            now = time.monotonic()
            if now - last >= self._interval:
                last = now
                rate = done / max(now - start, 1e-9)
                log.info("%s %d/%d (%.1f it/s) %s", self.description, done, self.total, rate, self.postfix)
        if done and time.monotonic() - start >= self._interval:
            log.info("%s %d/%d done in %.0f s", self.description, done, self.total, time.monotonic() - start)

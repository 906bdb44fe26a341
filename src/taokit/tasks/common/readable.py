"""Training never stops for one bad image: an unreadable sample is replaced by the next readable one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from taokit.errors import DataError

log = logging.getLogger("taokit")
T = TypeVar("T")
MAX_IN_A_ROW = 16


class ReadableSamples:
    """Load sample `index`, or, when its image cannot be decoded (truncated, corrupt, unreadable), the next
    readable one: the substitution depends only on the index, so runs stay reproducible. Each bad file is
    warned about once per worker process; under --strict it is a one-line error instead."""

    def __init__(self, size: int, strict: bool = False) -> None:
        self.size, self.strict = size, strict
        self.warned: set[int] = set()

    def get(self, index: int, load: Callable[[int], T]) -> T:
        error: DataError | None = None
        for step in range(min(MAX_IN_A_ROW, self.size)):
            candidate = (index + step) % self.size
            try:
                return load(candidate)
            except DataError as err:
                if self.strict:
                    raise
                error = err
                if candidate not in self.warned:
                    self.warned.add(candidate)
                    log.warning("skipped an unreadable image (another sample takes its place): %s", err)
        raise DataError(f"{min(MAX_IN_A_ROW, self.size)} images in a row could not be read; check the dataset "
                        f"(last: {error})")

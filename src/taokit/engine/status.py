"""TAO's status.json: JSON lines appended per event, read by TAO's tooling and dashboards (tao.md §4.9)."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STARTED, RUNNING, SUCCESS, FAILURE, SKIPPED = "STARTED", "RUNNING", "SUCCESS", "FAILURE", "SKIPPED"


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


class StatusFile:
    """Appends events to `<results_dir>/status.json`. Disabled (a no-op) on non-zero DDP ranks."""

    def __init__(self, results_dir: Path | None, enabled: bool = True) -> None:
        self.path = results_dir / "status.json" if results_dir is not None and enabled else None

    def write(self, status: str, message: str, *, kpi: dict[str, Any] | None = None,
              categorical: dict[str, Any] | None = None, graphical: dict[str, Any] | None = None,
              verbosity: str = "INFO") -> None:
        if self.path is None:
            return
        now = dt.datetime.now()
        event: dict[str, Any] = {
            "date": f"{now.month}/{now.day}/{now.year}",
            "time": f"{now.hour}:{now.minute}:{now.second}",
            "status": status,
            "verbosity": verbosity,
            "message": message,
        }
        for key, value in (("kpi", kpi), ("categorical", categorical), ("graphical", graphical)):
            if value:
                event[key] = _clean(value)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(event) + "\n")


@dataclass
class JobOutcome:
    """Filled in by the body of `StatusFile.job`: the SUCCESS message and its KPIs."""

    message: str
    kpi: dict[str, Any] = field(default_factory=dict)
    categorical: dict[str, Any] = field(default_factory=dict)


def first_line(err: BaseException) -> str:
    if isinstance(err, KeyboardInterrupt):
        return "interrupted (Ctrl-C or SIGTERM); run the same command again to resume"
    text = str(err)
    return text.splitlines()[0] if text.strip() else type(err).__name__


@contextmanager
def status_job(results_dir: Path | None, started: str, succeeded: str, *, enabled: bool = True
               ) -> Iterator[JobOutcome]:
    """TAO's STARTED / FAILURE / SUCCESS events around one action.

    The body may change `outcome.message` and set `outcome.kpi`; an exception (a user error, Ctrl-C)
    is recorded as FAILURE with its first line and raised again.
    """
    status = StatusFile(results_dir, enabled=enabled)
    status.write(STARTED, started)
    outcome = JobOutcome(succeeded)
    try:
        yield outcome
    except BaseException as err:
        status.write(FAILURE, first_line(err))
        raise
    status.write(SUCCESS, outcome.message, kpi=outcome.kpi, categorical=outcome.categorical)


def numeric(values: dict[str, Any]) -> dict[str, Any]:
    """The plain numbers of a result's data: what status.json's `kpi` holds."""
    return {k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}

"""TAO's status.json: JSON lines appended per event, read by TAO's tooling and dashboards (tao.md §4.9)."""

from __future__ import annotations

import datetime as dt
import json
import math
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

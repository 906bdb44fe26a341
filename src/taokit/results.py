"""What an action returns to the CLI: tables to show, summary lines, and machine-readable data.

Tasks build these too, so this module sits beside errors.py rather than inside actions/."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]]


@dataclass
class Result:
    lines: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class TuningResult(Result):
    """What tune_postprocess returns: the headline metric before and after the search."""

    metric: str = ""
    before: float = 0.0
    after: float = 0.0


@dataclass
class EvaluationResult(Result):
    """What evaluate returns: `metrics` are the headline numbers (mAP, accuracy...) that become the
    KPIs of status.json; `data` may hold more (per-class tables) for machine readers."""

    metrics: dict[str, float] = field(default_factory=dict)

"""Quality gates for CI: thresholds on what evaluate, export and benchmark measured (and dataset validate's
problems), checked after the result is shown. A failed gate is exit 3 with one line naming the number, its value and the threshold."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from taokit.errors import GateFailed, UsageError, did_you_mean


@dataclass(frozen=True)
class MinMetric:
    """`--min_metric KPI=VALUE`: the KPI must reach VALUE."""

    kpi: str
    value: float


def parse_min_metrics(texts: list[str] | None) -> list[MinMetric]:
    """Read `KPI=VALUE` flags before anything runs, so a typo costs no evaluation."""
    gates = []
    for text in texts or []:
        kpi, sep, value = text.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not kpi.strip() or math.isnan(number):
            raise UsageError(f"--min_metric {text}: write KPI=VALUE, e.g. --min_metric mAP=0.8")
        gates.append(MinMetric(kpi.strip(), number))
    return gates


def check_min_metrics(metrics: Mapping[str, float | None], gates: list[MinMetric]) -> None:
    """Every gate's KPI (matched without regard to case) at or above its value, else GateFailed."""
    by_name = {name.lower(): name for name in metrics}
    failed = []
    for gate in gates:
        name = by_name.get(gate.kpi.lower())
        if name is None:
            raise UsageError(f"--min_metric {gate.kpi}={gate.value:g}: no KPI '{gate.kpi}' in this evaluation"
                             f"{did_you_mean(gate.kpi, list(metrics), cutoff=0.5)}; KPIs: {', '.join(metrics)}")
        value = metrics[name]
        if value is None or math.isnan(value):
            failed.append(f"{name} is undefined (below {gate.value:g})")
        elif value < gate.value:
            failed.append(f"{name} {value:.4f} < {gate.value:g}")
    if failed:
        raise GateFailed(f"quality gate failed: {'; '.join(failed)} (--min_metric)")


def check_at_most(label: str, values: Mapping[str, float], limit: float | None, flag: str) -> None:
    """Every value at or below `limit` (None: no gate), else GateFailed naming each one over it."""
    if limit is None:
        return
    over = [f"{name} {value:.3g} > {limit:g}" for name, value in values.items() if not value <= limit]
    if over:
        raise GateFailed(f"quality gate failed: {label} {'; '.join(over)} ({flag})")


def check_at_least(label: str, values: Mapping[str, float], limit: float | None, flag: str) -> None:
    """Every value at or above `limit` (None: no gate), else GateFailed naming each one under it."""
    if limit is None:
        return
    under = [f"{name} {value:.3g} < {limit:g}" for name, value in values.items() if not value >= limit]
    if under:
        raise GateFailed(f"quality gate failed: {label} {'; '.join(under)} ({flag})")


def check_no_problems(problems: list[str]) -> None:
    """`dataset validate --strict`: any problem the report found fails the gate, the first one named."""
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise GateFailed(f"quality gate failed: {len(problems)} dataset problem(s): {problems[0]}{more} (--strict)")

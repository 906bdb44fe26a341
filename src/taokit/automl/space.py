"""Search spaces: which spec keys a search varies, over which values, with TAO-style dependencies."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from taokit.errors import UsageError

KINDS = ("float", "log", "int", "choice")


@dataclass(frozen=True)
class Hyperparameter:
    """A spec key (the override's dotted path) and its range. `below`: another key this one must stay under
    (TAO's `depends_on`, e.g. min_learning_rate < max_learning_rate)."""

    key: str
    kind: str  # float, log (float on a log scale), int or choice
    low: float = 0.0
    high: float = 1.0
    choices: tuple[str, ...] = ()
    below: str | None = None

    def describe(self) -> str:
        span = "|".join(self.choices) if self.kind == "choice" else f"[{self.low:g}, {self.high:g}]"
        return f"{self.key} {self.kind} {span}" + (f" < {self.below}" if self.below else "")


def parse_hyperparameter(text: str) -> Hyperparameter:
    """`key:float:LOW:HIGH`, `key:log:LOW:HIGH`, `key:int:LOW:HIGH` or `key:choice:A,B,C`."""
    parts = text.split(":")
    if len(parts) < 3 or parts[1] not in KINDS:
        raise UsageError(f"--automl_add_hyperparameters {text}: write key:KIND:LOW:HIGH or key:choice:A,B,C "
                         f"(KIND: {', '.join(KINDS[:3])})")
    key, kind = parts[0], parts[1]
    if kind == "choice":
        return Hyperparameter(key, kind, choices=tuple(":".join(parts[2:]).split(",")))
    try:
        low, high = float(parts[2]), float(parts[3])
    except (IndexError, ValueError):
        raise UsageError(f"--automl_add_hyperparameters {text}: LOW and HIGH must be numbers") from None
    if not low < high or (kind == "log" and low <= 0):
        raise UsageError(f"--automl_add_hyperparameters {text}: need 0 < LOW < HIGH for log, LOW < HIGH otherwise")
    return Hyperparameter(key, kind, low, high)


def adjust(space: list[Hyperparameter], add: list[str], remove: list[str]) -> list[Hyperparameter]:
    """The task's default space, minus the removed keys, plus (or replaced by) the added ones."""
    keys = {h.key for h in space}
    unknown = [r for r in remove if r not in keys]
    if unknown:
        raise UsageError(f"--automl_remove_hyperparameters {unknown[0]}: not in the search space "
                         f"({', '.join(sorted(keys))})")
    added = [parse_hyperparameter(a) for a in add]
    replaced = {h.key for h in added}
    kept = [h for h in space if h.key not in remove and h.key not in replaced]
    result = kept + added
    if not result:
        raise UsageError("the search space is empty: remove fewer hyperparameters or add some")
    return result


def suggest(trial: Any, space: list[Hyperparameter]) -> dict[str, Any]:
    """Values for one trial; a key that must stay below another is drawn under that one's value."""
    values: dict[str, Any] = {}
    ordered = sorted(space, key=lambda h: h.below is not None)  # bounds first
    for h in ordered:
        high = min(h.high, values[h.below] * 0.999) if h.below in values else h.high
        if h.kind == "choice":
            values[h.key] = trial.suggest_categorical(h.key, list(h.choices))
        elif h.kind == "int":
            values[h.key] = trial.suggest_int(h.key, int(h.low), int(max(h.low, high)))
        else:
            values[h.key] = trial.suggest_float(h.key, h.low, max(high, h.low * (1 + 1e-9)), log=h.kind == "log")
    return values


def overrides(values: dict[str, Any]) -> list[str]:
    out = []
    for key, value in values.items():
        if isinstance(value, float) and not math.isnan(value):
            value = f"{value:.6g}"
        out.append(f"{key}={value}")
    return out

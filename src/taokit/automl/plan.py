"""What a task tells the search: its default space, its KPI, and the spec keys for epochs and validation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from taokit.automl.space import Hyperparameter


@dataclass
class AutoMLPlan:
    space: list[Hyperparameter]
    kpi: str  # the status.json KPI the search maximises (TAO's "kpi"); "loss" is minimised instead
    epochs_key: str  # Hyperband writes each trial's epochs here
    validation_keys: list[str] = field(default_factory=list)  # set to 1 so that Hyperband sees every epoch
    baseline: dict[str, Any] = field(default_factory=dict)  # the spec's own values: the first trial


def soft_start_space(prefix: str, lr_range: tuple[float, float], values: Any) -> tuple[list[Hyperparameter], dict]:
    """TAO's soft-start annealing parameters: max/min learning rate (min below max), soft_start below annealing."""
    space = [Hyperparameter(f"{prefix}.max_learning_rate", "log", *lr_range),
             Hyperparameter(f"{prefix}.min_learning_rate", "log", lr_range[0] / 100, lr_range[1] / 10,
                            below=f"{prefix}.max_learning_rate"),
             Hyperparameter(f"{prefix}.annealing", "float", 0.3, 0.9),
             Hyperparameter(f"{prefix}.soft_start", "float", 0.0, 0.4, below=f"{prefix}.annealing")]
    baseline = {}
    if values is not None:
        baseline = {f"{prefix}.{name}": getattr(values, name)
                    for name in ("max_learning_rate", "min_learning_rate", "annealing", "soft_start")}
    return space, baseline

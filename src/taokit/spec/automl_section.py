"""The optional `automl_config` block of an experiment spec: TAO AutoML's settings, under TAO's names."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from taokit.spec.base import SpecModel


class AutoMLConfig(SpecModel):
    automl_algorithm: Literal["bayesian", "hyperband"] = "bayesian"
    automl_max_recommendations: int = Field(20, ge=1)
    automl_R: int = Field(27, ge=1)
    automl_nu: int = Field(3, ge=2)
    epoch_multiplier: int = Field(1, ge=1)
    metric: Literal["kpi", "loss"] = "kpi"
    automl_add_hyperparameters: list[str] = Field(default_factory=list)
    automl_remove_hyperparameters: list[str] = Field(default_factory=list)

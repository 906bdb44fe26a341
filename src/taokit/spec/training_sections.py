"""Training spec sections TAO's DetectNet_v2 and LaneNet specs share: the soft-start schedule, the regularizer."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from taokit.spec.base import SpecModel
from taokit.spec.write import PROTO_ENUM


class SoftStartAnnealingSchedule(SpecModel):
    min_learning_rate: float = Field(5e-6, gt=0.0)
    max_learning_rate: float = Field(5e-4, gt=0.0)
    soft_start: float = Field(0.1, ge=0.0, lt=1.0)
    annealing: float = Field(0.7, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> SoftStartAnnealingSchedule:
        if self.annealing < self.soft_start:
            raise ValueError(f"annealing ({self.annealing}) must not come before soft_start ({self.soft_start})")
        if self.min_learning_rate > self.max_learning_rate:
            raise ValueError("min_learning_rate is larger than max_learning_rate")
        return self


class Regularizer(SpecModel):
    type: Annotated[Literal["NO_REG", "L1", "L2"], PROTO_ENUM] = "NO_REG"
    weight: float = Field(0.0, ge=0.0)

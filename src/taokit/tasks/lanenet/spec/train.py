"""train_config, loss_config and evaluation_config of the LaneNet experiment spec."""

from __future__ import annotations

from pydantic import Field

from taokit.spec.base import SpecModel
from taokit.spec.training_sections import Regularizer, SoftStartAnnealingSchedule


class LearningRate(SpecModel):
    soft_start_annealing_schedule: SoftStartAnnealingSchedule = SoftStartAnnealingSchedule(
        min_learning_rate=1e-5, max_learning_rate=5e-4, soft_start=0.1, annealing=0.7)


class TrainConfig(SpecModel):
    batch_size: int = Field(8, gt=0)
    epochs: int = Field(30, gt=0)
    learning_rate: LearningRate = LearningRate()
    regularizer: Regularizer = Regularizer()
    checkpoint_interval: int = Field(5, ge=0, description="0: only the last epoch")
    validation_period: int = Field(5, gt=0, description="epochs between validations (and the last epoch)")
    n_workers: int = Field(2, ge=0)
    lane_width: int = Field(5, ge=1, description="target line thickness at 1280 px image width, scaled")


class LossConfig(SpecModel):
    binary_weight: float = Field(1.0, ge=0.0)
    embedding_weight: float = Field(1.0, ge=0.0)
    delta_v: float = Field(0.5, gt=0.0)
    delta_d: float = Field(3.0, gt=0.0)
    var_weight: float = Field(1.0, ge=0.0)
    dist_weight: float = Field(1.0, ge=0.0)
    reg_weight: float = Field(0.001, ge=0.0)
    class_weight_c: float = Field(1.02, gt=1.0, description="ENet's bounded inverse class weighting 1/ln(c+p)")


class EvaluationConfig(SpecModel):
    batch_size: int = Field(0, ge=0, description="0: train_config.batch_size")
    culane_lane_width: int = Field(30, ge=1, description="the official tool's line width in pixels")
    culane_iou_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    tusimple_time_limit_ms: float = Field(
        200.0, ge=0.0, description="TuSimple's rule for its official timed score: slower frames score 0; 0 = off")

"""training_config and evaluation_config sections (tao.md §2.8-2.9)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from taokit.spec.base import SpecModel, ignored, one_of
from taokit.spec.experiment_tracking import NOT_TRACKED, ClearmlConfig, WandbConfig
from taokit.spec.training_sections import Regularizer, SoftStartAnnealingSchedule
from taokit.spec.write import PROTO_ENUM


class EarlyStoppingAnnealingSchedule(SpecModel):
    min_learning_rate: float = Field(5e-6, gt=0.0)
    max_learning_rate: float = Field(5e-4, gt=0.0)
    soft_start_epochs: int = Field(1, ge=0)
    annealing_epochs: int = Field(1, ge=0)
    patience_steps: int = Field(2, ge=0)


class LearningRate(SpecModel):
    soft_start_annealing_schedule: SoftStartAnnealingSchedule | None = None
    early_stopping_annealing_schedule: EarlyStoppingAnnealingSchedule | None = None

    @model_validator(mode="after")
    def _one_of(self) -> LearningRate:
        one_of(self, ("soft_start_annealing_schedule", "early_stopping_annealing_schedule"), "learning-rate schedule")
        return self


class Adam(SpecModel):
    epsilon: float = Field(1e-8, gt=0.0)
    beta1: float = Field(0.9, ge=0.0, lt=1.0)
    beta2: float = Field(0.999, ge=0.0, lt=1.0)


class Optimizer(SpecModel):
    adam: Adam = Adam()


class CostScaling(SpecModel):
    enabled: bool = False
    initial_exponent: float = 20.0
    increment: float = 0.005
    decrement: float = 1.0


class VisualizerClassConfig(SpecModel):
    coverage_threshold: float = 0.005


class Visualizer(SpecModel):
    enabled: bool = False
    num_images: int = Field(3, ge=0)
    scalar_logging_frequency: int = Field(50, ge=0)
    infrequent_logging_frequency: int = Field(5, ge=0)
    target_class_config: dict[str, VisualizerClassConfig] = Field(default_factory=dict)
    wandb_config: WandbConfig = ignored(WandbConfig, NOT_TRACKED)
    clearml_config: ClearmlConfig = ignored(ClearmlConfig, NOT_TRACKED)


class TrainingConfig(SpecModel):
    batch_size_per_gpu: int = Field(4, gt=0)
    num_epochs: int = Field(10, gt=0)
    checkpoint_interval: int = Field(10, ge=0)
    learning_rate: LearningRate = LearningRate()
    regularizer: Regularizer = Regularizer()
    optimizer: Optimizer = Optimizer()
    cost_scaling: CostScaling = ignored(CostScaling, "--use_amp uses torch's dynamic loss scaling")
    enable_qat: bool = ignored(False, "taokit quantizes after training (export --data_type int8)")
    visualizer: Visualizer = Visualizer()
    n_workers: int = Field(2, ge=0)
    max_queue_size: int = ignored(0, "the data loader prefetches two batches per worker")
    use_multiprocessing: bool = ignored(False, "n_workers > 0 always uses worker processes")
    ema_decay: float = Field(
        0.0, ge=0.0, lt=1.0, description="taokit extension: > 0 validates and saves an exponential moving "
                                         "average of the weights with this decay (e.g. 0.999); 0 = off")


class EvaluationBox(SpecModel):
    minimum_height: int = 0
    maximum_height: int = 9999
    minimum_width: int = 0
    maximum_width: int = 9999


class EvaluationConfig(SpecModel):
    validation_period_during_training: int = Field(10, gt=0)
    first_validation_epoch: int = Field(1, gt=0)
    early_stopping_patience_steps: int = ignored(0, "use early_stopping_annealing_schedule.patience_steps")
    minimum_detection_ground_truth_overlap: dict[str, Annotated[float, Field(gt=0.0, le=1.0)]] = Field(
        default_factory=dict)
    evaluation_box_config: dict[str, EvaluationBox] = Field(default_factory=dict)
    average_precision_mode: Annotated[Literal["SAMPLE", "INTEGRATE"], PROTO_ENUM] = "SAMPLE"
    batch_size: int = Field(0, ge=0, description="taokit extension: evaluation batch size (0 = training batch)")

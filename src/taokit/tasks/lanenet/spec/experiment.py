"""The LaneNet `Experiment` spec: what train, evaluate, export and prune run from."""

from __future__ import annotations

from pydantic import Field, model_validator

from taokit.spec.automl_section import AutoMLConfig
from taokit.spec.base import FieldPathError, SpecModel
from taokit.tasks.lanenet.spec.data import AugmentationConfig, DatasetConfig
from taokit.tasks.lanenet.spec.model import ModelConfig, PostprocessingConfig
from taokit.tasks.lanenet.spec.train import EvaluationConfig, LossConfig, TrainConfig


class LaneNetExperiment(SpecModel):
    random_seed: int = Field(42, ge=0)
    dataset_config: DatasetConfig
    model_config_: ModelConfig = Field(ModelConfig(), alias="model_config")
    train_config: TrainConfig = TrainConfig()
    loss_config: LossConfig = LossConfig()
    augmentation_config: AugmentationConfig = AugmentationConfig()
    postprocessing_config: PostprocessingConfig = PostprocessingConfig()
    evaluation_config: EvaluationConfig = EvaluationConfig()
    automl_config: AutoMLConfig | None = None  # taokit's `tao lanenet automl` settings

    @property
    def input_hw(self) -> tuple[int, int]:
        m = self.model_config_
        return (m.input_image_height, m.input_image_width)

    @model_validator(mode="after")
    def _augmented_size_is_the_input(self) -> LaneNetExperiment:
        a, (h, w) = self.augmentation_config, self.input_hw
        for key, value, want in (("output_width", a.output_width, w), ("output_height", a.output_height, h)):
            if value and value != want:
                raise FieldPathError(("augmentation_config", key), f"{value} differs from the network input "
                                     f"({want}, model_config.input_image_{key.split('_')[1]}); set both alike")
        return self

"""The DetectNet_v2 `Experiment` spec (train, evaluate, export, prune) with its cross-section checks."""

from __future__ import annotations

from pydantic import Field, model_validator

from taokit.spec.automl_section import AutoMLConfig
from taokit.spec.base import FieldPathError, SpecModel, ignored
from taokit.tasks.detectnet.spec.convert import DatasetExportConfig
from taokit.tasks.detectnet.spec.dataset import AugmentationConfig, DatasetConfig
from taokit.tasks.detectnet.spec.model import (
    BboxRasterizerConfig,
    CostFunctionConfig,
    ModelConfig,
    ObjectiveLabelFilter,
    RasterizerClassConfig,
)
from taokit.tasks.detectnet.spec.postprocess import ClusteringConfig, PostProcessingConfig
from taokit.tasks.detectnet.spec.training import EvaluationBox, EvaluationConfig, TrainingConfig


class DetectNetExperiment(SpecModel):
    random_seed: int = Field(42, ge=0)
    dataset_config: DatasetConfig
    augmentation_config: AugmentationConfig
    postprocessing_config: PostProcessingConfig = PostProcessingConfig()
    model_config_: ModelConfig = Field(ModelConfig(), alias="model_config")
    evaluation_config: EvaluationConfig = EvaluationConfig()
    cost_function_config: CostFunctionConfig
    training_config: TrainingConfig = TrainingConfig()
    bbox_rasterizer_config: BboxRasterizerConfig = BboxRasterizerConfig()
    automl_config: AutoMLConfig | None = None  # taokit's `tao detectnet automl` settings
    loss_mask_label_filter: ObjectiveLabelFilter = ObjectiveLabelFilter()
    dataset_export_config: list[DatasetExportConfig] = ignored(
        list, "run dataset_convert with its own spec instead")

    @property
    def class_names(self) -> list[str]:
        """Network output order = cost_function_config.target_classes order (tao.md §2.7)."""
        return [c.name for c in self.cost_function_config.target_classes]

    @property
    def input_hw(self) -> tuple[int, int]:
        pre = self.augmentation_config.preprocessing
        return (pre.output_image_height, pre.output_image_width)

    @model_validator(mode="after")
    def _classes_consistent(self) -> DetectNetExperiment:
        names = self.class_names
        for section, keys in (
            (("bbox_rasterizer_config", "target_class_config"), self.bbox_rasterizer_config.target_class_config),
            (("postprocessing_config", "target_class_config"), self.postprocessing_config.target_class_config),
            (("evaluation_config", "minimum_detection_ground_truth_overlap"),
             self.evaluation_config.minimum_detection_ground_truth_overlap),
            (("evaluation_config", "evaluation_box_config"), self.evaluation_config.evaluation_box_config),
        ):
            unknown = [k for k in keys if k not in names]
            if unknown:
                raise FieldPathError((*section, unknown[0]), f"class '{unknown[0]}' is not in "
                                     f"cost_function_config.target_classes ({', '.join(names)})")
        mapped = set(self.dataset_config.target_class_mapping.values())
        missing = [n for n in names if mapped and n not in mapped]
        if missing:
            raise FieldPathError(("dataset_config", "target_class_mapping"),
                                 f"no source class maps to target class '{missing[0]}', so it would never "
                                 "have labels")
        if self.cost_function_config.bbox_dfl_weight and not self.model_config_.bbox_distribution_bins:
            raise FieldPathError(("cost_function_config", "bbox_dfl_weight"),
                                 "the distribution focal loss needs edge distributions: set "
                                 "model_config.bbox_distribution_bins (e.g. 16) or this key to 0")
        return self

    def rasterizer_config(self, name: str) -> RasterizerClassConfig:
        return self.bbox_rasterizer_config.target_class_config.get(name, RasterizerClassConfig())

    def clustering_config(self, name: str) -> ClusteringConfig:
        entry = self.postprocessing_config.target_class_config.get(name)
        return entry.clustering_config if entry else ClusteringConfig()

    def iou_threshold(self, name: str) -> float:
        return self.evaluation_config.minimum_detection_ground_truth_overlap.get(name, 0.5)

    def evaluation_box(self, name: str) -> EvaluationBox:
        return self.evaluation_config.evaluation_box_config.get(name, EvaluationBox())

"""model_config, bbox_rasterizer_config, cost_function_config and loss_mask_label_filter (tao.md §2.4-2.10)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from taokit.models.names import BuildableArch
from taokit.spec.base import SpecModel, ignored
from taokit.spec.write import PROTO_ENUM

MAX_BBOX_BINS = 64  # 64 cells: 512 px at stride 8, 1024 at 16

Unit = Annotated[float, Field(ge=0.0, le=1.0)]



class Activation(SpecModel):
    activation_type: Literal["relu", "relu6", "leaky_relu", "swish", "elu"] = "relu"
    activation_parameters: dict[str, float] = ignored(dict, "activations use their default parameters")


class BboxObjective(SpecModel):
    input: str = ignored("", "the bbox head always reads the backbone's last feature map")
    scale: float = Field(35.0, gt=0.0)
    offset: float = Field(0.5, ge=0.0)


class CovObjective(SpecModel):
    input: str = ignored("", "the coverage head always reads the backbone's last feature map")


class ObjectiveSet(SpecModel):
    bbox: BboxObjective = BboxObjective()
    cov: CovObjective = CovObjective()


class TrainingPrecision(SpecModel):
    backend_floatx: Annotated[Literal["FLOAT32", "FLOAT16", "INVALID"], PROTO_ENUM] = "FLOAT32"


class ModelConfig(SpecModel):
    arch: BuildableArch = "resnet"
    num_layers: int = Field(18, ge=0)
    pretrained_model_file: str = ""
    load_graph: bool = False
    freeze_pretrained_layers: bool = False
    allow_loaded_model_modification: bool = ignored(False, "loaded models can always be fine-tuned")
    use_pooling: bool = False
    use_batch_norm: bool = True
    dropout_rate: float = Field(0.0, ge=0.0, lt=1.0)
    activation: Activation = Activation()
    objective_set: ObjectiveSet = ObjectiveSet()
    training_precision: TrainingPrecision = ignored(TrainingPrecision, "use --use_amp for mixed precision")
    freeze_bn: bool = False
    freeze_blocks: list[float] = Field(default_factory=list)
    all_projections: bool = False
    output_stride: Literal[16, 8] = Field(
        16, description="taokit extension: the grid's stride; 8 fuses stride-16 features onto the stride-8 map "
                        "(ResNet backbones) for small objects, same two output tensors")
    bbox_distribution_bins: int = Field(
        0, ge=0, le=MAX_BBOX_BINS,
        description="taokit extension: > 0 predicts each box edge as a distribution over this many distances, 0 "
                    "to N-1 grid cells from the cell centre, and outputs its mean (decoded inside the network: "
                    "output_bbox keeps TAO's 4 channels per class); 16 reaches 15 cells. 0 = TAO's linear bbox head")

    @field_validator("bbox_distribution_bins")
    @classmethod
    def _bins(cls, value: int) -> int:
        if value == 1:
            raise ValueError("one bin has no distribution: use 0 (TAO's head) or at least 2, e.g. 16")
        return value


class RasterizerClassConfig(SpecModel):
    cov_center_x: Unit = 0.5
    cov_center_y: Unit = 0.5
    cov_radius_x: Unit = 1.0
    cov_radius_y: Unit = 1.0
    bbox_min_radius: Unit = 1.0


class BboxRasterizerConfig(SpecModel):
    target_class_config: dict[str, RasterizerClassConfig] = Field(default_factory=dict)
    deadzone_radius: Unit = 0.67


class Objective(SpecModel):
    name: Literal["cov", "bbox"]
    initial_weight: float = Field(1.0, ge=0.0)
    weight_target: float = Field(1.0, ge=0.0)


class TargetClass(SpecModel):
    name: str
    class_weight: float = Field(1.0, ge=0.0)
    coverage_foreground_weight: Unit = 0.05
    objectives: list[Objective] = Field(
        default_factory=lambda: [Objective(name="cov"), Objective(name="bbox", initial_weight=10.0,
                                                                   weight_target=10.0)])


class CostFunctionConfig(SpecModel):
    target_classes: list[TargetClass]
    enable_autoweighting: bool = False
    max_objective_weight: float = Field(0.9999, gt=0.0)
    min_objective_weight: float = Field(0.0001, ge=0.0)
    iou_aware_coverage: bool = Field(
        False, description="taokit extension: the coverage target of a cell is its coverage times the IoU of "
                           "the cell's predicted box with its ground truth, so that coverage ranks boxes by quality")
    bbox_giou_weight: float = Field(
        0.0, ge=0.0, description="taokit extension: > 0 adds this weight times (1 - GIoU) of each foreground "
                                 "cell's box to the bbox objective's L1 cost (TAO's cost has a GIoU term no "
                                 "spec field reaches); 0 = TAO's L1 alone")
    coverage_focal_gamma: float = Field(
        0.0, ge=0.0, description="taokit extension: > 0 multiplies each cell's coverage cost by |coverage - "
                                 "target| to this power (quality focal loss), so that the many easy background "
                                 "cells stop outweighing the objects; 0 = TAO's weighted BCE")
    bbox_dfl_weight: float = Field(
        0.0, ge=0.0, description="taokit extension: > 0 adds this weight times the distribution focal loss "
                                 "(GFL) of each foreground cell's edge distributions to the bbox objective; "
                                 "needs model_config.bbox_distribution_bins")

    @field_validator("target_classes")
    @classmethod
    def _unique_names(cls, value: list[TargetClass]) -> list[TargetClass]:
        if not value:
            raise ValueError("at least one target_classes block is needed")
        names = [c.name for c in value]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup:
            raise ValueError(f"class '{dup}' is listed twice")
        return value


class BboxDimensionsLabelFilter(SpecModel):
    min_width: float = 0.0
    min_height: float = 0.0
    max_width: float = 0.0
    max_height: float = 0.0


class BboxCropLabelFilter(SpecModel):
    crop_left: int = 0
    crop_right: int = 0
    crop_top: int = 0
    crop_bottom: int = 0


class SourceClassLabelFilter(SpecModel):
    source_class_names: list[str] = Field(default_factory=list)


class LabelFilter(SpecModel):
    bbox_dimensions_label_filter: BboxDimensionsLabelFilter | None = None
    bbox_crop_label_filter: BboxCropLabelFilter | None = None
    source_class_label_filter: SourceClassLabelFilter | None = None


class ObjectiveLabelFilterConfig(SpecModel):
    label_filter: LabelFilter = LabelFilter()
    target_class_names: list[str] = Field(default_factory=list)
    objective_names: list[str] = Field(default_factory=list)


class ObjectiveLabelFilter(SpecModel):
    objective_label_filter_configs: list[ObjectiveLabelFilterConfig] = Field(default_factory=list)
    mask_multiplier: float = 0.0
    preserve_ground_truth: bool = False

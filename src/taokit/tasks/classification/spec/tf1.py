"""TAO classification_tf1 ("makenet") `Experiment` spec, field for field (tao.md §5.1).

Every field is either mapped into the classification config (mapping.py) or marked `ignored`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from taokit.models.names import KnownArch
from taokit.spec.automl_section import AutoMLConfig
from taokit.spec.base import SpecModel, ignored, one_of
from taokit.spec.experiment_tracking import NOT_TRACKED, ClearmlConfig, WandbConfig
from taokit.spec.write import PROTO_ENUM

Count = Annotated[int, Field(ge=0)]  # proto uint32


class BatchNormConfig(SpecModel):
    momentum: float = Field(0.9, gt=0.0, lt=1.0)
    epsilon: float = Field(1e-3, gt=0.0)


class Activation(SpecModel):
    activation_type: str = "relu"
    activation_parameters: dict[str, float] = ignored(dict, "activations use their default parameters")


class ModelConfig(SpecModel):
    arch: KnownArch = "resnet"
    input_image_size: str = "3,224,224"
    resize_interpolation_method: Annotated[Literal["BILINEAR", "BICUBIC"], PROTO_ENUM] = "BILINEAR"
    n_layers: Count = 18
    retain_head: bool = ignored(False, "the head always has one output per class")
    use_batch_norm: bool = True
    use_bias: bool = False
    use_pooling: bool = False
    all_projections: bool = False
    freeze_bn: bool = False
    freeze_blocks: list[Count] = Field(default_factory=list)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    batch_norm_config: BatchNormConfig | None = None
    activation: Activation = Activation()
    byom_model: str = ignored("", "BYOM (.tltb) models are not supported")

    @field_validator("input_image_size")
    @classmethod
    def _chw(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",")]
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError(f'expected "C,H,W" such as "3,224,224", got "{value}"')
        c, h, w = map(int, parts)
        if c != 3:
            raise ValueError(f"taokit trains 3-channel models (grayscale images are read as RGB); write "
                             f'"3,{h},{w}"')
        if h < 16 or w < 16:
            raise ValueError(f"height and width must be at least 16 pixels, got {h}x{w}")
        return value


class Sgd(SpecModel):
    lr: float = Field(0.01, gt=0.0)
    decay: float = Field(0.0, ge=0.0)
    momentum: float = Field(0.9, ge=0.0)
    nesterov: bool = False


class Adam(SpecModel):
    lr: float = Field(0.001, gt=0.0)
    beta_1: float = Field(0.9, ge=0.0, lt=1.0)
    beta_2: float = Field(0.999, ge=0.0, lt=1.0)
    epsilon: float = Field(1e-7, gt=0.0)
    decay: float = Field(0.0, ge=0.0)


class RmsProp(SpecModel):
    lr: float = Field(0.001, gt=0.0)
    rho: float = Field(0.9, ge=0.0, lt=1.0)
    epsilon: float = Field(1e-7, gt=0.0)
    decay: float = Field(0.0, ge=0.0)


class OptimizerConfig(SpecModel):
    sgd: Sgd | None = None
    adam: Adam | None = None
    rmsprop: RmsProp | None = None

    @model_validator(mode="after")
    def _one_of(self) -> OptimizerConfig:
        one_of(self, ("sgd", "adam", "rmsprop"), "optimizer")
        return self


class RegConfig(SpecModel):
    type: str = "None"
    scope: str = "Conv2D,Dense"
    weight_decay: float = Field(0.0, ge=0.0, lt=1.0)

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        if value.lower() not in ("l1", "l2", "none", ""):
            raise ValueError(f"regularizer type must be L1, L2 or None, got '{value}'")
        return value

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: str) -> str:
        unknown = [s for s in value.split(",") if s.strip() and s.strip().lower() not in ("conv2d", "dense")]
        if unknown:
            raise ValueError(f"scope entries are Conv2D and Dense, got '{unknown[0].strip()}'")
        return value


class StepSchedule(SpecModel):
    learning_rate: float = Field(gt=0.0)
    step_size: float = Field(10.0, gt=0.0, le=100.0, description="percent of training")
    gamma: float = Field(0.1, ge=0.0, le=1.0)


class SoftAnnealSchedule(SpecModel):
    learning_rate: float = Field(gt=0.0)
    soft_start: float = Field(0.056, ge=0.0, lt=1.0)
    annealing_divider: float = Field(10.0, gt=0.0)
    annealing_points: list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(default_factory=lambda: [0.3, 0.6, 0.8])

    @model_validator(mode="after")
    def _increasing(self) -> SoftAnnealSchedule:
        points = self.annealing_points
        if points != sorted(points):
            raise ValueError("annealing_points must be in increasing order")
        if points and points[0] <= self.soft_start:
            raise ValueError("soft_start must come before the first annealing point")
        return self


class CosineSchedule(SpecModel):
    learning_rate: float = Field(gt=0.0)
    min_lr_ratio: float = Field(0.0, ge=0.0, le=1.0)
    soft_start: float = Field(0.0, ge=0.0, lt=1.0)


class LRConfig(SpecModel):
    step: StepSchedule | None = None
    soft_anneal: SoftAnnealSchedule | None = None
    cosine: CosineSchedule | None = None

    @model_validator(mode="after")
    def _one_of(self) -> LRConfig:
        one_of(self, ("step", "soft_anneal", "cosine"), "schedule")
        return self


class Visualizer(SpecModel):
    enabled: bool = False
    num_images: Count = 3
    weight_histograms: bool = False
    wandb_config: WandbConfig = ignored(WandbConfig, NOT_TRACKED)
    clearml_config: ClearmlConfig = ignored(ClearmlConfig, NOT_TRACKED)


class TrainConfig(SpecModel):
    train_dataset_path: str = ""
    val_dataset_path: str = ""
    pretrained_model_path: str = ""
    optimizer: OptimizerConfig = OptimizerConfig()
    batch_size_per_gpu: int = Field(64, gt=0)
    n_epochs: int = Field(80, gt=0)
    n_workers: Count = 2
    reg_config: RegConfig = RegConfig()
    lr_config: LRConfig = LRConfig()
    random_seed: Count = 42
    enable_random_crop: bool = False
    enable_center_crop: bool = False
    enable_color_augmentation: bool = False
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)
    preprocess_mode: Literal["caffe", "torch", "tf"] = "caffe"
    mixup_alpha: float = Field(0.0, ge=0.0)
    model_parallelism: list[float] = ignored(list, "taokit trains data-parallel only (--gpus)")
    image_mean: dict[str, float] = Field(default_factory=dict)
    disable_horizontal_flip: bool = False
    visualizer: Visualizer = ignored(Visualizer, "taokit always writes TensorBoard events and status.json")

    @field_validator("image_mean")
    @classmethod
    def _bgr_keys(cls, value: dict[str, float]) -> dict[str, float]:
        if value and set(value) != {"b", "g", "r"}:
            raise ValueError("image_mean needs the keys 'b', 'g' and 'r' (3-channel models)")
        return value


class EvalConfig(SpecModel):
    top_k: int = Field(5, ge=1)
    eval_dataset_path: str = ""
    model_path: str = ""
    batch_size: Count = 0
    n_workers: Count = 2
    enable_center_crop: bool = False


class Tf1Spec(SpecModel):
    eval_config: EvalConfig = EvalConfig()
    model_config_: ModelConfig = Field(ModelConfig(), alias="model_config")
    train_config: TrainConfig = TrainConfig()
    automl_config: AutoMLConfig | None = None  # taokit's `tao classification automl` settings

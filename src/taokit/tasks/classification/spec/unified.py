"""The one classification config every action runs from; TAO's tf1 and PyTorch specs both map into it.

It can also be written and read directly (kind `taokit`): `tao spec convert` produces it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from taokit.spec.automl_section import AutoMLConfig
from taokit.spec.base import SpecModel

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
PreprocessMode = Literal["caffe", "torch", "tf"]


class ModelSection(SpecModel):
    arch: str = Field("resnet", description='"resnet": TAO\'s ResNet template; "torchvision_resnet": torchvision\'s')
    num_layers: int = Field(18, ge=0)
    input_height: int = Field(224, ge=16)
    input_width: int = Field(224, ge=16)
    interpolation: Literal["bilinear", "bicubic"] = "bilinear"
    use_batch_norm: bool = True
    all_projections: bool = False
    use_bias: bool = Field(False, description="TAO's ResNet template: convolutions with bias")
    use_pooling: bool = Field(False, description="TAO's ResNet template: max-pool after conv1 (stride 32); "
                                                 "false: strided convolutions (stride 16)")
    activation: str = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    freeze_blocks: list[int] = Field(default_factory=list)
    freeze_backbone: bool = False
    freeze_bn: bool = False
    bn_momentum: float | None = Field(None, gt=0.0, lt=1.0, description="Keras convention (0.9 = slow)")
    bn_epsilon: float | None = Field(None, gt=0.0)
    pretrained_backbone_path: str = ""
    arch_key: str = Field("model.arch", description="where the arch came from, for error messages")


class DataSection(SpecModel):
    train_dir: str = ""
    val_dir: str = ""
    test_dir: str = ""
    classes_file: str = Field("", description="classes.txt (one per line) or classmap.json; default: "
                                              "found beside the data, else sorted folder names")
    num_classes: int = Field(0, ge=0, description="0: as many as the class folders")
    preprocess_mode: PreprocessMode = "caffe"
    mean: list[float] = Field(default_factory=list, description="per channel, in network channel order; "
                                                                  "empty: the mode's default")
    std: list[float] = Field(default_factory=list)
    n_workers: int = Field(2, ge=0)

    @model_validator(mode="after")
    def _three_values(self) -> DataSection:
        for name in ("mean", "std"):
            if getattr(self, name) and len(getattr(self, name)) != 3:
                raise ValueError(f"{name} needs 3 values (one per channel), got {len(getattr(self, name))}")
        return self


class AugmentSection(SpecModel):
    random_crop: bool = False
    crop_fraction_min: float = Field(0.45, gt=0.0, le=1.0)
    crop_fraction_max: float = Field(1.0, gt=0.0, le=1.0)
    center_crop: bool = False  # for validation during training
    hflip_probability: Probability = 0.5
    vflip_probability: Probability = 0.0
    rotate_probability: Probability = 0.0
    rotate_angles: list[float] = Field(default_factory=lambda: [90.0, 180.0, 270.0])
    color_probability: Probability = 0.0
    brightness: float = Field(0.0, ge=0.0)
    contrast: float = Field(0.0, ge=0.0)
    saturation: float = Field(0.0, ge=0.0)
    hue: float = Field(0.0, ge=0.0, le=0.5, description="fraction of the hue circle")
    mixup_alpha: float = Field(0.0, ge=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> AugmentSection:
        if self.crop_fraction_min > self.crop_fraction_max:
            raise ValueError("crop_fraction_min is larger than crop_fraction_max")
        return self


class OptimizerSection(SpecModel):
    type: Literal["sgd", "adam", "rmsprop", "adamw"] = "sgd"
    momentum: float = Field(0.9, ge=0.0)
    nesterov: bool = False
    beta1: float = Field(0.9, ge=0.0, lt=1.0)
    beta2: float = Field(0.999, ge=0.0, lt=1.0)
    epsilon: float = Field(1e-7, gt=0.0)
    rho: float = Field(0.9, ge=0.0, lt=1.0)
    weight_decay: float = Field(0.0, ge=0.0, description="torch semantics: decoupled for adamw")
    no_decay_names: list[str] = Field(default_factory=list)
    time_decay: float = Field(0.0, ge=0.0, description="Keras `decay`: lr / (1 + decay * step)")


class ScheduleSection(SpecModel):
    type: Literal["constant", "step", "soft_anneal", "cosine", "epoch_step", "multistep", "linear"] = "constant"
    learning_rate: float = Field(0.01, gt=0.0)
    gamma: float = Field(0.1, ge=0.0, le=1.0)
    step_fraction: float = Field(0.1, gt=0.0, le=1.0)
    step_epochs: int = Field(30, ge=1)
    milestones: list[int] = Field(default_factory=list)
    soft_start: float = Field(0.0, ge=0.0, lt=1.0)
    start_lr: float = Field(3e-4, ge=0.0, description="soft_anneal's first rate (TAO's fixed value)")
    annealing_points: list[float] = Field(default_factory=list)
    annealing_divider: float = Field(10.0, gt=0.0)
    min_lr_ratio: float = Field(0.0, ge=0.0, le=1.0)
    warmup_epochs: int = Field(0, ge=0)


class RegularizerSection(SpecModel):
    type: Literal["none", "l1", "l2"] = "none"
    weight: float = Field(0.0, ge=0.0)
    scope: list[Literal["conv2d", "dense"]] = Field(default_factory=lambda: ["conv2d", "dense"])


class TrainSection(SpecModel):
    batch_size: int = Field(64, gt=0)
    epochs: int = Field(80, gt=0)
    seed: int = Field(42, ge=0)
    checkpoint_interval: int = Field(1, ge=0)
    validation_interval: int = Field(1, gt=0)
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)
    pretrained_model_path: str = ""
    optimizer: OptimizerSection = OptimizerSection()
    schedule: ScheduleSection = ScheduleSection()
    regularizer: RegularizerSection = RegularizerSection()


class EvaluateSection(SpecModel):
    dataset_dir: str = Field("", description="default: data.test_dir, else data.val_dir")
    model_path: str = ""
    top_k: int = Field(3, ge=1)
    batch_size: int = Field(0, ge=0, description="0: the training batch size")
    n_workers: int = Field(2, ge=0)
    center_crop: bool = False


class InferenceSection(SpecModel):
    model_path: str = ""
    batch_size: int = Field(0, ge=0, description="0: the evaluation batch size")


class ClassificationSpec(SpecModel):
    source: Literal["tf1", "pyt", "taokit"] = "taokit"
    model: ModelSection = ModelSection()
    data: DataSection = DataSection()
    augment: AugmentSection = AugmentSection()
    train: TrainSection = TrainSection()
    evaluate: EvaluateSection = EvaluateSection()
    inference: InferenceSection = InferenceSection()
    automl_config: AutoMLConfig | None = None

    @property
    def random_seed(self) -> int:
        return self.train.seed

    @property
    def input_hw(self) -> tuple[int, int]:
        return (self.model.input_height, self.model.input_width)

    @property
    def eval_dir(self) -> str:
        return self.evaluate.dataset_dir or self.data.test_dir or self.data.val_dir

    @property
    def eval_batch_size(self) -> int:
        return self.evaluate.batch_size or self.train.batch_size

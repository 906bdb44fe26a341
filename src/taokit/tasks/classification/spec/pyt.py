"""TAO classification_pyt YAML spec (tao.md §5.2; nvidia_tao_core classification_pyt default_config).

Defaults are TAO's. Sections for other tools (wandb, export, gen_trt_engine) are accepted and reported as
ignored; a backbone taokit cannot build is reported when a model is built, not when the spec loads.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from taokit.spec.automl_section import AutoMLConfig
from taokit.spec.base import SpecModel, ignored
from taokit.spec.experiment_tracking import NOT_TRACKED, PytWandbConfig

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
_GPUS = "choose devices with --gpus and --gpu_index"


class Backbone(SpecModel):
    type: str = "fan_small_12_p4_hybrid"
    pretrained_backbone_path: str = ""
    freeze_backbone: bool = False
    freeze_norm: bool = False


class Loss(SpecModel):
    type: Literal["CrossEntropyLoss"] = "CrossEntropyLoss"
    label_smooth_val: float = Field(0.0, ge=0.0, lt=1.0)


class Head(SpecModel):
    type: str = "TAOLinearClsHead"
    binary: bool = False
    in_channels: int = ignored(448, "the head's input width follows the backbone")
    custom_args: dict[str, str | float | bool] = ignored(dict, "the linear head takes no extra arguments")
    loss: Loss = Loss()
    topk: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [1], min_length=1)

    @field_validator("type")
    @classmethod
    def _linear(cls, value: str) -> str:
        if value not in ("TAOLinearClsHead", "LinearClsHead"):
            raise ValueError(f"head '{value}' is not available in taokit; use TAOLinearClsHead")
        return value

    @field_validator("binary")
    @classmethod
    def _softmax(cls, value: bool) -> bool:
        if value:
            raise ValueError("binary (sigmoid) heads are not available in taokit; train two classes instead")
        return value


class PytModel(SpecModel):
    backbone: Backbone = Backbone()
    head: Head = Head()


class RandomFlip(SpecModel):
    vflip_probability: Probability = 0.5
    hflip_probability: Probability = 0.5
    enable: bool = True


class RandomRotate(SpecModel):
    rotate_probability: Probability = 0.5
    angle_list: list[float] = Field(default_factory=lambda: [90.0, 180.0, 270.0])
    enable: bool = True


class RandomColor(SpecModel):
    brightness: float = Field(0.3, ge=0.0)
    contrast: float = Field(0.3, ge=0.0)
    saturation: float = Field(0.3, ge=0.0)
    hue: float = Field(0.0, ge=0.0, le=0.5)
    enable: bool = True
    color_probability: Probability = 0.5


class ScaleRandomCrop(SpecModel):
    scale_range: list[Annotated[float, Field(ge=1.0)]] = Field(default_factory=lambda: [1.0, 1.2],
                                                               min_length=2, max_length=2)
    enable: bool = True


class RandomErase(SpecModel):
    enable: bool = True
    erase_probability: Probability = 0.2


class Switch(SpecModel):
    enable: bool = True


class Augmentation(SpecModel):
    random_flip: RandomFlip = RandomFlip()
    random_rotate: RandomRotate = RandomRotate()
    random_color: RandomColor = RandomColor()
    random_erase: RandomErase = ignored(RandomErase, "random erasing is not implemented")
    random_aug: Switch = ignored(Switch, "RandAugment is not implemented")
    with_scale_random_crop: ScaleRandomCrop = ScaleRandomCrop()
    with_random_blur: bool = ignored(True, "random blur is not implemented")
    with_random_crop: bool = True
    mean: list[float] = Field(default_factory=lambda: [0.485, 0.456, 0.406], min_length=3, max_length=3)
    std: list[float] = Field(default_factory=lambda: [0.229, 0.224, 0.225], min_length=3, max_length=3)
    mixup_cutmix: bool = False
    mixup_alpha: float = Field(0.4, ge=0.0)


class ImagesDir(SpecModel):
    images_dir: str = ""


class FolderPath(SpecModel):
    folder_path: str = ""


class PytDataset(SpecModel):
    root_dir: str = ""
    dataset: str = ignored("CLDataset", "taokit reads ImageFolder layouts (<split>/<class>/<image>)")
    num_classes: int = Field(0, ge=0)
    img_size: int = Field(224, ge=16)
    batch_size: int = Field(8, gt=0)
    workers: int = Field(8, ge=0)
    shuffle: bool = ignored(True, "training data is always shuffled, validation data never")
    augmentation: Augmentation = Augmentation()
    train_dataset: ImagesDir = ImagesDir()
    train_nolabel: FolderPath = ignored(FolderPath, "unlabelled data is used only by distillation")
    val_dataset: ImagesDir = ImagesDir()
    test_dataset: ImagesDir = ImagesDir()
    quant_calibration_dataset: ImagesDir = ignored(ImagesDir, "pass --cal_image_dir to export")
    classes_file: str = ""


class PolicyParams(SpecModel):
    step_size: int = Field(30, ge=1)
    gamma: float = Field(0.1, ge=0.0, le=1.0)
    milestones: list[int] = Field(default_factory=lambda: [10, 20])


class Optim(SpecModel):
    monitor_name: str = ignored("val_loss", "the best model is the one with the highest val_accuracy")
    optim: Literal["adamw", "adam", "sgd"] = "adamw"
    lr: float = Field(6e-5, gt=0.0)
    policy: Literal["linear", "step", "cosine", "multistep"] = "linear"
    policy_params: PolicyParams = PolicyParams()
    momentum: float = Field(0.9, ge=0.0)
    weight_decay: float = Field(0.01, ge=0.0)
    betas: list[float] = Field(default_factory=lambda: [0.9, 0.999], min_length=2, max_length=2)
    skip_names: list[str] = Field(default_factory=list)
    warmup_epochs: int = Field(0, ge=0)


class Cudnn(SpecModel):
    benchmark: bool = False
    deterministic: bool = True


class TensorBoard(SpecModel):
    enabled: bool = False
    infrequent_logging_frequency: int = 2


class PytTrain(SpecModel):
    num_gpus: int = ignored(1, _GPUS)
    gpu_ids: list[int] = ignored(list, _GPUS)
    num_nodes: int = ignored(1, "use --num_nodes")
    seed: int = 1234
    cudnn: Cudnn = ignored(Cudnn, "use --enable_determinism")
    num_epochs: int = Field(10, gt=0)
    checkpoint_interval: int = Field(1, ge=0)
    validation_interval: int = Field(1, gt=0)
    resume_training_checkpoint_path: str = ignored("", "training resumes from the latest checkpoint in -r")
    results_dir: str = ignored("", "pass -r/--results_dir")
    optim: Optim = Optim()
    pretrained_model_path: str = ""
    tensorboard: TensorBoard = ignored(TensorBoard, "TensorBoard events are always written to <results>/events")
    enable_ema: bool = ignored(False, "weight averaging (EMA) is not implemented")
    ema_decay: float = ignored(0.998, "weight averaging (EMA) is not implemented")
    clip_grad_norm: float = ignored(0.0, "gradients are not clipped")
    precision: str = ignored("fp32", "use --use_amp for mixed precision")


class PytEvaluate(SpecModel):
    num_gpus: int = ignored(1, _GPUS)
    gpu_ids: list[int] = ignored(list, _GPUS)
    num_nodes: int = ignored(1, "evaluation runs on one node")
    checkpoint: str = ""
    trt_engine: str = ""
    results_dir: str = ignored("", "pass -r/--results_dir")
    vis_after_n_batches: int = ignored(16, "evaluate writes metrics.json and confusion_matrix.png")
    batch_size: int = Field(0, ge=0, description="taokit extension; 0: dataset.batch_size")


class PytInference(PytEvaluate):
    pass


class PytExport(SpecModel):
    results_dir: str = ""
    gpu_id: int = 0
    checkpoint: str = ""
    onnx_file: str = ""
    on_cpu: bool = False
    input_channel: int = 3
    input_width: int = 224
    input_height: int = 224
    opset_version: int = 17
    batch_size: int = -1
    verbose: bool = False
    serialize_nvdsinfer: bool = False


class Calibration(SpecModel):
    cal_image_dir: list[str] = Field(default_factory=list)
    cal_cache_file: str = ""
    cal_batch_size: int = 1
    cal_batches: int = 1


class TensorRT(SpecModel):
    data_type: str = "FP32"
    workspace_size: int = 1024
    min_batch_size: int = 1
    opt_batch_size: int = 1
    max_batch_size: int = 1
    layers_precision: list[str] = Field(default_factory=list)
    calibration: Calibration = Calibration()


class PytGenTrtEngine(SpecModel):
    results_dir: str = ""
    gpu_id: int = 0
    onnx_file: str = ""
    trt_engine: str = ""
    timing_cache: str = ""
    batch_size: int = -1
    verbose: bool = False
    tensorrt: TensorRT = TensorRT()


_CLI = "taokit takes these settings as command-line flags of the action"


class PytSpec(SpecModel):
    model_name: str = ignored("", "the task is chosen on the command line")
    encryption_key: str = ignored("", "taokit does not encrypt models")
    results_dir: str = ignored("", "pass -r/--results_dir")
    wandb: PytWandbConfig = ignored(PytWandbConfig, NOT_TRACKED)
    model: PytModel = PytModel()
    dataset: PytDataset = PytDataset()
    train: PytTrain = PytTrain()
    evaluate: PytEvaluate = PytEvaluate()
    inference: PytInference = PytInference()
    automl_config: AutoMLConfig | None = None  # taokit's `tao classification automl` settings
    export: PytExport = ignored(PytExport, _CLI)
    gen_trt_engine: PytGenTrtEngine = ignored(PytGenTrtEngine, _CLI)

"""The DetectNet_v2 inference spec, TAO's `Inference` message (tao.md §2.12)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from taokit.spec.base import SpecModel, ignored
from taokit.spec.experiment_tracking import WandbConfig
from taokit.spec.write import PROTO_ENUM
from taokit.tasks.detectnet.spec.postprocess import ClusteringConfig


class TltConfig(SpecModel):
    model: str = ""


class CalibratorConfig(SpecModel):
    calibration_cache: str = ""
    calibration_tensorfile: str = ignored("", "calibrate from images with export --data_type int8")
    n_batches: int = 10


class TensorRTConfig(SpecModel):
    parser: Annotated[Literal["ETLT", "UFF", "CAFFE"], PROTO_ENUM] = ignored("ETLT", "engines are built from ONNX")
    caffemodel: str = ignored("", "caffe models are not supported")
    prototxt: str = ignored("", "caffe models are not supported")
    uff_model: str = ignored("", "UFF models are not supported; export to ONNX")
    etlt_model: str = ignored("", "encrypted .etlt models are not supported; export to ONNX")
    backend_data_type: Annotated[Literal["FP32", "FP16", "INT8"], PROTO_ENUM] = ignored(
        "FP32", "an engine's precision is fixed when it is built: gen_trt_engine --data_type")
    save_engine: bool = ignored(False, "build engines with gen_trt_engine")
    trt_engine: str = ""
    calibrator_config: CalibratorConfig = ignored(
        CalibratorConfig, "calibrate with export --data_type int8 or gen_trt_engine --cal_image_dir")


class InferencerConfig(SpecModel):
    tlt_config: TltConfig | None = None
    tensorrt_config: TensorRTConfig | None = None
    input_nodes: list[str] = ignored(list, "taokit reads the tensor names from the model file")
    output_nodes: list[str] = ignored(list, "taokit reads the tensor names from the model file")
    batch_size: int = Field(1, gt=0)
    image_height: int = Field(gt=0)
    image_width: int = Field(gt=0)
    image_channels: Literal[3] = 3
    gpu_index: int = Field(0, ge=0)
    target_classes: list[str]
    # The model's output stride (TAO decodes with it). taokit decodes from the output grid's size, so this only
    # documents the model: 16 for TAO's, 8 for taokit's `output_stride: 8` models.
    stride: Literal[16, 8] = 16

    @model_validator(mode="after")
    def _sizes(self) -> InferencerConfig:
        for name in ("image_height", "image_width"):
            if getattr(self, name) % 16:
                raise ValueError(f"{name} must be a multiple of 16, got {getattr(self, name)}")
        if not self.target_classes:
            raise ValueError("target_classes must list the network's classes in output order")
        return self

    @property
    def model_path(self) -> str:
        if self.tensorrt_config and self.tensorrt_config.trt_engine:
            return self.tensorrt_config.trt_engine
        return self.tlt_config.model if self.tlt_config else ""


class Color(SpecModel):
    R: int = Field(0, ge=0, le=255)
    G: int = Field(255, ge=0, le=255)
    B: int = Field(0, ge=0, le=255)


class ClasswiseBboxHandlerConfig(SpecModel):
    clustering_config: ClusteringConfig = ClusteringConfig()
    confidence_model: Literal["aggregate_cov", "mean_cov"] = "aggregate_cov"
    output_map: str = ""
    bbox_color: Color = Color()


class BboxHandlerConfig(SpecModel):
    kitti_dump: bool = True
    disable_overlay: bool = False
    overlay_linewidth: int = Field(2, ge=0)
    classwise_bbox_handler_config: dict[str, ClasswiseBboxHandlerConfig] = Field(default_factory=dict)
    postproc_classes: list[str] = Field(default_factory=list)
    wandb_config: WandbConfig = ignored(WandbConfig, "taokit does not log inference to wandb")

    def for_class(self, name: str) -> ClasswiseBboxHandlerConfig:
        """The class's own entry, else the "default" entry (TAO requires one for unlisted classes)."""
        handlers = self.classwise_bbox_handler_config
        if name in handlers:
            return handlers[name]
        return handlers.get("default", ClasswiseBboxHandlerConfig())


class DetectNetInferenceSpec(SpecModel):
    inferencer_config: InferencerConfig
    bbox_handler_config: BboxHandlerConfig = BboxHandlerConfig()

    def clustering_config(self, name: str) -> ClusteringConfig:
        """The class's clustering (its bbox handler entry, else "default"), as the train spec's method says it."""
        return self.bbox_handler_config.for_class(name).clustering_config

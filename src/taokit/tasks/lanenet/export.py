"""What export needs from LaneNet: the two named outputs, preprocessing, and the training images."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from taokit.data.image_io import resize_image
from taokit.deploy.deepstream import DeepStreamConfig
from taokit.optimize.plan import CalibrationSource, ExportPlan
from taokit.tasks.common.evaluate import check_input_size
from taokit.tasks.common.network_inputs import FilePreprocessor
from taokit.tasks.lanenet.model import INPUT_NAME, OUTPUT_NAMES, LaneNetOutputs
from taokit.tasks.lanenet.network import load_model
from taokit.tasks.lanenet.spec import LaneNetExperiment


def preprocessor(hw: tuple[int, int]) -> FilePreprocessor:
    """Image file -> network input (CHW float32 RGB in [0, 1] at the network size), as training feeds it."""
    return FilePreprocessor(lambda image: resize_image(image, hw).transpose(2, 0, 1).astype(np.float32) / 255.0)


def training_images(spec: LaneNetExperiment | None) -> list[Path]:
    if spec is None:
        return []
    from taokit.tasks.lanenet.training import load_splits

    train, _, _ = load_splits(spec)
    return [s.image for s in train]


def calibration_source(spec: LaneNetExperiment | None, chw: tuple[int, int, int]) -> CalibrationSource:
    return CalibrationSource(preprocessor((chw[1], chw[2])), training_images(spec))


def deepstream_config(hw: Sequence[int]) -> DeepStreamConfig:
    """nvinfer: a segmentation network (network-type 2) reading RGB / 255; lane clustering runs in the app."""
    return DeepStreamConfig(["lane"], {
        "net-scale-factor": 1.0 / 255.0, "offsets": [0.0, 0.0, 0.0], "infer-dims": [3, *hw], "model-color-format": 0,
        "network-type": 2, "output-blob-names": list(OUTPUT_NAMES), "segmentation-threshold": 0.5, "batch-size": 1,
        "gie-unique-id": 1, "output-tensor-meta": 1})


def deepstream_for_onnx(path: Path, spec: LaneNetExperiment | None) -> DeepStreamConfig:
    """gen_trt_engine --gen_ds_config on a LaneNet ONNX: its input size, its output names."""
    from taokit.tasks.lanenet.runner import open_runner

    with open_runner(path, backend="onnxruntime", device="cpu",
                     input_hw=spec.input_hw if spec is not None else None) as runner:
        hw = runner.input_hw
    return deepstream_config(hw)  # the runner checked that the file has LaneNet's output names


def export_plan(model_path: Path, spec: LaneNetExperiment | None) -> ExportPlan:
    model, _ = load_model(model_path)
    hw = tuple(model.arch.input_hw)
    if spec is not None:
        check_input_size(model_path, hw, spec.input_hw)
    source = calibration_source(spec, (3, *hw))
    return ExportPlan(model=LaneNetOutputs(model).eval(), input_name=INPUT_NAME, output_names=OUTPUT_NAMES,
                      input_chw=(3, *hw), labels=["lane"], preprocess=source.preprocess, images=source.images,
                      metadata=model.arch.metadata(), deepstream=deepstream_config(hw))

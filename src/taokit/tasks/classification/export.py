"""What export needs from classification: TAO's tensor names, preprocessing and DeepStream's settings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from taokit.deploy.deepstream import DeepStreamConfig
from taokit.optimize.plan import CalibrationSource, ExportPlan
from taokit.tasks.classification.data import FolderReport, class_order, read_image_folder
from taokit.tasks.classification.model import INPUT_NAME, OUTPUT_NAME, SoftmaxOutput
from taokit.tasks.classification.network import load_model, preprocess_of
from taokit.tasks.classification.spec import ClassificationSpec
from taokit.tasks.classification.transforms import EvalTransform, Preprocess, to_network
from taokit.tasks.common.evaluate import check_input_size
from taokit.tasks.common.network_inputs import FilePreprocessor

# The linear head and the softmax stay in float in INT8 models: they cost nothing, and a quantized softmax
# output would give confidences in steps of 1/255.
HEAD_NODES = ("/classifier/predictions/Gemm", "/Softmax")


def preprocessor(pre: Preprocess, transform: EvalTransform) -> FilePreprocessor:
    """Image file -> network input (CHW float32), exactly as evaluation feeds the network."""
    return FilePreprocessor(lambda image: pre.apply(to_network(transform(image), pre.bgr)))


def training_images(spec: ClassificationSpec | None) -> list[Path]:
    """The training set, for INT8 calibration (empty without a spec or a training folder)."""
    if spec is None or not spec.data.train_dir or not Path(spec.data.train_dir).is_dir():
        return []
    classes, _ = class_order(Path(spec.data.train_dir), spec.data.classes_file)
    folder = read_image_folder(Path(spec.data.train_dir), classes, split="train", report=FolderReport())
    return [p for p, _ in folder.samples]


def calibration_source(spec: ClassificationSpec | None, chw: tuple[int, int, int]) -> CalibrationSource:
    if spec is None:
        pre, transform = Preprocess.from_mode("caffe"), EvalTransform(chw[1:], "bilinear", False)
    else:
        pre = preprocess_of(spec)
        transform = EvalTransform(chw[1:], spec.model.interpolation, spec.evaluate.center_crop)  # type: ignore[arg-type]
    return CalibrationSource(preprocessor(pre, transform), training_images(spec))


def deepstream_config(class_names: Sequence[str], input_hw: Sequence[int], pre: Preprocess,
                      output_name: str = OUTPUT_NAME) -> DeepStreamConfig:
    """nvinfer computes y = net-scale-factor * (x - offsets) with one scale for all channels: exact for
    caffe and tf modes; torch mode's per-channel std is approximated by its mean. A classifier's labels.txt
    is one `a;b;c` line per output layer."""
    offset, factor = pre.channel_params()
    return DeepStreamConfig([";".join(class_names)], {
        "net-scale-factor": float(np.mean(factor)), "offsets": [round(float(o), 4) for o in offset],
        "infer-dims": [3, *input_hw], "model-color-format": 1 if pre.bgr else 0, "network-type": 1,
        "num-detected-classes": len(class_names), "output-blob-names": [output_name],
        "classifier-threshold": 0.2, "batch-size": 1, "gie-unique-id": 1, "maintain-aspect-ratio": 0})


def deepstream_for_onnx(path: Path, spec: ClassificationSpec | None) -> DeepStreamConfig:
    """gen_trt_engine --gen_ds_config on a classifier ONNX: taokit's says what it is; another needs the spec."""
    from taokit.tasks.classification.evaluate import fallback_info
    from taokit.tasks.classification.runner import open_runner

    with open_runner(path, backend="onnxruntime", device="cpu", fallback=fallback_info(spec, None, None)) as runner:
        info, output = runner.info, runner.backend.io.output_names[0]
    return deepstream_config(info.class_names, info.input_hw, info.preprocess, output)


def export_plan(model_path: Path, spec: ClassificationSpec | None) -> ExportPlan:
    model, _ = load_model(model_path)
    arch = model.arch
    if spec is not None:
        check_input_size(model_path, arch.input_hw, spec.input_hw)
    pre = Preprocess.from_dict(arch.preprocess)
    center_crop = spec.evaluate.center_crop if spec is not None else arch.center_crop
    preprocess = preprocessor(pre, EvalTransform(arch.input_hw, arch.interpolation, center_crop))
    labels = list(arch.class_names)
    return ExportPlan(model=SoftmaxOutput(model).eval(), input_name=INPUT_NAME, output_names=(OUTPUT_NAME,),
                      input_chw=(3, *arch.input_hw), labels=labels, preprocess=preprocess,
                      images=training_images(spec), metadata=arch.metadata(),
                      deepstream=deepstream_config(labels, arch.input_hw, pre),
                      keep_float=list(HEAD_NODES))

"""What export needs from DetectNet_v2: TAO's tensor names, preprocessing, and DeepStream's settings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from taokit.deploy.deepstream import DeepStreamConfig
from taokit.errors import ModelError
from taokit.optimize.plan import CalibrationSource, ExportPlan
from taokit.tasks.common.evaluate import check_input_size
from taokit.tasks.common.network_inputs import FilePreprocessor
from taokit.tasks.detectnet.augment import crop_and_resize
from taokit.tasks.detectnet.data import load_training_records
from taokit.tasks.detectnet.model import INPUT_NAME, OUTPUT_NAMES, DetectNetArch
from taokit.tasks.detectnet.network import load_model
from taokit.tasks.detectnet.spec import DetectNetExperiment, DetectNetInferenceSpec
from taokit.tasks.detectnet.spec.dataset import Preprocessing

log = logging.getLogger("taokit.detectnet")
CLUSTER_MODE = {"DBSCAN": 1, "NMS": 2, "HYBRID": 3}  # nvinfer cluster-mode values


def preprocessor(pre: Preprocessing) -> FilePreprocessor:
    """Image file -> network input (CHW float32 in [0, 1]), exactly as training feeds the network."""

    def to_input(image: np.ndarray) -> np.ndarray:
        resized, _ = crop_and_resize(image, np.zeros((0, 4), np.float32), pre)
        return resized.transpose(2, 0, 1).astype(np.float32) * (1.0 / 255.0)

    return FilePreprocessor(to_input)


def training_images(spec: DetectNetExperiment | None) -> list[Path]:
    if spec is None:
        return []
    return [Path(r.image) for r in load_training_records(spec.dataset_config).train]


def calibration_source(spec: DetectNetExperiment | None, chw: tuple[int, int, int]) -> CalibrationSource:
    pre = spec.augmentation_config.preprocessing if spec else Preprocessing(output_image_width=chw[2],
                                                                            output_image_height=chw[1])
    return CalibrationSource(preprocessor(pre), training_images(spec))


def deepstream_settings(spec: DetectNetExperiment | DetectNetInferenceSpec | None, classes: list[str],
                        hw: tuple[int, int], grid_hw: tuple[int, int] | None = None
                        ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """nvinfer's [property] entries and one [class-attrs-N] section per class (clustering from the train
    spec's postprocessing_config or the inference spec's bbox handlers); the grid, when known, as a comment."""
    props: dict[str, Any] = {}
    if grid_hw is not None:
        props["#grid"] = (  # a "#" key is a comment line in nvinfer_config.txt
            f"output grid {grid_hw[1]}x{grid_hw[0]}, stride {hw[1] // grid_hw[1]}: DeepStream's DetectNet parser "
            "derives the stride from the tensor sizes")
    props |= {
        "net-scale-factor": 1.0 / 255.0, "offsets": [0.0, 0.0, 0.0], "infer-dims": [3, *hw],
        "model-color-format": 0, "network-type": 0, "num-detected-classes": len(classes),
        "output-blob-names": list(OUTPUT_NAMES), "batch-size": 1, "maintain-aspect-ratio": 0,
        "output-tensor-meta": 0, "gie-unique-id": 1, "cluster-mode": CLUSTER_MODE["DBSCAN"]}
    if spec is None:
        return props, {"class-attrs-all": {"pre-cluster-threshold": 0.005, "eps": 0.2, "minBoxes": 1,
                                           "dbscan-min-score": 0.1}}
    sections, modes = {}, {}
    for i, name in enumerate(classes):
        c = spec.clustering_config(name)
        modes[name] = c.clustering_algorithm
        sections[f"class-attrs-{i}"] = {"pre-cluster-threshold": c.coverage_threshold, "eps": c.dbscan_eps,
                                        "minBoxes": max(int(c.dbscan_min_samples), 1),
                                        "dbscan-min-score": c.dbscan_confidence_threshold,
                                        "nms-iou-threshold": c.nms_iou_threshold,
                                        "detected-min-h": c.minimum_bounding_box_height}
    props["cluster-mode"] = CLUSTER_MODE[_global_cluster_mode(modes)]
    peaks = [name for name in classes if spec.clustering_config(name).coverage_peak_window > 1]
    if peaks:  # nvinfer's parser clusters every cell above the threshold: say where its boxes will differ
        props["#coverage_peak_window"] = (
            f"taokit keeps only coverage peaks for {', '.join(peaks)}; DeepStream's DetectNet parser has no such "
            "step and clusters every cell above pre-cluster-threshold")
    voted = [name for name in classes if spec.clustering_config(name).nms_box_voting_iou > 0]
    if voted:
        props["#nms_box_voting_iou"] = (
            f"taokit averages each NMS box with its overlapping candidates for {', '.join(voted)}; DeepStream's "
            "NMS keeps the cell's own box")
    return props, sections


def _global_cluster_mode(modes: dict[str, str]) -> str:
    """nvinfer has one cluster-mode for all classes: the first class's, with a warning when others differ."""
    first = next(iter(modes.values()), "DBSCAN")
    others = {name: mode for name, mode in modes.items() if mode != first}
    if others:
        log.warning("DeepStream's nvinfer has one cluster-mode for all classes; writing %s (the first class's). "
                    "Classes asking for another: %s", first,
                    ", ".join(f"{name} ({mode})" for name, mode in others.items()))
    return first


def export_plan(model_path: Path, spec: DetectNetExperiment | None) -> ExportPlan:
    model, _ = load_model(model_path)
    arch = model.arch
    classes = list(arch.class_names)
    if spec is not None and spec.class_names != classes:
        raise ModelError(f"{model_path}: model classes {classes} differ from the spec's target classes "
                         f"{spec.class_names}")
    if spec is not None:
        check_input_size(model_path, arch.input_hw, spec.input_hw)
    source = calibration_source(spec, (3, *arch.input_hw))
    props, sections = deepstream_settings(spec, classes, arch.input_hw, arch.grid_hw)
    names = arch.extra.get("onnx_names") or {}
    network: nn.Module = model.eval()
    input_name, outputs = INPUT_NAME, OUTPUT_NAMES
    if names:  # imported from NVIDIA's ONNX: the same tensor names and order as that file
        input_name, outputs = names["input"], (names["cov"], names["bbox"])
        props["output-blob-names"] = list(outputs)
        if names.get("bbox_first"):
            network, outputs = BboxFirst(network), (names["bbox"], names["cov"])
    return ExportPlan(model=network, input_name=input_name, output_names=outputs,
                      input_chw=(3, *arch.input_hw), labels=classes, preprocess=source.preprocess,
                      images=source.images, metadata=arch.metadata(),
                      deepstream=DeepStreamConfig(classes, props, sections))


class BboxFirst(nn.Module):
    """The network with NGC's output order (bbox, coverage), for re-exporting an imported NGC file as it was."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.arch = model.arch  # type: ignore[union-attr]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cov, bbox = self.model(x)
        return bbox, cov


def deepstream_for_onnx(path: Path, spec: object) -> DeepStreamConfig:
    """nvinfer settings for any DetectNet_v2 ONNX, taokit's or NVIDIA's: tensor names exactly as the file has
    them (NGC's `output_cov/Sigmoid:0`), coverage head first; classes from the file's metadata or the spec."""
    from taokit.tasks.detectnet.runner import open_runner

    typed = spec if isinstance(spec, (DetectNetExperiment, DetectNetInferenceSpec)) else None
    names = None
    if isinstance(typed, DetectNetExperiment):
        names = typed.class_names
    elif isinstance(typed, DetectNetInferenceSpec):
        names = list(typed.inferencer_config.target_classes)
    runner = open_runner(path, backend="onnxruntime", device="cpu", class_names=names)  # checks heads, classes
    runner.close()
    if runner.heads is None:
        raise ModelError(f"{path}: the ONNX leaves its output channels dynamic; DeepStream needs to know which "
                         "output is the coverage: export it with static channels")
    info, outputs = runner.info, runner.backend.io.output_names
    record = DetectNetArch.from_metadata(runner.backend.io.metadata)  # taokit's own files say their grid
    props, sections = deepstream_settings(typed, list(info.class_names), info.input_hw,
                                          record.grid_hw if record is not None else None)
    props["output-blob-names"] = [outputs[runner.heads[0]], outputs[runner.heads[1]]]
    return DeepStreamConfig(list(info.class_names), props, sections)

"""What export needs from DetectNet_v2: TAO's tensor names, preprocessing, and DeepStream's settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from taokit.data.image_io import read_rgb
from taokit.errors import ModelError
from taokit.optimize.plan import ExportPlan
from taokit.tasks.detectnet.augment import crop_and_resize
from taokit.tasks.detectnet.backends import ARCH_METADATA_KEY
from taokit.tasks.detectnet.model import INPUT_NAME, OUTPUT_NAMES
from taokit.tasks.detectnet.network import load_model
from taokit.tasks.detectnet.records import load_training_records
from taokit.tasks.detectnet.spec import DetectNetExperiment
from taokit.tasks.detectnet.spec.dataset import Preprocessing

_CLUSTER_MODE = {"DBSCAN": 1, "NMS": 2, "HYBRID": 3}  # nvinfer cluster-mode values


def preprocessor(pre: Preprocessing) -> Callable[[Path], np.ndarray]:
    """Image file -> network input (CHW float32 in [0, 1]), exactly as training feeds the network."""

    def preprocess(path: Path) -> np.ndarray:
        image, _ = crop_and_resize(read_rgb(path), np.zeros((0, 4), np.float32), pre)
        return image.transpose(2, 0, 1).astype(np.float32) * (1.0 / 255.0)

    return preprocess


def training_images(spec: DetectNetExperiment | None) -> list[Path]:
    if spec is None:
        return []
    return [Path(r.image) for r in load_training_records(spec.dataset_config).train]


def calibration_source(spec: DetectNetExperiment | None,
                       chw: tuple[int, int, int]) -> tuple[Callable[[Path], np.ndarray], list[Path]]:
    pre = spec.augmentation_config.preprocessing if spec else Preprocessing(output_image_width=chw[2],
                                                                            output_image_height=chw[1])
    return preprocessor(pre), training_images(spec)


def _deepstream(spec: DetectNetExperiment | None, classes: list[str], hw: tuple[int, int]) -> tuple[dict, dict]:
    props = {"net-scale-factor": 1.0 / 255.0, "offsets": [0.0, 0.0, 0.0], "infer-dims": [3, *hw],
             "model-color-format": 0, "network-type": 0, "num-detected-classes": len(classes),
             "output-blob-names": list(OUTPUT_NAMES), "batch-size": 1, "maintain-aspect-ratio": 0,
             "output-tensor-meta": 0, "gie-unique-id": 1, "cluster-mode": 1}
    if spec is None:
        return props, {"class-attrs-all": {"pre-cluster-threshold": 0.005, "eps": 0.2, "minBoxes": 1,
                                           "dbscan-min-score": 0.1}}
    sections = {}
    for i, name in enumerate(classes):
        c = spec.clustering_config(name)
        props["cluster-mode"] = _CLUSTER_MODE[c.clustering_algorithm]
        sections[f"class-attrs-{i}"] = {"pre-cluster-threshold": c.coverage_threshold, "eps": c.dbscan_eps,
                                        "minBoxes": max(int(c.dbscan_min_samples), 1),
                                        "dbscan-min-score": c.dbscan_confidence_threshold,
                                        "nms-iou-threshold": c.nms_iou_threshold,
                                        "detected-min-h": c.minimum_bounding_box_height}
    return props, sections


def export_plan(model_path: Path, spec: DetectNetExperiment | None) -> ExportPlan:
    model, _ = load_model(model_path)
    arch = model.arch
    classes = list(arch.class_names)
    if spec is not None and spec.class_names != classes:
        raise ModelError(f"{model_path}: model classes {classes} differ from the spec's target classes "
                         f"{spec.class_names}")
    if spec is not None and spec.input_hw != tuple(arch.input_hw):
        raise ModelError(f"{model_path}: the model takes {arch.input_hw[1]}x{arch.input_hw[0]} images, the spec "
                         f"{spec.input_hw[1]}x{spec.input_hw[0]}")
    preprocess, images = calibration_source(spec, (3, *arch.input_hw))
    props, sections = _deepstream(spec, classes, arch.input_hw)
    return ExportPlan(model=model.eval(), input_name=INPUT_NAME, output_names=OUTPUT_NAMES,
                      input_chw=(3, *arch.input_hw), labels=classes, preprocess=preprocess, images=images,
                      metadata={ARCH_METADATA_KEY: json.dumps(arch.to_dict())}, deepstream=props,
                      deepstream_classes=sections)

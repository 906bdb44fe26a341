"""From raw DetectNet_v2 outputs to per-image `Detection` lists: the glue evaluate and inference share.

The experiment spec (evaluate) and the inference spec describe the same per-class clustering in
different sections and with slightly different rules; both become a `ClassPostprocess` per class
here, so that `postprocess` itself has one code path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from taokit.data.records import Detection
from taokit.tasks.detectnet.clustering import ConfidenceModel, ConfidenceRule, cluster
from taokit.tasks.detectnet.decode import FloatArray, class_candidates
from taokit.tasks.detectnet.spec.experiment import DetectNetExperiment
from taokit.tasks.detectnet.spec.inference import BboxHandlerConfig, DetectNetInferenceSpec
from taokit.tasks.detectnet.spec.postprocess import ClusteringConfig

# What TAO's inference substitutes when these proto3 fields read 0 (unset and 0 look the same).
_INFERENCE_NMS_IOU_IF_ZERO = 0.3
_INFERENCE_NMS_CONFIDENCE_IF_ZERO = 0.1


@dataclass(frozen=True)
class ClassPostprocess:
    """How one class's candidates become detections.

    `output_name` renames the class in the outputs (the inference spec's `output_map`);
    `confidence_rule` is "evaluation" (drop confidence < threshold) for the experiment spec and
    "inference" (keep confidence > threshold) for the inference spec, as in TAO.
    """

    clustering: ClusteringConfig
    confidence_model: ConfidenceModel = "aggregate_cov"
    output_name: str | None = None
    confidence_rule: ConfidenceRule = "inference"


def from_experiment(spec: DetectNetExperiment) -> dict[str, ClassPostprocess]:
    """Per-class settings of training-time evaluation: postprocessing_config, aggregate_cov, `<` rule."""
    return {name: ClassPostprocess(spec.clustering_config(name), confidence_rule="evaluation")
            for name in spec.class_names}


def from_inference_spec(spec: DetectNetInferenceSpec | BboxHandlerConfig,
                        class_names: Sequence[str] | None = None) -> dict[str, ClassPostprocess]:
    """Per-class settings of `inference`: each class's handler entry, else the "default" entry.

    `class_names` defaults to the spec's target_classes. When `postproc_classes` is set only those
    classes get an entry (the others are not post-processed, as TAO does not render them). An NMS
    IoU or confidence threshold of 0 means "unset" in TAO's proto3 spec and becomes 0.3 / 0.1.
    """
    handler = spec.bbox_handler_config if isinstance(spec, DetectNetInferenceSpec) else spec
    if class_names is None:
        if not isinstance(spec, DetectNetInferenceSpec):
            raise ValueError("class_names is required when only a bbox_handler_config is given")
        class_names = spec.inferencer_config.target_classes
    selected = [n for n in class_names if not handler.postproc_classes or n in handler.postproc_classes]
    params = {}
    for name in selected:
        entry = handler.for_class(name)
        config = entry.clustering_config
        config = config.model_copy(update={
            "nms_iou_threshold": config.nms_iou_threshold or _INFERENCE_NMS_IOU_IF_ZERO,
            "nms_confidence_threshold": config.nms_confidence_threshold or _INFERENCE_NMS_CONFIDENCE_IF_ZERO,
        })
        params[name] = ClassPostprocess(config, entry.confidence_model, entry.output_map or None)
    return params


def _image_detections(cov: FloatArray, bbox: FloatArray, class_names: Sequence[str],
                      params: Mapping[str, ClassPostprocess], input_hw: tuple[int, int], scale: float,
                      offset: float, ratio_xy: tuple[float, float]) -> list[Detection]:
    detections: list[Detection] = []
    ratio = np.array([ratio_xy[0], ratio_xy[1], ratio_xy[0], ratio_xy[1]])
    for index, name in enumerate(class_names):
        param = params.get(name)
        if param is None:
            continue
        boxes, covs = class_candidates(cov, bbox, index, param.clustering.coverage_threshold,
                                       input_hw, scale, offset, param.clustering.coverage_peak_window)
        result = cluster(boxes, covs, param.clustering, param.confidence_model, param.confidence_rule)
        label = param.output_name or name
        for (x1, y1, x2, y2), confidence in zip((result.boxes * ratio).tolist(),
                                                result.confidences.tolist(), strict=True):
            detections.append(Detection(label, x1, y1, x2, y2, confidence))
    detections.sort(key=lambda d: -d.confidence)
    return detections


def postprocess(
    cov: FloatArray,
    bbox: FloatArray,
    class_names: Sequence[str],
    params: Mapping[str, ClassPostprocess],
    input_hw: tuple[int, int],
    scale: float = 35.0,
    offset: float = 0.5,
    image_sizes: Sequence[tuple[int, int]] | None = None,
) -> list[list[Detection]]:
    """Decode and cluster a batch: cov (N, C, H, W), bbox (N, 4C, H, W) -> detections per image.

    `class_names` is the network's class order; classes without an entry in `params` are skipped.
    Boxes are in network-input pixels, or, with `image_sizes` ((width, height) per image), scaled
    per axis to each original image. Each image's list is sorted by descending confidence.
    """
    cov = np.asarray(cov)
    bbox = np.asarray(bbox)
    if cov.ndim != 4 or bbox.ndim != 4 or len(cov) != len(bbox):
        raise ValueError(f"expected cov (N, C, H, W) and bbox (N, 4C, H, W), got {cov.shape} and {bbox.shape}")
    if cov.shape[1] != len(class_names):
        raise ValueError(f"cov has {cov.shape[1]} classes but {len(class_names)} class names were given")
    if image_sizes is not None and len(image_sizes) != len(cov):
        raise ValueError(f"{len(image_sizes)} image sizes given for a batch of {len(cov)}")
    in_h, in_w = input_hw
    out = []
    for n in range(len(cov)):
        ratio_xy = (1.0, 1.0) if image_sizes is None else (image_sizes[n][0] / in_w, image_sizes[n][1] / in_h)
        out.append(_image_detections(cov[n], bbox[n], class_names, params, input_hw, scale, offset, ratio_xy))
    return out

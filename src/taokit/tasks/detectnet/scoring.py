"""Evaluation of a DetectNet_v2 predictor on labelled images: decode, cluster, match, AP."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch

from taokit.data.records import BoxLabel, Detection
from taokit.engine.progress import Progress
from taokit.tasks.detectnet.metrics import DetectionMetrics, evaluate_with_spec
from taokit.tasks.detectnet.postprocess import ClassPostprocess, from_experiment, postprocess
from taokit.tasks.detectnet.spec import DetectNetExperiment

# A predictor maps a float32 NCHW batch in [0, 1] to (coverage (N,C,H,W), bbox (N,4C,H,W)) arrays.
Predictor = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def torch_predictor(model: torch.nn.Module, device: torch.device) -> Predictor:
    def predict(batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            cov, bbox = model(torch.from_numpy(batch).to(device))
        return cov.float().cpu().numpy(), bbox.float().cpu().numpy()

    return predict


def detect(predict: Predictor, images_u8: torch.Tensor, spec: DetectNetExperiment,
           params: dict[str, ClassPostprocess]) -> list[list[Detection]]:
    """Detections (network-input pixels) for a uint8 NCHW batch."""
    batch = images_u8.numpy().astype(np.float32) * (1.0 / 255.0)
    cov, bbox = predict(batch)
    box = spec.model_config_.objective_set.bbox
    return postprocess(cov, bbox, spec.class_names, params, spec.input_hw, box.scale, box.offset)


def evaluate(predict: Predictor, batches: Iterable[tuple[torch.Tensor, list, list]], spec: DetectNetExperiment,
             total: int = 0, show_progress: bool = True) -> DetectionMetrics:
    """Run `predict` over (images, gt boxes, gt class ids) batches and compute TAO's metrics."""
    return evaluate_detections(predict, batches, spec, total, show_progress)[0]


def evaluate_detections(predict: Predictor, batches: Iterable[tuple[torch.Tensor, list, list]],
                        spec: DetectNetExperiment, total: int = 0, show_progress: bool = True
                        ) -> tuple[DetectionMetrics, list[list[Detection]]]:
    """TAO's metrics and the detections they scored (network-input pixels), one list per image."""
    params = from_experiment(spec)
    names = spec.class_names
    truth: list[list[BoxLabel]] = []
    found: list[list[Detection]] = []
    for images, boxes, ids in Progress(total, "evaluate", enabled=show_progress)(batches):
        found.extend(detect(predict, images, spec, params))
        for image_boxes, image_ids in zip(boxes, ids, strict=True):
            truth.append([BoxLabel(names[int(c)], *map(float, b)) for b, c in zip(image_boxes, image_ids,
                                                                                   strict=True)])
    return evaluate_with_spec(truth, found, spec), found


def validation_preview(model: torch.nn.Module, loader: Iterable[tuple[torch.Tensor, list, list]],
                       spec: DetectNetExperiment, device: torch.device) -> torch.Tensor:
    """The first `visualizer.num_images` validation images with their detections drawn (for TensorBoard)."""
    from taokit.tasks.detectnet.visualize import default_color, draw_detections

    count = spec.training_config.visualizer.num_images
    images, _, _ = next(iter(loader))
    images = images[:count]
    detections = detect(torch_predictor(model, device), images, spec, from_experiment(spec))
    colors = {n: default_color(i) for i, n in enumerate(spec.class_names)}
    drawn = [np.asarray(draw_detections(img.permute(1, 2, 0).numpy(), dets, colors))
             for img, dets in zip(images, detections, strict=True)]
    return torch.from_numpy(np.stack(drawn)).permute(0, 3, 1, 2).float() / 255.0

"""DetectNet_v2 evaluation (tao.md §3.7): per-class AP with TAO's IoU and box filters, plus COCO mAP.

Where taokit departs from TAO's own evaluator (`nvidia_tao_tf1/cv/detectnet_v2/evaluation/
compute_metrics.py`) it does so on purpose, because TAO's behaviour there is a bug or an artefact:
- IoU has no +1 pixel term (TAO uses border_pixels="include");
- a GT box outside `evaluation_box_config` is an *ignored* GT (TAO drops it, so a correct detection of
  it would be a false positive if its own size passed the filter);
- INTEGRATE is the VOC2010+ area (TAO's ssd_keras-derived loop uses each step's left-hand precision
  and drops the first recall step, so a single perfect detection scores 0 there);
- `mAP` leaves out classes with neither GT nor detections (TAO averages them in as 0).
What matches TAO: the box filter is tested on the raw coordinates (inclusive min/max height and
width), then surviving boxes are rounded to int (half to even, Python's `round`) for matching.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from taokit.data.records import BoxLabel, Detection
from taokit.errors import DataError
from taokit.metrics.average_precision import APMode, ClassAP, class_ap, match_detections, mean_ap
from taokit.metrics.coco import CocoMetrics, coco_map
from taokit.tasks.detectnet.spec.training import EvaluationBox

if TYPE_CHECKING:
    from taokit.tasks.detectnet.spec.experiment import DetectNetExperiment

DEFAULT_IOU_THRESHOLD = 0.5
TAO_AP_MODES = ("SAMPLE", "INTEGRATE")


@dataclass(frozen=True, eq=False)
class DetectionMetrics:
    """What `evaluate` reports: TAO's per-class AP and mAP, plus COCO numbers on the same detections.

    `mAP` is the mean over classes whose AP is not NaN: every class with GT, and classes with
    detections but no GT (AP 0). `map`, `map_50`, `map_75` are COCO AP@[.5:.95], AP50 and AP75 over
    all classes with no box filter and no rounding, for comparison with the literature.
    """

    class_names: list[str]
    per_class: dict[str, ClassAP]
    iou_thresholds: dict[str, float]
    mode: str
    mAP: float
    map: float
    map_50: float
    map_75: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable summary (NaN becomes null), the content of `metrics.json`."""
        classes = {
            name: {
                "ap": _json_float(r.ap),
                "iou_threshold": self.iou_thresholds[name],
                "num_gt": r.num_gt,
                "num_det": r.num_det,
                "tp": r.tp,
                "fp": r.fp,
            }
            for name, r in self.per_class.items()
        }
        return {
            "mAP": _json_float(self.mAP),
            "average_precision_mode": self.mode,
            "classes": classes,
            "coco": {"map": _json_float(self.map), "map_50": _json_float(self.map_50),
                     "map_75": _json_float(self.map_75)},
        }


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def evaluate_detections(
    ground_truth: Sequence[Sequence[BoxLabel]],
    detections: Sequence[Sequence[Detection]],
    class_names: Sequence[str],
    iou_thresholds: Mapping[str, float] | None = None,
    box_filters: Mapping[str, EvaluationBox] | None = None,
    mode: str = "SAMPLE",
) -> DetectionMetrics:
    """Score detections against ground truth, both lists indexed by image.

    `class_names` is the network order; GT of other classes (TAO's "-1", unmapped classes) is skipped,
    while a detection of an unknown class is an error. A class missing from `iou_thresholds` uses 0.5
    and one missing from `box_filters` is not filtered, as the spec defaults do.
    """
    if len(ground_truth) != len(detections):
        raise DataError(f"evaluation got ground truth for {len(ground_truth)} image(s) "
                        f"but detections for {len(detections)}")
    if mode not in TAO_AP_MODES:
        raise ValueError(f"average_precision_mode must be SAMPLE or INTEGRATE, got {mode!r}")
    ap_mode = cast(APMode, mode)
    names = list(class_names)
    _check_detection_classes(detections, names)
    thresholds = {n: float((iou_thresholds or {}).get(n, DEFAULT_IOU_THRESHOLD)) for n in names}
    filters = box_filters or {}
    per_class = {
        name: _evaluate_class(ground_truth, detections, name, thresholds[name],
                              filters.get(name, EvaluationBox()), ap_mode)
        for name in names
    }
    coco = _coco(ground_truth, detections, names)
    return DetectionMetrics(
        class_names=names, per_class=per_class, iou_thresholds=thresholds, mode=mode,
        mAP=mean_ap(r.ap for r in per_class.values()),
        map=coco.map, map_50=coco.map_50, map_75=coco.map_75,
    )


def evaluate_with_spec(
    ground_truth: Sequence[Sequence[BoxLabel]],
    detections: Sequence[Sequence[Detection]],
    experiment: DetectNetExperiment,
) -> DetectionMetrics:
    """`evaluate_detections` with the classes, IoU thresholds, filters and mode of an experiment spec."""
    names = experiment.class_names
    return evaluate_detections(
        ground_truth, detections, names,
        iou_thresholds={n: experiment.iou_threshold(n) for n in names},
        box_filters={n: experiment.evaluation_box(n) for n in names},
        mode=experiment.evaluation_config.average_precision_mode,
    )


def _check_detection_classes(detections: Sequence[Sequence[Detection]], names: list[str]) -> None:
    known = set(names)
    for image in detections:
        for det in image:
            if det.class_name not in known:
                raise DataError(f"detection of class {det.class_name!r}, which is not one of {names}")


def _inside(boxes: np.ndarray, box_filter: EvaluationBox) -> np.ndarray:
    """TAO's `_check_if_bbox_is_valid`: min/max height and width, inclusive, on raw coordinates."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    return ((h >= box_filter.minimum_height) & (h <= box_filter.maximum_height)
            & (w >= box_filter.minimum_width) & (w <= box_filter.maximum_width))


def _xyxy(objects: Sequence[BoxLabel | Detection]) -> np.ndarray:
    return np.array([(o.x1, o.y1, o.x2, o.y2) for o in objects], dtype=np.float64).reshape(-1, 4)


def _evaluate_class(
    ground_truth: Sequence[Sequence[BoxLabel]],
    detections: Sequence[Sequence[Detection]],
    name: str,
    iou_threshold: float,
    box_filter: EvaluationBox,
    mode: APMode,
) -> ClassAP:
    gt_boxes, gt_ignored, det_boxes, det_scores, det_dropped = [], [], [], [], []
    for gt_image, det_image in zip(ground_truth, detections, strict=True):
        gt = _xyxy([b for b in gt_image if b.class_name == name])
        dets = [d for d in det_image if d.class_name == name]
        det = _xyxy(dets)
        gt_boxes.append(np.round(gt))
        gt_ignored.append(~_inside(gt, box_filter))
        det_boxes.append(np.round(det))
        det_scores.append(np.array([d.confidence for d in dets], dtype=np.float64))
        det_dropped.append(~_inside(det, box_filter))
    matches = match_detections(gt_boxes, det_boxes, det_scores, iou_threshold,
                               gt_ignored=gt_ignored, det_ignored=det_dropped)
    return class_ap(matches, mode)


def _coco(ground_truth: Sequence[Sequence[BoxLabel]], detections: Sequence[Sequence[Detection]],
          names: list[str]) -> CocoMetrics:
    index = {n: i for i, n in enumerate(names)}
    gts = [[b for b in image if b.class_name in index] for image in ground_truth]
    return coco_map(
        gt_boxes=[_xyxy(image) for image in gts],
        gt_labels=[np.array([index[b.class_name] for b in image], dtype=np.int64) for image in gts],
        det_boxes=[_xyxy(image) for image in detections],
        det_scores=[np.array([d.confidence for d in image], dtype=np.float64) for image in detections],
        det_labels=[np.array([index[d.class_name] for d in image], dtype=np.int64) for image in detections],
    )


def save_pr_curves(metrics: DetectionMetrics, path: Path | str) -> None:
    """Write one precision-recall curve per class, AP in the legend, to a PNG (replaced atomically)."""
    from taokit.engine.figures import new_figure, save_png

    fig, ax = new_figure((7, 5))
    for name in metrics.class_names:
        result = metrics.per_class[name]
        ap = "n/a" if math.isnan(result.ap) else f"{result.ap:.3f}"
        ax.plot(result.recall, result.precision, drawstyle="steps-post", label=f"{name} (AP {ap})")
    title_map = "n/a" if math.isnan(metrics.mAP) else f"{metrics.mAP:.3f}"
    ax.set(xlim=(0.0, 1.0), ylim=(0.0, 1.05), xlabel="recall", ylabel="precision",
           title=f"Precision-recall ({metrics.mode}), mAP {title_map}")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower left")
    save_png(fig, Path(path))

"""COCO bbox AP@[.5:.95], AP50 and AP75 in NumPy, numerically equal to pycocotools' COCOeval.

Reimplemented (area "all", maxDets 100, 101 recall points) so that evaluation needs no pycocotools;
tests compare it with `COCOeval.stats[0..2]`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from taokit.metrics.average_precision import (
    as_boxes,
    average_precision,
    box_iou,
    collect_matches,
    match_image,
    precision_recall,
    sort_by_score,
)

# Built exactly as pycocotools builds `iouThrs`; index 0 is 0.5 and index 5 is 0.75.
COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)


@dataclass(frozen=True)
class CocoMetrics:
    """COCO summary numbers; NaN when no category has ground truth (pycocotools prints -1).

    `per_class` maps each label with ground truth to its AP@[.5:.95]; labels without ground truth
    are left out of every mean, as in COCOeval.
    """

    map: float
    map_50: float
    map_75: float
    per_class: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class _ImageClass:
    """One image's boxes of one class, detections in score order and cut to maxDets."""

    ious: np.ndarray
    scores: np.ndarray
    num_gt: int


def coco_map(
    gt_boxes: Sequence[ArrayLike],
    gt_labels: Sequence[ArrayLike],
    det_boxes: Sequence[ArrayLike],
    det_scores: Sequence[ArrayLike],
    det_labels: Sequence[ArrayLike],
    max_dets: int = 100,
) -> CocoMetrics:
    """COCO AP of xyxy pixel boxes, lists indexed by image; labels are integer class ids.

    As in COCOeval: each image keeps its `max_dets` best detections per class, the AP of a class is
    averaged over the ten IoU thresholds 0.50:0.05:0.95, and means run over classes with ground truth.
    """
    n = len(gt_boxes)
    if not n == len(gt_labels) == len(det_boxes) == len(det_scores) == len(det_labels):
        raise ValueError("coco_map needs one entry per image in every argument")
    gt_labels = [np.asarray(g).reshape(-1) for g in gt_labels]
    det_labels = [np.asarray(d).reshape(-1) for d in det_labels]
    labels = sorted({int(v) for g in gt_labels for v in g})
    if not labels:
        return CocoMetrics(map=math.nan, map_50=math.nan, map_75=math.nan)
    ap = np.zeros((len(labels), COCO_IOU_THRESHOLDS.size))
    for k, label in enumerate(labels):
        images = [
            _select(as_boxes(gt_boxes[i])[gt_labels[i] == label], as_boxes(det_boxes[i])[det_labels[i] == label],
                    np.asarray(det_scores[i], dtype=np.float64).reshape(-1)[det_labels[i] == label], max_dets)
            for i in range(n)
        ]
        ap[k] = [_ap_at(images, float(t)) for t in COCO_IOU_THRESHOLDS]
    return CocoMetrics(
        map=float(ap.mean()),
        map_50=float(ap[:, 0].mean()),
        map_75=float(ap[:, 5].mean()),
        per_class={label: float(ap[k].mean()) for k, label in enumerate(labels)},
    )


def _select(gt: np.ndarray, dets: np.ndarray, scores: np.ndarray, max_dets: int) -> _ImageClass:
    order = sort_by_score(scores)[:max_dets]
    return _ImageClass(ious=box_iou(dets[order], gt), scores=scores[order], num_gt=len(gt))


def _ap_at(images: list[_ImageClass], iou_threshold: float) -> float:
    """101-point AP of one class at one IoU threshold (the IoU matrices are shared by thresholds)."""
    no_ignored = [np.zeros(im.num_gt, dtype=bool) for im in images]
    outcomes = [match_image(im.ious, ig, iou_threshold) for im, ig in zip(images, no_ignored, strict=True)]
    matches = collect_matches([im.scores for im in images], outcomes, sum(im.num_gt for im in images))
    precision, recall = precision_recall(matches)
    return average_precision(recall, precision, "COCO101")

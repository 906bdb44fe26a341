"""CULane's official lane F1 (SCNN's `lane_evaluation` tool): lanes drawn as 30-pixel lines on the image
canvas, IoU per predicted x ground-truth pair, one-to-one matching that maximises IoU (Hungarian), a
true positive when IoU > 0.5; TP, FP and FN summed over the images.

As in the C++ tool, a lane with more than 2 points becomes a cubic spline sampled 50 times per segment
(scipy's `splprep(s=0, k=min(3, n-1))` here), a 2-point lane a straight segment, and a lane with fewer
points matches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.interpolate import splev, splprep
from scipy.optimize import linear_sum_assignment

SAMPLES_PER_SEGMENT = 50


def interpolate(points: np.ndarray) -> np.ndarray:
    """The lane as the C++ tool draws it: a parametric cubic spline through its points."""
    if len(points) <= 2:
        return points.astype(np.float64)
    k = min(3, len(points) - 1)
    try:
        tck, knots = splprep([points[:, 0], points[:, 1]], s=0, k=k)
    except (ValueError, TypeError):  # repeated points: fall back to the polyline
        return points.astype(np.float64)
    u = np.concatenate([np.linspace(a, b, SAMPLES_PER_SEGMENT, endpoint=False)  # 50 per segment, as in C++
                        for a, b in zip(knots[:-1], knots[1:], strict=True)] + [knots[-1:]])
    return np.stack(splev(u, tck), axis=1)


def _raster(points: np.ndarray, hw: tuple[int, int], width: int) -> np.ndarray:
    canvas = np.zeros(hw, np.uint8)
    line = np.round(interpolate(points)).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(canvas, [line], False, 1, width)
    return canvas


def iou_matrix(pred: Sequence[np.ndarray], gt: Sequence[np.ndarray], hw: tuple[int, int], width: int) -> np.ndarray:
    masks_p = [_raster(p, hw, width) if len(p) >= 2 else None for p in pred]
    masks_g = [_raster(g, hw, width) if len(g) >= 2 else None for g in gt]
    ious = np.zeros((len(pred), len(gt)))
    for i, a in enumerate(masks_p):
        for j, b in enumerate(masks_g):
            if a is None or b is None:
                continue
            inter = int(np.count_nonzero(a & b))
            union = int(np.count_nonzero(a)) + int(np.count_nonzero(b)) - inter
            ious[i, j] = inter / union if union else 0.0
    return ious


@dataclass
class CULaneAccumulator:
    width: int = 30
    iou_threshold: float = 0.5
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, pred: Sequence[np.ndarray], gt: Sequence[np.ndarray], hw: tuple[int, int]) -> None:
        if not gt:
            self.fp += len(pred)
            return
        if not pred:
            self.fn += len(gt)
            return
        ious = iou_matrix(pred, gt, hw, self.width)
        rows, cols = linear_sum_assignment(-ious)
        tp = int(np.sum(ious[rows, cols] > self.iou_threshold))
        self.tp, self.fp, self.fn = self.tp + tp, self.fp + len(pred) - tp, self.fn + len(gt) - tp

    def to_dict(self) -> dict[str, float | int]:
        precision = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        recall = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": precision, "recall": recall, "f1": f1}

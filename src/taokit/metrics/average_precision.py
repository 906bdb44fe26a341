"""Class-agnostic detection AP: greedy matching, precision/recall, and the VOC and COCO interpolations.

Everything here works on one class at a time over many images, so DetectNet_v2's per-class AP and
COCO's per-category AP share the same, separately tested, matching code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

APMode = Literal["SAMPLE", "INTEGRATE", "COCO101"]
AP_MODES: tuple[str, ...] = ("SAMPLE", "INTEGRATE", "COCO101")

TP, FP, IGNORED = 1, 0, -1
"""Per-detection outcomes of `match_image`."""

_SAMPLE_RECALLS = np.linspace(0.0, 1.0, 11)
# Built exactly as pycocotools builds `recThrs`, so that searchsorted lands on the same indices.
_COCO_RECALLS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
# linspace(0, 1, 11)[3] is 0.30000000000000004, so recall 3/10 would miss the 0.3 point without it.
_SAMPLE_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class Matches:
    """Outcome of matching one class over many images.

    `scores` are in descending order (stable over image order, then detection order) and hold only
    the detections that count: dropped and ignored ones are already removed.
    """

    scores: np.ndarray
    is_tp: np.ndarray
    num_gt: int


@dataclass(frozen=True, eq=False)
class ClassAP:
    """AP of one class with the counts and the PR curve it came from (one point per detection).

    `ap` is NaN when the class has neither ground truth nor detections: there is nothing to score,
    and `mean_ap` leaves it out. A class with detections but no ground truth scores 0.0 (all its
    detections are false positives), as in TAO's DetectNet_v2 evaluator.
    """

    ap: float
    num_gt: int
    num_det: int
    tp: int
    fp: int
    precision: np.ndarray
    recall: np.ndarray
    scores: np.ndarray


def as_boxes(boxes: ArrayLike) -> np.ndarray:
    """An (N, 4) float64 array of xyxy boxes, also for empty input."""
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def box_iou(boxes_a: ArrayLike, boxes_b: ArrayLike) -> np.ndarray:
    """IoU matrix (len(a), len(b)) of xyxy boxes in continuous coordinates (no +1 pixel, as COCO)."""
    a, b = as_boxes(boxes_a), as_boxes(boxes_b)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(bottom_right - top_left, 0.0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_image(ious: np.ndarray, gt_ignored: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy matching in one image; the rows of `ious` must already be in descending score order.

    A detection takes the still unmatched regular GT with the highest IoU (the first one on an exact
    tie, where pycocotools takes the last) if that IoU >= `iou_threshold` (TP). Otherwise, if it overlaps an ignored GT by the threshold it
    is IGNORED: ignored GT absorb any number of detections, like VOC "difficult" boxes. Otherwise it
    is a FP, so a duplicate of an already matched object is a FP. Regular GT are tried before ignored
    ones even when an ignored GT overlaps more, as pycocotools does.
    """
    num_det, num_gt = ious.shape
    outcome = np.full(num_det, FP, dtype=np.int8)
    if num_gt == 0:
        return outcome
    taken = np.asarray(gt_ignored, dtype=bool).copy()
    ignored_ious = ious[:, taken]
    for d in range(num_det):
        candidates = np.where(taken, -1.0, ious[d])
        best = int(np.argmax(candidates))
        if candidates[best] >= iou_threshold:
            taken[best] = True
            outcome[d] = TP
        elif ignored_ious.shape[1] and ignored_ious[d].max() >= iou_threshold:
            outcome[d] = IGNORED
    return outcome


def sort_by_score(scores: ArrayLike) -> np.ndarray:
    """Indices of descending scores; stable, so equal scores keep their input order (as mergesort)."""
    return np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")


def collect_matches(scores: Sequence[np.ndarray], outcomes: Sequence[np.ndarray], num_gt: int) -> Matches:
    """Merge per-image outcomes (each in that image's score order) into one score-ordered `Matches`."""
    all_scores = np.concatenate([np.asarray(s, dtype=np.float64) for s in scores]) if scores else np.zeros(0)
    all_outcomes = np.concatenate(outcomes) if outcomes else np.zeros(0, dtype=np.int8)
    counted = all_outcomes != IGNORED
    all_scores, all_outcomes = all_scores[counted], all_outcomes[counted]
    order = sort_by_score(all_scores)
    return Matches(scores=all_scores[order], is_tp=all_outcomes[order] == TP, num_gt=int(num_gt))


def match_detections(
    gt_boxes: Sequence[ArrayLike],
    det_boxes: Sequence[ArrayLike],
    det_scores: Sequence[ArrayLike],
    iou_threshold: float,
    gt_ignored: Sequence[ArrayLike] | None = None,
    det_ignored: Sequence[ArrayLike] | None = None,
) -> Matches:
    """Match one class's detections to its ground truth over many images (lists indexed by image).

    Ignored GT do not count in `num_gt`; ignored detections are dropped before matching, so they
    cannot take a GT away from another detection.
    """
    scores_per_image, outcomes_per_image, num_gt = [], [], 0
    for i, (gt, dets, scores) in enumerate(zip(gt_boxes, det_boxes, det_scores, strict=True)):
        gt = as_boxes(gt)
        ignored = _mask(gt_ignored, i, len(gt))
        dets, scores = as_boxes(dets), np.asarray(scores, dtype=np.float64).reshape(-1)
        keep = ~_mask(det_ignored, i, len(dets))
        dets, scores = dets[keep], scores[keep]
        order = sort_by_score(scores)
        outcomes = match_image(box_iou(dets[order], gt), ignored, iou_threshold)
        scores_per_image.append(scores[order])
        outcomes_per_image.append(outcomes)
        num_gt += int(np.count_nonzero(~ignored))
    return collect_matches(scores_per_image, outcomes_per_image, num_gt)


def _mask(masks: Sequence[ArrayLike] | None, index: int, length: int) -> np.ndarray:
    if masks is None:
        return np.zeros(length, dtype=bool)
    return np.asarray(masks[index], dtype=bool).reshape(length)


def precision_recall(matches: Matches) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative precision and recall after each detection; recall is all zeros without GT."""
    tp = np.cumsum(matches.is_tp, dtype=np.float64)
    fp = np.cumsum(~matches.is_tp, dtype=np.float64)
    precision = tp / np.maximum(tp + fp, 1.0)
    recall = tp / matches.num_gt if matches.num_gt > 0 else np.zeros_like(tp)
    return precision, recall


def average_precision(recall: ArrayLike, precision: ArrayLike, mode: APMode = "INTEGRATE") -> float:
    """AP of a PR curve whose recall is non-decreasing (one point per detection, by score).

    SAMPLE: VOC2007 11-point; the mean over t in linspace(0, 1, 11) of the highest precision at
    recall >= t (0 where recall never reaches t). INTEGRATE: VOC2010+ all-point; the area under the
    precision envelope (max precision at this recall or higher), summed over every recall step.
    COCO101: pycocotools' 101 recall points, searchsorted(side='left') into the envelope, points the
    curve never reaches count 0; kept bit-for-bit like pycocotools for cross-checks.
    """
    recall = np.asarray(recall, dtype=np.float64).reshape(-1)
    precision = np.asarray(precision, dtype=np.float64).reshape(-1)
    if mode not in AP_MODES:
        raise ValueError(f"average precision mode must be one of {AP_MODES}, got {mode!r}")
    if recall.size == 0:
        return 0.0
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    if mode == "INTEGRATE":
        return float(np.sum(np.diff(recall, prepend=0.0) * envelope))
    points = _SAMPLE_RECALLS - _SAMPLE_TOLERANCE if mode == "SAMPLE" else _COCO_RECALLS
    index = np.searchsorted(recall, points, side="left")
    sampled = np.where(index < recall.size, envelope[np.minimum(index, recall.size - 1)], 0.0)
    return float(np.mean(sampled))


def class_ap(matches: Matches, mode: APMode = "INTEGRATE") -> ClassAP:
    """AP and counts of one class; see `ClassAP` for the empty-class conventions."""
    precision, recall = precision_recall(matches)
    num_det = int(matches.scores.size)
    tp = int(np.count_nonzero(matches.is_tp))
    if matches.num_gt == 0:
        ap = math.nan if num_det == 0 else 0.0
    else:
        ap = average_precision(recall, precision, mode)
    return ClassAP(ap=ap, num_gt=matches.num_gt, num_det=num_det, tp=tp, fp=num_det - tp,
                   precision=precision, recall=recall, scores=matches.scores)


def mean_ap(aps: Iterable[float]) -> float:
    """Mean over the classes that have an AP (NaN entries left out); NaN when none has one."""
    finite = [a for a in aps if not math.isnan(a)]
    return float(np.mean(finite)) if finite else math.nan

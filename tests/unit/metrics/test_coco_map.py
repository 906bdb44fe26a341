"""COCO mAP and the 101-point AP, cross-checked against pycocotools on random data."""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from taokit.metrics.average_precision import average_precision, match_detections, precision_recall
from taokit.metrics.coco import COCO_IOU_THRESHOLDS, coco_map

NUM_CLASSES = 5  # class 3 only ever has detections, class 4 only ground truth


@dataclass
class Data:
    gt_boxes: list[np.ndarray]
    gt_labels: list[np.ndarray]
    det_boxes: list[np.ndarray]
    det_scores: list[np.ndarray]
    det_labels: list[np.ndarray]


def _random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    xy = rng.uniform(0, 200, size=(n, 2))
    wh = rng.uniform(4, 80, size=(n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


def _random_data(seed: int, images: int = 12, crowded_image: bool = False) -> Data:
    """Jittered copies of GT (some duplicated, some mislabelled), missed GT and pure false positives."""
    rng = np.random.default_rng(seed)
    data = Data([], [], [], [], [])
    for i in range(images):
        gt = _random_boxes(rng, int(rng.integers(0, 7)))
        gt_labels = rng.choice([0, 1, 2, 4], size=len(gt), p=[0.4, 0.3, 0.2, 0.1])
        found = rng.random(len(gt)) < 0.8
        duplicated = found & (rng.random(len(gt)) < 0.3)
        copies = np.concatenate([gt[found], gt[duplicated]])
        copy_labels = np.concatenate([gt_labels[found], gt_labels[duplicated]])
        size = (copies[:, 2:] - copies[:, :2]).repeat(2, axis=1) if len(copies) else np.zeros((0, 4))
        copies = copies + rng.normal(0, 0.07, size=copies.shape) * size
        copies[:, 2:] = np.maximum(copies[:, 2:], copies[:, :2] + 1)
        copy_labels = np.where(rng.random(len(copy_labels)) < 0.1, rng.integers(0, 3, len(copy_labels)),
                               copy_labels)
        n_fp = int(rng.integers(0, 4))
        fp_labels = rng.choice([0, 1, 2, 3], size=n_fp)
        if crowded_image and i == 0:  # more than maxDets=100 of class 0 in one image
            n_fp += 130
            fp_labels = np.concatenate([fp_labels, np.zeros(130, dtype=int)])
        dets = np.concatenate([copies, _random_boxes(rng, n_fp)])
        det_labels = np.concatenate([copy_labels, fp_labels]).astype(int)
        data.gt_boxes.append(gt)
        data.gt_labels.append(gt_labels.astype(int))
        data.det_boxes.append(dets)
        data.det_scores.append(rng.random(len(dets)))
        data.det_labels.append(det_labels)
    return data


def _xywh(box: np.ndarray) -> list[float]:
    return [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])]


def _cocoeval(data: Data) -> COCOeval:
    """Run pycocotools: GT ids from 1, area = w*h, iscrowd 0 (lanenet-prune-int8.md §6.1 gotchas)."""
    annotations = []
    for i, (boxes, labels) in enumerate(zip(data.gt_boxes, data.gt_labels, strict=True)):
        for box, label in zip(boxes, labels, strict=True):
            xywh = _xywh(box)
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": int(label) + 1,
                                "bbox": xywh, "area": xywh[2] * xywh[3], "iscrowd": 0})
    results = [
        {"image_id": i + 1, "category_id": int(label) + 1, "bbox": _xywh(box), "score": float(score)}
        for i, (boxes, scores, labels) in enumerate(zip(data.det_boxes, data.det_scores, data.det_labels,
                                                        strict=True))
        for box, score, label in zip(boxes, scores, labels, strict=True)
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": [{"id": i + 1} for i in range(len(data.gt_boxes))],
                      "categories": [{"id": c + 1} for c in range(NUM_CLASSES)],
                      "annotations": annotations}
        gt.createIndex()
        evaluator = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


@pytest.mark.parametrize("seed", range(4))
def test_coco101_ap_per_class_and_iou_matches_pycocotools(seed: int) -> None:
    data = _random_data(seed)
    evaluator = _cocoeval(data)
    precision = evaluator.eval["precision"]  # (iou, recall, category, area, maxDets)
    for k, cat_id in enumerate(evaluator.params.catIds):
        label = cat_id - 1
        reference = precision[:, :, k, 0, -1]
        if (reference < 0).all():
            assert label == 3  # the class with detections only is excluded, as pycocotools does
            continue
        for t, iou_threshold in enumerate(evaluator.params.iouThrs):
            matches = match_detections(
                [b[lab == label] for b, lab in zip(data.gt_boxes, data.gt_labels, strict=True)],
                [b[lab == label] for b, lab in zip(data.det_boxes, data.det_labels, strict=True)],
                [s[lab == label] for s, lab in zip(data.det_scores, data.det_labels, strict=True)],
                float(iou_threshold),
            )
            p, r = precision_recall(matches)
            assert average_precision(r, p, "COCO101") == pytest.approx(reference[t].mean(), abs=1e-6)


@pytest.mark.parametrize(("seed", "crowded"), [(10, False), (11, False), (12, True), (13, True)])
def test_coco_map_matches_cocoeval_stats(seed: int, crowded: bool) -> None:
    data = _random_data(seed, images=15, crowded_image=crowded)
    stats = _cocoeval(data).stats
    ours = coco_map(data.gt_boxes, data.gt_labels, data.det_boxes, data.det_scores, data.det_labels)
    assert ours.map == pytest.approx(stats[0], abs=1e-6)
    assert ours.map_50 == pytest.approx(stats[1], abs=1e-6)
    assert ours.map_75 == pytest.approx(stats[2], abs=1e-6)
    assert 3 not in ours.per_class and 4 in ours.per_class


def test_iou_thresholds_are_pycocotools_own() -> None:
    np.testing.assert_array_equal(COCO_IOU_THRESHOLDS, COCOeval(iouType="bbox").params.iouThrs)


def test_coco_map_perfect_and_empty() -> None:
    boxes = [np.array([[0, 0, 10, 10], [20, 20, 50, 60]], dtype=float)]
    labels = [np.array([0, 1])]
    perfect = coco_map(boxes, labels, boxes, [np.array([0.9, 0.8])], labels)
    assert (perfect.map, perfect.map_50, perfect.map_75) == (1.0, 1.0, 1.0)
    missed = coco_map(boxes, labels, [np.zeros((0, 4))], [np.zeros(0)], [np.zeros(0, dtype=int)])
    assert missed.map == 0.0
    no_gt = coco_map([np.zeros((0, 4))], [np.zeros(0, dtype=int)], boxes, [np.array([0.9, 0.8])], labels)
    assert math.isnan(no_gt.map)

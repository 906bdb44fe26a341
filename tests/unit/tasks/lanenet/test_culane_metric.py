"""CULane's official F1 on hand-worked IoU cases: 30-pixel lines, one-to-one matching, TP when IoU > 0.5."""

from __future__ import annotations

import numpy as np
import pytest

from taokit.tasks.lanenet.culane_metric import CULaneAccumulator, interpolate, iou_matrix

HW = (590, 1640)


def vertical(x: float, top: int = 50, bottom: int = 550) -> np.ndarray:
    return np.array([[x, bottom], [x, (top + bottom) / 2], [x, top]], np.float64)


def band_iou(offset: float, width: int = 31) -> float:
    """Two long vertical bands `width` pixels wide, `offset` apart: (w - d) / (w + d), ends neglected."""
    return max(width - offset, 0) / (width + offset)


def test_iou_of_parallel_lanes_matches_the_band_formula() -> None:
    for offset in (0, 5, 10, 20, 40):
        ious = iou_matrix([vertical(800 + offset)], [vertical(800)], HW, 30)
        assert ious[0, 0] == pytest.approx(band_iou(offset), abs=0.02), offset


def test_true_positive_only_above_the_threshold() -> None:
    matched = CULaneAccumulator(30, 0.5)
    matched.add([vertical(805)], [vertical(800)], HW)  # IoU ~0.72
    assert (matched.tp, matched.fp, matched.fn) == (1, 0, 0)
    missed = CULaneAccumulator(30, 0.5)
    missed.add([vertical(820)], [vertical(800)], HW)  # IoU ~0.22
    assert (missed.tp, missed.fp, missed.fn) == (0, 1, 1)


def test_matching_is_one_to_one_and_maximises_iou() -> None:
    # pred A overlaps both GT lanes; a greedy match of A to G1 would leave B without a partner
    gt = [vertical(800), vertical(812)]
    pred = [vertical(806), vertical(814)]
    scores = CULaneAccumulator(30, 0.5)
    scores.add(pred, gt, HW)
    assert (scores.tp, scores.fp, scores.fn) == (2, 0, 0)
    scores.add([vertical(800)], [vertical(800), vertical(1200)], HW)  # one found, one missed
    assert (scores.tp, scores.fp, scores.fn) == (3, 0, 1)


def test_images_without_lanes_and_the_summed_f1() -> None:
    scores = CULaneAccumulator(30, 0.5)
    scores.add([vertical(300), vertical(900)], [], HW)  # no annotations: every detection is an FP
    scores.add([], [vertical(300)], HW)  # no detections: every annotation is an FN
    scores.add([vertical(500)], [vertical(500)], HW)
    result = scores.to_dict()
    assert (result["tp"], result["fp"], result["fn"]) == (1, 2, 1)
    assert result["precision"] == pytest.approx(1 / 3) and result["recall"] == pytest.approx(1 / 2)
    assert result["f1"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


def test_lanes_are_splines_through_their_points() -> None:
    points = np.array([[100.0, 500.0], [150.0, 400.0], [220.0, 300.0], [310.0, 200.0]])
    curve = interpolate(points)
    assert len(curve) == 3 * 50 + 1  # 50 samples per segment, plus the last point
    assert np.allclose(curve[0], points[0]) and np.allclose(curve[-1], points[-1])
    for point in points:  # the spline passes through every point (s=0)
        assert np.min(np.linalg.norm(curve - point, axis=1)) < 1.0
    assert np.array_equal(interpolate(points[:2]), points[:2])  # two points: a straight segment

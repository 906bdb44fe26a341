"""Hand-checked AP cases and a NumPy VOC reference for the class-agnostic AP building blocks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from taokit.metrics.average_precision import (
    Matches,
    average_precision,
    box_iou,
    class_ap,
    match_detections,
    mean_ap,
    precision_recall,
)

MODES = ("SAMPLE", "INTEGRATE", "COCO101")


def _ap(matches: Matches, mode: str = "INTEGRATE") -> float:
    precision, recall = precision_recall(matches)
    return average_precision(recall, precision, mode)  # type: ignore[arg-type]


def _curve(outcomes: str, num_gt: int) -> Matches:
    """A PR curve from a string of T/F in descending score order."""
    is_tp = np.array([c == "T" for c in outcomes], dtype=bool)
    scores = np.linspace(1.0, 0.1, len(outcomes))
    return Matches(scores=scores, is_tp=is_tp, num_gt=num_gt)


def _voc_integrate(recall: np.ndarray, precision: np.ndarray) -> float:
    """The VOC2010+ devkit's all-point AP, written the textbook way."""
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    steps = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def _voc_sample(recall: np.ndarray, precision: np.ndarray) -> float:
    """The VOC2007 devkit's 11-point AP."""
    total = 0.0
    for t in np.linspace(0.0, 1.0, 11):
        above = precision[recall >= t]
        total += above.max() if above.size else 0.0
    return total / 11.0


GT = [np.array([[0, 0, 10, 10], [20, 20, 40, 40]], dtype=float)]


@pytest.mark.parametrize("mode", MODES)
def test_perfect_detections_score_one(mode: str) -> None:
    m = match_detections(GT, [GT[0].copy()], [np.array([0.9, 0.8])], 0.5)
    assert _ap(m, mode) == pytest.approx(1.0)
    assert m.num_gt == 2 and m.is_tp.all()


@pytest.mark.parametrize("mode", MODES)
def test_no_detections_score_zero(mode: str) -> None:
    m = match_detections(GT, [np.zeros((0, 4))], [np.zeros(0)], 0.5)
    result = class_ap(m, mode)  # type: ignore[arg-type]
    assert result.ap == 0.0 and result.num_gt == 2 and result.num_det == 0


def test_duplicate_detection_is_a_false_positive() -> None:
    dets = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [1, 1, 10, 10]], dtype=float)
    m = match_detections([GT[0][:1]], [dets], [np.array([0.9, 0.8, 0.7])], 0.5)
    assert m.is_tp.tolist() == [True, False, False]
    result = class_ap(m)
    assert (result.tp, result.fp) == (1, 2)
    assert result.ap == pytest.approx(1.0)


def test_score_order_matters_but_values_do_not() -> None:
    dets = np.array([[0, 0, 10, 10], [50, 50, 60, 60], [20, 20, 40, 40]], dtype=float)
    scores = np.array([0.9, 0.5, 0.3])
    base = _ap(match_detections(GT, [dets], [scores], 0.5))
    rescaled = _ap(match_detections(GT, [dets], [scores**3 * 100 - 7], 0.5))
    reordered = _ap(match_detections(GT, [dets], [np.array([0.9, 0.2, 0.3])], 0.5))
    assert rescaled == base == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert reordered == pytest.approx(1.0) != base


@pytest.mark.parametrize("mode", MODES)
def test_low_score_false_positive_after_last_tp_changes_nothing(mode: str) -> None:
    before = _ap(_curve("TFTFT", 4), mode)
    after = _ap(_curve("TFTFTF", 4), mode)
    assert after == pytest.approx(before)


def test_known_small_curve_by_hand() -> None:
    # T F T F F T with 4 GT: precision 1, 1/2, 2/3, 2/4, 2/5, 3/6 at recall .25 .25 .5 .5 .5 .75;
    # envelope 1, 2/3, 2/3, 1/2, 1/2, 1/2.
    m = _curve("TFTFFT", 4)
    precision, recall = precision_recall(m)
    np.testing.assert_allclose(precision, [1, 1 / 2, 2 / 3, 2 / 4, 2 / 5, 3 / 6])
    np.testing.assert_allclose(recall, [0.25, 0.25, 0.5, 0.5, 0.5, 0.75])
    # INTEGRATE: .25*1 + .25*(2/3) + .25*(1/2) = 13/24.
    assert average_precision(recall, precision, "INTEGRATE") == pytest.approx(13 / 24)
    # SAMPLE: t = 0, .1, .2 -> 1; t = .3, .4, .5 -> 2/3; t = .6, .7 -> 1/2; t = .8, .9, 1 -> 0.
    assert average_precision(recall, precision, "SAMPLE") == pytest.approx((3 + 3 * 2 / 3 + 2 / 2) / 11)


def test_sample_counts_a_recall_exactly_on_a_tenth() -> None:
    # linspace(0, 1, 11)[3] is 0.30000000000000004; recall 3/10 must still reach the 0.3 point.
    assert _ap(_curve("TTT", 10), "SAMPLE") == pytest.approx(4 / 11)


@pytest.mark.parametrize("seed", range(20))
def test_integrate_and_sample_match_numpy_voc_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    num_gt = int(rng.choice([7, 11, 13, 17]))  # recall k/n never lands on a tenth except 0 and 1
    is_tp = rng.random(int(rng.integers(1, 40))) < 0.5
    is_tp[np.cumsum(is_tp) > num_gt] = False
    matches = Matches(scores=np.sort(rng.random(is_tp.size))[::-1], is_tp=is_tp, num_gt=num_gt)
    precision, recall = precision_recall(matches)
    assert average_precision(recall, precision, "INTEGRATE") == pytest.approx(
        _voc_integrate(recall, precision), abs=1e-12)
    assert average_precision(recall, precision, "SAMPLE") == pytest.approx(
        _voc_sample(recall, precision), abs=1e-12)


def test_ignored_gt_absorbs_detections_and_does_not_count() -> None:
    gt = np.array([[0, 0, 10, 10], [20, 20, 40, 40]], dtype=float)
    dets = np.array([[20, 20, 40, 40], [21, 21, 40, 40], [0, 0, 10, 10]], dtype=float)
    m = match_detections([gt], [dets], [np.array([0.9, 0.8, 0.7])], 0.5,
                         gt_ignored=[np.array([False, True])])
    assert m.num_gt == 1
    assert m.is_tp.tolist() == [True]
    assert class_ap(m).ap == pytest.approx(1.0)


def test_regular_gt_is_preferred_over_a_better_overlapping_ignored_gt() -> None:
    gt = np.array([[0, 0, 10, 10], [0, 0, 9, 10]], dtype=float)
    m = match_detections([gt], [gt[:1]], [np.array([0.9])], 0.5, gt_ignored=[np.array([True, False])])
    assert m.is_tp.tolist() == [True]


def test_ignored_detection_is_dropped_before_matching() -> None:
    gt = np.array([[0, 0, 10, 10]], dtype=float)
    dets = np.array([[0, 0, 10, 10], [0, 0, 10, 11]], dtype=float)
    m = match_detections([gt], [dets], [np.array([0.9, 0.5])], 0.5, det_ignored=[np.array([True, False])])
    assert m.scores.tolist() == [0.5] and m.is_tp.tolist() == [True]


def test_empty_class_conventions() -> None:
    nothing = class_ap(Matches(np.zeros(0), np.zeros(0, dtype=bool), 0))
    only_fp = class_ap(_curve("FF", 0))
    assert math.isnan(nothing.ap)
    assert only_fp.ap == 0.0 and only_fp.fp == 2
    assert mean_ap([nothing.ap, only_fp.ap, 1.0]) == pytest.approx(0.5)
    assert math.isnan(mean_ap([math.nan]))


def test_iou_has_no_plus_one_pixel() -> None:
    iou = box_iou([[0, 0, 10, 10]], [[5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(iou, [[50 / 150, 0.0]])
    assert box_iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        average_precision([0.5], [1.0], "VOC")  # type: ignore[arg-type]

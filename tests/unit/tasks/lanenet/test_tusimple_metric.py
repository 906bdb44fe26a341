"""TuSimple's official scorer, rule by rule, on hand-worked cases (values computed by hand from the rules
of TuSimple's evaluate/lane.py, not by running the code under test)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from taokit.errors import DataError
from taokit.tasks.lanenet.tusimple_metric import TuSimpleAccumulator, bench, lane_angle, score_files

ROWS = list(range(200, 400, 10))  # 20 rows
VERTICAL = [500.0] * 20


def shifted(lane: list[float], dx: float) -> list[float]:
    return [x + dx if x >= 0 else x for x in lane]


def test_a_perfect_prediction() -> None:
    assert bench([VERTICAL, [800.0] * 20], [VERTICAL, [800.0] * 20], ROWS, 10) == (1.0, 0.0, 0.0)


def test_a_vertical_lane_allows_less_than_20_pixels() -> None:
    assert bench([shifted(VERTICAL, 19.9)], [VERTICAL], ROWS, 10) == (1.0, 0.0, 0.0)
    # 20 is not < 20: every row wrong, the lane is a false negative and the prediction a false positive
    assert bench([shifted(VERTICAL, 20.0)], [VERTICAL], ROWS, 10) == (0.0, 1.0, 1.0)


def test_the_threshold_widens_with_the_lane_angle() -> None:
    slanted = [float(100 + (y - 200)) for y in ROWS]  # x grows 1 px per row pixel: 45 degrees
    assert lane_angle(np.asarray(slanted), np.asarray(ROWS)) == pytest.approx(math.pi / 4)
    # 20 / cos(45°) = 28.28: a 25 px shift still matches, a 29 px one does not
    assert bench([shifted(slanted, 25.0)], [slanted], ROWS, 10) == (1.0, 0.0, 0.0)
    assert bench([shifted(slanted, 29.0)], [slanted], ROWS, 10)[0] == 0.0


def test_missing_points_count_on_both_sides() -> None:
    gt = [-2.0] * 5 + [500.0] * 15  # the lane starts at the 6th row
    assert bench([[-2.0] * 5 + [500.0] * 15], [gt], ROWS, 10) == (1.0, 0.0, 0.0)  # -2 vs -2: correct
    # predicting points where the GT has none is wrong on those 5 rows: 15/20 = 0.75 < 0.85
    acc, fp, fn = bench([[500.0] * 20], [gt], ROWS, 10)
    assert (acc, fp, fn) == (pytest.approx(0.75), 1.0, 1.0)


def test_the_085_rule_and_unmatched_lanes_still_add_their_accuracy() -> None:
    three_wrong = [900.0] * 3 + [500.0] * 17  # 17/20 = 0.85: matched
    assert bench([three_wrong], [VERTICAL], ROWS, 10) == (pytest.approx(0.85), 0.0, 0.0)
    four_wrong = [900.0] * 4 + [500.0] * 16  # 0.80: FN, FP, and 0.80 still added to the sum
    assert bench([four_wrong], [VERTICAL], ROWS, 10) == (pytest.approx(0.80), 1.0, 1.0)


def test_too_many_predictions_or_too_slow_score_zero_with_fp_zero() -> None:
    gt = [VERTICAL]
    assert bench([VERTICAL] * 4, gt, ROWS, 10) == (0.0, 0.0, 1.0)  # 4 > 1 + 2
    assert bench([VERTICAL] * 3, gt, ROWS, 10) == (1.0, pytest.approx(2 / 3), 0.0)  # 3 = 1 + 2 is allowed
    assert bench([VERTICAL], gt, ROWS, 200.5) == (0.0, 0.0, 1.0)
    assert bench([VERTICAL], gt, ROWS, 200.0) == (1.0, 0.0, 0.0)


def test_the_time_rule_moves_or_turns_off_and_slow_frames_are_counted() -> None:
    gt = [VERTICAL]
    assert bench([VERTICAL], gt, ROWS, 5000.0, time_limit_ms=0) == (1.0, 0.0, 0.0)  # 0: no time rule
    assert bench([VERTICAL], gt, ROWS, 350.0, time_limit_ms=400) == (1.0, 0.0, 0.0)
    assert bench([VERTICAL], gt, ROWS, 450.0, time_limit_ms=400) == (0.0, 0.0, 1.0)
    timed, untimed = TuSimpleAccumulator(), TuSimpleAccumulator(time_limit_ms=0)
    for run_time in (150.0, 250.0, 380.0):
        timed.add([VERTICAL], gt, ROWS, run_time)
        untimed.add([VERTICAL], gt, ROWS, run_time)
    assert (timed.over_time_limit, untimed.over_time_limit) == (2, 0)
    assert timed.score().accuracy == pytest.approx(1 / 3) and untimed.score().accuracy == 1.0


def test_more_than_four_lanes_forgive_one_miss_and_drop_the_worst() -> None:
    gt = [[100.0 * k] * 20 for k in range(1, 6)]  # 5 lanes
    found = gt[:4]
    # 4 perfect, 1 missed (accuracy 0): the FN is forgiven and the 0 dropped; sum 4 / min(4, 5)
    assert bench(found, gt, ROWS, 10) == (1.0, 0.0, 0.0)
    # all 5 found: nothing to forgive, still the worst (1.0) is dropped: 4 / 4
    assert bench(gt, gt, ROWS, 10) == (1.0, 0.0, 0.0)


def test_one_prediction_may_match_two_lanes_so_fp_goes_negative() -> None:
    gt = [[500.0] * 20, [510.0] * 20]  # both within 20 px of one prediction
    assert bench([[505.0] * 20], gt, ROWS, 10) == (1.0, -1.0, 0.0)


def test_images_without_lanes() -> None:
    assert bench([VERTICAL], [], ROWS, 10) == (0.0, 1.0, 0.0)
    assert bench([], [], ROWS, 10) == (0.0, 0.0, 0.0)
    assert bench([], [VERTICAL], ROWS, 10) == (0.0, 0.0, 1.0)


def test_a_lane_of_the_wrong_length_is_a_format_error() -> None:
    with pytest.raises(DataError, match="format of lanes error"):
        bench([VERTICAL[:-1]], [VERTICAL], ROWS, 10)


def test_a_submission_file_is_averaged_over_the_labelled_images(tmp_path: Path) -> None:
    truth = [{"raw_file": "a.jpg", "h_samples": ROWS, "lanes": [VERTICAL]},
             {"raw_file": "b.jpg", "h_samples": ROWS, "lanes": [VERTICAL, [800.0] * 20]}]
    preds = [{"raw_file": "a.jpg", "lanes": [VERTICAL], "run_time": 12.5},
             {"raw_file": "b.jpg", "lanes": [VERTICAL], "run_time": 12.5}]  # b: one of two lanes
    gt_file, pred_file = tmp_path / "gt.json", tmp_path / "pred.json"
    gt_file.write_text("".join(json.dumps(t) + "\n" for t in truth))
    pred_file.write_text("".join(json.dumps(p) + "\n" for p in preds))
    score = score_files(pred_file, gt_file)
    # a: (1, 0, 0); b: acc (1 + 0)/2, fp 0/1, fn 1/2
    assert (score.accuracy, score.fp, score.fn) == (pytest.approx(0.75), 0.0, pytest.approx(0.25))
    del preds[1]["run_time"]
    pred_file.write_text("".join(json.dumps(p) + "\n" for p in preds))
    with pytest.raises(DataError, match="run_time missing"):
        score_files(pred_file, gt_file)

"""DetectNet_v2 evaluation: TAO box filters, rounding, per-class IoU, metrics.json and the PR plot."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import taokit.tasks.detectnet as detectnet_package
from taokit.data.records import BoxLabel, Detection
from taokit.errors import DataError
from taokit.spec.load import load_spec
from taokit.tasks.detectnet.metrics import evaluate_detections, evaluate_with_spec, save_pr_curves
from taokit.tasks.detectnet.spec import DetectNetExperiment
from taokit.tasks.detectnet.spec.training import EvaluationBox

CLASSES = ["car", "pedestrian"]
MIN_20 = EvaluationBox(minimum_height=20, minimum_width=10)


def gt(name: str, x1: float, y1: float, x2: float, y2: float) -> BoxLabel:
    return BoxLabel(name, x1, y1, x2, y2)


def det(name: str, x1: float, y1: float, x2: float, y2: float, score: float) -> Detection:
    return Detection(name, x1, y1, x2, y2, score)


def _scene() -> tuple[list[list[BoxLabel]], list[list[Detection]]]:
    ground_truth = [
        [gt("car", 0, 0, 40, 40), gt("pedestrian", 100, 100, 120, 160)],
        [gt("car", 10, 10, 60, 50), gt("car", 200, 200, 260, 240), gt("-1", 0, 0, 5, 5)],
    ]
    detections = [
        [det("car", 1, 1, 40, 40, 0.9), det("pedestrian", 100, 100, 121, 160, 0.8),
         det("car", 300, 300, 340, 340, 0.7)],
        [det("car", 10, 10, 60, 50, 0.95), det("pedestrian", 0, 0, 30, 60, 0.2)],
    ]
    return ground_truth, detections


def test_counts_and_modes_on_a_small_scene() -> None:
    ground_truth, detections = _scene()
    m = evaluate_detections(ground_truth, detections, CLASSES, {"car": 0.7}, {}, "INTEGRATE")
    car, ped = m.per_class["car"], m.per_class["pedestrian"]
    assert (car.num_gt, car.num_det, car.tp, car.fp) == (3, 3, 2, 1)
    # car: T T F over 3 GT -> INTEGRATE 2/3; pedestrian: T F over 1 GT -> 1.
    assert car.ap == pytest.approx(2 / 3)
    assert (ped.num_gt, ped.tp, ped.fp, ped.ap) == (1, 1, 1, 1.0)
    assert m.mAP == pytest.approx((2 / 3 + 1) / 2)
    sample = evaluate_detections(ground_truth, detections, CLASSES, {"car": 0.7}, {}, "SAMPLE")
    assert sample.per_class["car"].ap == pytest.approx(7 / 11)  # t = 0 .. 0.6 reached with precision 1
    assert m.iou_thresholds == {"car": 0.7, "pedestrian": 0.5}


def test_per_class_iou_threshold_decides_a_match() -> None:
    # IoU = 40*30 / (40*40) = 0.75.
    ground_truth = [[gt("car", 0, 0, 40, 40)]]
    detections = [[det("car", 0, 0, 40, 30, 0.9)]]
    assert evaluate_detections(ground_truth, detections, ["car"], {"car": 0.7}).per_class["car"].tp == 1
    assert evaluate_detections(ground_truth, detections, ["car"], {"car": 0.8}).per_class["car"].tp == 0


def test_gt_below_minimum_height_is_ignored() -> None:
    # The small GT (height 18) is ignored; the detection on it (height 20, IoU 0.9) passes the filter
    # itself and so is neither a TP nor a FP.
    ground_truth = [[gt("car", 0, 0, 40, 40), gt("car", 100, 100, 120, 118)]]
    detections = [[det("car", 100, 100, 120, 120, 0.99), det("car", 0, 0, 40, 40, 0.5)]]
    car = evaluate_detections(ground_truth, detections, ["car"], {}, {"car": MIN_20}).per_class["car"]
    assert (car.num_gt, car.num_det, car.tp, car.fp, car.ap) == (1, 1, 1, 0, 1.0)
    unfiltered = evaluate_detections(ground_truth, detections, ["car"]).per_class["car"]
    assert (unfiltered.num_gt, unfiltered.tp) == (2, 2)


def test_small_prediction_is_dropped() -> None:
    ground_truth = [[gt("car", 0, 0, 40, 40)]]
    detections = [[det("car", 200, 200, 230, 205, 0.99), det("car", 0, 0, 40, 40, 0.5)]]
    car = evaluate_detections(ground_truth, detections, ["car"], {}, {"car": MIN_20}).per_class["car"]
    assert (car.num_det, car.fp, car.ap) == (1, 0, 1.0)
    unfiltered = evaluate_detections(ground_truth, detections, ["car"]).per_class["car"]
    assert (unfiltered.fp, unfiltered.ap) == (1, 0.5)


def test_filter_uses_raw_coordinates_as_tao_does() -> None:
    # Height 19.6 rounds to 20 but TAO filters before rounding, so the GT is ignored.
    ground_truth = [[gt("car", 0, 0.2, 40, 19.8)]]
    detections = [[det("car", 0, 0, 40, 20, 0.9)]]
    car = evaluate_detections(ground_truth, detections, ["car"], {}, {"car": MIN_20}).per_class["car"]
    assert (car.num_gt, car.num_det) == (0, 0)
    assert math.isnan(car.ap)


def test_coordinates_are_rounded_before_matching() -> None:
    # Raw IoU is 9.6^2 / (200 - 9.6^2) = 0.85; after rounding both boxes are (0, 0, 10, 10).
    ground_truth = [[gt("pedestrian", 0, 0, 10, 10)]]
    detections = [[det("pedestrian", 0.4, 0.4, 10.4, 10.4, 0.9)]]
    m = evaluate_detections(ground_truth, detections, ["pedestrian"], {"pedestrian": 0.99})
    assert m.per_class["pedestrian"].tp == 1
    assert m.map_50 == 1.0 and m.map < 1.0  # COCO uses the raw boxes


def test_empty_classes_and_coco_numbers() -> None:
    ground_truth = [[gt("car", 0, 0, 40, 40)]]
    detections = [[det("car", 0, 0, 40, 40, 0.9)]]
    m = evaluate_detections(ground_truth, detections, ["car", "pedestrian", "cyclist"])
    assert math.isnan(m.per_class["pedestrian"].ap)
    assert m.mAP == 1.0 and (m.map, m.map_50, m.map_75) == (1.0, 1.0, 1.0)
    hallucinated = evaluate_detections(ground_truth, [[*detections[0], det("cyclist", 0, 0, 9, 9, 0.1)]],
                                       ["car", "pedestrian", "cyclist"])
    assert hallucinated.per_class["cyclist"].ap == 0.0
    assert hallucinated.mAP == pytest.approx(0.5)
    assert hallucinated.map == 1.0  # COCO leaves classes without GT out


def test_bad_input_is_a_data_error() -> None:
    with pytest.raises(DataError, match="image"):
        evaluate_detections([[]], [], ["car"])
    with pytest.raises(DataError, match="truck"):
        evaluate_detections([[]], [[det("truck", 0, 0, 1, 1, 0.5)]], ["car"])
    with pytest.raises(ValueError, match="SAMPLE or INTEGRATE"):
        evaluate_detections([[]], [[]], ["car"], mode="COCO101")


def test_metrics_dict_is_json_and_pr_curves_png_is_written(tmp_path: Path) -> None:
    ground_truth, detections = _scene()
    m = evaluate_detections(ground_truth, detections, [*CLASSES, "cyclist"], {"car": 0.7}, {"car": MIN_20})
    payload = json.loads(json.dumps(m.to_dict(), allow_nan=False))
    assert payload["classes"]["cyclist"]["ap"] is None
    assert payload["classes"]["car"]["num_gt"] == 3
    assert set(payload["coco"]) == {"map", "map_50", "map_75"}
    assert payload["average_precision_mode"] == "SAMPLE"
    png = tmp_path / "plots" / "pr_curves.png"
    save_pr_curves(m, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in png.parent.iterdir()) == ["pr_curves.png"]


def test_evaluate_with_spec_uses_the_default_train_spec() -> None:
    spec = Path(detectnet_package.__file__).parent / "default_specs" / "train.txt"
    experiment = load_spec(spec, DetectNetExperiment)
    ground_truth, detections = _scene()
    m = evaluate_with_spec(ground_truth, detections, experiment)
    assert m.mode == experiment.evaluation_config.average_precision_mode
    assert m.iou_thresholds["car"] == experiment.iou_threshold("car")
    assert m.class_names == experiment.class_names

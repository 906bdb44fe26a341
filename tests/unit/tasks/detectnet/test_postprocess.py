"""postprocess: raw batch outputs to Detection lists, with spec-derived per-class settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import taokit.tasks.detectnet.default_specs as default_specs
from taokit.spec.load import load_spec
from taokit.tasks.detectnet.postprocess import (
    ClassPostprocess,
    from_experiment,
    from_inference_spec,
    postprocess,
)
from taokit.tasks.detectnet.spec import DetectNetExperiment, DetectNetInferenceSpec
from taokit.tasks.detectnet.spec.inference import BboxHandlerConfig, ClasswiseBboxHandlerConfig
from taokit.tasks.detectnet.spec.postprocess import ClusteringConfig

SPECS = Path(default_specs.__file__).parent
INPUT_HW = (64, 128)
GRID_HW = (4, 8)
CLASSES = ["car", "person"]


def _render(objects: list[tuple[int, tuple[float, float, float, float], float]]) -> tuple[np.ndarray, np.ndarray]:
    """cov (C, H, W) and bbox (4C, H, W) where a 2x2 block of cells per object predicts its exact box."""
    cov = np.zeros((len(CLASSES), *GRID_HW), dtype=np.float32)
    bbox = np.zeros((4 * len(CLASSES), *GRID_HW), dtype=np.float32)
    for c, (x1, y1, x2, y2), coverage in objects:
        col = min(int((x1 + x2) / 2 // 16), GRID_HW[1] - 2)
        row = min(int((y1 + y2) / 2 // 16), GRID_HW[0] - 2)
        for j in (row, row + 1):
            for i in (col, col + 1):
                gcx, gcy = i * 16 + 0.5, j * 16 + 0.5
                cov[c, j, i] = coverage
                bbox[4 * c:4 * c + 4, j, i] = [(gcx - x1) / 35, (gcy - y1) / 35, (x2 - gcx) / 35, (y2 - gcy) / 35]
    return cov, bbox


def _params(**kwargs: object) -> dict[str, ClassPostprocess]:
    config = ClusteringConfig(dbscan_eps=0.3, dbscan_confidence_threshold=0.5, minimum_bounding_box_height=4,
                              **kwargs)
    return {name: ClassPostprocess(config) for name in CLASSES}


def _batch(*frames: list) -> tuple[np.ndarray, np.ndarray]:
    rendered = [_render(objects) for objects in frames]
    return np.stack([c for c, _ in rendered]), np.stack([b for _, b in rendered])


def test_objects_are_recovered_per_image_and_class() -> None:
    cov, bbox = _batch([(0, (8, 6, 40, 30), 0.5), (1, (70, 4, 100, 60), 0.25)], [])
    detections = postprocess(cov, bbox, CLASSES, _params(), INPUT_HW)
    assert [len(d) for d in detections] == [2, 0]
    car, person = detections[0]
    assert (car.class_name, person.class_name) == ("car", "person")
    assert car.confidence == pytest.approx(2.0) and person.confidence == pytest.approx(1.0)
    np.testing.assert_allclose([car.x1, car.y1, car.x2, car.y2], [8, 6, 40, 30], atol=1e-4)
    np.testing.assert_allclose([person.x1, person.y1, person.x2, person.y2], [70, 4, 100, 60], atol=1e-4)


@pytest.mark.parametrize("algorithm", ["DBSCAN", "NMS", "HYBRID"])
def test_empty_frame_gives_no_detections(algorithm: str) -> None:
    cov = np.zeros((2, len(CLASSES), *GRID_HW), dtype=np.float32)
    bbox = np.zeros((2, 4 * len(CLASSES), *GRID_HW), dtype=np.float32)
    assert postprocess(cov, bbox, CLASSES, _params(clustering_algorithm=algorithm), INPUT_HW) == [[], []]


def test_boxes_rescale_per_axis_to_the_original_image() -> None:
    cov, bbox = _batch([(0, (8, 6, 40, 30), 0.5)], [(0, (8, 6, 40, 30), 0.5)])
    detections = postprocess(cov, bbox, CLASSES, _params(), INPUT_HW, image_sizes=[(256, 192), (64, 32)])
    big, small = detections[0][0], detections[1][0]
    np.testing.assert_allclose([big.x1, big.y1, big.x2, big.y2], [16, 18, 80, 90], atol=1e-3)
    np.testing.assert_allclose([small.x1, small.y1, small.x2, small.y2], [4, 3, 20, 15], atol=1e-3)


def test_nms_mode_gives_raw_coverages_and_min_height_applies() -> None:
    cov, bbox = _batch([(0, (8, 6, 40, 30), 0.5), (1, (70, 4, 100, 7), 0.9)])
    detections = postprocess(cov, bbox, CLASSES, _params(clustering_algorithm="NMS"), INPUT_HW)[0]
    assert [(d.class_name, d.confidence) for d in detections] == [("car", 0.5)]     # 3 px tall dropped


def test_classes_without_params_are_skipped_and_output_name_renames() -> None:
    cov, bbox = _batch([(0, (8, 6, 40, 30), 0.5), (1, (70, 4, 100, 60), 0.5)])
    params = {"person": ClassPostprocess(ClusteringConfig(dbscan_confidence_threshold=0.5), output_name="pedestrian")}
    assert [d.class_name for d in postprocess(cov, bbox, CLASSES, params, INPUT_HW)[0]] == ["pedestrian"]


def test_detections_sorted_across_classes() -> None:
    cov, bbox = _batch([(0, (8, 0, 40, 14), 0.3), (1, (70, 4, 100, 60), 0.6), (0, (8, 40, 40, 63), 0.45)])
    confidences = [d.confidence for d in postprocess(cov, bbox, CLASSES, _params(), INPUT_HW)[0]]
    assert confidences == sorted(confidences, reverse=True) and len(confidences) == 3


def test_shape_errors() -> None:
    cov, bbox = _batch([])
    with pytest.raises(ValueError, match="class names"):
        postprocess(cov, bbox, ["car"], _params(), INPUT_HW)
    with pytest.raises(ValueError, match="image sizes"):
        postprocess(cov, bbox, CLASSES, _params(), INPUT_HW, image_sizes=[(1, 1), (2, 2)])
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        postprocess(cov[0], bbox[0], CLASSES, _params(), INPUT_HW)


def test_from_experiment_uses_postprocessing_config_and_the_evaluation_rule() -> None:
    spec = load_spec(SPECS / "train.txt", DetectNetExperiment)
    params = from_experiment(spec)
    assert list(params) == spec.class_names
    assert params["pedestrian"].clustering == spec.clustering_config("pedestrian")
    assert {p.confidence_rule for p in params.values()} == {"evaluation"}
    assert {p.confidence_model for p in params.values()} == {"aggregate_cov"}


def test_from_inference_spec_uses_class_entries_default_and_output_map() -> None:
    spec = load_spec(SPECS / "inference.txt", DetectNetInferenceSpec)
    params = from_inference_spec(spec)
    assert list(params) == spec.inferencer_config.target_classes
    handlers = spec.bbox_handler_config.classwise_bbox_handler_config
    assert params["car"].clustering.dbscan_eps == handlers["car"].clustering_config.dbscan_eps
    assert params["pedestrian"].clustering.coverage_threshold == handlers["default"].clustering_config.coverage_threshold
    assert params["car"].output_name == (handlers["car"].output_map or None)
    assert params["pedestrian"].output_name is None
    assert params["car"].confidence_rule == "inference"


def test_inference_handler_zero_nms_fields_and_postproc_classes() -> None:
    handler = BboxHandlerConfig(
        classwise_bbox_handler_config={
            "default": ClasswiseBboxHandlerConfig(
                clustering_config=ClusteringConfig(nms_iou_threshold=0.0, nms_confidence_threshold=0.0)),
            "bag": ClasswiseBboxHandlerConfig(
                confidence_model="mean_cov", output_map="luggage",
                clustering_config=ClusteringConfig(nms_iou_threshold=0.5, nms_confidence_threshold=0.2)),
        },
        postproc_classes=["bag", "face"],
    )
    params = from_inference_spec(handler, ["person", "bag", "face"])
    assert list(params) == ["bag", "face"]
    assert (params["face"].clustering.nms_iou_threshold, params["face"].clustering.nms_confidence_threshold) == (0.3, 0.1)
    assert (params["bag"].clustering.nms_iou_threshold, params["bag"].clustering.nms_confidence_threshold) == (0.5, 0.2)
    assert (params["bag"].confidence_model, params["bag"].output_name) == ("mean_cov", "luggage")
    with pytest.raises(ValueError, match="class_names"):
        from_inference_spec(handler)


def test_coverage_peak_window_keeps_one_candidate_per_coverage_peak() -> None:
    from taokit.tasks.detectnet.decode import class_candidates, local_maximum

    cov = np.zeros((1, *GRID_HW), np.float32)
    cov[0, 1, 1:4] = [0.5, 0.9, 0.5]  # one object: a peak with two shoulders
    cov[0, 2, 6] = cov[0, 2, 7] = 0.7  # a flat top: both cells are the maximum of their windows
    bbox = np.full((4, *GRID_HW), 0.2, np.float32)
    np.testing.assert_array_equal(local_maximum(cov[0], 3)[1, 1:4], cov[0, 1, [2, 2, 2]])
    every, _ = class_candidates(cov, bbox, 0, 0.1, INPUT_HW)
    peaks, scores = class_candidates(cov, bbox, 0, 0.1, INPUT_HW, peak_window=3)
    assert len(every) == 5 and sorted(scores.tolist()) == pytest.approx([0.7, 0.7, 0.9])
    assert len(peaks) == 3


def test_peak_window_leaves_one_box_where_shoulder_cells_predict_poor_boxes() -> None:
    cov, bbox = _batch([(0, (40, 20, 72, 44), 0.9)])
    # the object's 2x2 block predicts its box; a shoulder cell to the right scores 0.6 with a shifted box that
    # overlaps it by less than the NMS IoU, so NMS keeps both
    cov[0, 0, 1, 4], bbox[0, 0:4, 1, 4] = 0.6, [-0.1, 0.2, 0.8, 0.5]
    nms = _params(clustering_algorithm="NMS", nms_iou_threshold=0.5)
    assert [d.class_name for d in postprocess(cov, bbox, CLASSES, nms, INPUT_HW)[0]] == ["car", "car"]
    peak = _params(clustering_algorithm="NMS", nms_iou_threshold=0.5, coverage_peak_window=3)
    assert [round(d.confidence, 3) for d in postprocess(cov, bbox, CLASSES, peak, INPUT_HW)[0]] == [0.9]


def test_an_even_peak_window_is_a_spec_error_and_the_tuned_specs_write_it_only_when_on() -> None:
    from pydantic import ValidationError

    from taokit.tasks.detectnet.tune_postprocess import _written

    with pytest.raises(ValidationError, match="must be odd"):
        ClusteringConfig(coverage_peak_window=4)
    assert "coverage_peak_window" not in _written(ClusteringConfig())  # TAO would refuse the key
    assert _written(ClusteringConfig(coverage_peak_window=3))["coverage_peak_window"] == 3
    assert "nms_box_voting_iou" not in _written(ClusteringConfig())
    assert _written(ClusteringConfig(nms_box_voting_iou=0.5))["nms_box_voting_iou"] == 0.5

"""DeepStream's nvinfer config from the experiment spec: one cluster-mode for all classes, said out loud."""

from __future__ import annotations

import pytest

from taokit.spec import task_specs
from taokit.tasks.detectnet.export import CLUSTER_MODE, deepstream_settings
from taokit.tasks.registry import get_task
from taokit_testing import DEMO_TRAIN_SPEC

CLASSES = ["car", "pedestrian", "cyclist"]


def _spec(*overrides: str):  # noqa: ANN202 - a DetectNetExperiment
    return task_specs.load_file(get_task("detectnet"), DEMO_TRAIN_SPEC, "experiment", list(overrides))


def test_one_algorithm_for_all_classes_is_written_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    props, sections = deepstream_settings(_spec(), CLASSES, (64, 96))
    assert props["cluster-mode"] == CLUSTER_MODE["DBSCAN"] and not caplog.records
    assert sections["class-attrs-1"]["pre-cluster-threshold"] == 0.05


def test_mixed_algorithms_write_the_first_class_mode_and_warn(caplog: pytest.LogCaptureFixture) -> None:
    key = "postprocessing_config.target_class_config.{}.clustering_config.clustering_algorithm={}"
    spec = _spec(key.format("car", "NMS"), key.format("cyclist", "HYBRID"))
    with caplog.at_level("WARNING"):
        props, _ = deepstream_settings(spec, CLASSES, (64, 96))
    assert props["cluster-mode"] == CLUSTER_MODE["NMS"]
    assert [r.getMessage() for r in caplog.records] == [
        "DeepStream's nvinfer has one cluster-mode for all classes; writing NMS (the first class's). "
        "Classes asking for another: pedestrian (DBSCAN), cyclist (HYBRID)"]


def test_a_coverage_peak_window_is_a_comment_deepstream_reads_past() -> None:
    assert not any(key.startswith("#coverage") for key in deepstream_settings(_spec(), CLASSES, (64, 96))[0])
    key = "postprocessing_config.target_class_config.pedestrian.clustering_config.coverage_peak_window=3"
    props, _ = deepstream_settings(_spec(key), CLASSES, (64, 96))
    assert "only coverage peaks for pedestrian" in props["#coverage_peak_window"]


def test_box_voting_is_a_comment_deepstream_reads_past() -> None:
    assert "#nms_box_voting_iou" not in deepstream_settings(_spec(), CLASSES, (64, 96))[0]
    key = "postprocessing_config.target_class_config.car.clustering_config.nms_box_voting_iou=0.5"
    props, _ = deepstream_settings(_spec(key), CLASSES, (64, 96))
    assert "for car" in props["#nms_box_voting_iou"]

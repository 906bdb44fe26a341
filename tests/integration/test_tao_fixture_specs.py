"""Every TAO spec fixture parses (ours, and NVIDIA's where ../shared exists); the DetectNet_v2 ones validate unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from taokit.spec import load_spec, parse_spec_source, task_specs
from taokit.spec.write import to_prototext, to_yaml
from taokit.tasks.detectnet.spec import DatasetExportConfig, DetectNetExperiment, DetectNetInferenceSpec
from taokit.tasks.registry import get_task

DETECTNET = {
    "detectnet_v2_train_resnet18_kitti.txt": DetectNetExperiment,
    "detectnet_v2_retrain_resnet18_kitti.txt": DetectNetExperiment,
    "detectnet_v2_tfrecords_kitti_trainval.txt": DatasetExportConfig,
    "detectnet_v2_inference_kitti_tlt.txt": DetectNetInferenceSpec,
    "detectnet_v2_inference_kitti_etlt.txt": DetectNetInferenceSpec,
}


def test_every_fixture_parses(tao_specs: Path) -> None:
    files = sorted(p for p in tao_specs.iterdir() if p.suffix in (".txt", ".cfg", ".yaml"))
    assert len(files) >= 8
    for path in files:
        root = parse_spec_source(path)
        assert root.entries, path


@pytest.mark.parametrize("name", sorted(DETECTNET))
def test_detectnet_fixture_validates_and_round_trips(tao_specs: Path, tmp_path: Path, name: str) -> None:
    schema = DETECTNET[name]
    spec = load_spec(tao_specs / name, schema)
    assert task_specs.load_file(get_task("detectnet"), tao_specs / name) == spec  # kind detected from sections
    for suffix, writer in ((".txt", to_prototext), (".yaml", to_yaml)):
        out = tmp_path / f"rt{suffix}"
        out.write_text(writer(spec))
        assert load_spec(out, schema) == spec


def test_train_fixture_values(tao_specs: Path) -> None:
    spec = load_spec(tao_specs / "detectnet_v2_train_resnet18_kitti.txt", DetectNetExperiment)
    assert spec.class_names == ["car", "cyclist", "pedestrian"]
    assert spec.input_hw == (384, 1248)
    assert spec.dataset_config.target_class_mapping["van"] == "car"
    assert spec.clustering_config("pedestrian").dbscan_eps == pytest.approx(0.23, abs=1e-6)
    assert spec.evaluation_config.average_precision_mode == "INTEGRATE"
    assert spec.training_config.regularizer.type == "L1"
    assert spec.model_config_.objective_set.bbox.scale == 35.0


def test_inference_fixture_values(tao_specs: Path) -> None:
    spec = load_spec(tao_specs / "detectnet_v2_inference_kitti_etlt.txt", DetectNetInferenceSpec)
    cfg = spec.inferencer_config
    assert cfg.target_classes == ["car", "cyclist", "pedestrian"]
    assert cfg.model_path.endswith("resnet18_detector.trt")
    assert spec.bbox_handler_config.for_class("truck").clustering_config.dbscan_eps == pytest.approx(0.3)

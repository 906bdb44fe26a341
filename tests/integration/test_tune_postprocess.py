"""tune_postprocess: a model whose clustering discards everything gets usable settings, without retraining."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides

pytestmark = pytest.mark.slow
CLASSES = ("car", "pedestrian", "cyclist")


@pytest.fixture(scope="module")
def detector(tiny_kitti: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DetectNet trained long enough on the tiny dataset to find objects (12 epochs)."""
    from taokit_testing import run_cli

    out = tmp_path_factory.mktemp("tune_detector")
    result = run_cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", out,
                     *tiny_train_overrides(tiny_kitti, **{"training_config.num_epochs": 12,
                                                          "training_config.checkpoint_interval": 12,
                                                          "evaluation_config.validation_period_during_training": 12}))
    assert result.exit_code == 0, result.output
    return out / "weights" / "model.pth"


def test_a_model_missing_most_objects_gets_a_better_clustering(detector: Path, tiny_kitti: Path,
                                                               tmp_path: Path, cli) -> None:
    model = detector
    strict = [f"postprocessing_config.target_class_config.{c}.clustering_config.coverage_threshold=0.95"
              for c in CLASSES]  # TAO-style settings far too strict for this model: nothing survives
    overrides = [*tiny_train_overrides(tiny_kitti), *strict]
    before = cli("detectnet", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", model, "-r", tmp_path / "before", *overrides)
    assert before.exit_code == 0 and "try `tao detectnet tune_postprocess" in before.stderr
    tuned = cli("detectnet", "tune_postprocess", "-e", DEMO_TRAIN_SPEC, "-m", model, "-r", tmp_path / "tuned",
                *overrides)
    assert tuned.exit_code == 0, tuned.output
    status = json.loads((tmp_path / "tuned" / "status.json").read_text().splitlines()[-1])["kpi"]
    assert status["mAP_before"] == 0.0 and status["mAP_after"] > 0.0
    rows = list(csv.DictReader((tmp_path / "tuned" / "postprocess_search.csv").open()))
    assert len(rows) == 61 and float(rows[0]["mAP"]) == 0.0  # candidate 0 is the spec's own settings
    after = cli("detectnet", "evaluate", "-e", tmp_path / "tuned" / "spec.txt", "-m", model, "-r", tmp_path / "after")
    assert after.exit_code == 0, after.output
    assert json.loads((tmp_path / "after" / "metrics.json").read_text())["mAP"] == pytest.approx(status["mAP_after"])
    inferred = cli("detectnet", "inference", "-e", tmp_path / "tuned" / "inference_spec.txt",
                   "-i", tiny_kitti / "testing" / "image_2", "-o", tmp_path / "infer")
    assert inferred.exit_code == 0, inferred.output  # the model path is in the inference spec
    assert cli("classification", "tune_postprocess", "-m", model, "-r", tmp_path / "x").exit_code == 2


def _labels(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def test_the_tuned_specs_give_the_same_detections_through_evaluate_and_inference(detector: Path, tiny_kitti: Path,
                                                                                  tmp_path: Path, cli) -> None:
    """What `evaluate -e spec.txt` scores is exactly what `inference -e inference_spec.txt` writes."""
    tuned = cli("detectnet", "tune_postprocess", "-e", DEMO_TRAIN_SPEC, "-m", detector, "-r", tmp_path / "tuned",
                *tiny_train_overrides(tiny_kitti))
    assert tuned.exit_code == 0, tuned.output
    scored = cli("detectnet", "evaluate", "-e", tmp_path / "tuned" / "spec.txt", "-m", detector, "-r", tmp_path / "eval")
    assert scored.exit_code == 0, scored.output
    inferred = cli("detectnet", "inference", "-e", tmp_path / "tuned" / "inference_spec.txt",
                   "-i", tiny_kitti / "training" / "image_2", "-o", tmp_path / "infer")
    assert inferred.exit_code == 0, inferred.output
    evaluated = _labels(tmp_path / "eval" / "detections")
    assert len(evaluated) == 24 and sum(text.count("\n") for text in evaluated.values()) > 0
    assert _labels(tmp_path / "infer" / "labels") == evaluated


@pytest.mark.parametrize("algorithm", ["NMS", "HYBRID"])
def test_zero_nms_thresholds_mean_the_same_in_the_inference_spec(detector: Path, tiny_kitti: Path, tmp_path: Path,
                                                                 cli, algorithm: str) -> None:
    """TAO's proto3 reads 0 as unset in an inference spec (IoU 0.3, confidence 0.1); what tune_postprocess
    writes for a train spec's zeros keeps their meaning."""
    from taokit.spec import load_spec
    from taokit.spec.write import to_prototext
    from taokit.tasks.detectnet.spec import DetectNetExperiment
    from taokit.tasks.detectnet.tune_postprocess import _inference_spec

    zeros = [f"postprocessing_config.target_class_config.{c}.clustering_config.{key}={value}" for c in CLASSES
             for key, value in (("clustering_algorithm", algorithm), ("nms_confidence_threshold", 0),
                                ("nms_iou_threshold", 0), ("coverage_threshold", 0.05))]
    overrides = [*tiny_train_overrides(tiny_kitti), *zeros]
    spec = load_spec(DEMO_TRAIN_SPEC, DetectNetExperiment, overrides)
    inference_spec = tmp_path / "inference_spec.txt"
    inference_spec.write_text(to_prototext(_inference_spec(spec, {c: spec.clustering_config(c) for c in CLASSES},
                                                           detector)))
    assert "nms_confidence_threshold: 0.05" in inference_spec.read_text()
    scored = cli("detectnet", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", detector, "-r", tmp_path / "eval", *overrides)
    assert scored.exit_code == 0, scored.output
    inferred = cli("detectnet", "inference", "-e", inference_spec, "-i", tiny_kitti / "training" / "image_2",
                   "-o", tmp_path / "infer")
    assert inferred.exit_code == 0, inferred.output
    evaluated = _labels(tmp_path / "eval" / "detections")
    assert sum(text.count("\n") for text in evaluated.values()) > 0
    assert _labels(tmp_path / "infer" / "labels") == evaluated

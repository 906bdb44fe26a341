"""Learning floors: tiny real training runs must reach a stated metric, so a broken loss, target, sampler
or optimizer fails here even when every file is written. An untrained model scores about 0 mAP and
0.25 accuracy (4 classes); the floors sit well above that and below what the runs reached when set
(2026-11-30, CPU): DetectNet mAP 0.22, classification test accuracy 0.76 (TAO's ResNet template, which
overfits 480 images where torchvision's did not, hence 960), LaneNet TuSimple accuracy 0.78 (an untrained
LaneNet scores about 0.05)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classification_testing import DEMO_SPEC, tiny_overrides
from taokit_testing import DEMO_TRAIN_SPEC, run_cli, tiny_train_overrides

pytestmark = pytest.mark.slow

DETECTNET_MAP_FLOOR = 0.1
CLASSIFICATION_ACCURACY_FLOOR = 0.6
LANENET_TUSIMPLE_ACCURACY_FLOOR = 0.6


def test_detectnet_learns_to_find_objects(tmp_path: Path) -> None:
    from taokit.tasks.detectnet.demo_data import generate

    data = tmp_path / "data"
    generate(data, num_images=64, seed=3)
    overrides = tiny_train_overrides(data, **{"training_config.num_epochs": 15,
                                              "evaluation_config.validation_period_during_training": 15})
    result = run_cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "run", *overrides)
    assert result.exit_code == 0, result.output
    evaluated = run_cli("detectnet", "evaluate", "-m", tmp_path / "run" / "weights" / "model.pth",
                        "-r", tmp_path / "eval")
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["mAP"] >= DETECTNET_MAP_FLOOR, metrics


def test_classification_learns_the_shapes(tmp_path: Path) -> None:
    from taokit.tasks.classification.demo_data import generate

    data = tmp_path / "data"
    generate(data, num_images=960, seed=5, size=32)
    overrides = tiny_overrides(data, **{"train_config.n_epochs": 10, "train_config.batch_size_per_gpu": 16,
                                        "train_config.optimizer.sgd.lr": 0.005,
                                        "train_config.lr_config.cosine.learning_rate": 0.005})
    result = run_cli("classification", "train", "-e", DEMO_SPEC, "-r", tmp_path / "run", *overrides)
    assert result.exit_code == 0, result.output
    evaluated = run_cli("classification", "evaluate", "-m", tmp_path / "run" / "weights" / "model.pth",
                        "-r", tmp_path / "eval")
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["accuracy"] >= CLASSIFICATION_ACCURACY_FLOOR, metrics


def test_lanenet_learns_to_find_lanes(tmp_path: Path) -> None:
    from lanenet_testing import DEMO_SPEC as LANE_SPEC
    from lanenet_testing import tiny_overrides as lane_overrides
    from taokit.tasks.lanenet.demo_data import SceneLayout, generate

    data = tmp_path / "data"
    generate(data, num_images=80, seed=11, layout=SceneLayout(320, 180), val_fraction=0.25)
    overrides = lane_overrides(data, **{"train_config.epochs": 12, "train_config.validation_period": 12,
                                        "postprocessing_config.min_lane_pixels": 25})
    result = run_cli("lanenet", "train", "-e", LANE_SPEC, "-r", tmp_path / "run", *overrides)
    assert result.exit_code == 0, result.output
    evaluated = run_cli("lanenet", "evaluate", "-m", tmp_path / "run" / "weights" / "model.pth", "-r", tmp_path / "eval")
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["tusimple"]["accuracy"] >= LANENET_TUSIMPLE_ACCURACY_FLOOR, metrics

"""Shared fixtures: the TAO spec fixtures, the CLI runner, tiny synthetic datasets and a tiny trained model."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from tiny_onnx import tiny_onnx  # noqa: F401 - the fakes' session fixture, shared by optimize/runtime tests

from taokit_testing import DEMO_TRAIN_SPEC, NVIDIA_TAO_SPECS, OWN_TAO_SPECS, run_cli, tiny_train_overrides

# A suite started in the background by a script (`make test &`, nohup, some CI runners) inherits SIGINT
# ignored, and so would every taokit process it starts: the Ctrl-C tests would then see runs that never stop.
# A handler here makes the children start with SIGINT at its default, as from a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", params=["taokit", "nvidia"])
def tao_specs(request: pytest.FixtureRequest) -> Path:
    """Each test on TAO-format specs runs on the project's own fixtures and on NVIDIA's tutorial files."""
    if request.param == "taokit":
        return OWN_TAO_SPECS
    if not NVIDIA_TAO_SPECS.is_dir():
        reason = (f"NVIDIA's TAO spec files are not at {NVIDIA_TAO_SPECS} (a clone has no ../shared; "
                  "set TAOKIT_SHARED to a folder holding fixtures/tao_specs to test them too)")
        if os.environ.get("TAOKIT_REQUIRE_SHARED") == "1":  # CI's normal run: they must not turn into skips
            pytest.fail(reason)
        pytest.skip(reason)
    return NVIDIA_TAO_SPECS


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def tiny_kitti(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 24-image synthetic KITTI dataset at 96x64 (training/ and testing/), made once per session."""
    from taokit.tasks.detectnet.demo_data import DemoLayout, generate

    root = tmp_path_factory.mktemp("tiny_kitti")
    generate(root, num_images=24, num_test_images=3, seed=3, layout=DemoLayout(96, 64, max_objects=2))
    return root


@pytest.fixture(scope="session")
def tiny_detector(tiny_kitti: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results directory with a 1-epoch DetectNet trained on `tiny_kitti` (weights/tiny.pth)."""
    out = tmp_path_factory.mktemp("tiny_detector")
    result = run_cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", out, "-n", "tiny",
                     *tiny_train_overrides(tiny_kitti, **{"training_config.visualizer.enabled": "true",
                                                          "training_config.visualizer.num_images": 2}))
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def tiny_imagefolder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic 4-class ImageFolder at 32x32 (train 40, val 8, test 8 images), made once per session."""
    from taokit.tasks.classification.demo_data import generate

    root = tmp_path_factory.mktemp("tiny_imagefolder")
    generate(root, num_images=56, seed=5, size=32)
    return root


@pytest.fixture(scope="session")
def tiny_classifier(tiny_imagefolder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results directory with a 1-epoch resnet10 classifier trained on `tiny_imagefolder` (weights/model.pth)."""
    from classification_testing import DEMO_SPEC, tiny_overrides

    out = tmp_path_factory.mktemp("tiny_classifier")
    result = run_cli("classification", "train", "-e", DEMO_SPEC, "-r", out, *tiny_overrides(tiny_imagefolder))
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="session")
def tiny_lanes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 synthetic road scenes at 320x180 with TuSimple labels (train 9, val 3), made once per session."""
    from taokit.tasks.lanenet.demo_data import SceneLayout, generate

    root = tmp_path_factory.mktemp("tiny_lanes")
    generate(root, num_images=12, seed=7, layout=SceneLayout(320, 180), val_fraction=0.25)
    return root


@pytest.fixture(scope="session")
def tiny_lanenet(tiny_lanes: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results directory with a 1-epoch ENet LaneNet trained on `tiny_lanes` (weights/model.pth)."""
    from lanenet_testing import DEMO_SPEC, tiny_overrides

    out = tmp_path_factory.mktemp("tiny_lanenet")
    result = run_cli("lanenet", "train", "-e", DEMO_SPEC, "-r", out, "-k", "KEY", *tiny_overrides(tiny_lanes))
    assert result.exit_code == 0, result.output
    return out

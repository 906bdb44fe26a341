"""examples/ci/Makefile end to end on a tiny generated dataset: every step runs once, a second `make` runs
none, and each gate, set out of reach, fails the build at its step with taokit's one-line verdict."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from taokit_testing import REPO

pytestmark = pytest.mark.slow
MAKEFILE = REPO / "examples" / "ci" / "Makefile"
TINY = " ".join([
    "augmentation_config.preprocessing.output_image_width=96", "augmentation_config.preprocessing.output_image_height=64",
    "training_config.num_epochs=1", "training_config.batch_size_per_gpu=4", "training_config.n_workers=0",
    "training_config.checkpoint_interval=1", "evaluation_config.first_validation_epoch=1",
    "evaluation_config.validation_period_during_training=1"])


def _make(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["make", "-f", str(MAKEFILE), f"OVERRIDES={TINY}", "MIN_MAP=0", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=1800)


def _steps(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line[3:].split(":")[0] for line in result.stdout.splitlines() if line.startswith("== ")]


def _verdict(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stdout[-3000:] + result.stderr[-3000:]
    return lines[0]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from taokit.tasks.detectnet.demo_data import DemoLayout, generate

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = tmp_path_factory.mktemp("ci")
    generate(root / "data", num_images=24, num_test_images=2, seed=3, layout=DemoLayout(96, 64, max_objects=2))
    return root


def test_the_pipeline_runs_once_and_each_gate_out_of_reach_fails_the_build(pipeline: Path) -> None:
    first = _make(pipeline, "all")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert _steps(first) == ["data", "train", "evaluate", "prune", "retrain the pruned model",
                             "evaluate the retrained model", "export", "package", "engine"]
    out = pipeline / "ci_out"
    with tarfile.open(out / "package.tar.gz") as archive:
        names = set(archive.getnames())
    assert {"package/model.onnx", "package/model_int8.onnx", "package/cal.bin", "package/labels.txt",
            "package/nvinfer_config.txt", "package/metrics.json", "logs/train.log"} <= names
    assert {p.stem for p in (out / "logs").iterdir()} >= {"validate", "convert", "train", "evaluate", "prune",
                                                          "retrain", "evaluate_retrained", "export", "benchmark"}
    again = _make(pipeline, "all")
    assert again.returncode == 0 and _steps(again) == ["engine"], again.stdout  # engine only says it is skipped

    # the gates from the last step back, so each case re-runs only its own step
    for target, gate, verdict in [
        ("package", "MIN_IMAGES_PER_S=1e12", "error: quality gate failed: images/s: "),
        ("export", "MAX_DIFF=1e-9", "error: quality gate failed: max abs diff vs PyTorch: "),
        ("retrain", "MIN_MAP_RETRAINED=1.01", "error: quality gate failed: mAP "),
        ("all", "MIN_MAP=1.01", "error: quality gate failed: mAP "),
    ]:
        failed = _make(pipeline, target, gate)
        assert failed.returncode != 0 and _verdict(failed).startswith(verdict), (target, failed.stdout[-2000:])
        assert _make(pipeline, target, gate).returncode != 0, target  # a failed gate leaves no stamp: it fails again
    assert _steps(failed) == ["evaluate"]  # and the steps after it do not run

    image = pipeline / "data" / "training" / "image_2" / "000005.png"
    good, stat = image.read_bytes(), image.stat()
    image.write_bytes(good[:100])
    broken = _make(pipeline, "data")
    assert broken.returncode != 0 and "(--strict)" in _verdict(broken) and "cannot be decoded" in _verdict(broken)
    image.write_bytes(good)
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the data as it was: no reason to convert again

    changed = _make(pipeline, "package", "PRUNE_THRESHOLD=0.3")  # a setting re-runs its step and what follows
    assert changed.returncode == 0 and _steps(changed) == ["evaluate", "prune", "retrain the pruned model",
                                                           "evaluate the retrained model", "export", "package"]

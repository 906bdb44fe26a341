"""Quality gates CI can trust: evaluate --min_metric, export --max_diff, benchmark --min_images_per_s exit 3
with one line naming the number, its value and the threshold; 0 when they pass, 2 for a mistyped gate."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides

pytestmark = pytest.mark.slow


def _error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_evaluate_min_metric(tiny_detector: Path, tiny_kitti: Path, tmp_path: Path, cli) -> None:
    model = tiny_detector / "weights" / "tiny.pth"
    args = ("detectnet", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", model)
    overrides = tiny_train_overrides(tiny_kitti)
    passed = cli(*args, "-r", tmp_path / "pass", "--min_metric", "mAP=0", "--min_metric", "ap50=0", *overrides)
    assert passed.exit_code == 0, passed.output
    mAP = json.loads((tmp_path / "pass" / "metrics.json").read_text())["mAP"]
    failed = cli(*args, "-r", tmp_path / "fail", "--min_metric", "mAP=1.01", *overrides)
    assert failed.exit_code == 3, failed.output
    assert _error(failed.stderr) == f"error: quality gate failed: mAP {mAP:.4f} < 1.01 (--min_metric)"
    assert (tmp_path / "fail" / "metrics.json").is_file() and "mAP" in failed.stdout  # the result is still shown
    typo = cli(*args, "--min_metric", "mAp50=0.5", *overrides)
    assert typo.exit_code == 2 and "no KPI 'mAp50'" in _error(typo.stderr) and "did you mean" in typo.stderr
    bad = cli(*args, "--min_metric", "mAP>0.5", *overrides)
    assert bad.exit_code == 2
    assert _error(bad.stderr) == "error: --min_metric mAP>0.5: write KPI=VALUE, e.g. --min_metric mAP=0.8"
    assert "evaluating" not in bad.stderr  # refused before the model ran


def test_classification_accuracy_gate(tiny_classifier: Path, tiny_imagefolder: Path, cli) -> None:
    from classification_testing import DEMO_SPEC, tiny_overrides

    model = tiny_classifier / "weights" / "model.pth"
    result = cli("classification", "evaluate", "-e", DEMO_SPEC, "-m", model, "--min_metric", "accuracy=1.5",
                 *tiny_overrides(tiny_imagefolder))
    assert result.exit_code == 3
    assert re.fullmatch(r"error: quality gate failed: accuracy [01]\.\d{4} < 1\.5 \(--min_metric\)", _error(result.stderr))


def test_lanenet_accuracy_gate(tiny_lanenet: Path, tiny_lanes: Path, cli) -> None:
    from lanenet_testing import DEMO_SPEC, tiny_overrides

    model = tiny_lanenet / "weights" / "model.pth"
    result = cli("lanenet", "evaluate", "-e", DEMO_SPEC, "-m", model, "--min_metric", "tusimple_accuracy=1.01",
                 *tiny_overrides(tiny_lanes))
    assert result.exit_code == 3 and "tusimple_accuracy" in _error(result.stderr)


def test_export_parity_gate(tiny_detector: Path, tmp_path: Path, cli) -> None:
    model = tiny_detector / "weights" / "tiny.pth"
    passed = cli("detectnet", "export", "-m", model, "-o", tmp_path / "a" / "model.onnx", "--max_diff", "10")
    assert passed.exit_code == 0, passed.output
    failed = cli("detectnet", "export", "-m", model, "-o", tmp_path / "b" / "model.onnx", "--data_type", "int8",
                 "--batches", "1", "--batch_size", "2", "--max_diff", "1e-9")
    assert failed.exit_code == 3, failed.output
    assert re.fullmatch(r"error: quality gate failed: max abs diff vs PyTorch: (FP32 \S+ > 1e-09; )?INT8 \S+ > 1e-09 "
                        r"\(--max_diff\)", _error(failed.stderr))
    assert (tmp_path / "b" / "model.onnx").is_file()  # the files stay for a look at what failed


def test_benchmark_speed_gate(tiny_detector: Path, cli) -> None:
    model = tiny_detector / "weights" / "tiny.pth"
    args = ("detectnet", "benchmark", "-m", model, "--runs", "2", "--warmup", "0")
    assert cli(*args, "--min_images_per_s", "1e-9").exit_code == 0
    failed = cli(*args, "--min_images_per_s", "1e12")
    assert failed.exit_code == 3
    assert re.fullmatch(rf"error: quality gate failed: images/s: {re.escape(str(model))} \S+ < 1e\+12 "
                        r"\(--min_images_per_s\)", _error(failed.stderr))

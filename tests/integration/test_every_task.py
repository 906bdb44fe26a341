"""Every registered task x every deployment action it implements, from the CLI, on the task's own tiny data:
trained 1 epoch (the session fixtures) -> evaluate -> export (FP32 and INT8, parity with PyTorch) -> inference
on the ONNX -> prune -> benchmark -> DeepStream files from export and from gen_trt_engine. A new task gets
these tests by adding its kit below; the per-task CLI test files keep only what is task-specific."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

import classification_testing
import lanenet_testing
from taokit.tasks.registry import TASKS, get_task
from taokit_testing import DEMO_TRAIN_SPEC, run_cli, tiny_train_overrides

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Kit:
    """What the shared tests need of a task: its tiny data and trained run (session fixtures), the spec and
    overrides that point at them, and a folder of images to run inference on."""

    data: str
    trained: str
    weights: str
    spec: Path
    overrides: Callable[[Path], list[str]]
    images: Callable[[Path], Path]
    kpi: str  # the validation metric status.json reports each epoch


KITS = {
    "detectnet": Kit("tiny_kitti", "tiny_detector", "tiny.pth", DEMO_TRAIN_SPEC, tiny_train_overrides,
                     lambda d: d / "testing" / "image_2", "mAP"),
    "lanenet": Kit("tiny_lanes", "tiny_lanenet", "model.pth", lanenet_testing.DEMO_SPEC, lanenet_testing.tiny_overrides,
                   lambda d: d / "images", "tusimple_accuracy"),
    "classification": Kit("tiny_imagefolder", "tiny_classifier", "model.pth", classification_testing.DEMO_SPEC,
                          classification_testing.tiny_overrides, lambda d: d / "test", "val_accuracy"),
}
ACTIONS = ("train", "evaluate", "export", "inference", "prune", "benchmark", "gen_trt_engine")
CASES = [(task, action) for task in TASKS for action in ACTIONS if action in get_task(task).implemented]


def test_every_registered_task_has_a_kit() -> None:
    missing = sorted(set(TASKS) - set(KITS))
    assert not missing, f"add a Kit for {missing} in tests/integration/test_every_task.py"


@dataclass
class Prepared:
    kit: Kit
    data: Path
    run: Path

    @property
    def model(self) -> Path:
        return self.run / "weights" / self.kit.weights

    def spec_args(self) -> list[str | Path]:
        return ["-e", self.kit.spec, *self.kit.overrides(self.data)]


@pytest.fixture
def prepared(request: pytest.FixtureRequest) -> Callable[[str], Prepared]:
    def get(task: str) -> Prepared:
        kit = KITS[task]
        return Prepared(kit, request.getfixturevalue(kit.data), request.getfixturevalue(kit.trained))

    return get


_EXPORTS: dict[str, Path] = {}


def _onnx(task: str, p: Prepared, folder: Path) -> Path:
    """The task's FP32 ONNX, exported once per session; the export must match PyTorch to 1e-3."""
    if task not in _EXPORTS:
        out = folder / f"{task}.onnx"
        result = run_cli(task, "export", "-m", p.model, "-o", out, "--max_diff", "1e-3")
        assert result.exit_code == 0, result.output
        _EXPORTS[task] = out
    return _EXPORTS[task]


@pytest.mark.parametrize("task, action", CASES)
def test_action(task: str, action: str, prepared, tmp_path: Path, tmp_path_factory, monkeypatch) -> None:
    p = prepared(task)
    exports = tmp_path_factory.mktemp(f"exports_{task}", numbered=True)
    if action == "train":  # the fixture's run: its files, as a user finds them
        assert p.model.is_file() and (p.run / "experiment.yaml").is_file()
        assert (p.run / "checkpoints" / "epoch_001.pth").is_file()
        events = [json.loads(line) for line in (p.run / "status.json").read_text().splitlines()]
        assert [e["status"] for e in events] == ["STARTED", "RUNNING", "SUCCESS"]
        assert p.kit.kpi in events[1]["kpi"] and events[1]["kpi"]["epoch"] == 1
        assert torch.load(p.model, weights_only=True)["task"] == task
    elif action == "evaluate":
        result = run_cli(task, "evaluate", "-m", p.model, "-r", tmp_path, *p.spec_args())
        assert result.exit_code == 0, result.output
        assert (tmp_path / "metrics.json").is_file()
    elif action == "export":
        _onnx(task, p, exports)
        int8 = tmp_path / "int8.onnx"
        result = run_cli(task, "export", "-m", p.model, "-o", int8, "--data_type", "int8", "--batches", "1",
                         "--batch_size", "2", "--cal_cache_file", tmp_path / "cal.bin", "--gen_ds_config",
                         *p.spec_args())
        assert result.exit_code == 0, result.output
        assert int8.is_file() and (tmp_path / "cal.bin").is_file()
        config = (tmp_path / "nvinfer_config.txt").read_text()
        assert "onnx-file=int8.onnx" in config and "int8-calib-file=cal.bin" in config
        assert (tmp_path / "labels.txt").read_text().strip()
    elif action == "inference":
        onnx = _onnx(task, p, exports)
        result = run_cli(task, "inference", "-m", onnx, "-i", p.kit.images(p.data), "-o", tmp_path / "out")
        assert result.exit_code == 0, result.output
        assert any((tmp_path / "out").rglob("*"))
    elif action == "prune":
        result = run_cli(task, "prune", "-m", p.model, "-o", tmp_path / "pruned.pth", "-pth", "0.9")
        assert result.exit_code == 0, result.output
        assert (tmp_path / "pruned.pth").stat().st_size < p.model.stat().st_size
    elif action == "benchmark":
        result = run_cli(task, "benchmark", "-m", p.model, "-m", _onnx(task, p, exports), "--runs", "2",
                         "--warmup", "1")
        assert result.exit_code == 0, result.output
        assert "onnxruntime" in result.stdout and "torch" in result.stdout
    elif action == "gen_trt_engine":  # TensorRT is a fake here (tests/fakes): no TensorRT or GPU on this machine
        from fake_tensorrt import make_fake_tensorrt

        from taokit.optimize import tensorrt_build

        monkeypatch.setitem(sys.modules, "tensorrt", make_fake_tensorrt("10.3.0"))
        monkeypatch.setattr(tensorrt_build, "require_cuda", lambda *_: None)
        engine = tmp_path / "deploy" / "model.engine"
        result = run_cli("deploy", task, "gen_trt_engine", "-m", _onnx(task, p, exports), "--engine_file", engine,
                         "--gen_ds_config", "--data_type", "fp16")
        assert result.exit_code == 0, result.output
        config = (engine.parent / "nvinfer_config.txt").read_text()
        assert "model-engine-file=model.engine" in config and "network-mode=2" in config
        assert (engine.parent / "labels.txt").read_text().strip()


_METRIC = {"detectnet": "mAP", "lanenet": "tusimple_accuracy", "classification": "accuracy"}


@pytest.mark.parametrize("task", [t for t in TASKS if "export" in get_task(t).implemented])
def test_openvino_runs_the_exported_files_as_onnx_runtime_does(task: str, prepared, tmp_path: Path,
                                                               tmp_path_factory) -> None:
    """The same FP32 and INT8 (QDQ) files through ONNX Runtime and OpenVINO: outputs and the task's metric agree
    (within the INT8 tolerance the INT8 export tests use against PyTorch)."""
    pytest.importorskip("openvino", reason="the optional openvino extra is not installed (pip install "
                                           "'taokit[openvino]'; CI installs it)")
    import json

    import numpy as np

    from taokit.runtime.select import open_backend

    p = prepared(task)
    fp32 = _onnx(task, p, tmp_path_factory.mktemp(f"exports_{task}", numbered=True))
    int8 = tmp_path / "int8.onnx"
    exported = run_cli(task, "export", "-m", p.model, "-o", int8, "--data_type", "int8", "--batches", "1",
                       "--batch_size", "2", *p.spec_args())
    assert exported.exit_code == 0, exported.output
    for model, tolerance in ((fp32, 1e-3), (int8, 0.15)):
        opened = [open_backend(model, load_torch=get_task(task).load_torch, backend=b) for b in ("onnxruntime",
                                                                                                 "openvino")]
        c, h, w = opened[0].io.input_chw
        batch = np.random.default_rng(0).random((2, c or 3, h, w), dtype=np.float32)
        ort_out, ov_out = (b.infer(batch) for b in opened)
        for b in opened:
            b.close()
        for a, b in zip(ort_out, ov_out, strict=True):
            assert np.max(np.abs(a - b)) <= tolerance * max(1.0, float(np.abs(a).max()))
        scores = []
        for backend in ("onnxruntime", "openvino"):
            out = tmp_path / f"eval_{model.stem}_{backend}"
            result = run_cli(task, "evaluate", "-m", model, "--backend", backend, "-r", out, *p.spec_args())
            assert result.exit_code == 0, result.output
            metrics = json.loads((out / "metrics.json").read_text())
            scores.append(metrics.get(_METRIC[task], metrics.get("tusimple", {}).get("accuracy")))
        assert all(isinstance(s, float) for s in scores), scores
        assert scores[0] == pytest.approx(scores[1], abs=1e-6 if model == fp32 else 0.02)

"""prune from the CLI on a resnet18 DetectNet: TAO's rules, residual coupling, heads intact, safe reload,
export, and retraining from the pruned graph."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import torch
from torch import nn

from taokit.engine.checkpoint import save_file
from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2
from taokit.tasks.detectnet.network import load_model, model_payload
from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides


@pytest.fixture(scope="module")
def resnet18(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A resnet18 DetectNet whose convs have a weak last quarter of filters (what L1 training leaves)."""
    torch.manual_seed(0)
    model = DetectNetV2(DetectNetArch("resnet", 18, ("car", "pedestrian", "cyclist"), (64, 96)))
    for m in model.backbone.modules():
        if isinstance(m, nn.Conv2d):
            with torch.no_grad():
                m.weight[3 * m.out_channels // 4 :] *= 0.01
    path = tmp_path_factory.mktemp("prune") / "resnet18.pth"
    save_file(path, model_payload(model), kind="model")
    return path


@pytest.fixture(scope="module")
def pruned(resnet18: Path) -> tuple[Path, dict]:
    from taokit_testing import run_cli

    out = resnet18.with_name("pruned.pth")
    result = run_cli("detectnet", "prune", "-m", resnet18, "-o", out, "-pth", "0.1", "-pg", "8", "-nf", "16",
                     "-el", "backbone.layer2.0.conv1", "-r", resnet18.parent)
    assert result.exit_code == 0, result.output
    assert "pruning_ratio" in result.stdout and "kept channels per layer" in result.stdout
    status = [json.loads(line) for line in (resnet18.parent / "status.json").read_text().splitlines()]
    return out, status[-1]["kpi"]


def test_pruned_model_follows_tao_rules(pruned: tuple[Path, dict], resnet18: Path) -> None:
    path, kpi = pruned
    original, _ = load_model(resnet18)
    model, _ = load_model(path)
    assert 0.4 < kpi["pruning_ratio"] < 0.8 and kpi["param_count"] < kpi["param_count_before"]
    widths = {n: m.out_channels for n, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    full = {n: m.out_channels for n, m in original.named_modules() if isinstance(m, nn.Conv2d)}
    for name, kept in widths.items():
        assert kept == full[name] or (kept % 8 == 0 and kept >= 16), (name, kept)
    assert widths["backbone.layer2.0.conv1"] == full["backbone.layer2.0.conv1"]  # -el
    assert widths["output_cov"] == 3 and widths["output_bbox"] == 12  # heads intact
    assert widths["backbone.layer4.1.conv1"] == 384  # 3/4 of 512 kept
    # residual coupling: the stem and every layer1 block output share one width
    assert widths["backbone.conv1"] == widths["backbone.layer1.0.conv2"] == widths["backbone.layer1.1.conv2"]
    with torch.no_grad():
        cov, bbox = model.eval()(torch.rand(1, 3, 64, 96))
    assert cov.shape == (1, 3, 4, 6) and bbox.shape == (1, 12, 4, 6)


def test_pruned_file_is_weights_only_and_keeps_the_strong_filters(pruned: tuple[Path, dict],
                                                                   resnet18: Path) -> None:
    path, _ = pruned
    data = torch.load(path, weights_only=True)
    assert data["channels"]["backbone.layer4.1.conv1"]["out"] == 384 and data["pruning"]["threshold"] == 0.1
    original, _ = load_model(resnet18)
    model, _ = load_model(path)
    # The stem reads the 3 image channels, so its kept filters are whole rows of the original kernel: the
    # strong first three quarters, in order, with their weights (the weak last quarter is gone).
    kept = model.backbone.conv1.out_channels
    assert kept == 48
    assert torch.equal(model.backbone.conv1.weight, original.backbone.conv1.weight[:kept])
    assert torch.equal(model.backbone.bn1.running_var, original.backbone.bn1.running_var[:kept])
    # the heads are intact: the pruned model's bbox head keeps the original's biases
    assert torch.equal(model.output_bbox.bias, original.output_bbox.bias)


def test_pruned_model_exports_and_evaluates(pruned: tuple[Path, dict], tiny_kitti: Path, tmp_path: Path,
                                            cli) -> None:
    path, _ = pruned
    out = tmp_path / "pruned.onnx"
    result = cli("detectnet", "export", "-m", path, "-o", out, "--data_type", "int8", "--cal_image_dir",
                 tiny_kitti / "training" / "image_2", "--batches", "1", "--batch_size", "4")
    assert result.exit_code == 0, result.output
    onnx.checker.check_model(onnx.load(str(out)))
    evaluated = cli("detectnet", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", out.with_name("pruned_int8.onnx"),
                    *tiny_train_overrides(tiny_kitti, **{"model_config.num_layers": 18}))
    assert evaluated.exit_code == 0, evaluated.output


def test_retrain_from_the_pruned_graph(pruned: tuple[Path, dict], tiny_kitti: Path, tmp_path: Path, cli) -> None:
    path, _ = pruned
    overrides = tiny_train_overrides(tiny_kitti, **{"model_config.num_layers": 18,
                                                    "model_config.pretrained_model_file": path,
                                                    "model_config.load_graph": "true",
                                                    "training_config.regularizer.type": "NO_REG"})
    result = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "retrain", *overrides)
    assert result.exit_code == 0, result.output
    retrained, _ = load_model(tmp_path / "retrain" / "weights" / "model.pth")
    assert retrained.backbone.layer4[1].conv1.out_channels == 384


def test_prune_errors(resnet18: Path, pruned: tuple[Path, dict], cli) -> None:
    result = cli("detectnet", "prune", "-m", resnet18, "-o", pruned[0])
    assert result.exit_code == 2 and "already exists" in result.stderr
    result = cli("detectnet", "prune", "-m", resnet18, "-o", resnet18.with_name("x.pth"), "-el", "backbone.layer9")
    assert result.exit_code == 2 and "no such layer" in result.stderr
    result = cli("detectnet", "prune", "-m", resnet18, "-o", resnet18.with_name("y.pth"), "-eq", "median")
    assert result.exit_code == 2 and "-eq median" in result.stderr

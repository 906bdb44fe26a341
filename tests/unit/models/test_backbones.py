"""Backbones and the DetectNet network: shapes, stride 16, options, pretrained files, channel configs."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision

from taokit.errors import ModelError, SpecError
from taokit.models.pretrained import load_matching, read_state_dict
from taokit.models.surgery import apply_channel_config, channel_config
from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2


@pytest.mark.parametrize(("arch", "layers"), [("resnet", 10), ("resnet", 18), ("resnet", 34), ("resnet", 50),
                                              ("mobilenet_v2", 0), ("efficientnet_b0", 0)])
def test_every_backbone_gives_stride_16_heads(arch: str, layers: int) -> None:
    model = DetectNetV2(DetectNetArch(arch, layers, ("a", "b", "c"), (64, 96))).eval()
    with torch.no_grad():
        cov, bbox = model(torch.rand(2, 3, 64, 96))
    assert cov.shape == (2, 3, 4, 6) and bbox.shape == (2, 12, 4, 6)
    assert 0.0 <= float(cov.min()) and float(cov.max()) <= 1.0


def test_options_change_the_network() -> None:
    plain = DetectNetV2(DetectNetArch("resnet", 18, ("a",), (32, 32)))
    no_bn = DetectNetV2(DetectNetArch("resnet", 18, ("a",), (32, 32), use_batch_norm=False))
    proj = DetectNetV2(DetectNetArch("resnet", 18, ("a",), (32, 32), all_projections=True))
    swish = DetectNetV2(DetectNetArch("resnet", 10, ("a",), (32, 32), activation="swish"))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in no_bn.modules())
    assert all(m.bias is not None for m in no_bn.modules() if isinstance(m, torch.nn.Conv2d))
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(proj) > count(plain)
    assert any(isinstance(m, torch.nn.SiLU) for m in swish.modules())
    with pytest.raises(SpecError, match="num_layers"):
        DetectNetV2(DetectNetArch("resnet", 19, ("a",), (32, 32)))


def test_torchvision_state_dict_loads_into_the_backbone(tmp_path: Path) -> None:
    reference = torchvision.models.resnet18()
    path = tmp_path / "resnet18.pth"
    torch.save(reference.state_dict(), path)
    model = DetectNetV2(DetectNetArch("resnet", 18, ("a",), (64, 64)))
    report = load_matching(model, read_state_dict(path))
    backbone_tensors = len(model.backbone.state_dict())
    assert report.matched == backbone_tensors  # every backbone tensor, layer4 included (stride only differs)
    assert report.unused == 2  # the classifier's fc.weight and fc.bias
    assert torch.equal(model.backbone.layer3[1].conv2.weight, reference.layer3[1].conv2.weight)


def test_bad_pretrained_files_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="not a readable PyTorch weights file"):
        read_state_dict(tmp_path / "junk.pth")
    with pytest.raises(ModelError, match="not found"):
        read_state_dict(tmp_path / "missing.pth")


def test_channel_config_rebuilds_a_narrowed_network() -> None:
    model = DetectNetV2(DetectNetArch("resnet", 10, ("a",), (32, 32)))
    model.backbone.layer4[0].conv1 = torch.nn.Conv2d(256, 200, 3, 1, 1, bias=False)
    model.backbone.layer4[0].bn1 = torch.nn.BatchNorm2d(200)
    model.backbone.layer4[0].conv2 = torch.nn.Conv2d(200, 512, 3, 1, 1, bias=False)
    config = channel_config(model)
    fresh = DetectNetV2(DetectNetArch("resnet", 10, ("a",), (32, 32)))
    changed = apply_channel_config(fresh, config)
    assert set(changed) == {"backbone.layer4.0.conv1", "backbone.layer4.0.bn1", "backbone.layer4.0.conv2"}
    in_model = {id(m) for m in fresh.modules()}
    assert all(id(m) in in_model for block in fresh.blocks for m in block)  # freeze_blocks hits live layers
    assert any(m is fresh.backbone.layer4 for m in fresh.blocks[4])
    fresh.load_state_dict(model.state_dict())
    x = torch.rand(1, 3, 32, 32)
    model.eval(), fresh.eval()
    assert torch.equal(model(x)[0], fresh(x)[0])

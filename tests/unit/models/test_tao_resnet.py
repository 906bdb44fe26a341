"""TAO's ResNet template against the facts of tao_tensorflow1_backend (shared/reference/ngc-models.md §2)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from taokit.models.backbone import BackboneOptions
from taokit.models.tao_resnet import build_tao_resnet, tao_layer_name


def _convs(module: nn.Module) -> dict[str, nn.Conv2d]:
    return {tao_layer_name(n): m for n, m in module.named_modules() if isinstance(m, nn.Conv2d)}


@pytest.mark.parametrize(("layers", "projections", "count"), [(18, False, 17 + 4), (18, True, 17 + 8),
                                                              (10, False, 9 + 4), (34, False, 33 + 4)])
def test_conv_counts_match_tao_test_resnet(layers: int, projections: bool, count: int) -> None:
    net = build_tao_resnet(layers, BackboneOptions(all_projections=projections)).module
    assert len(_convs(net)) == count


def test_layer_names_biases_epsilon_and_padding_are_tao_s() -> None:
    backbone = build_tao_resnet(18, BackboneOptions())
    convs = _convs(backbone.module)
    assert {"conv1", "block_1a_conv_1", "block_1a_conv_2", "block_1a_conv_shortcut", "block_4b_conv_2"} <= set(convs)
    assert "block_1b_conv_shortcut" not in convs  # only the first sub-block projects, without all_projections
    assert all(conv.bias is not None for conv in convs.values())
    assert convs["block_1a_conv_1"].padding == (1, 1) and convs["conv1"].padding == (3, 3)
    norms = [m for m in backbone.module.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.eps == 1e-3 for m in norms)
    assert "block_4c_conv_1" in _convs(build_tao_resnet(34, BackboneOptions()).module)
    assert len(backbone.blocks) == 5  # the stem and TAO's four blocks, for freeze_blocks


@pytest.mark.parametrize(("pooling", "stride"), [(False, 16), (True, 32)])
def test_output_stride(pooling: bool, stride: int) -> None:
    backbone = build_tao_resnet(10, BackboneOptions(use_pooling=pooling))
    out = backbone.module(torch.zeros(1, 3, 64, 96))
    assert out.shape == (1, 512, 64 // stride, 96 // stride) and backbone.out_channels == 512
    block_4 = _convs(backbone.module)["block_4a_conv_1"]
    assert block_4.stride == ((2, 2) if pooling else (1, 1))
    assert not any(isinstance(m, nn.MaxPool2d) for m in backbone.module.modules()) or pooling


def test_resnet50_puts_the_stride_on_the_first_1x1() -> None:
    backbone = build_tao_resnet(50, BackboneOptions())
    convs = _convs(backbone.module)
    assert convs["block_2a_conv_1"].kernel_size == (1, 1) and convs["block_2a_conv_1"].stride == (2, 2)
    assert convs["block_2a_conv_2"].stride == (1, 1) and backbone.out_channels == 2048
    assert backbone.module(torch.zeros(1, 3, 32, 32)).shape == (1, 2048, 2, 2)


def test_without_bias_and_with_torch_epsilon_for_classification() -> None:
    net = build_tao_resnet(18, BackboneOptions(use_bias=False, batch_norm_eps=1e-5)).module
    assert all(conv.bias is None for conv in _convs(net).values())
    assert all(m.eps == 1e-5 for m in net.modules() if isinstance(m, nn.BatchNorm2d))


def test_an_unknown_depth_names_the_key() -> None:
    from taokit.errors import SpecError

    with pytest.raises(SpecError, match="model_config.num_layers"):
        build_tao_resnet(101, BackboneOptions())


def test_spec_resnet_is_tao_s_and_old_model_files_stay_torchvision() -> None:
    from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2

    new = DetectNetV2(DetectNetArch("resnet", 10, ("car",), (64, 96), template="tao"))
    assert hasattr(new.backbone, "block_1a") and new.backbone.conv1.bias is not None
    old_record = {"arch": "resnet", "num_layers": 10, "class_names": ["car"], "input_hw": [64, 96],
                  "use_batch_norm": True, "activation": "relu", "all_projections": False, "dropout_rate": 0.0,
                  "bbox_scale": 35.0, "bbox_offset": 0.5, "extra": {}}  # written before the TAO template
    old = DetectNetV2(DetectNetArch.from_dict(old_record))
    assert hasattr(old.backbone, "layer1") and old.backbone.conv1.bias is None
    tv = DetectNetV2(DetectNetArch("torchvision_resnet", 10, ("car",), (64, 96), template="tao"))
    assert hasattr(tv.backbone, "layer1")
    for model in (new, old, tv):
        cov, bbox = model(torch.zeros(1, 3, 64, 96))
        assert cov.shape == (1, 1, 4, 6) and bbox.shape == (1, 4, 4, 6)

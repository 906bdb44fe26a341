"""mobilenet_v2/v3 and efficientnet_b0 feature extractors at output stride 16 or 32 (torchvision blocks)."""

from __future__ import annotations

import copy

from torchvision.models import efficientnet, mobilenetv2, mobilenetv3

from taokit.models.backbone import Backbone, BackboneOptions

_MOBILENET_V2_SETTING = [
    [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
]


def build_mobilenet_v2(options: BackboneOptions) -> Backbone:
    setting = copy.deepcopy(_MOBILENET_V2_SETTING)
    if options.output_stride == 16:
        setting[5][3] = 1  # the 160-channel stage stays at stride 16
    features = mobilenetv2.MobileNetV2(inverted_residual_setting=setting).features
    # TAO block i: 0 = stem, then the inverted-residual stages in order.
    bounds = [0, 1, 2, 4, 7, 11, 14, 17, 19]
    blocks = [list(features[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return Backbone(features, 1280, blocks)


def build_efficientnet_b0(options: BackboneOptions) -> Backbone:
    settings, last_channel = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=1.0, depth_mult=1.0)
    if options.output_stride == 16:
        settings[5].stride = 1  # the 192-channel stage stays at stride 16
    net = efficientnet.EfficientNet(settings, dropout=0.0, last_channel=last_channel)
    features = net.features
    blocks = [[m] for m in features]
    return Backbone(features, last_channel or 1280, blocks)


def build_mobilenet_v3(size: str, options: BackboneOptions) -> Backbone:
    """`size` is "large" or "small"; stride 16 dilates the last stage, as torchvision's segmentation models do."""
    settings, _ = mobilenetv3._mobilenet_v3_conf(f"mobilenet_v3_{size}", dilated=options.output_stride == 16)
    features = mobilenetv3.MobileNetV3(settings, last_channel=1280).features
    blocks = [[m] for m in features]  # block 0 = the stem, then one block per inverted residual
    return Backbone(features, features[-1].out_channels, blocks)

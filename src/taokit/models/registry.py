"""Backbone registry: one function turns (arch, num_layers, options) into a Backbone."""

from __future__ import annotations

from taokit.errors import SpecError
from taokit.models.backbone import Backbone, BackboneOptions
from taokit.models.layers import remove_batch_norm, replace_activations
from taokit.models.mobile import build_efficientnet_b0, build_mobilenet_v2, build_mobilenet_v3
from taokit.models.names import ARCHS, RESNET_LAYERS
from taokit.models.resnet import build_resnet
from taokit.models.tao_resnet import build_tao_resnet


def build_backbone(arch: str, num_layers: int, options: BackboneOptions) -> Backbone:
    """Build a randomly initialised backbone (pretrained weights are loaded separately, from local files).

    `resnet` is TAO's template unless `options.template` says torchvision; `torchvision_resnet` is
    always torchvision's.

    >>> build_backbone("resnet", 18, BackboneOptions(output_stride=16)).out_channels
    512
    """
    if arch == "resnet" and options.template == "tao":
        backbone = build_tao_resnet(num_layers, options)
    elif arch in ("resnet", "torchvision_resnet"):
        backbone = build_resnet(num_layers, options)
    elif arch == "mobilenet_v2":
        backbone = build_mobilenet_v2(options)
    elif arch in ("mobilenet_v3_large", "mobilenet_v3_small"):
        backbone = build_mobilenet_v3(arch.rsplit("_", 1)[1], options)
    elif arch == "efficientnet_b0":
        backbone = build_efficientnet_b0(options)
    else:
        raise SpecError(f"unknown arch '{arch}'; use one of {', '.join(ARCHS)} (resnet num_layers "
                        f"{'/'.join(map(str, RESNET_LAYERS))})", key="model_config.arch")
    replace_activations(backbone.module, options.activation)
    if not options.use_batch_norm:
        remove_batch_norm(backbone.module)
    return backbone

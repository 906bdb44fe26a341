"""Backbone names: the ones taokit builds and TAO's others. Kept free of torch so spec validation stays light."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from taokit.spec.shape import suggest

# "resnet" is TAO's ResNet template (models/tao_resnet.py); "torchvision_resnet" is torchvision's.
ARCHS = ("resnet", "torchvision_resnet", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0")
RESNET_LAYERS = (10, 18, 34, 50)
RESNETS = ("resnet", "torchvision_resnet")  # the archs that read num_layers
# Backbones TAO offers that taokit does not build: a spec naming one loads, and says so when it is built.
TAO_ONLY_ARCHS = ("vgg", "googlenet", "alexnet", "mobilenet_v1", "squeezenet", "darknet", "cspdarknet",
                  "cspdarknet_tiny", "byom", *(f"efficientnet_b{i}" for i in range(1, 8)))


def unknown_arch(value: str) -> str | None:
    """Why `value` names no backbone TAO or taokit knows (None when it does)."""
    if value in ARCHS or value in TAO_ONLY_ARCHS:
        return None
    return f"unknown arch '{value}'{suggest(value, [*ARCHS, *TAO_ONLY_ARCHS])}; taokit builds {', '.join(ARCHS)}"


def unavailable_arch(value: str) -> str | None:
    """Why taokit cannot build `value` (None when it can)."""
    if value in ARCHS:
        return None
    return f"backbone '{value}' is not available in taokit{suggest(value, list(ARCHS))}; use one of {', '.join(ARCHS)}"


def _known(value: str) -> str:
    problem = unknown_arch(value)
    if problem:
        raise ValueError(problem)
    return value


def _buildable(value: str) -> str:
    problem = unavailable_arch(value)
    if problem:
        raise ValueError(problem)
    return value


KnownArch = Annotated[str, AfterValidator(_known)]  # TAO's name for a backbone: the spec loads
BuildableArch = Annotated[str, AfterValidator(_buildable)]  # a backbone taokit builds

"""Channel configurations: the widths of a pruned model, stored as plain data and re-applied on rebuild.

A pruned model file holds `{"channels": {module_name: {...}}, "state_dict": ...}`; rebuilding the
unpruned architecture and resizing these modules gives a model the state dict loads into, without
pickling modules (so the file loads with `torch.load(weights_only=True)`).
"""

from __future__ import annotations

from typing import Any

from torch import nn

_RESIZABLE = (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d, nn.Linear)


def channel_config(model: nn.Module) -> dict[str, dict[str, int]]:
    """Shapes of every conv, batch-norm and linear layer, keyed by module name."""
    config: dict[str, dict[str, int]] = {}
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            config[name] = {"in": m.in_channels, "out": m.out_channels, "groups": m.groups}
        elif isinstance(m, nn.BatchNorm2d):
            config[name] = {"features": m.num_features}
        elif isinstance(m, nn.Linear):
            config[name] = {"in": m.in_features, "out": m.out_features}
    return config


def _resized(m: nn.Module, shape: dict[str, int]) -> nn.Module:
    if isinstance(m, nn.Conv2d):
        if (m.in_channels, m.out_channels, m.groups) == (shape["in"], shape["out"], shape["groups"]):
            return m
        return nn.Conv2d(shape["in"], shape["out"], m.kernel_size, m.stride, m.padding, m.dilation,
                         shape["groups"], bias=m.bias is not None, padding_mode=m.padding_mode)
    if isinstance(m, nn.ConvTranspose2d):
        if (m.in_channels, m.out_channels, m.groups) == (shape["in"], shape["out"], shape["groups"]):
            return m
        return nn.ConvTranspose2d(shape["in"], shape["out"], m.kernel_size, m.stride, m.padding, m.output_padding,
                                  shape["groups"], bias=m.bias is not None, dilation=m.dilation)
    if isinstance(m, nn.BatchNorm2d):
        if m.num_features == shape["features"]:
            return m
        return nn.BatchNorm2d(shape["features"], m.eps, m.momentum, m.affine, m.track_running_stats)
    if isinstance(m, nn.Linear):
        if (m.in_features, m.out_features) == (shape["in"], shape["out"]):
            return m
        return nn.Linear(shape["in"], shape["out"], bias=m.bias is not None)
    return m


def apply_channel_config(model: nn.Module, config: dict[str, Any]) -> list[str]:
    """Resize the named modules of a freshly built model in place; returns the names it resized.

    Resized layers are new objects, so a model's `blocks` (TAO's freeze_blocks groups, lists of
    modules) is re-pointed at them; otherwise freezing a pruned model would freeze stale layers.
    """
    changed = []
    modules = dict(model.named_modules())
    names = {id(m): n for n, m in modules.items()}
    blocks = getattr(model, "blocks", None)
    block_names = [[names[id(m)] for m in block] for block in blocks] if blocks else None
    for name, shape in config.items():
        module = modules.get(name)
        if module is None or not isinstance(module, _RESIZABLE):
            continue
        new = _resized(module, shape)
        if new is module:
            continue
        parent_name, _, attr = name.rpartition(".")
        parent = modules[parent_name] if parent_name else model
        setattr(parent, attr, new)
        changed.append(name)
    if block_names is not None and changed:
        current = dict(model.named_modules())
        model.blocks = [[current[n] for n in block] for block in block_names]
    return changed

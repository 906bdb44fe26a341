"""Module surgery shared by the builders: activations, removing batch norm, freezing."""

from __future__ import annotations

from collections.abc import Iterable

from torch import nn

from taokit.errors import SpecError

_ACTIVATIONS = {
    "relu": lambda: nn.ReLU(inplace=True),
    "relu6": lambda: nn.ReLU6(inplace=True),
    "leaky_relu": lambda: nn.LeakyReLU(0.1, inplace=True),
    "swish": lambda: nn.SiLU(inplace=True),
    "elu": lambda: nn.ELU(inplace=True),
}


def make_activation(name: str) -> nn.Module:
    if name not in _ACTIVATIONS:
        raise SpecError(f"unknown activation_type '{name}'; use one of {', '.join(_ACTIVATIONS)}",
                        key="model_config.activation.activation_type")
    return _ACTIVATIONS[name]()


def replace_activations(module: nn.Module, name: str) -> None:
    """Swap every ReLU-family activation in `module` for `name` (a no-op for the default relu)."""
    if name == "relu":
        return
    for child_name, child in module.named_children():
        if isinstance(child, (nn.ReLU, nn.ReLU6, nn.SiLU, nn.Hardswish)):
            setattr(module, child_name, make_activation(name))
        else:
            replace_activations(child, name)


def remove_batch_norm(module: nn.Module) -> None:
    """TAO's use_batch_norm: false — batch norm layers become identities and convs regain a bias."""
    for child_name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, child_name, nn.Identity())
        elif isinstance(child, nn.Conv2d) and child.bias is None:
            conv = nn.Conv2d(child.in_channels, child.out_channels, child.kernel_size, child.stride,
                             child.padding, child.dilation, child.groups, bias=True)
            conv.weight.data.copy_(child.weight.data)
            nn.init.zeros_(conv.bias)
            setattr(module, child_name, conv)
        else:
            remove_batch_norm(child)


def freeze(modules: Iterable[nn.Module]) -> None:
    for m in modules:
        for p in m.parameters():
            p.requires_grad_(False)


def set_batch_norm_frozen(model: nn.Module) -> None:
    """Keep batch-norm statistics and affine parameters fixed (TAO's freeze_bn)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
            for p in m.parameters():
                p.requires_grad_(False)

"""Pieces of a training run that tasks assemble the same way: train mode with frozen parts, weight penalties."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import torch
from torch import nn

from taokit.models.layers import set_batch_norm_frozen

log = logging.getLogger("taokit.train")


def batch_norm_frozen(freeze_bn: bool, model: nn.Module) -> bool:
    """TAO's freeze_bn, also forced for weights whose BatchNorm was folded into the convolutions.

    NVIDIA's deployable ONNX files fold BatchNorm away; the imported batch norms are identities, and
    letting them normalise with batch statistics would change the network's function on the first step.
    """
    folded = bool(model.arch.extra.get("bn_folded"))  # type: ignore[union-attr]
    if folded and not freeze_bn:
        log.info("the pretrained weights had BatchNorm folded into their convolutions: batch norm stays frozen "
                 "(freeze_bn), so fine-tuning starts from the file's outputs")
    return freeze_bn or folded


def train_mode_setter(freeze_bn: bool, frozen: list[nn.Module]) -> Callable[[nn.Module], None]:
    """Put a network in training mode, keeping batch norm (TAO's freeze_bn) and frozen blocks in eval mode."""

    def set_train_mode(net: nn.Module) -> None:
        net.train()
        if freeze_bn:
            set_batch_norm_frozen(net)
        for m in frozen:  # frozen blocks keep their batch-norm statistics too
            m.eval()

    return set_train_mode


def layer_parameters(model: nn.Module, kinds: tuple[type[nn.Module], ...], *, biases: bool) -> list[nn.Parameter]:
    """The trainable weights (and biases) of every layer of the given kinds."""
    names = ("weight", "bias") if biases else ("weight",)
    return [p for m in model.modules() if isinstance(m, kinds)
            for n, p in m.named_parameters(recurse=False) if n in names and p.requires_grad]


def norm_penalty(params: Iterable[nn.Parameter], kind: str, weight: float
                 ) -> Callable[[nn.Module], torch.Tensor] | None:
    """TAO's regularizer as a loss term: weight * sum|w| (L1) or weight * sum w^2 (L2); None when off."""
    params = list(params)
    if weight == 0 or not params or kind.upper() not in ("L1", "L2"):
        return None
    l1 = kind.upper() == "L1"

    def penalty(_: nn.Module) -> torch.Tensor:
        return weight * sum(p.abs().sum() if l1 else p.pow(2).sum() for p in params)  # type: ignore[return-value]

    return penalty

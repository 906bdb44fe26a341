"""Initialise a model from a local file: a taokit model or a torchvision-layout state dict. No downloads."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from taokit.errors import ModelError

log = logging.getLogger(__name__)

_PREFIXES = ("module.", "model.", "backbone.", "features.", "encoder.")


@dataclass(frozen=True)
class LoadReport:
    matched: int
    missing: int  # model tensors the file did not provide
    unused: int  # file tensors that found no place (other layout or shape)

    def describe(self) -> str:
        return f"{self.matched} tensors loaded, {self.missing} left at their initial values, {self.unused} unused"


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a .pth/.pt file: a bare state dict or one nested under state_dict/model."""
    if not path.is_file():
        raise ModelError(f"{path}: pretrained model file not found (model_config.pretrained_model_file)")
    try:
        data: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - a corrupt file can fail in any of torch's layers
        raise ModelError(f"{path}: not a readable PyTorch weights file ({str(err).splitlines()[0][:120]}); "
                         "give a taokit .pth or a torchvision state dict") from None
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
            break
    if not isinstance(data, dict) or not any(isinstance(v, torch.Tensor) for v in data.values()):
        raise ModelError(f"{path}: holds no tensors; give a taokit .pth or a torchvision state dict")
    return {k: v for k, v in data.items() if isinstance(v, torch.Tensor)}


def _strip(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for p in _PREFIXES:
            if key.startswith(p):
                key, changed = key[len(p):], True
    return key


def load_matching(model: nn.Module, tensors: dict[str, torch.Tensor], target_prefix: str = "") -> LoadReport:
    """Copy every file tensor whose name (modulo common prefixes) and shape match a model tensor."""
    own = model.state_dict()
    by_stripped = {_strip(k[len(target_prefix):] if k.startswith(target_prefix) else k): k for k in own}
    updates: dict[str, torch.Tensor] = {}
    for key, value in tensors.items():
        target = by_stripped.get(_strip(key))
        if target is not None and own[target].shape == value.shape:
            updates[target] = value
    model.load_state_dict({**own, **updates})
    return LoadReport(len(updates), len(own) - len(updates), len(tensors) - len(updates))

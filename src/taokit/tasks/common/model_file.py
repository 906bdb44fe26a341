"""A task's model files: the payload it saves, rebuilding the exact network, freezing and pretrained loads.

A model file is `{"task", "arch", "state_dict", "channels"}` under engine.checkpoint's header: the
architecture record rebuilds the network, `channels` re-applies pruned widths, and the state dict
loads into the result. No modules are pickled, so files load with `weights_only=True`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from torch import nn

from taokit.engine.checkpoint import load_file
from taokit.errors import ModelError
from taokit.models.layers import freeze
from taokit.models.pretrained import LoadReport, load_matching, read_state_dict
from taokit.models.surgery import apply_channel_config, channel_config

log = logging.getLogger("taokit")
M = TypeVar("M", bound=nn.Module)


def model_payload(task: str, model: nn.Module) -> dict[str, Any]:
    """The body of a model file for `model` (a network with an `arch` record)."""
    arch = model.arch  # type: ignore[attr-defined]
    return {"task": task, "arch": arch.to_dict(), "state_dict": model.state_dict(), "channels": channel_config(model)}


def rebuild_model(data: dict[str, Any], source: Path, build: Callable[[dict[str, Any]], M], what: str) -> M:
    """The exact network a model file describes (pruned widths included), with its weights."""
    try:
        model = build(data["arch"])
        if data.get("channels"):
            apply_channel_config(model, data["channels"])
        model.load_state_dict(data["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise ModelError(f"{source}: model file does not describe a {what} network "
                         f"({str(err).splitlines()[0][:160]})") from None
    return model


def load_model(path: Path, task: str, build: Callable[[dict[str, Any]], M], what: str) -> tuple[M, dict[str, Any]]:
    """A trained model from a taokit .pth of `task`, and the file's contents."""
    data = load_file(path, task=task)
    return rebuild_model(data, path, build, what), data


def freeze_blocks(model: nn.Module, indices: Sequence[int], key: str) -> None:
    """TAO's freeze_blocks: stop training these backbone blocks (`model.blocks`); `key` names the spec field."""
    blocks = model.blocks  # type: ignore[attr-defined]
    for i in indices:
        if not 0 <= i < len(blocks):
            raise ModelError(f"{key}: block {i} does not exist (the {model.arch.arch} backbone has blocks "  # type: ignore[attr-defined]
                             f"0-{len(blocks) - 1})")
        freeze(blocks[i])
    model.frozen_blocks = list(indices)  # type: ignore[attr-defined]


def frozen_modules(model: nn.Module) -> list[nn.Module]:
    """The modules of the frozen blocks: they stay in eval mode (batch-norm statistics) while training."""
    return [m for i in getattr(model, "frozen_blocks", []) for m in model.blocks[i]]  # type: ignore[attr-defined]


def source_path(text: str, key: str) -> Path | None:
    """The local file a spec key names: a path, or a source (ngc://, torchvision://, https://) fetched into the cache."""
    if not text:
        return None
    from taokit.hub.sources import fetch

    return fetch(text, key)


def load_pretrained(model: nn.Module, path: Path, hint: str) -> LoadReport:
    """Initialise `model` from a local weights file: a .pth state dict, or NVIDIA's .hdf5/.onnx (matched by TAO
    layer name); none of its tensors fitting is an error."""
    from taokit.tasks.common.tao_import import is_importable, pretrained_tensors

    tensors = pretrained_tensors(path, model) if is_importable(path) else read_state_dict(path)
    report = load_matching(model, tensors)
    own = model.state_dict()
    if any("block_1a." in k for k in own) and any(k.startswith("layer1.") or ".layer1." in k for k in tensors):
        # TAO's template and torchvision's ResNet share only conv1: loading one into the other is a mistake.
        raise ModelError(f"{path}: a torchvision ResNet state dict ({report.matched} of {len(own)} tensors fit "
                         "TAO's ResNet template); set the arch to torchvision_resnet to start from it")
    if report.matched == 0:
        raise ModelError(f"{path}: no tensor matches the network by name and shape; check {hint}")
    log.info("pretrained %s: %s", path, report.describe())
    return report

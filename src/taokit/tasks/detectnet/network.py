"""Build, load and save DetectNet_v2 networks: from a spec, from a pretrained file, from a model file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from torch import nn

from taokit.engine.checkpoint import load_file
from taokit.errors import ModelError
from taokit.models.layers import freeze
from taokit.models.pretrained import load_matching, read_state_dict
from taokit.models.surgery import apply_channel_config, channel_config
from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2
from taokit.tasks.detectnet.spec import DetectNetExperiment

log = logging.getLogger("taokit.detectnet")
TASK = "detectnet"


def arch_from_spec(spec: DetectNetExperiment) -> DetectNetArch:
    m = spec.model_config_
    return DetectNetArch(
        arch=m.arch, num_layers=m.num_layers, class_names=tuple(spec.class_names), input_hw=spec.input_hw,
        use_batch_norm=m.use_batch_norm, activation=m.activation.activation_type,
        all_projections=m.all_projections, dropout_rate=m.dropout_rate,
        bbox_scale=m.objective_set.bbox.scale, bbox_offset=m.objective_set.bbox.offset)


def build_from_file_data(data: dict[str, Any], source: Path) -> DetectNetV2:
    """Rebuild the exact network a taokit model file describes (pruned widths included)."""
    try:
        arch = DetectNetArch.from_dict(data["arch"])
        model = DetectNetV2(arch)
        if data.get("channels"):
            apply_channel_config(model, data["channels"])
        model.load_state_dict(data["state_dict"])
    except (KeyError, TypeError, RuntimeError) as err:
        raise ModelError(f"{source}: model file does not describe a DetectNet network "
                         f"({str(err).splitlines()[0][:160]})") from None
    return model


def load_model(path: Path) -> tuple[DetectNetV2, dict[str, Any]]:
    """A trained model from a taokit .pth file, and the file's contents."""
    data = load_file(path, task=TASK)
    return build_from_file_data(data, path), data


def model_payload(model: DetectNetV2) -> dict[str, Any]:
    """The model file body: enough to rebuild the network without pickled modules."""
    return {"task": TASK, "arch": model.arch.to_dict(), "state_dict": model.state_dict(),
            "channels": channel_config(model)}


def build_for_training(spec: DetectNetExperiment) -> DetectNetV2:
    """The network a training run starts from: fresh, pretrained, or a pruned graph (load_graph)."""
    m = spec.model_config_
    path = Path(m.pretrained_model_file) if m.pretrained_model_file else None
    if path is not None and m.load_graph:
        model, data = load_model(path)
        if list(model.arch.class_names) != spec.class_names:
            raise ModelError(f"{path}: model classes {list(model.arch.class_names)} differ from "
                             f"cost_function_config.target_classes {spec.class_names}")
        log.info("loaded the graph and weights of %s", path)
        model.arch = DetectNetArch.from_dict({**arch_from_spec(spec).to_dict(), "extra": model.arch.extra,
                                              "arch": model.arch.arch, "num_layers": model.arch.num_layers})
    else:
        model = DetectNetV2(arch_from_spec(spec))
        if path is not None:
            _load_pretrained(model, path)
    _freeze_blocks(model, m.freeze_blocks, path is not None and m.freeze_pretrained_layers)
    return model


def _load_pretrained(model: DetectNetV2, path: Path) -> None:
    tensors = read_state_dict(path)
    report = load_matching(model, tensors)
    if report.matched == 0:
        raise ModelError(f"{path}: no tensor matches the {model.arch.arch}{model.arch.num_layers or ''} "
                         "network by name and shape; check model_config.arch and num_layers")
    log.info("pretrained %s: %s", path, report.describe())


def _freeze_blocks(model: DetectNetV2, blocks: list[float], all_backbone: bool) -> None:
    indices = range(len(model.blocks)) if all_backbone else sorted({int(b) for b in blocks})
    for i in indices:
        if not 0 <= i < len(model.blocks):
            raise ModelError(f"model_config.freeze_blocks: block {i} does not exist (the "
                             f"{model.arch.arch} backbone has blocks 0-{len(model.blocks) - 1})")
        freeze(model.blocks[i])
    model.frozen_blocks = list(indices)


def frozen_modules(model: DetectNetV2) -> list[nn.Module]:
    return [m for i in getattr(model, "frozen_blocks", []) for m in model.blocks[i]]

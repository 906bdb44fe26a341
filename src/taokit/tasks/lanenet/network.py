"""Build, load and save LaneNet networks: from a spec, from a pretrained or pruned file, from a model file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from torch import nn

from taokit.errors import ModelError
from taokit.tasks.common import model_file
from taokit.tasks.lanenet.model import LaneNetArch, build_lanenet
from taokit.tasks.lanenet.spec import LaneNetExperiment

log = logging.getLogger("taokit.lanenet")
TASK = "lanenet"
HEADS = {"enet": ("binary.head", "embedding.head"), "resnet": ("binary.1", "embedding.1")}  # pruning keeps them


def arch_from_spec(spec: LaneNetExperiment) -> LaneNetArch:
    m = spec.model_config_
    return LaneNetArch(arch=m.arch, num_layers=m.num_layers if m.arch == "resnet" else 0, class_names=("lane",),
                       input_hw=spec.input_hw, embedding_dim=m.embedding_dim)


def _build(arch: dict[str, Any]) -> nn.Module:
    return build_lanenet(LaneNetArch.from_dict(arch))


def load_model(path: Path) -> tuple[nn.Module, dict[str, Any]]:
    return model_file.load_model(path, TASK, _build, "LaneNet")


def model_payload(model: nn.Module) -> dict[str, Any]:
    return model_file.model_payload(TASK, getattr(model, "net", model))


def build_for_training(spec: LaneNetExperiment) -> nn.Module:
    """Fresh, initialised from a weights file, or (load_graph) the graph of a pruned LaneNet: TAO's retrain."""
    m = spec.model_config_
    path = model_file.source_path(m.pretrained_model_file, "model_config.pretrained_model_file")
    if path is not None and m.load_graph:
        model, _ = load_model(path)
        if tuple(model.arch.input_hw) != spec.input_hw:
            log.info("%s was trained at %s; training it at %s", path, model.arch.input_hw, spec.input_hw)
            model.arch = LaneNetArch.from_dict({**model.arch.to_dict(), "input_hw": list(spec.input_hw)})
        log.info("loaded the graph and weights of %s", path)
        return model
    if m.load_graph:
        raise ModelError("model_config.load_graph needs model_config.pretrained_model_file (the pruned model)")
    model = build_lanenet(arch_from_spec(spec))
    if path is not None:
        model_file.load_pretrained(model, path, "model_config.pretrained_model_file and arch")
    return model

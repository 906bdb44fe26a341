"""Build, load and save classifiers: from the spec, from a pretrained or pruned file, from a model file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from torch import nn

from taokit.engine.checkpoint import load_file
from taokit.errors import ModelError, SpecError
from taokit.models.names import RESNETS, unavailable_arch
from taokit.tasks.classification.model import Classifier, ClassifierArch
from taokit.tasks.classification.spec import ClassificationSpec
from taokit.tasks.classification.transforms import Preprocess
from taokit.tasks.common import model_file
from taokit.tasks.common.arch import keep_structure

log = logging.getLogger("taokit.classification")
TASK = "classification"


def preprocess_of(spec: ClassificationSpec) -> Preprocess:
    d = spec.data
    return Preprocess.from_mode(d.preprocess_mode, d.mean or None, d.std or None)


def check_arch(spec: ClassificationSpec) -> None:
    """Specs may name any TAO backbone; building one taokit does not have is the error."""
    m = spec.model
    problem = unavailable_arch(m.arch)
    if problem:
        raise SpecError(problem, key=m.arch_key)


def arch_from_spec(spec: ClassificationSpec, classes: list[str]) -> ClassifierArch:
    check_arch(spec)
    m = spec.model
    # TAO's classification resets batch norm to epsilon 1e-5 unless batch_norm_config says otherwise (helper.py).
    return ClassifierArch(arch=m.arch, num_layers=m.num_layers if m.arch in RESNETS else 0,
                          class_names=tuple(classes), input_hw=spec.input_hw, use_batch_norm=m.use_batch_norm,
                          activation=m.activation, all_projections=m.all_projections, template="tao",
                          use_pooling=m.use_pooling, use_bias=m.use_bias, batch_norm_eps=m.bn_epsilon or 1e-5,
                          dropout=m.dropout,
                          preprocess=preprocess_of(spec).to_dict(), interpolation=m.interpolation,
                          center_crop=spec.augment.center_crop)


def _build(arch: dict[str, Any]) -> Classifier:
    return Classifier(ClassifierArch.from_dict(arch))


def load_model(path: Path) -> tuple[Classifier, dict[str, Any]]:
    return model_file.load_model(path, TASK, _build, "classification")


def model_payload(model: nn.Module) -> dict[str, Any]:
    """The model file body; a SoftmaxOutput wrapper saves the classifier inside it."""
    return model_file.model_payload(TASK, getattr(model, "classifier", model))


def _taokit_classifier(path: Path) -> dict[str, Any] | None:
    try:
        data = load_file(path)
    except ModelError:
        return None
    return data if data.get("task") == TASK and data.get("kind") == "model" else None


def build_for_training(spec: ClassificationSpec, classes: list[str]) -> Classifier:
    """The network a run starts from: fresh, initialised from a state dict, or a (pruned) taokit graph."""
    arch = arch_from_spec(spec, classes)
    path = model_file.source_path(spec.train.pretrained_model_path, "train.pretrained_model_path")
    data = _taokit_classifier(path) if path is not None else None
    if data is not None:
        model = _from_graph(data, path, arch)  # type: ignore[arg-type]
    else:
        model = Classifier(arch)
        if path is not None:
            model_file.load_pretrained(model, path, "train.pretrained_model_path and the arch")
    backbone_file = model_file.source_path(spec.model.pretrained_backbone_path, "model.backbone.pretrained_backbone_path")
    if backbone_file is not None:
        model_file.load_pretrained(model.backbone, backbone_file, "pretrained_backbone_path and the arch")
    _batch_norm_config(model, spec.model.bn_momentum, spec.model.bn_epsilon)
    blocks = range(len(model.blocks)) if spec.model.freeze_backbone else sorted(set(spec.model.freeze_blocks))
    model_file.freeze_blocks(model, blocks, "freeze_blocks")
    return model


def _from_graph(data: dict[str, Any], path: Path, arch: ClassifierArch) -> Classifier:
    """TAO's retrain: the file's (pruned) graph and weights; a new head when the classes differ."""
    model = model_file.rebuild_model(data, path, _build, "classification")
    old = model.arch
    if (old.arch, old.num_layers) != (arch.arch, arch.num_layers):
        log.warning("%s is a %s%s network; training it instead of the spec's %s%s", path, old.arch,
                    old.num_layers or "", arch.arch, arch.num_layers or "")
    if list(old.class_names) != list(arch.class_names):
        log.warning("%s was trained on classes %s; starting a new head for %s", path, list(old.class_names),
                    list(arch.class_names))
        model.predictions = nn.Linear(model.predictions.in_features, len(arch.class_names))
    model.arch = keep_structure(arch, old)
    model.dropout = nn.Dropout(arch.dropout) if arch.dropout > 0 else nn.Identity()
    log.info("loaded the graph and weights of %s", path)
    return model


def _batch_norm_config(model: nn.Module, momentum: float | None, epsilon: float | None) -> None:
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            if momentum is not None:
                m.momentum = 1.0 - momentum  # Keras keeps `momentum` of the old value, torch of the new
            if epsilon is not None:
                m.eps = epsilon

"""Build, load and save DetectNet_v2 networks: from a spec, from a pretrained file, from a model file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from taokit.errors import SpecError
from taokit.tasks.common import model_file
from taokit.tasks.common.arch import keep_structure
from taokit.tasks.common.tao_import import is_importable
from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2
from taokit.tasks.detectnet.spec import DetectNetExperiment

log = logging.getLogger("taokit.detectnet")
TASK = "detectnet"


def arch_from_spec(spec: DetectNetExperiment) -> DetectNetArch:
    """`arch: "resnet"` is TAO's template with DetectNet_v2's settings: conv biases, BN epsilon 1e-3, stride 16."""
    m = spec.model_config_
    if m.use_pooling and m.arch == "resnet":
        raise SpecError("use_pooling: true makes TAO's ResNet stride 32, and DetectNet_v2's grid is stride 16; "
                        "set it to false (TAO's recommendation for detection)", key="model_config.use_pooling")
    return DetectNetArch(
        arch=m.arch, num_layers=m.num_layers, class_names=tuple(spec.class_names), input_hw=spec.input_hw,
        use_batch_norm=m.use_batch_norm, activation=m.activation.activation_type,
        all_projections=m.all_projections, template="tao", use_pooling=False, use_bias=True,
        batch_norm_eps=1e-3, dropout_rate=m.dropout_rate,
        bbox_scale=m.objective_set.bbox.scale, bbox_offset=m.objective_set.bbox.offset, output_stride=m.output_stride,
        bbox_bins=m.bbox_distribution_bins)


def _build(arch: dict[str, Any]) -> DetectNetV2:
    return DetectNetV2(DetectNetArch.from_dict(arch))


def load_model(path: Path) -> tuple[DetectNetV2, dict[str, Any]]:
    """A trained model from a taokit .pth file, and the file's contents."""
    return model_file.load_model(path, TASK, _build, "DetectNet")


def model_payload(model: DetectNetV2) -> dict[str, Any]:
    return model_file.model_payload(TASK, model)


def _imported_graph(path: Path, spec: DetectNetExperiment) -> DetectNetV2:
    """load_graph from NVIDIA's .hdf5/.onnx: the file's network (pruned widths, pads), the spec's classes."""
    from taokit.tasks.detectnet.import_model import import_detectnet

    return import_detectnet(path, spec.class_names, spec.input_hw, other_classes_ok=True)


def _heads_for_spec(model: DetectNetV2, path: Path, class_names: list[str]) -> None:
    """Fine-tune a (pruned) graph on other classes: keep its backbone, give it heads for the spec's classes.
    TAO refuses this; NGC's pruned TrafficCamNet/DashCamNet are the usual start for a user's own classes."""
    old = list(model.arch.class_names)
    kept = model.replace_heads(tuple(class_names))
    log.info("%s detects %s; new output_cov/output_bbox heads for %s (%s), on its backbone", path, ", ".join(old),
             ", ".join(class_names), f"weights kept for {', '.join(kept)}" if kept else "all trained from scratch")


def build_for_training(spec: DetectNetExperiment) -> DetectNetV2:
    """The network a training run starts from: fresh, pretrained, or a pruned graph (load_graph)."""
    m = spec.model_config_
    path = model_file.source_path(m.pretrained_model_file, "model_config.pretrained_model_file")
    if path is not None and m.load_graph:
        model = _imported_graph(path, spec) if is_importable(path) else load_model(path)[0]
        log.info("loaded the graph and weights of %s", path)
        if list(model.arch.class_names) != spec.class_names:
            _heads_for_spec(model, path, spec.class_names)
        if model.arch.output_stride != m.output_stride:
            raise SpecError(f"{path} has output_stride {model.arch.output_stride}, the spec {m.output_stride}: a "
                            "loaded graph keeps its grid; set model_config.output_stride to the file's",
                            key="model_config.output_stride")
        if model.arch.bbox_bins != m.bbox_distribution_bins:
            raise SpecError(f"{path} has bbox_distribution_bins {model.arch.bbox_bins}, the spec "
                            f"{m.bbox_distribution_bins}: a loaded graph keeps its bbox head; set the key to the "
                            "file's", key="model_config.bbox_distribution_bins")
        # An imported file's TF-style pads ([0, 0, 1, 1] on stride-2 3x3 convs) are the same for every even
        # feature map, and inputs are multiples of 16, so they hold at any training size.
        model.arch = keep_structure(arch_from_spec(spec), model.arch)
    else:
        model = DetectNetV2(arch_from_spec(spec))
        if path is not None:
            model_file.load_pretrained(model, path, "model_config.pretrained_model_file, arch (\"resnet\": TAO's "
                                       "template), num_layers and all_projections")
    all_backbone = path is not None and m.freeze_pretrained_layers
    blocks = range(len(model.blocks)) if all_backbone else sorted({int(b) for b in m.freeze_blocks})
    model_file.freeze_blocks(model, blocks, "model_config.freeze_blocks")
    return model

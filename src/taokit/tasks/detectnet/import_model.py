"""A DetectNet_v2 from NVIDIA's files (PeopleNet, TrafficCamNet, DashCamNet, LPDNet, pretrained_detectnet_v2)."""

from __future__ import annotations

from pathlib import Path

from taokit.errors import ModelError
from taokit.tasks.common.tao_import import load_into, read_labels, read_tao_file
from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2


def import_detectnet(path: Path, class_names: list[str] | None, input_hw: tuple[int, int] | None = None,
                     *, other_classes_ok: bool = False) -> DetectNetV2:
    """The file's network as a taokit model: TAO's template, the file's widths, pads and weights.

    Class names come from NGC's labels.txt or the spec, in network order; their count must be the
    coverage head's, unless `other_classes_ok` (the caller gives the network new heads): then the file's
    labels.txt names them, or placeholders. The input size is the file's (ONNX, Keras config) or else `input_hw`.
    """
    net, shape = read_tao_file(path)
    if net.dense is not None:
        raise ModelError(f"{path}: a classification model (a dense 'predictions' layer, no output_cov/output_bbox); "
                         "import it with `tao classification import`")
    if "cov" not in net.heads:
        raise ModelError(f"{path}: a backbone without DetectNet_v2 heads; start a training run from it "
                         "(model_config.pretrained_model_file) instead of importing it")
    classes = net.convs["output_cov"].kernel.shape[0]
    if class_names is None:
        raise ModelError(f"{path}: the file detects {classes} classes and does not name them; pass --labels "
                         "labels.txt (NGC ships one beside the model) or a spec with the target classes")
    if len(class_names) != classes and other_classes_ok:  # heads to be replaced: the file's names, where known
        beside = path.parent / "labels.txt"
        named = read_labels(beside) if beside.is_file() else []
        class_names = named if len(named) == classes else [f"class_{i}" for i in range(classes)]
    if len(class_names) != classes:
        raise ModelError(f"{path}: the file detects {classes} classes and {len(class_names)} names were given "
                         f"({', '.join(class_names)}); give one name per class, in network order")
    if net.use_pooling:
        raise ModelError(f"{path}: a ResNet with max-pooling (stride 32); DetectNet_v2's grid is stride 16")
    if net.input_chw is not None:
        input_hw = net.input_chw[1:]
    if input_hw is None:
        raise ModelError(f"{path}: the file does not state its input size; give it in the spec "
                         "(augmentation_config.preprocessing.output_image_height/width)")
    extra: dict[str, object] = {"imported_from": path.name, "bn_folded": net.bn_folded}
    if net.onnx_names:  # a re-export names its tensors as this file does: NGC's DeepStream configs keep fitting
        extra["onnx_names"] = net.onnx_names
    arch = DetectNetArch(
        arch="resnet", num_layers=shape.num_layers, class_names=tuple(class_names), input_hw=tuple(input_hw),
        activation=net.activation, all_projections=shape.all_projections, template="tao", use_bias=shape.use_bias,
        batch_norm_eps=shape.eps, conv_pads=shape.conv_pads, extra=extra)
    model = DetectNetV2(arch)
    load_into(model, net, shape)
    return model.eval()


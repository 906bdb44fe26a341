"""A classifier from NVIDIA's TAO ResNet files (`pretrained_classification`, TAO 5 classification models)."""

from __future__ import annotations

from pathlib import Path

from taokit.errors import ModelError
from taokit.tasks.classification.model import Classifier, ClassifierArch
from taokit.tasks.classification.transforms import Preprocess
from taokit.tasks.common.tao_import import load_into, read_tao_file


def import_classifier(path: Path, class_names: list[str] | None, input_hw: tuple[int, int] | None = None,
                      preprocess: Preprocess | None = None) -> Classifier:
    """The file's backbone and `predictions` layer as a taokit classifier (TAO's template, the file's widths).

    TAO's classification feeds `caffe` pre-processing (BGR, ImageNet means) unless the spec says otherwise.
    """
    net, shape = read_tao_file(path)
    if "cov" in net.heads:
        raise ModelError(f"{path}: a DetectNet_v2 model (output_cov/output_bbox heads); import it with "
                         "`tao detectnet import`")
    if net.dense is None:
        raise ModelError(f"{path}: a backbone without a 'predictions' layer; start a training run from it "
                         "(train_config.pretrained_model_path) instead of importing it")
    classes = net.dense[0].shape[0]
    if class_names is None:
        raise ModelError(f"{path}: the file has {classes} classes and does not name them; pass --labels "
                         "labels.txt (one per line, or DeepStream's a;b;c) or a spec with the classes")
    if len(class_names) != classes:
        raise ModelError(f"{path}: the file has {classes} classes and {len(class_names)} names were given; give "
                         "one name per class, in network order")
    if net.input_chw is not None:
        input_hw = net.input_chw[1:]
    if input_hw is None:
        raise ModelError(f"{path}: the file does not state its input size; give input_image_size in the spec")
    arch = ClassifierArch(
        arch="resnet", num_layers=shape.num_layers, class_names=tuple(class_names), input_hw=tuple(input_hw),
        activation=net.activation, all_projections=shape.all_projections, template="tao",
        use_pooling=net.use_pooling, use_bias=shape.use_bias, batch_norm_eps=shape.eps, conv_pads=shape.conv_pads,
        extra={"imported_from": path.name, "bn_folded": net.bn_folded},
        preprocess=(preprocess or Preprocess.from_mode("caffe")).to_dict())
    model = Classifier(arch)
    load_into(model, net, shape)
    return model.eval()

"""Classifiers on every backbone (mobilenet_v3 included): shapes, softmax output, pretrained files, freezing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision

from taokit.engine.checkpoint import save_file
from taokit.errors import ModelError
from taokit.spec import task_specs
from taokit.tasks.classification.model import Classifier, ClassifierArch, SoftmaxOutput
from taokit.tasks.classification.network import build_for_training, load_model, model_payload
from taokit.tasks.registry import get_task


@pytest.mark.parametrize(("arch", "layers"), [("resnet", 10), ("resnet", 50), ("mobilenet_v2", 0),
                                              ("mobilenet_v3_large", 0), ("mobilenet_v3_small", 0),
                                              ("efficientnet_b0", 0)])
def test_every_backbone_classifies(arch: str, layers: int) -> None:
    model = Classifier(ClassifierArch(arch, layers, ("a", "b", "c"), (32, 48), dropout=0.2)).eval()
    with torch.no_grad():
        logits = model(torch.rand(2, 3, 32, 48))
        probs = SoftmaxOutput(model)(torch.rand(2, 3, 32, 48))
    assert logits.shape == (2, 3) and probs.shape == (2, 3)
    assert torch.allclose(probs.sum(1), torch.ones(2))


def _spec(tmp_path: Path, *overrides: str, arch: str = "torchvision_resnet"):
    path = tmp_path / "s.txt"
    path.write_text(f'model_config {{ arch: "{arch}" input_image_size: "3,32,32" n_layers: 18 }}\n')
    return task_specs.load_file(get_task("classification"), path, overrides=list(overrides))


def test_torchvision_weights_and_freezing(tmp_path: Path) -> None:
    reference = torchvision.models.resnet18()
    torch.save(reference.state_dict(), tmp_path / "resnet18.pth")
    spec = _spec(tmp_path, f"train_config.pretrained_model_path={tmp_path / 'resnet18.pth'}",
                 "model_config.freeze_blocks=[0, 1]", "model_config.freeze_bn=true",
                 "model_config.batch_norm_config.momentum=0.99")
    model = build_for_training(spec, ["a", "b"])
    assert torch.equal(model.backbone.layer3[1].conv2.weight, reference.layer3[1].conv2.weight)
    assert not model.backbone.conv1.weight.requires_grad and not model.backbone.layer1[0].conv1.weight.requires_grad
    assert model.backbone.layer2[0].conv1.weight.requires_grad and model.predictions.out_features == 2
    assert model.backbone.bn1.momentum == pytest.approx(0.01)
    with pytest.raises(ModelError, match="set the arch to torchvision_resnet"):
        build_for_training(_spec(tmp_path, f"train_config.pretrained_model_path={tmp_path / 'resnet18.pth'}",
                                 arch="resnet"), ["a", "b"])
    with pytest.raises(ModelError, match="block 9 does not exist"):
        build_for_training(_spec(tmp_path, "model_config.freeze_blocks=[9]"), ["a", "b"])
    torch.save({"x": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(ModelError, match="no tensor matches"):
        build_for_training(_spec(tmp_path, f"train_config.pretrained_model_path={tmp_path / 'other.pth'}"),
                           ["a", "b"])


def test_a_taokit_model_is_a_graph_to_retrain_even_with_new_classes(tmp_path: Path) -> None:
    source = Classifier(ClassifierArch("resnet", 10, ("a", "b", "c"), (32, 32)))
    save_file(tmp_path / "m.pth", model_payload(source), kind="model")
    loaded, data = load_model(tmp_path / "m.pth")
    assert data["task"] == "classification" and loaded.arch.class_names == ("a", "b", "c")
    spec = _spec(tmp_path, f"train_config.pretrained_model_path={tmp_path / 'm.pth'}")
    model = build_for_training(spec, ["x", "y"])
    assert model.arch.num_layers == 10 and model.predictions.out_features == 2  # the file's graph, a new head
    assert torch.equal(model.backbone.layer1[0].conv1.weight, source.backbone.layer1[0].conv1.weight)

"""Import of NVIDIA's layouts (written here by tests/ngc_testing.py from the documented facts): parity and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from ngc_testing import tf_same_pads, write_keras2onnx_detectnet, write_keras_hdf5
from taokit.errors import ModelError
from taokit.models.surgery import apply_channel_config, channel_config
from taokit.tasks.common.tao_import import read_labels, read_tao_file
from taokit.tasks.detectnet.import_model import import_detectnet
from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2

CLASSES = ["person", "bag", "face"]


def _model(layers: int, projections: bool = False, hw: tuple[int, int] = (64, 96)) -> DetectNetV2:
    torch.manual_seed(layers)
    model = DetectNetV2(DetectNetArch("resnet", layers, tuple(CLASSES), hw, template="tao",
                                      all_projections=projections)).eval()
    for m in model.modules():  # statistics a trained model would have, so that folding BN matters
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model


def _ort(path: Path, images: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, {"input_1:0": images}), strict=True))


def test_tf_same_pads_put_the_extra_pixel_after() -> None:
    assert tf_same_pads((64, 96), 3, 2) == [0, 0, 1, 1]
    assert tf_same_pads((64, 96), 7, 2) == [2, 2, 3, 3]
    assert tf_same_pads((65, 96), 3, 2) == [1, 0, 1, 1]
    assert tf_same_pads((64, 96), 3, 1) == [1, 1, 1, 1]


@pytest.mark.parametrize(("layers", "projections", "fold", "clip6"), [
    (18, True, True, False), (18, False, False, False), (10, False, True, True), (34, False, True, False),
    (50, False, True, False)])
def test_onnx_import_reproduces_onnx_runtime(tmp_path: Path, layers: int, projections: bool, fold: bool,
                                            clip6: bool) -> None:
    source = write_keras2onnx_detectnet(_model(layers, projections), tmp_path / "m.onnx", fold_bn=fold, clip6=clip6)
    images = np.random.default_rng(0).random((2, 3, 64, 96), dtype=np.float32)
    expected = _ort(source, images)
    imported = import_detectnet(source, CLASSES)
    with torch.no_grad():
        cov, bbox = (t.numpy() for t in imported(torch.from_numpy(images)))
    assert np.abs(cov - expected["output_cov/Sigmoid:0"]).max() <= 1e-3
    assert np.abs(bbox - expected["output_bbox/BiasAdd:0"]).max() <= 1e-3
    arch = imported.arch
    assert (arch.num_layers, arch.all_projections, arch.template) == (layers, projections, "tao")
    assert arch.activation == ("relu6" if clip6 else "relu") and arch.extra["bn_folded"] is fold
    assert arch.conv_pads["conv1"] == [2, 2, 3, 3]  # TF-style, kept as written
    assert (arch.conv_pads.get("block_2a_conv_1") == [0, 0, 1, 1]) is (layers != 50)


def test_symmetric_pads_import_without_explicit_pads(tmp_path: Path) -> None:
    model = _model(18)
    source = write_keras2onnx_detectnet(model, tmp_path / "m.onnx", tf_pads=False)
    imported = import_detectnet(source, CLASSES)
    assert imported.arch.conv_pads == {}
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        for ours, theirs in zip(imported(x), model(x), strict=True):
            assert torch.allclose(ours, theirs, atol=1e-4)


def test_a_pruned_network_imports_with_its_widths(tmp_path: Path) -> None:
    model = _model(18)
    config = channel_config(model)
    for name in ("backbone.block_1a.conv_1", "backbone.block_1a.bn_1"):  # prune one inner width: 64 -> 40
        config[name] = {**config[name], **({"out": 40} if "conv" in name else {"features": 40})}
    config["backbone.block_1a.conv_2"] = {**config["backbone.block_1a.conv_2"], "in": 40}
    apply_channel_config(model, config)
    source = write_keras2onnx_detectnet(model.eval(), tmp_path / "pruned.onnx")
    imported = import_detectnet(source, CLASSES)
    assert imported.backbone.block_1a.conv_1.out_channels == 40
    expected = _ort(source, np.ones((1, 3, 64, 96), np.float32))
    with torch.no_grad():
        cov, _ = imported(torch.ones(1, 3, 64, 96))
    assert np.abs(cov.numpy() - expected["output_cov/Sigmoid:0"]).max() <= 1e-3


def test_hdf5_import_is_exact(tmp_path: Path) -> None:
    model = _model(18, projections=True)
    source = write_keras_hdf5(model, tmp_path / "model.hdf5")
    imported = import_detectnet(source, CLASSES)
    assert imported.arch.input_hw == (64, 96) and imported.arch.all_projections
    assert imported.arch.conv_pads == {} and not imported.arch.extra["bn_folded"]
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        for ours, theirs in zip(imported(x), model(x), strict=True):
            assert torch.equal(ours, theirs)


def test_errors_name_the_file_and_what_to_do(tmp_path: Path) -> None:
    source = write_keras2onnx_detectnet(_model(10), tmp_path / "m.onnx")
    with pytest.raises(ModelError, match="pass --labels"):
        import_detectnet(source, None)
    with pytest.raises(ModelError, match="detects 3 classes and 2 names"):
        import_detectnet(source, ["a", "b"])
    encrypted = tmp_path / "resnet18_peoplenet.etlt"
    encrypted.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError, match="encrypted .* deployable .onnx"):
        read_tao_file(encrypted)
    junk = tmp_path / "junk.hdf5"
    junk.write_bytes(b"not hdf5")
    with pytest.raises(ModelError, match="junk.hdf5: not a readable HDF5"):
        read_tao_file(junk)
    (tmp_path / "labels.txt").write_text("person\nbag\n\nface\n")
    assert read_labels(tmp_path / "labels.txt") == CLASSES
    (tmp_path / "ds_labels.txt").write_text("cat;dog\n")
    assert read_labels(tmp_path / "ds_labels.txt") == ["cat", "dog"]


def test_classifier_import_from_onnx_and_hdf5(tmp_path: Path) -> None:
    from ngc_testing import write_keras2onnx_classifier
    from taokit.tasks.classification.import_model import import_classifier
    from taokit.tasks.classification.model import Classifier, ClassifierArch, SoftmaxOutput

    torch.manual_seed(0)
    model = Classifier(ClassifierArch("resnet", 18, ("cat", "dog"), (64, 64), template="tao", use_bias=False,
                                      batch_norm_eps=1e-5)).eval()
    images = np.random.default_rng(1).random((2, 3, 64, 64), dtype=np.float32)
    source = write_keras2onnx_classifier(model, tmp_path / "classifier.onnx")
    session = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    (expected,) = session.run(None, {"input_1:0": images})
    imported = import_classifier(source, ["cat", "dog"])
    with torch.no_grad():
        probs = SoftmaxOutput(imported)(torch.from_numpy(images)).numpy()
    assert np.abs(probs - expected).max() <= 1e-3
    from_hdf5 = import_classifier(write_keras_hdf5(model, tmp_path / "resnet_18.hdf5"), ["cat", "dog"])
    assert from_hdf5.arch.batch_norm_eps == 1e-5 and not from_hdf5.arch.use_bias
    x = torch.from_numpy(images)
    with torch.no_grad():
        assert torch.equal(from_hdf5(x), model(x))
    with pytest.raises(ModelError, match="tao detectnet import"):
        import_classifier(write_keras2onnx_detectnet(_model(10), tmp_path / "det.onnx"), ["a"])
    with pytest.raises(ModelError, match="tao classification import"):
        import_detectnet(source, ["cat", "dog"])


def _edited(source: Path, path: Path, edit) -> Path:  # noqa: ANN001 - a function of the onnx graph
    import onnx

    model = onnx.load(str(source))
    edit(model.graph)
    onnx.save(model, str(path))
    return path


def test_real_world_variants_import_or_fail_in_one_line(tmp_path: Path) -> None:
    from onnx import helper

    model = _model(10)
    source = write_keras2onnx_detectnet(model, tmp_path / "m.onnx", clip6=True)

    def identity_before_heads(graph) -> None:  # noqa: ANN001
        last = next(n for n in graph.node if n.name == "block_4a_relu_clip")
        old = last.output[0]
        last.output[0] = "features_pre"
        graph.node.append(helper.make_node("Identity", ["features_pre"], [old], name="identity"))

    def constant_node_clip(graph) -> None:  # noqa: ANN001 - min/max as Constant nodes with value_float
        for node in [n for n in graph.node if n.op_type == "Clip"]:
            lo, hi = f"{node.name}_lo", f"{node.name}_hi"
            graph.node.insert(0, helper.make_node("Constant", [], [lo], value_float=0.0))
            graph.node.insert(0, helper.make_node("Constant", [], [hi], value_float=6.0))
            node.input[1:] = [lo, hi]

    images = np.random.default_rng(0).random((1, 3, 64, 96), dtype=np.float32)
    for edit in (identity_before_heads, constant_node_clip):
        variant = _edited(source, tmp_path / f"{edit.__name__}.onnx", edit)
        expected = _ort(variant, images)["output_cov/Sigmoid:0"]
        with torch.no_grad():
            cov, _ = import_detectnet(variant, CLASSES)(torch.from_numpy(images))
        assert np.abs(cov.numpy() - expected).max() <= 1e-3

    def clip_to_four(graph) -> None:  # noqa: ANN001
        for init in graph.initializer:
            if init.name.endswith("_max") and init.name.startswith("block_2a"):
                init.float_data[:] = [4.0]
                init.ClearField("raw_data")

    def nhwc_input(graph) -> None:  # noqa: ANN001
        dims = graph.input[0].type.tensor_type.shape.dim
        dims[1].dim_value, dims[3].dim_value = 64, 3

    for edit, message in ((clip_to_four, "is not Clip\\(0, 6\\)"), (nhwc_input, "expected N x 3 x H x W")):
        variant = _edited(source, tmp_path / f"{edit.__name__}.onnx", edit)
        with pytest.raises(ModelError, match=message):
            import_detectnet(variant, CLASSES)


def test_a_backbone_only_file_initialises_training_but_is_not_imported(tmp_path: Path) -> None:
    import h5py

    from taokit.tasks.common.tao_import import pretrained_tensors

    source = write_keras_hdf5(_model(18), tmp_path / "resnet18.hdf5")
    with h5py.File(source, "a") as f:  # NGC's pretrained_detectnet_v2: no heads (unverified; both must work)
        del f["model_weights/output_cov"], f["model_weights/output_bbox"]
    with pytest.raises(ModelError, match="a backbone without DetectNet_v2 heads"):
        import_detectnet(source, CLASSES)
    target = DetectNetV2(DetectNetArch("resnet", 18, ("car",), (64, 96), template="tao", use_bias=False,
                                       batch_norm_eps=1e-5))
    tensors = pretrained_tensors(source, target)
    assert "output_cov.weight" not in tensors and "backbone.conv1.bias" not in tensors  # moved into BN
    assert tensors["backbone.block_1a.conv_1.weight"].shape == (64, 64, 3, 3)


def test_a_pooling_classifier_keeps_keras_max_pool_pads(tmp_path: Path) -> None:
    from ngc_testing import write_keras2onnx_classifier
    from taokit.tasks.classification.import_model import import_classifier
    from taokit.tasks.classification.model import Classifier, ClassifierArch, SoftmaxOutput

    torch.manual_seed(1)
    model = Classifier(ClassifierArch("resnet", 10, ("a", "b", "c"), (64, 64), template="tao", use_pooling=True,
                                      batch_norm_eps=1e-5)).eval()
    source = write_keras2onnx_classifier(model, tmp_path / "pooled.onnx")
    images = np.random.default_rng(2).random((2, 3, 64, 64), dtype=np.float32) * 4 - 2  # negatives near borders
    session = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    (expected,) = session.run(None, {"input_1:0": images})
    imported = import_classifier(source, ["a", "b", "c"])
    assert imported.arch.use_pooling and imported.arch.conv_pads["pool"] == [0, 0, 1, 1]
    with torch.no_grad():
        probs = SoftmaxOutput(imported)(torch.from_numpy(images)).numpy()
    assert np.abs(probs - expected).max() <= 1e-3
    assert import_classifier(write_keras_hdf5(model, tmp_path / "pooled.hdf5"), ["a", "b", "c"]).arch.use_pooling

"""Export, INT8 and every runtime, from the CLI, on the tiny trained detector."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from taokit.optimize.calibration_cache import read_calibration_cache
from taokit.runtime.ort_backend import OrtBackend
from taokit.spec import task_specs
from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides


@pytest.fixture(scope="module")
def exported(tiny_detector: Path, tiny_kitti: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from taokit_testing import run_cli

    out = tmp_path_factory.mktemp("export") / "tiny.onnx"
    result = run_cli("detectnet", "export", "-m", tiny_detector / "weights" / "tiny.pth", "-o", out,
                     "-e", DEMO_TRAIN_SPEC, "--data_type", "int8", "--batches", "2", "--batch_size", "4",
                     "--gen_ds_config", "--gen_triton_repo", out.parent / "triton",
                     *tiny_train_overrides(tiny_kitti))
    assert result.exit_code == 0, result.output
    assert "ONNX Runtime vs PyTorch" in result.stdout
    return out


def test_onnx_has_tao_tensor_names_and_a_dynamic_batch(exported: Path) -> None:
    model = onnx.load(str(exported))
    onnx.checker.check_model(model)
    (inp,) = model.graph.input
    assert inp.name == "input_1"
    dims = [d.dim_value or d.dim_param for d in inp.type.tensor_type.shape.dim]
    assert dims[1:] == [3, 64, 96] and isinstance(dims[0], str)
    assert [o.name for o in model.graph.output] == ["output_cov/Sigmoid", "output_bbox/BiasAdd"]
    assert model.opset_import[0].version == 17
    from taokit.optimize.tensorrt_ops import unsupported_ops

    assert unsupported_ops(model) == []
    assert unsupported_ops(onnx.load(str(exported.with_name("tiny_int8_trt.onnx")))) == []
    cov_node = next(n for n in model.graph.node if "output_cov/Sigmoid" in n.output)
    assert cov_node.op_type == "Sigmoid"
    backend = OrtBackend(exported, "cpu")
    cov, bbox = backend.infer(np.zeros((2, 3, 64, 96), np.float32))
    assert cov.shape == (2, 3, 4, 6) and bbox.shape == (2, 12, 4, 6)


def test_int8_models_run_and_stay_close_to_fp32(exported: Path, tiny_kitti: Path) -> None:
    from taokit.tasks.detectnet.export import preprocessor
    from taokit.tasks.registry import get_task

    spec = task_specs.load_file(get_task("detectnet"), DEMO_TRAIN_SPEC, "experiment", tiny_train_overrides(tiny_kitti))
    images = sorted((tiny_kitti / "training" / "image_2").iterdir())[:4]
    batch = np.stack([preprocessor(spec.augmentation_config.preprocessing)(p) for p in images])
    fp32 = OrtBackend(exported, "cpu").infer(batch)
    for name in ("tiny_int8.onnx", "tiny_int8_trt.onnx"):
        int8 = OrtBackend(exported.with_name(name), "cpu").infer(batch)
        assert np.max(np.abs(int8[0] - fp32[0])) < 0.15  # coverage is a probability
        assert np.max(np.abs(int8[1] - fp32[1])) < 0.5 * max(1.0, float(np.abs(fp32[1]).max()))


def test_tensorrt_qdq_model_is_symmetric_per_channel(exported: Path) -> None:
    model = onnx.load(str(exported.with_name("tiny_int8_trt.onnx")))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    quant = [n for n in model.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")]
    assert quant
    for node in quant:
        if len(node.input) > 2 and node.input[2] in inits:
            assert not inits[node.input[2]].any(), f"{node.name}: non-zero zero point"
    weight_dq = [n for n in quant if n.op_type == "DequantizeLinear" and inits.get(n.input[1]) is not None
                 and inits[n.input[1]].ndim == 1 and inits[n.input[1]].size > 1]
    assert weight_dq and all(next((a.i for a in n.attribute if a.name == "axis"), 1) == 0 for n in weight_dq)


def test_calibration_cache_decodes_to_the_computed_scales(exported: Path) -> None:
    cache = read_calibration_cache(exported.with_name("cal.bin"))
    assert cache.algorithm == "EntropyCalibration2"
    assert "input_1" in cache.scales and "output_cov/Sigmoid" in cache.scales
    assert 0.0 < cache.scales["input_1"] * 127 <= 1.0 + 1e-3  # images are in [0, 1]
    first_line = exported.with_name("cal.bin").read_text().splitlines()[0]
    assert first_line.startswith("TRT-") and first_line.endswith("-EntropyCalibration2")


def test_deepstream_and_triton_files(exported: Path) -> None:
    assert exported.with_name("labels.txt").read_text().split() == ["car", "pedestrian", "cyclist"]
    config = exported.with_name("nvinfer_config.txt").read_text()
    for line in ("net-scale-factor=0.00392156862745098", "infer-dims=3;64;96", "num-detected-classes=3",
                 "output-blob-names=output_cov/Sigmoid;output_bbox/BiasAdd", "onnx-file=tiny.onnx",
                 "network-mode=1", "int8-calib-file=cal.bin", "[class-attrs-0]"):
        assert line in config
    repo = exported.parent / "triton" / "tiny"
    assert (repo / "1" / "model.onnx").read_bytes() == exported.read_bytes()
    pbtxt = (repo / "config.pbtxt").read_text()
    assert 'platform: "onnxruntime_onnx"' in pbtxt and 'name: "input_1"' in pbtxt and "dims: [ 3, 64, 96 ]" in pbtxt


def test_evaluate_agrees_across_backends(exported: Path, tiny_detector: Path, tiny_kitti: Path, tmp_path: Path,
                                        cli) -> None:
    maps = {}
    for model in (tiny_detector / "weights" / "tiny.pth", exported, exported.with_name("tiny_int8.onnx")):
        out = tmp_path / model.name
        result = cli("detectnet", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", model, "-r", out,
                     *tiny_train_overrides(tiny_kitti))
        assert result.exit_code == 0, result.output
        maps[model.suffix + model.stem] = json.loads((out / "metrics.json").read_text())["mAP"] or 0.0
    values = list(maps.values())
    assert values[0] == pytest.approx(values[1], abs=1e-6)  # FP32 ONNX == PyTorch
    assert values[2] == pytest.approx(values[0], abs=0.15)  # INT8 close on a 1-epoch model


def test_inference_agrees_between_torch_and_onnx(exported: Path, tiny_detector: Path, tiny_kitti: Path,
                                                 tmp_path: Path, cli) -> None:
    boxes = []
    for model in (tiny_detector / "weights" / "tiny.pth", exported):
        out = tmp_path / model.suffix.strip(".")
        result = cli("detectnet", "inference", "-m", model, "-i", tiny_kitti / "testing" / "image_2", "-r", out,
                     "-e", DEMO_TRAIN_SPEC, *tiny_train_overrides(tiny_kitti))
        assert result.exit_code == 0, result.output
        boxes.append([line.split() for p in sorted((out / "labels").iterdir()) for line in p.read_text().splitlines()])
    assert len(boxes[0]) == len(boxes[1])
    for a, b in zip(*boxes, strict=True):
        assert a[0] == b[0]
        assert np.allclose([float(v) for v in a[4:8]], [float(v) for v in b[4:8]], atol=0.05)


def test_foreign_onnx_with_an_inference_spec(tmp_path: Path, tiny_kitti: Path, cli) -> None:
    """A TAO-exported model (PeopleNet-style input_1 3x544x960, no taokit metadata) runs from its spec."""
    import torch

    from taokit.engine.checkpoint import save_file
    from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2
    from taokit.tasks.detectnet.network import model_payload

    torch.manual_seed(0)
    pth = tmp_path / "peoplenet.pth"
    save_file(pth, model_payload(DetectNetV2(DetectNetArch("resnet", 10, ("person", "bag", "face"), (544, 960)))),
              kind="model")
    onnx_path = tmp_path / "resnet34_peoplenet.onnx"
    assert cli("detectnet", "export", "-m", pth, "-o", onnx_path).exit_code == 0
    model = onnx.load(str(onnx_path))
    del model.metadata_props[:]
    onnx.save(model, str(onnx_path))
    spec = tmp_path / "peoplenet_infer.txt"
    spec.write_text('inferencer_config { target_classes: "person" target_classes: "bag" target_classes: "face" '
                    'image_width: 960 image_height: 544 image_channels: 3 batch_size: 2 }\n')
    result = cli("detectnet", "inference", "-e", spec, "-m", onnx_path, "-i", tiny_kitti / "testing" / "image_2",
                 "-r", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out" / "labels").iterdir())) == 3
    bare = cli("detectnet", "inference", "-m", onnx_path, "-i", tiny_kitti / "testing" / "image_2",
               "-r", tmp_path / "out2")
    assert bare.exit_code == 2 and "does not name its classes" in bare.stderr


def test_bad_models_and_calibration_input(exported: Path, tiny_detector: Path, tmp_path: Path, cli) -> None:
    import torch
    import torchvision

    classifier = tmp_path / "classifier.onnx"
    torch.onnx.export(torchvision.models.resnet18().eval(), (torch.zeros(1, 3, 64, 64),), str(classifier),
                      dynamo=False, opset_version=17, input_names=["input_1"], output_names=["logits"])
    result = cli("detectnet", "inference", "-m", classifier, "-i", tmp_path, "-r", tmp_path / "o")
    assert result.exit_code == 2
    assert "not a DetectNet_v2 model: outputs are logits (" in result.stderr and "output_bbox/BiasAdd (4C" in result.stderr
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not onnx")
    result = cli("detectnet", "benchmark", "-m", junk)
    assert result.exit_code == 2 and "ONNX Runtime cannot load this model" in result.stderr
    empty = tmp_path / "empty_cal"
    empty.mkdir()
    result = cli("detectnet", "export", "-m", tiny_detector / "weights" / "tiny.pth", "-o", tmp_path / "x.onnx",
                 "--data_type", "int8", "--cal_image_dir", empty)
    assert result.exit_code == 2 and "no images found" in result.stderr
    again = cli("detectnet", "export", "-m", tiny_detector / "weights" / "tiny.pth", "-o", exported)
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_benchmark_compares_models(exported: Path, tiny_detector: Path, cli) -> None:
    result = cli("detectnet", "benchmark", "-m", tiny_detector / "weights" / "tiny.pth", "-m", exported,
                 "-m", exported.with_name("tiny_int8.onnx"), "--runs", "3", "-b", "2")
    assert result.exit_code == 0, result.output
    for word in ("torch", "onnxruntime", "int8", "images/s"):
        assert word in result.stdout


def test_gen_trt_engine_without_tensorrt_says_what_to_install(exported: Path, tmp_path: Path, cli) -> None:
    try:
        import tensorrt  # noqa: F401
        pytest.skip("TensorRT is installed here; the real-GPU tests cover it")
    except ImportError:
        pass
    result = cli("deploy", "detectnet_v2", "gen_trt_engine", "-m", exported, "--engine_file",
                 tmp_path / "x.engine", "--data_type", "fp16")
    assert result.exit_code == 2
    assert "TensorRT" in result.stderr and len(result.stderr.strip().splitlines()) == 1

"""model_config.bbox_distribution_bins: a distribution per box edge (GFL/DFL), decoded inside the network, so
the model file, ONNX, DeepStream files, prune and retrain see TAO's two tensors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from taokit.optimize.tensorrt_ops import unsupported_ops
from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2
from taokit.tasks.detectnet.network import load_model
from taokit_testing import DEMO_TRAIN_SPEC, run_cli, tiny_train_overrides, train_tiny_detector

DFL = {"model_config.output_stride": 8, "model_config.bbox_distribution_bins": 16,
       "cost_function_config.bbox_dfl_weight": 0.25, "cost_function_config.bbox_giou_weight": 1.0}


def test_the_output_is_the_mean_distance_in_taos_bbox_units() -> None:
    arch = DetectNetArch(arch="resnet", num_layers=10, class_names=("a", "b"), input_hw=(64, 96), template="tao",
                         output_stride=8, bbox_bins=4, bbox_scale=32.0)
    model = DetectNetV2(arch).eval()
    assert model.output_bbox.out_channels == 2 * 4 * 4
    with torch.no_grad():
        model.output_bbox.weight.zero_()
        bias = torch.full((2, 4, 4), -30.0)
        bias[0, :, 2] = 30.0      # class a: every edge at bin 2, 2 cells = 16 px = 0.5 units of 32 px
        bias[1, :, 1:3] = 0.0     # class b: half on bin 1, half on bin 2: 1.5 cells = 0.375 units
        model.output_bbox.bias.copy_(bias.view(-1))
        cov, bbox = model(torch.zeros(1, 3, 64, 96))
    assert bbox.shape == (1, 8, 8, 12) and cov.shape == (1, 2, 8, 12)
    torch.testing.assert_close(bbox[0, :4], torch.full((4, 8, 12), 0.5))
    torch.testing.assert_close(bbox[0, 4:], torch.full((4, 8, 12), 0.375))
    train_outputs = model.train()(torch.zeros(2, 3, 64, 96))
    assert [tuple(t.shape) for t in train_outputs] == [(2, 2, 8, 12), (2, 8, 8, 12), (2, 8, 4, 8, 12)]


@pytest.fixture(scope="module")
def dfl_run(tiny_kitti: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_detector(tmp_path_factory.mktemp("dfl"), tiny_kitti, "dfl", **DFL)


def test_its_onnx_has_taos_tensors_and_decodes_to_the_torch_boxes(dfl_run: Path, tiny_kitti: Path) -> None:
    weights = dfl_run / "train" / "weights" / "dfl.pth"
    assert load_model(weights)[0].arch.bbox_bins == 16
    onnx_file = dfl_run / "dfl.onnx"
    result = run_cli("detectnet", "export", "-m", weights, "-o", onnx_file, "--gen_ds_config", "-e", DEMO_TRAIN_SPEC,
                     "--data_type", "int8", "--batches", "1", "--batch_size", "4", *tiny_train_overrides(tiny_kitti, **DFL))
    assert result.exit_code == 0, result.output
    for name in ("dfl.onnx", "dfl_int8_trt.onnx"):  # the decoding's Softmax/ReduceSum: TensorRT builds them
        assert unsupported_ops(onnx.load(str(dfl_run / name))) == [], name
    graph = onnx.load(str(onnx_file)).graph
    assert [o.name for o in graph.output] == ["output_cov/Sigmoid", "output_bbox/BiasAdd"]
    assert [[d.dim_value for d in o.type.tensor_type.shape.dim][1:] for o in graph.output] == [[3, 8, 12],
                                                                                              [12, 8, 12]]
    keep_all = [f"postprocessing_config.target_class_config.{c}.clustering_config.{key}={value}"
                for c in ("car", "pedestrian", "cyclist") for key, value in (
                    ("clustering_algorithm", "NMS"), ("coverage_threshold", 0.001), ("minimum_bounding_box_height", 0))]
    labels = {}
    for name, model in (("torch", weights), ("onnx", onnx_file)):
        result = run_cli("detectnet", "inference", "-e", DEMO_TRAIN_SPEC, "-m", model, "-i",
                         tiny_kitti / "testing" / "image_2", "-o", dfl_run / name,
                         *tiny_train_overrides(tiny_kitti, **DFL), *keep_all)
        assert result.exit_code == 0, result.output
        labels[name] = {p.name: np.array([[float(v) for v in line.split()[4:8]] for line in p.read_text().splitlines()])
                        for p in sorted((dfl_run / name / "labels").glob("*.txt"))}
    assert labels["torch"].keys() == labels["onnx"].keys() and any(len(b) for b in labels["torch"].values())
    for name, boxes in labels["torch"].items():
        np.testing.assert_allclose(boxes.reshape(-1, 4), labels["onnx"][name].reshape(-1, 4), atol=0.05)


def test_it_prunes_and_retrains_with_its_head(dfl_run: Path, tiny_kitti: Path) -> None:
    pruned = dfl_run / "pruned.pth"
    result = run_cli("detectnet", "prune", "-m", dfl_run / "train" / "weights" / "dfl.pth", "-o", pruned,
                     "-pth", "0.5", "-pg", "8", "-nf", "8", "-r", dfl_run / "prune")
    assert result.exit_code == 0, result.output
    retrain = {**DFL, "model_config.pretrained_model_file": pruned, "model_config.load_graph": "true"}
    result = run_cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", dfl_run / "retrain",
                     *tiny_train_overrides(tiny_kitti, **retrain))
    assert result.exit_code == 0, result.output
    assert load_model(dfl_run / "retrain" / "weights" / "model.pth")[0].arch.bbox_bins == 16

    retrain["model_config.bbox_distribution_bins"] = 0
    retrain["cost_function_config.bbox_dfl_weight"] = 0
    result = run_cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", dfl_run / "retrain0",
                     *tiny_train_overrides(tiny_kitti, **retrain))
    assert result.exit_code == 2 and "bbox_distribution_bins 16" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("overrides,key", [
    ({"cost_function_config.bbox_dfl_weight": 0.25}, "cost_function_config.bbox_dfl_weight"),
    ({"model_config.bbox_distribution_bins": 1}, "model_config.bbox_distribution_bins"),
])
def test_a_dfl_without_distributions_is_a_spec_error(overrides: dict[str, object], key: str, tiny_kitti: Path,
                                                     tmp_path: Path) -> None:
    result = run_cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "r",
                     *tiny_train_overrides(tiny_kitti, **overrides))
    assert result.exit_code == 2 and key in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r" / "weights").exists()


def test_a_loaded_graph_decodes_in_the_specs_bbox_scale(dfl_run: Path, tiny_kitti: Path) -> None:
    from taokit.spec import load_spec
    from taokit.tasks.detectnet.network import build_for_training
    from taokit.tasks.detectnet.spec import DetectNetExperiment

    overrides = tiny_train_overrides(tiny_kitti, **DFL, **{
        "model_config.pretrained_model_file": dfl_run / "train" / "weights" / "dfl.pth",
        "model_config.load_graph": "true", "model_config.objective_set.bbox.scale": 50.0})
    model = build_for_training(load_spec(DEMO_TRAIN_SPEC, DetectNetExperiment, overrides)).eval()
    trained = load_model(dfl_run / "train" / "weights" / "dfl.pth")[0].eval()
    assert model.arch.bbox_scale == 50.0 and trained.arch.bbox_scale != 50.0
    image = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        edges, edges_trained = model(image)[1], trained(image)[1]
    # a bin is one grid cell: the same distances in pixels, in the units of the spec's scale (its targets')
    torch.testing.assert_close(edges * 50.0, edges_trained * trained.arch.bbox_scale)

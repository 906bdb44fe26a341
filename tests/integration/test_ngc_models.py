"""NVIDIA's published DetectNet_v2 files, from the CLI: run as they are (issue 15) and import (issue 14).

The files are written here from the tiny trained detector in NVIDIA's layouts (tests/ngc_testing.py):
never downloaded. `ngc_same.onnx` has symmetric pads, so it computes what the .pth computes and every
action must find the .pth's boxes in it; `ngc_tf.onnx` has keras2onnx's TF-style pads, as NGC's do.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from ngc_testing import write_keras2onnx_detectnet, write_keras_hdf5
from taokit_testing import DEMO_TRAIN_SPEC, run_cli, tiny_train_overrides

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ngc(tiny_detector: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from taokit.engine.checkpoint import save_file
    from taokit.tasks.detectnet.network import load_model, model_payload

    model, data = load_model(tiny_detector / "weights" / "tiny.pth")
    with torch.no_grad():  # a 1-epoch model finds nothing; make it see 20x20 boxes where its features are strong
        model.output_cov.weight.mul_(30.0)
        model.output_cov.bias.zero_()
        model.output_bbox.bias.fill_(0.3)
    out = tmp_path_factory.mktemp("ngc")
    save_file(out / "tiny.pth", {**model_payload(model), "spec": data["spec"]}, kind="model")
    write_keras2onnx_detectnet(model, out / "ngc_same.onnx", tf_pads=False)
    write_keras2onnx_detectnet(model, out / "ngc_tf.onnx")
    write_keras_hdf5(model, out / "model.hdf5")
    (out / "labels.txt").write_text("\n".join(model.arch.class_names) + "\n")
    exported = out / "taokit.onnx"
    assert run_cli("detectnet", "export", "-m", out / "tiny.pth", "-o", exported).exit_code == 0
    return out


def _boxes(out: Path) -> list[list[str]]:
    return [line.split() for p in sorted((out / "labels").iterdir()) for line in p.read_text().splitlines()]


def test_ngc_names_and_order_decode_to_the_same_boxes(ngc: Path, tiny_detector: Path, tiny_kitti: Path,
                                                     tmp_path: Path, cli) -> None:
    names = [o.name for o in onnx.load(str(ngc / "ngc_same.onnx")).graph.output]
    assert names == ["output_bbox/BiasAdd:0", "output_cov/Sigmoid:0"]  # NGC's: bbox first, TF suffixes
    found = {}
    for model in (ngc / "tiny.pth", ngc / "taokit.onnx", ngc / "ngc_same.onnx"):
        out = tmp_path / model.name
        result = cli("detectnet", "inference", "-m", model, "-i", tiny_kitti / "testing" / "image_2", "-r", out,
                     "-e", DEMO_TRAIN_SPEC, *tiny_train_overrides(tiny_kitti))
        assert result.exit_code == 0, result.output
        found[model.name] = _boxes(out)
    # NGC's names and output order against taokit's own ONNX: the same runtime, so the same boxes exactly.
    reference = found["taokit.onnx"]
    assert reference, "the tiny detector finds nothing: the comparison would prove nothing"
    assert [b[0] for b in found["ngc_same.onnx"]] == [b[0] for b in reference]
    assert np.allclose([[float(v) for v in b[4:8]] for b in found["ngc_same.onnx"]],
                       [[float(v) for v in b[4:8]] for b in reference], atol=1e-3)
    # The torch model: its boxes match where both runtimes keep one (a 1-epoch model's DBSCAN clusters sit
    # near their thresholds, so float differences may flip a marginal cluster; exact torch/ONNX agreement
    # of the exported detector is test_detectnet_export.py's test_inference_agrees_between_torch_and_onnx).
    torch_boxes = np.array([[float(v) for v in b[4:8]] for b in found["tiny.pth"]]).reshape(-1, 4)
    onnx_boxes = np.array([[float(v) for v in b[4:8]] for b in reference]).reshape(-1, 4)
    assert len(onnx_boxes) >= 0.7 * len(torch_boxes)
    assert all(np.abs(torch_boxes - box).max(axis=1).min() < 0.05 for box in onnx_boxes)


def test_evaluate_benchmark_and_tune_postprocess_run_ngc_files(ngc: Path, tiny_detector: Path, tiny_kitti: Path,
                                                              tmp_path: Path, cli) -> None:
    maps = []
    for model in (ngc / "tiny.pth", ngc / "ngc_same.onnx"):
        out = tmp_path / model.name
        result = cli("detectnet", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", model, "-r", out,
                     *tiny_train_overrides(tiny_kitti))
        assert result.exit_code == 0, result.output
        maps.append(json.loads((out / "metrics.json").read_text())["mAP"])
    assert maps[1] == pytest.approx(maps[0], abs=1e-6)
    bench = cli("detectnet", "benchmark", "-m", ngc / "ngc_tf.onnx", "--batch_size", "1")
    assert bench.exit_code == 0, bench.output
    tuned = cli("detectnet", "tune_postprocess", "-e", DEMO_TRAIN_SPEC, "-m", ngc / "ngc_same.onnx",
                "-r", tmp_path / "tune", *tiny_train_overrides(tiny_kitti))
    assert tuned.exit_code == 0, tuned.output
    assert (tmp_path / "tune" / "inference_spec.txt").is_file()


def test_heads_are_told_apart_by_channels_not_names(ngc: Path, tiny_kitti: Path, tmp_path: Path, cli) -> None:
    model = onnx.load(str(ngc / "ngc_same.onnx"))
    renamed = {"output_bbox/BiasAdd:0": "boxes", "output_cov/Sigmoid:0": "scores"}
    for node in model.graph.node:
        node.output[:] = [renamed.get(o, o) for o in node.output]
    for value in model.graph.output:
        value.name = renamed[value.name]
    onnx.save(model, str(tmp_path / "renamed.onnx"))
    args = ["-i", tiny_kitti / "testing" / "image_2", "-e", DEMO_TRAIN_SPEC, *tiny_train_overrides(tiny_kitti)]
    assert cli("detectnet", "inference", "-m", tmp_path / "renamed.onnx", "-r", tmp_path / "a", *args).exit_code == 0
    assert cli("detectnet", "inference", "-m", ngc / "ngc_same.onnx", "-r", tmp_path / "b", *args).exit_code == 0
    assert _boxes(tmp_path / "a") == _boxes(tmp_path / "b")
    del model.graph.output[0]  # one head only: not a DetectNet_v2 any more
    onnx.save(model, str(tmp_path / "one_head.onnx"))
    result = cli("detectnet", "inference", "-m", tmp_path / "one_head.onnx", "-r", tmp_path / "c", *args)
    assert result.exit_code == 2 and "not a DetectNet_v2 model" in result.stderr
    assert "scores (3 channels)" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_import_fine_tune_prune_and_export(ngc: Path, tiny_kitti: Path, tmp_path: Path, cli) -> None:
    imported = tmp_path / "peoplenet.pth"
    result = cli("detectnet", "import", "-m", ngc / "ngc_tf.onnx", "-o", imported, "--labels", ngc / "labels.txt")
    assert result.exit_code == 0, result.output
    assert "parity with ONNX Runtime" in result.stdout
    for action in (["inference", "-i", tiny_kitti / "testing" / "image_2", "-r", tmp_path / "infer"],
                   ["benchmark", "--batch_size", "1"]):
        ran = cli("detectnet", action[0], "-m", imported, *action[1:])
        assert ran.exit_code == 0, ran.output
    assert len(list((tmp_path / "infer" / "labels").iterdir())) == 3
    # evaluate: the imported model scores what the file scores on ONNX Runtime
    maps = []
    for model in (imported, ngc / "ngc_tf.onnx"):
        out = tmp_path / f"eval_{model.suffix[1:]}"
        evaluated = cli("detectnet", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", model, "-r", out,
                        *tiny_train_overrides(tiny_kitti))
        assert evaluated.exit_code == 0, evaluated.output
        maps.append(json.loads((out / "metrics.json").read_text())["mAP"])
    assert maps[0] == pytest.approx(maps[1], abs=0.02)
    # fine-tune one epoch from the .onnx itself (imported on the fly) and from the imported .pth
    for source, graph in ((ngc / "ngc_tf.onnx", "true"), (imported, "true"), (ngc / "model.hdf5", "false")):
        run = tmp_path / f"tune_{source.suffix[1:]}"
        trained = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", run, *tiny_train_overrides(tiny_kitti, **{
            "model_config.pretrained_model_file": source, "model_config.load_graph": graph,
            "model_config.freeze_blocks": "[]"}))
        assert trained.exit_code == 0, trained.output
        assert (run / "weights" / "model.pth").is_file()
    saved = torch.load(tmp_path / "tune_onnx" / "weights" / "model.pth", weights_only=True)
    assert saved["arch"]["conv_pads"]["conv1"] == [2, 2, 3, 3] and saved["arch"]["extra"]["bn_folded"]
    # prune with TAO's layer names, export again: the names and shapes DeepStream configs expect
    pruned = tmp_path / "pruned.pth"
    result = cli("detectnet", "prune", "-m", imported, "-o", pruned, "-pth", "0.9", "-el", "block_1a_conv_1")
    assert result.exit_code == 0, result.output
    assert "block_1a_conv_shortcut" in result.stdout and "backbone." not in result.stdout  # TAO's names
    onnx_out = tmp_path / "reexported.onnx"
    assert cli("detectnet", "export", "-m", pruned, "-o", onnx_out, "--gen_ds_config").exit_code == 0
    model = onnx.load(str(onnx_out))  # the source file's names and order: NGC's DeepStream configs still fit
    source = onnx.load(str(ngc / "ngc_tf.onnx"))
    assert model.graph.input[0].name == source.graph.input[0].name == "input_1:0"
    assert [o.name for o in model.graph.output] == [o.name for o in source.graph.output]
    dims = [[d.dim_value for d in o.type.tensor_type.shape.dim][1:] for o in model.graph.output]
    assert dims == [[12, 4, 6], [3, 4, 6]]
    config = (tmp_path / "nvinfer_config.txt").read_text()
    assert "net-scale-factor=0.00392156" in config and "model-color-format=0" in config
    assert "output-blob-names=output_cov/Sigmoid:0;output_bbox/BiasAdd:0" in config
    again = cli("detectnet", "inference", "-m", onnx_out, "-i", tiny_kitti / "testing" / "image_2",
                "-r", tmp_path / "infer_again", "-e", DEMO_TRAIN_SPEC, *tiny_train_overrides(tiny_kitti))
    assert again.exit_code == 0, again.output
    exported_hdf5 = tmp_path / "from_hdf5.onnx"  # no ONNX names to keep: taokit's (TAO 5 export's) names
    imported_hdf5 = tmp_path / "from_hdf5.pth"
    assert cli("detectnet", "import", "-m", ngc / "model.hdf5", "-o", imported_hdf5, "--labels",
               ngc / "labels.txt").exit_code == 0
    assert cli("detectnet", "export", "-m", imported_hdf5, "-o", exported_hdf5).exit_code == 0
    assert [o.name for o in onnx.load(str(exported_hdf5)).graph.output] == ["output_cov/Sigmoid", "output_bbox/BiasAdd"]


def test_import_errors_are_one_line(ngc: Path, tmp_path: Path, cli) -> None:
    no_labels = cli("detectnet", "import", "-m", ngc / "ngc_tf.onnx", "-o", tmp_path / "x.pth")
    assert no_labels.exit_code == 2 and "pass --labels" in no_labels.stderr
    encrypted = tmp_path / "resnet34_peoplenet.tlt"
    encrypted.write_bytes(b"\x00" * 32)
    result = cli("detectnet", "import", "-m", encrypted, "-o", tmp_path / "y.pth")
    assert result.exit_code == 2 and "encrypted" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    hdf5_eval = cli("detectnet", "evaluate", "-m", ngc / "model.hdf5", "-e", DEMO_TRAIN_SPEC)
    assert hdf5_eval.exit_code == 2 and "tao <task> import" in hdf5_eval.stderr
    prune_onnx = cli("detectnet", "prune", "-m", ngc / "ngc_tf.onnx", "-o", tmp_path / "p.pth")
    assert prune_onnx.exit_code == 2 and "tao detectnet import -m" in prune_onnx.stderr


def test_classification_import_and_fine_tune(tiny_classifier: Path, tiny_imagefolder: Path, tmp_path: Path,
                                             cli) -> None:
    from classification_testing import DEMO_SPEC, tiny_overrides
    from ngc_testing import write_keras2onnx_classifier
    from taokit.tasks.classification.network import load_model

    model, _ = load_model(tiny_classifier / "weights" / "model.pth")
    source = write_keras2onnx_classifier(model, tmp_path / "resnet_18.onnx", fold_bn=False, tf_pads=False)
    hdf5 = write_keras_hdf5(model, tmp_path / "resnet_18.hdf5")
    (tmp_path / "labels.txt").write_text(";".join(model.arch.class_names) + "\n")  # DeepStream's classifier form
    imported = tmp_path / "imported.pth"
    result = cli("classification", "import", "-m", source, "-o", imported, "--labels", tmp_path / "labels.txt",
                 "-e", DEMO_SPEC, *tiny_overrides(tiny_imagefolder))
    assert result.exit_code == 0, result.output
    accuracies = []
    for path in (tiny_classifier / "weights" / "model.pth", imported):
        out = tmp_path / f"eval_{path.parent.name}"
        evaluated = cli("classification", "evaluate", "-e", DEMO_SPEC, "-m", path, "-r", out,
                        *tiny_overrides(tiny_imagefolder))
        assert evaluated.exit_code == 0, evaluated.output
        accuracies.append(json.loads((out / "metrics.json").read_text())["accuracy"])
    assert accuracies[0] == pytest.approx(accuracies[1])
    trained = cli("classification", "train", "-e", DEMO_SPEC, "-r", tmp_path / "tune",
                  *tiny_overrides(tiny_imagefolder, **{"train_config.pretrained_model_path": hdf5}))
    assert trained.exit_code == 0, trained.output
    assert "tensors loaded, 0 left at their initial values" in trained.output


def test_gen_trt_engine_takes_ngc_caches_and_writes_their_names(ngc: Path, tmp_path: Path, cli, monkeypatch) -> None:
    """TensorRT is a fake here (tests/fakes/fake_tensorrt.py: no TensorRT or GPU on this machine)."""
    import sys

    from fake_tensorrt import make_fake_tensorrt

    from taokit.optimize import tensorrt_build

    fake = make_fake_tensorrt("10.3.0")
    monkeypatch.setitem(sys.modules, "tensorrt", fake)
    monkeypatch.setattr(tensorrt_build, "require_cuda", lambda *_: None)
    cache = tmp_path / "resnet34_peoplenet_int8.txt"  # NGC's form: TensorRT 8 header, ':0' names
    cache.write_text("TRT-8001-EntropyCalibration2\ninput_1:0: 3c010a14\nactivation_1/Relu:0: 3d8a3bd7\n"
                     "output_cov/Sigmoid:0: 3c010a14\noutput_bbox/BiasAdd:0: 3e1ce4a6\n")
    classes = (ngc / "labels.txt").read_text().split()
    spec = tmp_path / "infer.txt"
    spec.write_text("inferencer_config { " + " ".join(f'target_classes: "{c}"' for c in classes) +
                    " image_width: 96 image_height: 64 image_channels: 3 }\n")
    engine = tmp_path / "deploy" / "peoplenet.engine"
    result = cli("deploy", "detectnet_v2", "gen_trt_engine", "-m", ngc / "ngc_tf.onnx", "-e", spec,
                 "--data_type", "int8", "--cal_cache_file", cache, "--engine_file", engine, "--gen_ds_config",
                 "--max_batch_size", "4")
    assert result.exit_code == 0, result.output
    handed = fake.record.cache_reads[0].decode().splitlines()
    assert handed[0] == "TRT-100300-EntropyCalibration2" and "input_1:0: 3c010a14" in handed
    config = (engine.parent / "nvinfer_config.txt").read_text().splitlines()
    assert "output-blob-names=output_cov/Sigmoid:0;output_bbox/BiasAdd:0" in config
    assert "onnx-file=../../ngc0/ngc_tf.onnx" in config or any(
        line.startswith("onnx-file=") and line.endswith("ngc_tf.onnx") for line in config)
    assert "int8-calib-file=../resnet34_peoplenet_int8.txt" in config and "network-mode=1" in config
    assert "model-engine-file=peoplenet.engine" in config and f"num-detected-classes={len(classes)}" in config
    assert (engine.parent / "labels.txt").read_text().split() == classes
    again = cli("deploy", "detectnet_v2", "gen_trt_engine", "-m", ngc / "ngc_tf.onnx", "-e", spec, "--data_type",
                "fp16", "--engine_file", engine.with_name("other.engine"), "--gen_ds_config")
    assert again.exit_code == 2 and "labels.txt already exists" in again.stderr  # NGC's own files are safe


def test_peoplenet_command_line_runs_as_typed(tmp_path: Path, cli, monkeypatch) -> None:
    """`tao detectnet inference -e peoplenet.txt -m resnet34_peoplenet.onnx -i video.mp4 -o out/` from the
    default specs, on a PeopleNet-shaped file (3x544x960, person/bag/face, NGC's names; a small ResNet)."""
    import cv2

    from taokit.tasks.detectnet.model import DetectNetArch, DetectNetV2

    torch.manual_seed(0)
    model = DetectNetV2(DetectNetArch("resnet", 10, ("person", "bag", "face"), (544, 960), template="tao"))
    with torch.no_grad():
        model.output_cov.weight.mul_(30.0)
        model.output_cov.bias.fill_(2.0)  # coverage about 0.9: above PeopleNet's 0.4 threshold
        model.output_bbox.bias.fill_(1.0)  # 70x70 boxes: neighbouring cells overlap, as real detections do
    monkeypatch.chdir(tmp_path)
    write_keras2onnx_detectnet(model, tmp_path / "resnet34_peoplenet.onnx")
    assert cli("detectnet", "default_specs", "-r", tmp_path).exit_code == 0
    writer = cv2.VideoWriter("video.mp4", cv2.VideoWriter_fourcc(*"mp4v"), 5, (1280, 720))
    rng = np.random.default_rng(0)
    for _ in range(3):
        writer.write(rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8))
    writer.release()
    result = cli("detectnet", "inference", "-e", "peoplenet.txt", "-m", "resnet34_peoplenet.onnx", "-i", "video.mp4",
                 "-o", "out/")
    assert result.exit_code == 0, result.output
    labels = sorted((tmp_path / "out" / "labels").iterdir())
    assert len(labels) == 3
    rows = [line.split() for p in labels for line in p.read_text().splitlines()]
    assert rows and {r[0] for r in rows} <= {"person", "bag", "face"}

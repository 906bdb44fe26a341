"""Classification end to end from the command line on a tiny synthetic ImageFolder (real model, real data)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from classification_testing import DEMO_SPEC, tiny_overrides
from taokit.runtime.ort_backend import OrtBackend
from taokit.tasks.classification.demo_data import CLASSES

pytestmark = pytest.mark.slow


def test_train_writes_tao_outputs(tiny_classifier: Path) -> None:
    data = torch.load(tiny_classifier / "weights" / "model.pth", weights_only=True)
    assert data["task"] == "classification" and data["arch"]["class_names"] == sorted(CLASSES)
    assert json.loads((tiny_classifier / "classmap.json").read_text()) == {c: i for i, c in enumerate(sorted(CLASSES))}
    rows = list(csv.DictReader((tiny_classifier / "training.csv").open()))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"] and rows[0]["epoch"] == "1"
    events = [json.loads(line) for line in (tiny_classifier / "status.json").read_text().splitlines()]
    assert float(rows[0]["val_accuracy"]) == pytest.approx(events[1]["kpi"]["val_accuracy"])  # one source
    assert float(rows[0]["lr"]) > 0
    assert any((tiny_classifier / "events").iterdir()) and (tiny_classifier / "weights" / "model_best.pth").exists()


def test_resume_continues_the_run_and_its_csv(tiny_classifier: Path, tiny_imagefolder: Path, tmp_path: Path,
                                              cli) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_classifier, run)
    result = cli("classification_tf1", "train", "-e", DEMO_SPEC, "-r", run,
                 *tiny_overrides(tiny_imagefolder, **{"train_config.n_epochs": 2}))
    assert result.exit_code == 0, result.output
    assert "resuming from" in result.output
    assert [r["epoch"] for r in csv.DictReader((run / "training.csv").open())] == ["1", "2"]
    assert torch.load(run / "weights" / "model.pth", weights_only=True)["epoch"] == 2
    changed = cli("classification", "train", "-e", DEMO_SPEC, "-r", run,
                  *tiny_overrides(tiny_imagefolder, **{"model_config.n_layers": 18}))
    assert changed.exit_code == 2 and "different experiment" in changed.stderr


def test_evaluate_prints_report_and_writes_metrics(tiny_classifier: Path, tiny_imagefolder: Path, tmp_path: Path,
                                                   cli) -> None:
    result = cli("classification", "evaluate", "-e", DEMO_SPEC, "-m", tiny_classifier / "weights" / "model.pth",
                 "-r", tmp_path, "-cm", tiny_classifier / "classmap.json", *tiny_overrides(tiny_imagefolder))
    assert result.exit_code == 0, result.output
    assert "classification report" in result.stdout and "confusion matrix" in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics["classes"]) == set(CLASSES) and metrics["images"] == 8
    confusion = np.array(metrics["confusion_matrix"])
    assert confusion.sum() == 8 and metrics["accuracy"] == pytest.approx(np.trace(confusion) / 8)
    assert metrics["top_2_accuracy"] >= metrics["accuracy"]
    assert (tmp_path / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"
    status = [json.loads(line) for line in (tmp_path / "status.json").read_text().splitlines()]
    assert status[-1]["status"] == "SUCCESS" and "accuracy" in status[-1]["kpi"]


def test_inference_writes_tao_result_csv(tiny_classifier: Path, tiny_imagefolder: Path, tmp_path: Path, cli) -> None:
    result = cli("classification", "inference", "-m", tiny_classifier / "weights" / "model.pth",
                 "-d", tiny_imagefolder / "test", "-r", tmp_path, "-b", "3")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader((tmp_path / "result.csv").open()))
    assert len(rows) == 8 and all(len(r) == 3 for r in rows)  # no header: image_path,class_label,confidence
    for path, label, conf in rows:
        assert Path(path).is_file() and label in CLASSES and 0.0 < float(conf) <= 1.0
    single = cli("classification", "inference", "-m", tiny_classifier / "weights" / "model.pth",
                 "-i", rows[0][0], "-r", tmp_path / "one")
    assert single.exit_code == 0 and len((tmp_path / "one" / "result.csv").read_text().splitlines()) == 1


@pytest.fixture(scope="module")
def exported(tiny_classifier: Path, tiny_imagefolder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from taokit_testing import run_cli

    out = tmp_path_factory.mktemp("cls_export") / "classifier.onnx"
    result = run_cli("classification", "export", "-m", tiny_classifier / "weights" / "model.pth", "-o", out,
                     "-e", DEMO_SPEC, "--data_type", "int8", "--batches", "2", "--batch_size", "4",
                     "--gen_ds_config", *tiny_overrides(tiny_imagefolder))
    assert result.exit_code == 0, result.output
    return out


def test_onnx_has_tao_names_softmax_and_deepstream_files(exported: Path) -> None:
    model = onnx.load(str(exported))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["input_1"]
    assert [o.name for o in model.graph.output] == ["predictions/Softmax"]
    assert next(n for n in model.graph.node if "predictions/Softmax" in n.output).op_type == "Softmax"
    probs, = OrtBackend(exported, "cpu").infer(np.zeros((3, 3, 32, 32), np.float32))
    assert probs.shape == (3, 4) and np.allclose(probs.sum(1), 1.0, atol=1e-5)
    config = (exported.parent / "nvinfer_config.txt").read_text()
    assert "network-type=1" in config and "output-blob-names=predictions/Softmax" in config
    assert "int8-calib-file=cal.bin" in config and "num-detected-classes=4" in config
    assert (exported.parent / "labels.txt").read_text() == ";".join(sorted(CLASSES)) + "\n"


def test_int8_model_evaluates_like_fp32(exported: Path, tiny_imagefolder: Path, tmp_path: Path, cli) -> None:
    accuracies = []
    for name in ("classifier.onnx", "classifier_int8.onnx"):
        result = cli("classification", "evaluate", "-e", DEMO_SPEC, "-m", exported.with_name(name),
                     "-r", tmp_path / name, *tiny_overrides(tiny_imagefolder))
        assert result.exit_code == 0, result.output
        accuracies.append(json.loads((tmp_path / name / "metrics.json").read_text())["accuracy"])
    assert abs(accuracies[0] - accuracies[1]) <= 0.25  # 8 images: at most 2 change their answer
    for name in ("classifier_int8.onnx", "classifier_int8_trt.onnx"):  # the head and softmax stay in float
        nodes = onnx.load(str(exported.with_name(name))).graph.node
        assert [n.op_type for n in nodes[-2:]] == ["Gemm", "Softmax"]


def test_prune_keeps_the_head_and_retrains_on_the_pruned_channels(tiny_classifier: Path, tiny_imagefolder: Path, tmp_path: Path, cli) -> None:
    pruned = tmp_path / "pruned.pth"
    result = cli("classification", "prune", "-m", tiny_classifier / "weights" / "model.pth", "-o", pruned,
                 "-pth", "0.9", "-pg", "8", "-nf", "8")
    assert result.exit_code == 0, result.output
    assert "pruning_ratio" in result.stdout
    data = torch.load(pruned, weights_only=True)
    assert data["pruning"]["pruning_ratio"] < 1.0 and data["channels"]["predictions"]["out"] == 4
    retrain = cli("classification", "train", "-e", DEMO_SPEC, "-r", tmp_path / "retrain",
                  *tiny_overrides(tiny_imagefolder, **{"train_config.pretrained_model_path": pruned}))
    assert retrain.exit_code == 0, retrain.output
    retrained = torch.load(tmp_path / "retrain" / "weights" / "model.pth", weights_only=True)
    assert retrained["channels"] == data["channels"]


def test_gen_trt_engine_without_tensorrt_is_one_line(exported: Path, cli) -> None:
    try:
        import tensorrt  # noqa: F401

        pytest.skip("TensorRT is installed here")
    except ImportError:
        pass
    result = cli("classification", "gen_trt_engine", "-m", exported, "--engine_file", exported.with_suffix(".engine"))
    assert result.exit_code == 2 and "TensorRT" in _one_error(result.stderr)


def test_pyt_yaml_spec_trains_a_mobilenet(tiny_imagefolder: Path, tmp_path: Path, cli) -> None:
    spec = tmp_path / "pyt.yaml"
    spec.write_text(f"""
model: {{backbone: {{type: mobilenet_v3_small}}, head: {{topk: [1, 2]}}}}
dataset:
  img_size: 32
  batch_size: 8
  workers: 0
  train_dataset: {{images_dir: {tiny_imagefolder / 'train'}}}
  val_dataset: {{images_dir: {tiny_imagefolder / 'val'}}}
  test_dataset: {{images_dir: {tiny_imagefolder / 'test'}}}
train: {{num_epochs: 1, optim: {{lr: 0.001, policy: cosine}}}}
""")
    result = cli("classification_pyt", "train", "-e", spec, "-r", tmp_path / "run")
    assert result.exit_code == 0, result.output
    evaluated = cli("classification_pyt", "evaluate", "-e", spec, "-m", tmp_path / "run" / "weights" / "model.pth")
    assert evaluated.exit_code == 0, evaluated.output
    assert "top-2 accuracy" in evaluated.stdout


def _one_error(stderr: str) -> str:
    """The single `error:` line of a failed command (log lines may precede it)."""
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    return errors[0]


def _bad_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_bad_input_gives_warnings_or_one_line_errors(tiny_classifier: Path, tiny_imagefolder: Path, tmp_path: Path,
                                                      cli, caplog: pytest.LogCaptureFixture) -> None:
    data = _bad_copy(tiny_imagefolder, tmp_path / "data")
    (data / "train" / "hexagon").mkdir()  # empty class folder: a counted warning, the class is kept
    (data / "train" / "circle" / "broken.png").write_bytes(b"not an image at all")
    result = cli("classification", "train", "-e", DEMO_SPEC, "-r", tmp_path / "run", *tiny_overrides(data))
    assert result.exit_code == 0, result.output
    assert "2 class folder(s) have no images: train/hexagon, val/hexagon" in caplog.text
    assert "1 image(s) could not be decoded and were skipped" in caplog.text
    strict = cli("classification", "train", "-e", DEMO_SPEC, "-r", tmp_path / "strict", "--strict",
                 *tiny_overrides(data))
    assert strict.exit_code == 2 and _one_error(strict.stderr).endswith("replace or delete the file")

    (data / "val" / "star").mkdir()
    shutil.copy(next((data / "val" / "circle").iterdir()), data / "val" / "star" / "x.png")
    unknown = cli("classification", "train", "-e", DEMO_SPEC, "-r", tmp_path / "unknown", *tiny_overrides(data))
    assert unknown.exit_code == 2 and "val class folder 'star' is not one of the model's classes" in \
        _one_error(unknown.stderr)

    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"square": 0, "circle": 1, "cross": 2, "triangle": 3}))
    mismatch = cli("classification", "evaluate", "-e", DEMO_SPEC, "-m", tiny_classifier / "weights" / "model.pth",
                   "-cm", wrong, *tiny_overrides(tiny_imagefolder))
    assert mismatch.exit_code == 2 and "does not match the model's classes" in _one_error(mismatch.stderr)

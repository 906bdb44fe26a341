"""The command lines TAO and TLT tutorials print, typed as a new user would: no -e after training,
-o as inference's output directory, `infer`, and TAO's model.tlt file name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import torch

from taokit.engine.checkpoint import save_file
from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides


def test_evaluate_without_a_spec_uses_the_one_recorded_with_the_model(tiny_detector: Path, tmp_path: Path,
                                                                      cli) -> None:
    model = tiny_detector / "weights" / "tiny.pth"
    record = torch.load(model, weights_only=True)["spec"]
    assert record["task"] == "detectnet" and record["kind"] == "experiment" and "num_epochs: 1" in record["yaml"]
    result = cli("detectnet_v2", "evaluate", "-m", model, "-k", "KEY", "-r", tmp_path)
    assert result.exit_code == 0, result.output
    assert f"using the spec recorded in {model}" in result.stderr
    assert "mAP" in result.stdout and (tmp_path / "metrics.json").is_file()
    # overrides still apply on top of the recorded spec
    bad = cli("detectnet", "evaluate", "-m", model, "evaluation_config.batch_size=-3")
    assert bad.exit_code == 2 and "evaluation_config.batch_size" in bad.stderr


def test_inference_takes_tlt_output_flag_and_the_infer_verb(tiny_detector: Path, tiny_kitti: Path, tmp_path: Path,
                                                            cli) -> None:
    model = tiny_detector / "weights" / "tiny.pth"
    images = tiny_kitti / "testing" / "image_2"
    result = cli("detectnet_v2", "inference", "-m", model, "-i", images, "-o", tmp_path / "out", "-k", "KEY")
    assert result.exit_code == 0, result.output
    assert sorted(p.stem for p in (tmp_path / "out" / "labels").iterdir()) == ["000000", "000001", "000002"]
    result = cli("model", "detectnet_v2", "infer", "-m", model, "-i", images, "-o", tmp_path / "infer")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "infer" / "labels").iterdir())) == 3
    both = cli("detectnet", "inference", "-m", model, "-i", images, "-o", tmp_path / "a", "-r", tmp_path / "b")
    assert both.exit_code == 2 and "two output directories" in both.stderr
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_the_seeds_model_tlt_runs_on_the_pth_beside_it(tiny_detector: Path, tiny_kitti: Path, tmp_path: Path,
                                                       cli) -> None:
    """`tao detectnet_v2 evaluate -m .../weights/model.tlt -k $KEY` and inference as the seeds' scripts type them."""
    tlt = tiny_detector / "weights" / "tiny.tlt"
    pth = tlt.with_suffix(".pth")
    result = cli("detectnet_v2", "evaluate", "-m", tlt, "-k", "KEY", "-r", tmp_path / "eval")
    assert result.exit_code == 0, result.output
    assert f"{tlt} does not exist; using taokit's model {pth} beside it" in result.stderr
    assert not tlt.exists() and (tmp_path / "eval" / "metrics.json").is_file()
    images = tiny_kitti / "testing" / "image_2"
    result = cli("detectnet_v2", "inference", "-m", tlt, "-i", images, "-o", tmp_path / "out", "-k", "KEY")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out" / "labels").iterdir())) == 3
    hdf5 = cli("detectnet_v2", "export", "-m", tlt.with_suffix(".hdf5"), "-o", tmp_path / "m.onnx", "-k", "KEY")
    assert hdf5.exit_code == 0 and (tmp_path / "m.onnx").is_file(), hdf5.output  # TAO 5's name, same rule


def test_an_nvidia_tlt_or_a_missing_one_gets_one_line(tmp_path: Path, cli) -> None:
    encrypted = tmp_path / "resnet18_detector.tlt"
    encrypted.write_bytes(b"\x00encrypted keras model")
    encrypted.with_suffix(".pth").write_bytes(b"")  # a .pth beside a real .tlt does not stand in for it
    result = cli("detectnet_v2", "export", "-m", encrypted, "-k", "KEY")
    assert result.exit_code == 2 and "a TAO .tlt model" in result.stderr and "Traceback" not in result.output
    missing = tmp_path / "model.tlt"
    result = cli("detectnet_v2", "evaluate", "-m", missing, "-k", "KEY")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (f"error: {missing}: file not found (taokit names its models "
                                                      ".pth, e.g. model.pth)")


def test_export_without_a_spec_records_it_for_the_onnx(tiny_detector: Path, tmp_path: Path, cli) -> None:
    model = tiny_detector / "weights" / "tiny.pth"
    out = tmp_path / "model.onnx"
    result = cli("detectnet", "export", "-m", model, "-o", out, "--gen_ds_config")
    assert result.exit_code == 0, result.output
    assert "using the spec recorded" in result.stderr
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(props["taokit.spec"])["kind"] == "experiment"
    # the spec's clustering went into DeepStream's config, not the defaults
    assert "pre-cluster-threshold" in (tmp_path / "nvinfer_config.txt").read_text()
    evaluated = cli("detectnet", "evaluate", "-m", out)
    assert evaluated.exit_code == 0, evaluated.output
    assert f"using the spec recorded in {out}" in evaluated.stderr


def test_a_model_without_a_recorded_spec_asks_for_one(tiny_detector: Path, tmp_path: Path, cli) -> None:
    data = torch.load(tiny_detector / "weights" / "tiny.pth", weights_only=True)
    payload = {k: v for k, v in data.items() if k not in ("spec", "format", "format_version", "kind")}
    bare = tmp_path / "bare.pth"
    save_file(bare, payload, kind="model")
    result = cli("detectnet", "evaluate", "-m", bare)
    assert result.exit_code == 2
    assert "'evaluate' needs a spec file: pass -e/--experiment_spec_file" in result.stderr


def test_the_run_directory_records_the_spec_for_a_copied_model(tiny_detector: Path, tiny_kitti: Path,
                                                               tmp_path: Path, cli) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_detector, run)
    data = torch.load(run / "weights" / "tiny.pth", weights_only=True)
    payload = {k: v for k, v in data.items() if k not in ("spec", "format", "format_version", "kind")}
    save_file(run / "weights" / "tiny.pth", payload, kind="model")  # as if written without the record
    result = cli("detectnet", "evaluate", "-m", run / "weights" / "tiny.pth")
    assert result.exit_code == 0, result.output
    assert f"using the spec recorded in {run / 'experiment.yaml'}" in result.stderr
    with_spec = cli("detectnet", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", run / "weights" / "tiny.pth",
                    *tiny_train_overrides(tiny_kitti))
    assert with_spec.exit_code == 0 and "recorded" not in with_spec.stderr


def test_classification_evaluate_and_inference_without_a_spec(tiny_classifier: Path, tiny_imagefolder: Path,
                                                              tmp_path: Path, cli) -> None:
    model = tiny_classifier / "weights" / "model.pth"
    result = cli("classification_tf1", "evaluate", "-m", model, "-k", "KEY")
    assert result.exit_code == 0, result.output
    assert "using the spec recorded" in result.stderr and "accuracy" in result.stdout
    inferred = cli("classification_tf1", "inference", "-m", model, "-i", tiny_imagefolder / "test", "-o", tmp_path)
    assert inferred.exit_code == 0, inferred.output
    assert len((tmp_path / "result.csv").read_text().splitlines()) == 8
    wrong = cli("detectnet", "evaluate", "-m", model)
    assert wrong.exit_code == 2 and "is a classification model, not a detectnet model" in wrong.stderr

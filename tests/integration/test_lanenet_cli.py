"""LaneNet end to end from the command line, as TAO users type it, on tiny synthetic road scenes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest
import torch

from lanenet_testing import DEMO_SPEC, tiny_overrides
from taokit.tasks.lanenet.tusimple_metric import score_files

pytestmark = pytest.mark.slow


def test_train_records_the_enet_arch_and_the_spec(tiny_lanenet: Path) -> None:
    data = torch.load(tiny_lanenet / "weights" / "model.pth", weights_only=True)
    assert data["task"] == "lanenet" and data["arch"]["arch"] == "enet" and data["arch"]["input_hw"] == [64, 128]
    assert data["spec"]["kind"] == "experiment"


def test_evaluate_writes_metrics_and_a_submission_tusimple_rescores_alike(tiny_lanenet: Path, tiny_lanes: Path,
                                                                       tmp_path: Path, cli) -> None:
    result = cli("lanenet", "evaluate", "-e", DEMO_SPEC, "-m", tiny_lanenet / "weights" / "model.pth", "-r", tmp_path,
                 *tiny_overrides(tiny_lanes))
    assert result.exit_code == 0, result.output
    assert "TuSimple accuracy" in result.stdout and "CULane F1" in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["images"] == 3 and set(metrics["culane"]) >= {"precision", "recall", "f1"}
    submission = tmp_path / "tusimple_predictions.json"
    lines = [json.loads(line) for line in submission.read_text().splitlines()]
    assert [line["raw_file"] for line in lines] == ["00009.jpg", "00010.jpg", "00011.jpg"]
    assert all(isinstance(line["run_time"], float) for line in lines)
    labels = tiny_lanes / "val_labels" / "label_data_val.json"
    timed = {k: metrics["tusimple_timed"][k] for k in ("accuracy", "fp", "fn")}
    assert score_files(submission, labels).to_dict() == pytest.approx(timed)  # TuSimple's rule, measured times
    assert score_files(submission, labels, time_limit_ms=0).to_dict() == pytest.approx(metrics["tusimple"])
    status = json.loads((tmp_path / "status.json").read_text().splitlines()[-1])
    assert status["kpi"]["tusimple_accuracy"] == pytest.approx(metrics["tusimple"]["accuracy"])


def test_inference_with_tlt_flags_writes_tusimple_culane_and_overlays(tiny_lanenet: Path, tiny_lanes: Path,
                                                                      tmp_path: Path, cli) -> None:
    spec = tmp_path / "infer.txt"
    spec.write_text("inferencer_config { batch_size: 2 }\npostprocessing_config { min_lane_pixels: 20 }\n")
    out = tmp_path / "out"
    result = cli("lanenet", "inference", "-e", spec, "-i", tiny_lanes / "images", "-o", out,
                 "-m", tiny_lanenet / "weights" / "model.pth", "-k", "KEY")
    assert result.exit_code == 0, result.output
    assert "images/s" in result.stdout
    lines = (out / "tusimple_predictions.json").read_text().splitlines()
    assert len(lines) == 12 and len(json.loads(lines[0])["h_samples"]) == 56
    assert len(list((out / "lines").glob("*.lines.txt"))) == 12
    assert len(list((out / "images_annotated").glob("*.jpg"))) == 12


def test_export_without_a_spec_then_evaluate_the_onnx(tiny_lanenet: Path, tmp_path: Path, cli) -> None:
    out = tmp_path / "lanenet.onnx"
    result = cli("lanenet", "export", "-m", tiny_lanenet / "weights" / "model.pth", "-o", out, "-k", "KEY",
                 "--data_type", "int8", "--batches", "1", "--batch_size", "2")
    assert result.exit_code == 0, result.output
    model = onnx.load(str(out))
    assert [o.name for o in model.graph.output] == ["binary_seg", "instance_embedding"]
    assert out.with_name("lanenet_int8.onnx").is_file() and out.with_name("cal.bin").is_file()
    evaluated = cli("lanenet", "evaluate", "-m", out.with_name("lanenet_int8.onnx"), "-r", tmp_path / "eval")
    assert evaluated.exit_code == 0, evaluated.output
    bench = cli("lanenet", "benchmark", "-m", tiny_lanenet / "weights" / "model.pth", "-m", out, "--runs", "2")
    assert bench.exit_code == 0 and "images/s" in bench.stdout


def test_prune_then_retrain_from_the_pruned_graph(tiny_lanenet: Path, tiny_lanes: Path, tmp_path: Path,
                                                  cli) -> None:
    pruned = tmp_path / "pruned.pth"
    result = cli("lanenet", "prune", "-m", tiny_lanenet / "weights" / "model.pth", "-o", pruned, "-pth", "0.95",
                 "-nf", "8")
    assert result.exit_code == 0, result.output
    status = json.loads((tmp_path / "status.json").read_text().splitlines()[-1]) if (tmp_path / "status.json").exists() \
        else None
    assert status is None  # no -r: no status file next to the user's model
    before = sum(v.numel() for v in torch.load(tiny_lanenet / "weights" / "model.pth", weights_only=True)[
        "state_dict"].values())
    after = sum(v.numel() for v in torch.load(pruned, weights_only=True)["state_dict"].values())
    assert after < before
    retrain = cli("lanenet", "train", "-e", DEMO_SPEC, "-r", tmp_path / "retrain",
                  *tiny_overrides(tiny_lanes, **{"model_config.pretrained_model_file": pruned,
                                                 "model_config.load_graph": "true"}))
    assert retrain.exit_code == 0, retrain.output
    assert "loaded the graph and weights" in retrain.output


def test_dataset_tools(tiny_lanes: Path, tmp_path: Path, cli) -> None:
    generated = cli("dataset", "generate", "lanenet", "-o", tmp_path / "gen", "-n", "3")
    assert generated.exit_code == 0, generated.output
    assert len(list((tmp_path / "gen" / "images").iterdir())) == 3
    spec = tmp_path / "convert.txt"
    spec.write_text(f'data_sources {{ image_directory_path: "{tiny_lanes / "images"}" '
                    f'label_directory_path: "{tiny_lanes / "val_labels"}" }}\n')
    converted = cli("lanenet", "dataset_convert", "-d", spec, "-o", tmp_path / "out" / "val")
    assert converted.exit_code == 0, converted.output
    def parsed(path: Path) -> list[dict]:
        return [json.loads(line) for line in path.read_text().splitlines()]

    assert parsed(tmp_path / "out" / "val.json") == parsed(tiny_lanes / "val_labels" / "label_data_val.json")
    specs = cli("lanenet", "default_specs", "-r", tmp_path / "specs")
    assert specs.exit_code == 0 and {p.name for p in (tmp_path / "specs").iterdir()} == {
        "train.txt", "inference.txt", "dataset_convert.txt"}


def test_bad_lane_labels_are_one_line_errors(tiny_lanes: Path, tmp_path: Path, cli) -> None:
    labels = tmp_path / "labels"
    labels.mkdir()
    good = (tiny_lanes / "train_labels" / "label_data_train.json").read_text().splitlines()
    broken = json.loads(good[1])
    broken["lanes"][0] = broken["lanes"][0][:-1]
    (labels / "train.json").write_text(good[0] + "\n" + json.dumps(broken) + "\n")
    result = cli("lanenet", "train", "-e", DEMO_SPEC, "-r", tmp_path / "run",
                 *tiny_overrides(tiny_lanes, **{"dataset_config.data_sources[0].label_directory_path": labels}))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: {labels / 'train.json'}:2: lane 0 has 55 points")


def test_gen_trt_engine_without_tensorrt_and_inference_on_a_video(tiny_lanenet: Path, tiny_lanes: Path,
                                                                   tmp_path: Path, cli) -> None:
    import cv2

    onnx_path = tmp_path / "lanenet.onnx"
    assert cli("lanenet", "export", "-m", tiny_lanenet / "weights" / "model.pth", "-o", onnx_path).exit_code == 0
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        built = cli("deploy", "lanenet", "gen_trt_engine", "-m", onnx_path, "--data_type", "fp16")
        assert built.exit_code == 2 and "needs TensorRT" in built.stderr and "Traceback" not in built.output
    video = tmp_path / "road.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 180))
    for image in sorted((tiny_lanes / "images").iterdir())[:4]:
        writer.write(cv2.imread(str(image)))
    writer.release()
    result = cli("lanenet", "inference", "-m", onnx_path, "-i", video, "-o", tmp_path / "video")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "video" / "images_annotated" / "road_annotated.mp4").is_file()
    assert len((tmp_path / "video" / "tusimple_predictions.json").read_text().splitlines()) == 4


def scored_names(submission: Path) -> list[str]:
    return [json.loads(line)["raw_file"] for line in submission.read_text().splitlines()]


def test_tune_postprocess_recovers_lanes_that_the_spec_clustering_drops(tiny_lanenet: Path, tiny_lanes: Path,
                                                                      tmp_path: Path, cli,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """min_lane_pixels far above any lane's size: the spec finds no lane; the search finds settings that
    do; its train spec evaluates to the accuracy it recorded on a machine of any speed (the clock is made
    slow here: every frame takes 300 ms), and its inference spec finds the lanes evaluate scored."""
    import taokit.tasks.lanenet.scoring as evaluation

    model = tiny_lanenet / "weights" / "model.pth"
    out = tmp_path / "tuned"
    overrides = tiny_overrides(tiny_lanes, **{"postprocessing_config.min_lane_pixels": 100000})
    result = cli("lanenet", "tune_postprocess", "-e", DEMO_SPEC, "-m", model, "-r", out, *overrides)
    assert result.exit_code == 0, result.output
    status = json.loads((out / "status.json").read_text().splitlines()[-1])
    before, after = status["kpi"]["tusimple_accuracy_before"], status["kpi"]["tusimple_accuracy_after"]
    assert before == 0.0 and after > 0.0
    rows = (out / "postprocess_search.csv").read_text().splitlines()
    assert rows[0].startswith("candidate,tusimple_accuracy") and len(rows) == 1 + 25
    ticks = iter(range(0, 10**9, 300))
    monkeypatch.setattr(evaluation, "clock", lambda: next(ticks) / 1000.0)  # 300 ms between any two readings
    evaluated = cli("lanenet", "evaluate", "-e", out / "spec.txt", "-m", model, "-r", tmp_path / "eval")
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["tusimple"]["accuracy"] == after
    timed = metrics["tusimple_timed"]
    assert timed["accuracy"] == 0.0 and timed["frames_over_time_limit"] == 3 and timed["time_limit_ms"] == 200.0
    assert "3 of 3 frames took longer than 200 ms on this machine" in evaluated.stderr
    off = cli("lanenet", "evaluate", "-e", out / "spec.txt", "-m", model, "-r", tmp_path / "off",
              "evaluation_config.tusimple_time_limit_ms=0")
    assert off.exit_code == 0 and "took longer" not in off.stderr and "official timed" not in off.stdout
    images = tmp_path / "val_images"
    images.mkdir()
    for name in scored_names(tmp_path / "eval" / "tusimple_predictions.json"):
        shutil.copy(tiny_lanes / "images" / name, images / name)
    inferred = cli("lanenet", "inference", "-e", out / "inference_spec.txt", "-i", images, "-o", tmp_path / "infer")
    assert inferred.exit_code == 0, inferred.output
    lanes = {json.loads(line)["raw_file"]: json.loads(line)["lanes"]
             for line in (tmp_path / "infer" / "tusimple_predictions.json").read_text().splitlines()}
    scored = {json.loads(line)["raw_file"]: json.loads(line)["lanes"]
              for line in (tmp_path / "eval" / "tusimple_predictions.json").read_text().splitlines()}
    assert lanes == scored and any(scored.values())
    assert "min_lane_pixels: 100000" not in (out / "inference_spec.txt").read_text()

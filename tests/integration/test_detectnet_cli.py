"""DetectNet_v2 end to end from the command line on a tiny synthetic dataset (real model, real data)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from taokit.tasks.detectnet.demo_data import CLASSES
from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides


def test_train_writes_the_best_model_tensorboard_and_record(tiny_detector: Path) -> None:
    data = torch.load(tiny_detector / "weights" / "tiny.pth", weights_only=True)
    assert data["format"] == "taokit" and data["task"] == "detectnet" and data["kind"] == "model"
    assert data["arch"]["class_names"] == ["car", "pedestrian", "cyclist"]
    assert (tiny_detector / "weights" / "tiny_best.pth").exists()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events_acc = EventAccumulator(str(tiny_detector / "events"), size_guidance={"images": 0}).Reload()
    assert "val/detections" in events_acc.Tags()["images"] and "epoch/loss" in events_acc.Tags()["scalars"]
    assert "experiment" in (tiny_detector / "experiment.yaml").read_text()


def test_evaluate_prints_a_table_and_writes_metrics(tiny_detector: Path, tiny_kitti: Path, tmp_path: Path, cli) -> None:
    result = cli("detectnet_v2", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", tiny_detector / "weights" / "tiny.pth",
                 "-r", tmp_path, *tiny_train_overrides(tiny_kitti))
    assert result.exit_code == 0, result.output
    assert "mAP" in result.stdout and "pedestrian" in result.stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert set(metrics["classes"]) == set(CLASSES)
    status = json.loads((tmp_path / "status.json").read_text().splitlines()[-1])
    assert status["status"] == "SUCCESS" and status["kpi"]["mAP"] == pytest.approx(metrics["mAP"] or 0.0)
    assert (tmp_path / "pr_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_inference_writes_parseable_kitti_labels(tiny_detector: Path, tiny_kitti: Path, tmp_path: Path, cli) -> None:
    result = cli("detectnet", "inference", "-e", DEMO_TRAIN_SPEC, "-m", tiny_detector / "weights" / "tiny.pth",
                 "-i", tiny_kitti / "testing" / "image_2", "-r", tmp_path, "-b", "2",
                 *tiny_train_overrides(tiny_kitti))
    assert result.exit_code == 0, result.output
    assert "images/s" in result.stdout
    labels = sorted((tmp_path / "labels").iterdir())
    assert [p.stem for p in labels] == ["000000", "000001", "000002"]
    for path in labels:
        for line in path.read_text().splitlines():
            fields = line.split()
            assert len(fields) == 16 and fields[0] in CLASSES
            x1, y1, x2, y2, conf = map(float, fields[4:8] + fields[15:])
            assert 0 <= x1 <= x2 <= 96 and 0 <= y1 <= y2 <= 64 and conf > 0
    assert len(list((tmp_path / "images_annotated").iterdir())) == 3


def test_inference_on_a_video(tiny_detector: Path, tiny_kitti: Path, tmp_path: Path, cli) -> None:
    import cv2
    import numpy as np

    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 5, (96, 64))
    for path in sorted((tiny_kitti / "testing" / "image_2").iterdir()):
        writer.write(cv2.imread(str(path)))
    writer.release()
    result = cli("detectnet", "inference", "-m", tiny_detector / "weights" / "tiny.pth", "-i", video,
                 "-r", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out" / "labels").glob("clip_*.txt"))) == 3
    capture = cv2.VideoCapture(str(tmp_path / "out" / "images_annotated" / "clip_annotated.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3 and np.isfinite(capture.get(cv2.CAP_PROP_FPS))


def test_train_from_converted_shards(tiny_kitti: Path, tmp_path: Path, cli) -> None:
    convert_spec = tmp_path / "convert.txt"
    convert_spec.write_text(f'kitti_config {{ root_directory_path: "{tiny_kitti / "training"}" '
                            'image_dir_name: "image_2" label_dir_name: "label_2" image_extension: ".png" '
                            'partition_mode: "random" num_partitions: 2 val_split: 25 num_shards: 2 }\n')
    prefix = tmp_path / "shards" / "tiny"
    converted = cli("detectnet", "dataset_convert", "-d", convert_spec, "-o", prefix)
    assert converted.exit_code == 0, converted.output
    assert "fold 0: 6" in converted.stdout and "fold 1: 18" in converted.stdout
    overrides = tiny_train_overrides(tiny_kitti, **{
        "dataset_config.data_sources[0].tfrecords_path": f"{prefix}*",
        "dataset_config.data_sources[0].label_directory_path": "''",
        "dataset_config.data_sources[0].image_directory_path": tiny_kitti / "training",
        "dataset_config.validation_data_source": "null", "dataset_config.validation_fold": 0})
    result = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "run", *overrides)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "weights" / "model.pth").exists()


def test_another_experiment_in_the_results_dir_is_refused(tiny_detector: Path, tiny_kitti: Path, tmp_path: Path,
                                                          cli) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_detector, run)
    result = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", run, "-n", "tiny",
                 *tiny_train_overrides(tiny_kitti, **{"model_config.num_layers": 18}))
    assert result.exit_code == 2
    assert "holds checkpoints of a different experiment (model_config.num_layers: 10 there, 18 now)" in result.stderr


def test_broken_label_line_names_file_and_line(tiny_kitti: Path, tmp_path: Path, cli) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_kitti, data)
    label = data / "training" / "label_2" / "000004.txt"
    label.write_text(label.read_text() + "Car 0.0 0 0.0 1 2 3\n")
    line_no = len(label.read_text().splitlines())
    result = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "run", *tiny_train_overrides(data))
    assert result.exit_code == 2
    assert f"{label}:{line_no}:" in result.stderr and "Traceback" not in result.output


def test_corrupt_image_is_skipped_or_fatal_under_strict(tiny_kitti: Path, tmp_path: Path, cli) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_kitti, data)
    (data / "training" / "image_2" / "000002.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    overrides = tiny_train_overrides(data)
    ok = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "a", *overrides)
    assert ok.exit_code == 0, ok.output
    assert "could not be decoded and were skipped" in ok.stderr
    strict = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "b", "--strict", *overrides)
    assert strict.exit_code == 2 and "000002.png" in strict.stderr


def test_no_images_is_an_error(tmp_path: Path, cli) -> None:
    empty = tmp_path / "empty"
    (empty / "training" / "image_2").mkdir(parents=True)
    (empty / "training" / "label_2").mkdir(parents=True)
    result = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "run", *tiny_train_overrides(empty))
    assert result.exit_code == 2 and "no images" in result.stderr.lower()


def test_wrong_model_files_are_one_line_errors(tiny_kitti: Path, tmp_path: Path, cli) -> None:
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"junk")
    for model, words in ((junk, "not a readable taokit model file"), (tmp_path / "none.pth", "not found"),
                         (tmp_path / "model.xyz", "unknown model file type")):
        if model.suffix == ".xyz":
            model.write_bytes(b"x")
        result = cli("detectnet", "evaluate", "-e", DEMO_TRAIN_SPEC, "-m", model, *tiny_train_overrides(tiny_kitti))
        assert result.exit_code == 2, result.output
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_image_that_fails_mid_training_in_a_worker_is_skipped_or_one_line(tiny_kitti: Path, tmp_path: Path,
                                                                          cli) -> None:
    """Decoded in a DataLoader worker: skipped and warned about in the main process; under --strict, one line."""
    data = tmp_path / "data"
    shutil.copytree(tiny_kitti, data)
    image = data / "training" / "image_2" / "000005.png"
    image.write_bytes(image.read_bytes()[:200])  # a valid PNG header, truncated pixel data
    overrides = tiny_train_overrides(data, **{"training_config.n_workers": 1})
    # a real process: the worker's warning goes to the inherited stderr, which the in-process runner cannot see
    skipped = subprocess.run([sys.executable, "-m", "taokit", "detectnet", "train", "-e", str(DEMO_TRAIN_SPEC), "-r",
                              str(tmp_path / "run"), *overrides], capture_output=True, text=True,
                             env=dict(os.environ, TAOKIT_PLAIN="1", OMP_NUM_THREADS="1"))
    assert skipped.returncode == 0, skipped.stderr[-2000:]
    assert "skipped an unreadable image" in skipped.stderr and "000005.png" in skipped.stderr
    result = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "strict", "--strict", *overrides)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "000005.png" in lines[-1] and "Traceback" not in lines[-1]
    assert not any("Traceback" in line for line in lines)


def test_training_with_a_loss_mask(tiny_kitti: Path, tmp_path: Path, cli) -> None:
    """loss_mask_label_filter from a TAO-style block: small cars' cells out of the cost; a misspelt class is
    one line naming the key."""
    block = ("{objective_label_filter_configs: [{label_filter: {bbox_dimensions_label_filter: {max_width: 12}}, "
             "target_class_names: [car]}], mask_multiplier: 0.0}")
    result = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "masked",
                 *tiny_train_overrides(tiny_kitti, loss_mask_label_filter=block))
    assert result.exit_code == 0, result.output
    assert "loss_mask_label_filter" not in result.output  # no longer reported as ignored
    bad = cli("detectnet", "train", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "bad",
              *tiny_train_overrides(tiny_kitti, loss_mask_label_filter=block.replace("[car]", "[cars]")))
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "target_class_names" in bad.stderr and "cars" in bad.stderr

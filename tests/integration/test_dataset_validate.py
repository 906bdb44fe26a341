"""`tao dataset validate`: data problems found before a long run, in one report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from taokit_testing import DEMO_TRAIN_SPEC, tiny_train_overrides


def test_validate_reports_what_training_would_skip(tiny_kitti: Path, tmp_path: Path, cli) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_kitti, data)
    images, labels = data / "training" / "image_2", data / "training" / "label_2"
    broken = images / "000003.png"
    broken.write_bytes(broken.read_bytes()[:200])  # truncated
    shutil.copy(images / "000004.png", images / "000004_copy.png")
    shutil.copy(labels / "000004.txt", labels / "000004_copy.txt")
    (labels / "000005.txt").write_text((labels / "000005.txt").read_text() + "Tram 0 0 0 1 1 20 20 0 0 0 0 0 0 0\n")
    result = cli("dataset", "validate", "detectnet", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "report",
                 *tiny_train_overrides(data))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "cannot be decoded" in out and "000003.png" in out
    assert "identical image files" in out and "000004_copy.png" in out
    assert "tram (1)" in out.lower() and "in both training and validation" in out
    assert "objects per target class" in out and (tmp_path / "report" / "box_sizes.png").is_file()
    gate = cli("dataset", "validate", "detectnet", "-e", DEMO_TRAIN_SPEC, "--strict", *tiny_train_overrides(data))
    assert gate.exit_code == 3 and "cannot be decoded" in gate.stdout  # the report, then the verdict
    verdict = [line for line in gate.stderr.splitlines() if line.startswith("error:")]
    assert len(verdict) == 1 and verdict[0].startswith("error: quality gate failed: ") and "(--strict)" in verdict[0]
    other = cli("dataset", "validate", "classification", "-e", DEMO_TRAIN_SPEC)
    assert other.exit_code == 2 and "spec" in other.stderr.lower() and "Traceback" not in other.output


def test_validate_from_the_dataset_convert_spec(tiny_kitti: Path, tmp_path: Path, cli) -> None:
    from taokit_testing import REPO

    data = tmp_path / "data"
    shutil.copytree(tiny_kitti, data)
    shutil.copy(data / "training" / "image_2" / "000001.png", data / "training" / "image_2" / "000001_again.png")
    overrides = [f"kitti_config.root_directory_path={data / 'training'}", "target_class_mapping.car=vehicle"]
    spec = REPO / "specs" / "detectnet" / "dataset_convert.txt"
    result = cli("dataset", "validate", "detectnet", "-d", spec, "-r", tmp_path / "report", *overrides)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "fold 0:" in out and "fold 1:" in out and "identical image files" in out and "000001_again.png" in out
    assert "objects per class and fold" in out and "vehicle" in out
    assert (tmp_path / "report" / "box_sizes.png").is_file()
    assert cli("dataset", "validate", "detectnet", "-d", spec, "--strict", *overrides).exit_code == 3  # a duplicate
    (data / "training" / "image_2" / "000001_again.png").unlink()
    clean = cli("dataset", "validate", "detectnet", "-d", spec, "--strict", *overrides)
    assert clean.exit_code == 0, clean.output
    both = cli("dataset", "validate", "detectnet", "-d", spec, "-e", DEMO_TRAIN_SPEC)
    assert both.exit_code == 2 and "one of the two" in both.stderr


def test_validate_classification_folders(tiny_imagefolder: Path, tmp_path: Path, cli) -> None:
    from classification_testing import DEMO_SPEC, tiny_overrides

    data = tmp_path / "data"
    shutil.copytree(tiny_imagefolder, data)
    circle = sorted((data / "train" / "circle").iterdir())
    circle[0].write_bytes(circle[0].read_bytes()[:100])  # header still reads: training would meet it later
    shutil.copy(circle[1], data / "val" / "circle" / "leaked.png")
    result = cli("dataset", "validate", "classification", "-e", DEMO_SPEC, "-r", tmp_path / "report",
                 *tiny_overrides(data))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "cannot be decoded" in out and circle[0].name in out
    assert "identical image files" in out and "leaked.png" in out
    assert "images per class" in out and "circle" in out
    assert (tmp_path / "report" / "class_counts.png").is_file()


def test_validate_lanes(tiny_lanes: Path, tmp_path: Path, cli) -> None:
    from lanenet_testing import DEMO_SPEC, tiny_overrides

    data = tmp_path / "data"
    shutil.copytree(tiny_lanes, data)
    labels = data / "train_labels"
    label_file = next(labels.glob("*.json"))
    first, *rest = label_file.read_text().splitlines()
    raw = json.loads(first)
    raw["raw_file"] = "missing/0001.jpg"
    label_file.write_text("\n".join([json.dumps(raw), *rest]) + "\n")
    result = cli("dataset", "validate", "lanenet", "-e", DEMO_SPEC, "-r", tmp_path / "report",
                 *tiny_overrides(data))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "without an image were skipped" in out and "missing/0001.jpg" in out
    assert "images by number of lanes" in out and "in both training and validation" not in out
    assert (tmp_path / "report" / "lanes.png").is_file()
    convert = tmp_path / "dataset_convert.txt"
    convert.write_text(f'data_sources {{\n  image_directory_path: "{data / "images"}"\n'
                       f'  label_directory_path: "{labels}"\n}}\nimage_extension: "jpg"\n')
    from_convert = cli("dataset", "validate", "lanenet", "-d", convert)
    assert from_convert.exit_code == 0, from_convert.output
    assert "missing/0001.jpg" in from_convert.stdout and "no validation images" not in from_convert.stdout
    no_convert = cli("dataset", "validate", "classification", "-d", convert)
    assert no_convert.exit_code == 2 and "no dataset_convert spec" in no_convert.stderr


def test_validate_shows_every_augmentation_and_says_when_objects_are_small(tiny_kitti: Path, tmp_path: Path,
                                                                          cli) -> None:
    from PIL import Image

    aug = "augmentation_config.spatial_augmentation."
    keys = {f"{aug}mosaic_probability": 1.0, f"{aug}close_mosaic_epochs": 1, f"{aug}rotate90_probability": 0.5,
            f"{aug}vflip_probability": 0.5, "augmentation_config.color_augmentation.brightness_scale_max": 0.3}
    result = cli("dataset", "validate", "detectnet", "-e", DEMO_TRAIN_SPEC, "-r", tmp_path / "report",
                 *tiny_train_overrides(tiny_kitti, **keys))
    assert result.exit_code == 0, result.output
    preview = tmp_path / "report" / "augmentation_preview.png"
    assert str(preview) in result.stdout.replace("\n", "")
    # as read, flip h+v, zoom, translate, 90-degree turns, mosaic, colour, training, the close-mosaic tail
    width, height = Image.open(preview).size
    assert (width + 2) % 9 == 0 and height > 0
    panel = (width + 2) // 9 - 2
    assert height == 4 * round(panel * 64 / 96) + 3 * 2  # four rows of 96x64 panels at the same scale
    # the tiny set's objects are about one 16-pixel cell across: the report says so and what to do
    out = " ".join(result.stdout.split())
    assert "objects are small for the grid" in out and "output_stride: 8" in out and "larger input" in out
    size = {"augmentation_config.preprocessing.output_image_width": 384,
            "augmentation_config.preprocessing.output_image_height": 256}
    large = cli("dataset", "validate", "detectnet", "-e", DEMO_TRAIN_SPEC, *tiny_train_overrides(tiny_kitti, **size))
    assert large.exit_code == 0, large.output
    assert "objects are small" not in large.stdout  # four times the input: ~4.5 cells
    fine = cli("dataset", "validate", "detectnet", "-e", DEMO_TRAIN_SPEC,
               *tiny_train_overrides(tiny_kitti, **{"model_config.output_stride": 8}))
    out = " ".join(fine.stdout.split())
    assert "at stride 8" in out and "output_stride: 8" not in out  # already on: only the input size is left
    # edge distributions of 2 bins reach one 8-pixel cell: the tiny set's ~16-px objects are beyond them
    bins = cli("dataset", "validate", "detectnet", "-e", DEMO_TRAIN_SPEC, *tiny_train_overrides(
        tiny_kitti, **{"model_config.output_stride": 8, "model_config.bbox_distribution_bins": 2}))
    out = " ".join(bins.stdout.split())
    assert bins.exit_code == 0 and "more than 8 px from a grid point" in out and "bbox_distribution_bins 2" in out
    assert "from a grid point" not in " ".join(fine.stdout.split())

"""Ultralytics/Roboflow YOLO layouts: data.yaml, split folders, normalised labels to pixels."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from taokit.data.yolo import label_dir_for, read_yolo_dataset
from taokit.errors import DataError


def make_split(root: Path, split: str, labels: dict[str, str], size: tuple[int, int] = (32, 16)) -> None:
    (root / split / "images").mkdir(parents=True)
    (root / split / "labels").mkdir()
    for stem, text in labels.items():
        Image.new("RGB", size).save(root / split / "images" / f"{stem}.jpg")
        (root / split / "labels" / f"{stem}.txt").write_text(text)


def test_roboflow_layout(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text(
        "train: ../train/images\nval: ../valid/images\nnc: 2\nnames: ['Car', 'person']\n")
    make_split(tmp_path, "train", {"a": "0 0.5 0.5 0.5 0.5\n\n1 0.25 0.5 0.5 1.0\n", "b": ""})
    make_split(tmp_path, "valid", {"c": "1 0.5 0.5 0.25 0.25\n"})
    splits, report = read_yolo_dataset(tmp_path)
    assert list(splits) == ["train", "valid"]  # val points at valid/: read once
    a = splits["train"][0]
    assert a.image == "train/images/a.jpg" and a.frame_id == "train/images/a"
    assert [(b.class_name, b.x1, b.y1, b.x2, b.y2) for b in a.boxes] == [
        ("car", 8.0, 4.0, 24.0, 12.0), ("person", 0.0, 0.0, 16.0, 16.0)]
    assert report.objects_per_class == {"car": 1, "person": 2}


def test_names_mapping_and_yaml_paths(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text(
        "path: .\ntrain: images/train\nval: images/val\nnames:\n  0: Bus\n  1: truck\n")
    for split in ("train", "val"):
        (tmp_path / "images" / split).mkdir(parents=True)
        (tmp_path / "labels" / split).mkdir(parents=True)
        Image.new("RGB", (10, 10)).save(tmp_path / "images" / split / "x.png")
        (tmp_path / "labels" / split / "x.txt").write_text("1 0.5 0.5 0.2 0.2\n")
    splits, _ = read_yolo_dataset(tmp_path)
    assert list(splits) == ["train", "val"]
    assert splits["val"][0].boxes[0].class_name == "truck"


def test_bad_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("names: [car]\n")
    make_split(tmp_path, "train", {"a": "0 0.5 0.5 0.5 0.5\n0 0.5 0.5\n"})
    label = tmp_path / "train" / "labels" / "a.txt"
    with pytest.raises(DataError, match=rf"{label}:2: expected 'class cx cy w h' \(5 fields\)"):
        read_yolo_dataset(tmp_path)
    label.write_text("3 0.5 0.5 0.5 0.5\n")
    with pytest.raises(DataError, match=rf"{label}:1: class 3 is not a class id"):
        read_yolo_dataset(tmp_path)


def test_missing_names_and_splits(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("train: train/images\n")
    with pytest.raises(DataError, match="data.yaml: names: missing"):
        read_yolo_dataset(tmp_path)
    (tmp_path / "data.yaml").write_text("names: [car]\n")
    with pytest.raises(DataError, match="no YOLO split found"):
        read_yolo_dataset(tmp_path)


def test_label_dir_rule() -> None:
    assert label_dir_for(Path("d/images/train")) == Path("d/labels/train")
    assert label_dir_for(Path("images/x/images")) == Path("images/x/labels")

"""ImageFolder reading: class order, empty classes, corrupt images, unknown classes, classmaps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from taokit.errors import DataError
from taokit.tasks.classification.data import (
    FolderReport,
    check_classmap,
    class_order,
    read_class_file,
    read_image_folder,
    write_classmap,
)


def _image(path: Path, value: int = 128) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("zebra", "apple", "mango"):
        for i in range(2):
            _image(tmp_path / "train" / name / f"{i}.png")
    _image(tmp_path / "train" / "mango" / "nested" / "deep.jpg")  # class folders are read recursively
    (tmp_path / "train" / "apple" / "notes.txt").write_text("not an image")
    return tmp_path


def test_sorted_folder_names_are_the_default_order(folder: Path) -> None:
    classes, source = class_order(folder / "train")
    assert classes == ["apple", "mango", "zebra"] and source is None
    data = read_image_folder(folder / "train", classes, split="train", report=FolderReport())
    assert data.counts() == {"apple": 2, "mango": 3, "zebra": 2}
    assert all(label == classes.index(p.parent.name if p.parent.name != "nested" else "mango")
               for p, label in data.samples)


@pytest.mark.parametrize("where", ["train", "."])
def test_classes_txt_or_classmap_json_set_the_order(folder: Path, where: str) -> None:
    (folder / where / "classes.txt").write_text("zebra\nmango\n\napple\n")
    assert class_order(folder / "train") == (["zebra", "mango", "apple"], folder / where / "classes.txt")
    write_classmap(folder / "cm.json", ["mango", "apple", "zebra"])
    assert json.loads((folder / "cm.json").read_text()) == {"mango": 0, "apple": 1, "zebra": 2}
    assert class_order(folder / "train", str(folder / "cm.json"))[0] == ["mango", "apple", "zebra"]


def test_bad_classmaps_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 0, "b": 2}')
    with pytest.raises(DataError, match="indices must be 0..1"):
        read_class_file(bad)
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        read_class_file(bad)
    write_classmap(tmp_path / "cm.json", ["a", "b"])
    check_classmap(tmp_path / "cm.json", ("a", "b"))
    with pytest.raises(DataError, match="does not match the model's classes"):
        check_classmap(tmp_path / "cm.json", ("b", "a"))


def test_empty_class_and_corrupt_image_are_counted(folder: Path) -> None:
    (folder / "train" / "empty").mkdir()
    (folder / "train" / "zebra" / "broken.png").write_bytes(b"\x89PNG not really")
    report = FolderReport()
    data = read_image_folder(folder / "train", ["apple", "empty", "mango", "zebra"], split="train", report=report)
    assert len(data.samples) == 7
    assert report.empty_classes == ["train/empty"] and len(report.corrupt_images) == 1
    warnings = report.warnings()
    assert "1 class folder(s) have no images: train/empty" in warnings[0]
    assert "1 image(s) could not be decoded and were skipped" in warnings[1] and "--strict" in warnings[1]
    with pytest.raises(DataError, match="broken.png: image does not decode"):
        read_image_folder(folder / "train", ["apple", "empty", "mango", "zebra"], split="train",
                          report=FolderReport(), strict=True)


def test_a_val_class_the_model_does_not_know_is_an_error(folder: Path) -> None:
    _image(folder / "val" / "kiwi" / "0.png")
    with pytest.raises(DataError, match="val class folder 'kiwi' is not one of the model's classes"):
        read_image_folder(folder / "val", ["apple", "mango", "zebra"], split="val", report=FolderReport())
    with pytest.raises(DataError, match="dataset folder not found"):
        read_image_folder(folder / "nowhere", ["apple"], split="val", report=FolderReport())

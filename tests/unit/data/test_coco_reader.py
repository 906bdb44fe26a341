"""COCO JSON to records on small hand-written annotation files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from taokit.data.coco import read_coco
from taokit.errors import DataError


def make_coco(root: Path, annotations: list[dict[str, Any]] | None = None) -> Path:
    (root / "images").mkdir(parents=True)
    for name in ("a.jpg", "b.jpg"):
        Image.new("RGB", (32, 32)).save(root / "images" / name)
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 32, "height": 32},
                   {"id": 2, "file_name": "b.jpg"}],
        "categories": [{"id": 3, "name": "Traffic Light"}, {"id": 7, "name": "Person"}],
        "annotations": annotations if annotations is not None else [
            {"id": 1, "image_id": 1, "category_id": 3, "bbox": [2, 3, 10, 20], "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 7, "bbox": [25, 25, 20, 20]},
            {"id": 3, "image_id": 1, "category_id": 7, "bbox": [0, 0, 30, 30], "iscrowd": 1},
        ],
    }
    path = root / "annotations.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def test_records_boxes_and_names(tmp_path: Path) -> None:
    ann = make_coco(tmp_path)
    records, report = read_coco(ann, tmp_path / "images", root=tmp_path)
    assert [(r.image, r.frame_id, r.width) for r in records] == [
        ("images/a.jpg", "images/a", 32), ("images/b.jpg", "images/b", 32)]
    first = records[0].boxes
    assert [(b.class_name, b.x1, b.y1, b.x2, b.y2) for b in first] == [
        ("trafficlight", 2.0, 3.0, 12.0, 23.0), ("person", 25.0, 25.0, 32.0, 32.0)]
    assert report.clipped_boxes == 1 and report.images_without_labels == 1
    assert report.objects_per_class == {"trafficlight": 1, "person": 1}


def test_bad_bbox_names_json_path(tmp_path: Path) -> None:
    ann = make_coco(tmp_path, [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 3]}])
    with pytest.raises(DataError, match=r"annotations.json: annotations\[0\]\.bbox: expected \[x, y, width"):
        read_coco(ann, tmp_path / "images")


def test_unknown_category_and_image(tmp_path: Path) -> None:
    ann = make_coco(tmp_path, [{"id": 1, "image_id": 1, "category_id": 99, "bbox": [1, 2, 3, 4]}])
    with pytest.raises(DataError, match=r"annotations\[0\]\.category_id: 99 is not in categories"):
        read_coco(ann, tmp_path / "images")
    ann.write_text(ann.read_text().replace('"image_id": 1', '"image_id": 5'))
    with pytest.raises(DataError, match=r"annotations\[0\]\.image_id: 5 is not in images"):
        read_coco(ann, tmp_path / "images")


def test_malformed_json_names_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"images": [\n  {"id": 1,}\n]}')
    with pytest.raises(DataError, match=r"bad.json:2:\d+: not valid JSON"):
        read_coco(bad, tmp_path)
    bad.write_text('{"images": []}')
    with pytest.raises(DataError, match="bad.json: categories: missing"):
        read_coco(bad, tmp_path)


def test_missing_image_reported_or_strict(tmp_path: Path) -> None:
    ann = make_coco(tmp_path)
    (tmp_path / "images" / "b.jpg").unlink()
    records, report = read_coco(ann, tmp_path / "images")
    assert [r.image for r in records] == ["a.jpg"]
    assert report.labels_without_image == [str(tmp_path / "images" / "b.jpg")]
    with pytest.raises(DataError, match="b.jpg: image listed in the annotations not found"):
        read_coco(ann, tmp_path / "images", strict=True)

"""KITTI label files and image/label folder pairing on tiny synthetic datasets."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from taokit.data.kitti import parse_kitti_line, read_kitti_dataset, read_kitti_label
from taokit.errors import DataError


def kitti_line(cls: str, x1: float, y1: float, x2: float, y2: float) -> str:
    return f"{cls} 0.00 0 -1.57 {x1} {y1} {x2} {y2} 1.5 1.6 3.9 1.0 1.5 20.0 -1.5"


def make_kitti(root: Path, labels: dict[str, list[str]], *, size: tuple[int, int] = (32, 32)) -> Path:
    """root/image_2/<stem>.png and root/label_2/<stem>.txt for each stem of `labels`."""
    (root / "image_2").mkdir(parents=True)
    (root / "label_2").mkdir()
    for stem, lines in labels.items():
        Image.new("RGB", size, (80, 80, 80)).save(root / "image_2" / f"{stem}.png")
        (root / "label_2" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    return root


def test_line_fields_and_lower_case() -> None:
    box = parse_kitti_line(kitti_line("Car", 1, 2, 10, 12), where="x:1")
    assert box is not None
    assert (box.class_name, box.x1, box.y1, box.x2, box.y2) == ("car", 1.0, 2.0, 10.0, 12.0)
    assert (box.truncation, box.occlusion, box.alpha) == (0.0, 0, -1.57)
    assert parse_kitti_line(kitti_line("Pedestrian", 1, 2, 3, 4) + " 0.9", where="x:1") is not None
    assert parse_kitti_line(kitti_line("DontCare", 1, 2, 3, 4), where="x:1") is None


def test_wrong_field_count_names_file_and_line(tmp_path: Path) -> None:
    label = tmp_path / "000001.txt"
    label.write_text(kitti_line("Car", 1, 2, 3, 4) + "\n\nCar 0 0 0 1 2 3\n")
    with pytest.raises(DataError) as err:
        read_kitti_label(label)
    assert str(err.value) == (f"{label}:3: expected 15 KITTI fields (16 with a score), found 7; "
                              "fix or delete the line")


def test_non_number_names_the_field(tmp_path: Path) -> None:
    label = tmp_path / "000002.txt"
    label.write_text(kitti_line("Car", 1, "two", 3, 4) + "\n")
    with pytest.raises(DataError, match=r"000002.txt:1: field 6 \(y1\) is not a number: 'two'"):
        read_kitti_label(label)


def test_dataset_pairs_clips_and_counts(tmp_path: Path) -> None:
    root = make_kitti(tmp_path, {
        "000000": [kitti_line("Car", -5, 2, 10, 40), kitti_line("Cyclist", 40, 40, 50, 50)],
        "000001": [kitti_line("PEDESTRIAN", 1, 1, 5, 5), kitti_line("DontCare", 0, 0, 3, 3)],
    })
    Image.new("RGB", (32, 32)).save(root / "image_2" / "000002.png")  # no label: background
    (root / "label_2" / "000009.txt").write_text(kitti_line("Car", 1, 1, 2, 2))  # no image
    records, report = read_kitti_dataset(root / "image_2", root / "label_2", root=root, extensions=[".png"])
    assert [r.frame_id for r in records] == ["image_2/000000", "image_2/000001", "image_2/000002"]
    assert records[0].image == "image_2/000000.png" and (records[0].width, records[0].height) == (32, 32)
    car = records[0].boxes[0]
    assert (car.x1, car.y2) == (0.0, 32.0)
    assert len(records[0].boxes) == 1 and records[2].boxes == ()
    assert report.clipped_boxes == 1 and report.dropped_boxes == 1
    assert report.objects_per_class == {"car": 1, "pedestrian": 1}
    assert report.images == 3 and report.images_without_labels == 1
    assert report.labels_without_image == [str(root / "label_2" / "000009.txt")]
    assert any("without an image" in w for w in report.warnings())


def test_corrupt_image_skipped_or_strict_error(tmp_path: Path) -> None:
    root = make_kitti(tmp_path, {"000000": [kitti_line("Car", 1, 1, 9, 9)], "000001": []})
    (root / "image_2" / "000001.png").write_bytes(b"garbage")
    records, report = read_kitti_dataset(root / "image_2", root / "label_2")
    assert [r.frame_id for r in records] == ["000000"]
    assert report.corrupt_images == [str(root / "image_2" / "000001.png")]
    with pytest.raises(DataError, match="000001.png: image does not decode"):
        read_kitti_dataset(root / "image_2", root / "label_2", strict=True)


def test_no_images_says_where_and_which_extension(tmp_path: Path) -> None:
    root = make_kitti(tmp_path, {"000000": []})
    with pytest.raises(DataError, match=r"image_2: no images with extension \.jpg found"):
        read_kitti_dataset(root / "image_2", root / "label_2", extensions=["jpg"])


def test_missing_label_directory(tmp_path: Path) -> None:
    root = make_kitti(tmp_path, {"000000": []})
    with pytest.raises(DataError, match="labels: label directory not found"):
        read_kitti_dataset(root / "image_2", root / "labels")

"""Lane labels in TuSimple, CULane and instance-mask layouts, detected by content; bad labels in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from taokit.errors import DataError
from taokit.tasks.lanenet.data import LaneReport, detect_layout, read_lane_dataset

ROWS = [240, 250, 260, 270]


def _image(path: Path, size: tuple[int, int] = (64, 48)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size).save(path)


def test_tusimple_lines_with_missing_points_and_images(tmp_path: Path) -> None:
    images, labels = tmp_path / "images", tmp_path / "labels"
    _image(images / "clips" / "a.jpg")
    labels.mkdir()
    lines = [{"raw_file": "clips/a.jpg", "h_samples": ROWS, "lanes": [[-2, 10, 12, 14], [30, 31, -2, -2], [-2] * 4]},
             {"raw_file": "clips/missing.jpg", "h_samples": ROWS, "lanes": []}]
    (labels / "label_data.json").write_text("".join(json.dumps(x) + "\n" for x in lines))
    report = LaneReport()
    samples = read_lane_dataset(images, labels, "jpg", report)
    assert detect_layout(labels) == "tusimple" and len(samples) == 1
    sample = samples[0]
    assert sample.raw_file == "clips/a.jpg" and sample.h_samples == tuple(ROWS)
    assert sample.tusimple_lanes[2] == (-2.0,) * 4  # kept as written, for the official scorer
    assert [lane.tolist() for lane in sample.lanes] == [[[10, 250], [12, 260], [14, 270]], [[30, 240], [31, 250]]]
    assert report.short_lanes == 1 and report.missing_images == [str(images / "clips" / "missing.jpg")]
    assert any("without an image" in w for w in report.warnings())


@pytest.mark.parametrize(("line", "message"), [
    ('{"raw_file": "a.jpg", "h_samples": [1, 2], "lanes": [[1, 2, 3]]}', r"label_data\.json:2: lane 0 has 3 points "
                                                                         r"but h_samples has 2"),
    ('{"raw_file": "a.jpg", "lanes": []}', r"label_data\.json:2: a TuSimple line needs raw_file, h_samples"),
    ("not json", r"label_data\.json:2: not a JSON object"),
])
def test_bad_tusimple_lines_name_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    _image(tmp_path / "images" / "a.jpg")
    (tmp_path / "labels").mkdir()
    good = json.dumps({"raw_file": "a.jpg", "h_samples": [1, 2], "lanes": [[1, 2]]})
    (tmp_path / "labels" / "label_data.json").write_text(good + "\n" + line + "\n")
    with pytest.raises(DataError, match=message):
        read_lane_dataset(tmp_path / "images", tmp_path / "labels", "jpg")


def test_culane_lines_in_a_tree(tmp_path: Path) -> None:
    images, labels = tmp_path / "images", tmp_path / "labels"
    _image(images / "driver_1" / "00030.jpg")
    (labels / "driver_1").mkdir(parents=True)
    (labels / "driver_1" / "00030.lines.txt").write_text("20.5 47 22.0 30 24.0 10\n50 40\n")
    samples = read_lane_dataset(images, labels, ".jpg")
    assert detect_layout(labels) == "culane" and samples[0].raw_file == "driver_1/00030.jpg"
    assert samples[0].lanes[0].tolist() == [[24.0, 10.0], [22.0, 30.0], [20.5, 47.0]]  # ordered by y
    assert len(samples[0].lanes) == 1 and samples[0].h_samples is None
    (labels / "driver_1" / "00030.lines.txt").write_text("20 47 22\n")
    with pytest.raises(DataError, match=r"00030\.lines\.txt:1: 3 numbers; CULane writes x y pairs"):
        read_lane_dataset(images, labels, "jpg")


def test_instance_masks(tmp_path: Path) -> None:
    images, labels = tmp_path / "images", tmp_path / "labels"
    _image(images / "f.png")
    mask = np.zeros((48, 64), np.uint8)
    mask[10:40, 20:22] = 1  # lane 1: x 20.5 on rows 10..39
    mask[5:30, 50] = 2
    labels.mkdir()
    Image.fromarray(mask).save(labels / "f.png")
    samples = read_lane_dataset(images, labels, "png")
    assert detect_layout(labels) == "masks"
    first, second = samples[0].lanes
    assert first.shape == (30, 2) and np.allclose(first[:, 0], 20.5) and first[0, 1] == 10
    assert second.shape == (25, 2) and np.allclose(second[:, 0], 50)


def test_a_directory_without_labels(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="no lane labels found"):
        detect_layout(tmp_path / "labels")

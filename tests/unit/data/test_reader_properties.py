"""Property-based: whatever a label file holds, the readers give records or a one-line DataError — never
another exception — and their counts add up."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from taokit.data.kitti import read_kitti_dataset
from taokit.errors import DataError
from taokit.tasks.lanenet.data import LaneReport, read_lane_dataset
from taokit.tasks.lanenet.dataset import draw_targets

NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32), st.integers(-10**6, 10**6))
TOKENS = st.one_of(NUMBERS.map(str), st.sampled_from(["", "car", "Car", "DontCare", "nan", "-inf", "1e309", "é", "a b"]))
CLASSES = st.sampled_from(["car", "pedestrian", "cyclist", "Car", "dontcare", "truck", "fahrrad-ü", "x"])


@st.composite
def kitti_line(draw: st.DrawFn) -> str:
    if draw(st.booleans()):  # a well-formed line with arbitrary numbers
        return " ".join([draw(CLASSES), *(str(draw(NUMBERS)) for _ in range(14))])
    return " ".join(draw(st.lists(TOKENS, max_size=18)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(st.lists(kitti_line(), max_size=6), min_size=1, max_size=4))
def test_kitti_labels_never_crash_and_counts_add_up(files: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        images, labels = Path(tmp) / "image_2", Path(tmp) / "label_2"
        images.mkdir()
        labels.mkdir()
        for i, lines in enumerate(files):
            Image.new("RGB", (40, 30)).save(images / f"{i:03d}.png")
            (labels / f"{i:03d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            records, report = read_kitti_dataset(images, labels)
        except DataError as err:
            assert "\n" not in str(err) and ".txt:" in str(err)  # one line naming file:line
            return
    assert len(records) == report.images == len(files)
    boxes = [b for r in records for b in r.boxes]
    assert sum(report.objects_per_class.values()) == len(boxes)
    for box in boxes:  # what reaches training is finite, inside its image and has an area
        assert all(math.isfinite(v) for v in (box.x1, box.y1, box.x2, box.y2))
        assert 0 <= box.x1 < box.x2 <= 40 and 0 <= box.y1 < box.y2 <= 30


@st.composite
def tusimple_line(draw: st.DrawFn) -> str:
    rows = draw(st.lists(st.integers(0, 200), min_size=0, max_size=6))
    lanes = draw(st.lists(st.lists(st.one_of(st.just(-2), st.floats(-50, 400, allow_nan=False), st.integers(-5, 400),
                                             st.none(), st.just("x")),
                                   min_size=len(rows), max_size=len(rows) + (1 if draw(st.booleans()) else 0)),
                          max_size=5))
    entry: dict[str, object] = {"raw_file": draw(st.sampled_from(["a.jpg", "missing.jpg", "ä b.jpg"])),
                                "h_samples": rows, "lanes": lanes}
    if draw(st.integers(0, 9)) == 0:
        entry.pop(draw(st.sampled_from(["raw_file", "h_samples", "lanes"])))
    text = json.dumps(entry)
    return text[: draw(st.integers(1, len(text)))] if draw(st.integers(0, 9)) == 0 else text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(tusimple_line(), min_size=1, max_size=5))
def test_tusimple_labels_never_crash_and_counts_add_up(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        images, labels = Path(tmp) / "images", Path(tmp) / "labels"
        images.mkdir()
        labels.mkdir()
        for name in ("a.jpg", "ä b.jpg"):
            Image.new("RGB", (40, 30)).save(images / name)
        (labels / "label_data.json").write_text("\n".join(lines) + "\n", encoding="utf-8")
        report = LaneReport()
        try:
            samples = read_lane_dataset(images, labels, "jpg", report)
        except DataError as err:
            assert "\n" not in str(err) and "label_data.json:" in str(err)
            return
    assert len(samples) + len(report.missing_images) == len([line for line in lines if line.strip()])
    assert report.lanes == sum(len(s.lanes) for s in samples)


# -- YOLO, COCO, CULane, and raw TuSimple JSON with NaN/Infinity (which Python's json reads) --------------

FIELDS = st.one_of(NUMBERS.map(str), st.sampled_from(["0", "1", "2", "0.5", "nan", "inf", "-inf", "1e309", "x", "é"]))


def _assert_trainable(boxes: list, width: int, height: int) -> None:
    for box in boxes:
        assert all(math.isfinite(v) for v in (box.x1, box.y1, box.x2, box.y2))
        assert 0 <= box.x1 < box.x2 <= width and 0 <= box.y1 < box.y2 <= height


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(st.lists(st.lists(FIELDS, max_size=9).map(" ".join), max_size=5), min_size=1, max_size=3))
def test_yolo_labels_never_crash_and_counts_add_up(files: list[list[str]]) -> None:
    from taokit.data.yolo import read_yolo_dataset

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        images, labels = root / "train" / "images", root / "train" / "labels"
        images.mkdir(parents=True)
        labels.mkdir(parents=True)
        (root / "data.yaml").write_text("train: train/images\nnames: [car, person, bike]\n")
        for i, lines in enumerate(files):
            Image.new("RGB", (40, 30)).save(images / f"{i}.png")
            (labels / f"{i}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            records, report = read_yolo_dataset(root)
        except DataError as err:
            assert "\n" not in str(err) and ".txt:" in str(err)
            return
    assert len(records["train"]) == report.images == len(files)
    boxes = [b for r in records["train"] for b in r.boxes]
    assert sum(report.objects_per_class.values()) == len(boxes)
    _assert_trainable(boxes, 40, 30)


JSON_NUMBERS = st.one_of(st.integers(-10, 100), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                         st.none(), st.just("7"))


@st.composite
def coco_file(draw: st.DrawFn) -> str:
    images = [{"id": draw(st.one_of(st.integers(0, 3), JSON_NUMBERS)), "file_name": draw(st.sampled_from(["a.png", "missing.png", "b c.png"])),
               **({"width": draw(JSON_NUMBERS), "height": draw(JSON_NUMBERS)} if draw(st.booleans()) else {})}
              for _ in range(draw(st.integers(0, 3)))]
    annotations = [{"image_id": draw(st.one_of(st.integers(0, 3), JSON_NUMBERS)),
                    "category_id": draw(st.one_of(st.integers(1, 2), JSON_NUMBERS)),
                    "bbox": draw(st.lists(JSON_NUMBERS, min_size=3, max_size=5)),
                    "iscrowd": draw(st.sampled_from([0, 0, 1]))} for _ in range(draw(st.integers(0, 4)))]
    categories = [{"id": 1, "name": "Traffic Light"}, {"id": 2, "name": "car"}][: draw(st.integers(0, 2))]
    data = {"images": images, "annotations": annotations, "categories": categories}
    text = json.dumps(data)  # NaN and Infinity as Python writes them
    return text[: draw(st.integers(1, len(text)))] if draw(st.integers(0, 9)) == 0 else text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=coco_file())
def test_coco_files_never_crash_and_counts_add_up(text: str) -> None:
    from taokit.data.coco import read_coco

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("a.png", "b c.png"):
            Image.new("RGB", (40, 30)).save(root / name)
        (root / "ann.json").write_text(text, encoding="utf-8")
        try:
            records, report = read_coco(root / "ann.json", root)
        except DataError as err:
            assert "\n" not in str(err) and "ann.json" in str(err)
            return
    boxes = [b for r in records for b in r.boxes]
    assert sum(report.objects_per_class.values()) == len(boxes)
    _assert_trainable(boxes, 40, 30)


def _assert_drawable(samples: list, report: LaneReport) -> None:
    assert report.lanes == sum(len(s.lanes) for s in samples)
    for sample in samples:
        for lane in sample.lanes:  # what the target drawer gets: finite (x, y) points, at least two
            assert lane.ndim == 2 and lane.shape[1] == 2 and len(lane) >= 2 and np.isfinite(lane).all()
        binary, _ = draw_targets(list(sample.lanes), (30, 40), 2)
        assert binary.shape == (30, 40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.lists(st.lists(st.lists(FIELDS, max_size=8).map(" ".join), max_size=4), min_size=1, max_size=3))
def test_culane_labels_never_crash_and_counts_add_up(files: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        images, labels = Path(tmp) / "images", Path(tmp) / "labels"
        images.mkdir()
        labels.mkdir()
        for i, lines in enumerate(files):
            if i != 1:  # the second label has no image
                Image.new("RGB", (40, 30)).save(images / f"{i}.jpg")
            (labels / f"{i}.lines.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        report = LaneReport()
        try:
            samples = read_lane_dataset(images, labels, "jpg", report)
        except DataError as err:
            assert "\n" not in str(err) and ".lines.txt:" in str(err)
            return
    assert len(samples) + len(report.missing_images) == len(files)
    _assert_drawable(samples, report)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(JSON_NUMBERS, max_size=5), lanes=st.lists(st.lists(JSON_NUMBERS, max_size=5), max_size=3))
def test_tusimple_nan_and_infinity_never_reach_training(rows: list, lanes: list) -> None:
    line = json.dumps({"raw_file": "a.jpg", "h_samples": rows, "lanes": lanes})
    with tempfile.TemporaryDirectory() as tmp:
        images, labels = Path(tmp) / "images", Path(tmp) / "labels"
        images.mkdir()
        labels.mkdir()
        Image.new("RGB", (40, 30)).save(images / "a.jpg")
        (labels / "label_data.json").write_text(line + "\n", encoding="utf-8")
        report = LaneReport()
        try:
            samples = read_lane_dataset(images, labels, "jpg", report)
        except DataError as err:
            assert "\n" not in str(err) and "label_data.json:1" in str(err)
            return
    _assert_drawable(samples, report)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(masks=st.lists(st.one_of(
    st.lists(st.lists(st.integers(0, 255) | st.sampled_from([0, 0, 0, 1, 2]), min_size=12, max_size=12),
             min_size=10, max_size=10),
    st.tuples(st.sampled_from([b"", b"\x89PNG\r\n\x1a\n"]), st.binary(max_size=40)).map(b"".join)),
    min_size=1, max_size=3))
def test_instance_masks_never_crash_and_counts_add_up(masks: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        images, labels = Path(tmp) / "images", Path(tmp) / "labels"
        images.mkdir()
        labels.mkdir()
        for i, mask in enumerate(masks):
            Image.new("RGB", (12, 10)).save(images / f"{i}.jpg")
            if isinstance(mask, bytes):  # not a PNG at all, or a PNG signature before garbage
                (labels / f"{i}.png").write_bytes(mask)
            else:
                Image.fromarray(np.asarray(mask, np.uint8)).save(labels / f"{i}.png")
        report = LaneReport()
        try:
            samples = read_lane_dataset(images, labels, "jpg", report)
        except DataError as err:
            assert "\n" not in str(err) and ".png" in str(err)
            return
    assert len(samples) == len(masks)
    _assert_drawable(samples, report)

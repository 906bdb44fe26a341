"""Property-based: whatever a label file holds, the readers give records or a one-line DataError — never
another exception — and their counts add up."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from taokit.data.kitti import read_kitti_dataset
from taokit.errors import DataError
from taokit.tasks.lanenet.labels import LaneReport, read_lane_dataset

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

"""Lane labels in the three layouts users have: TuSimple JSON lines, CULane .lines.txt, instance masks.

The layout of a label directory is detected by its content. Every layout becomes `LaneSample`s: lanes
as (K, 2) float arrays of (x, y) image pixels ordered by y, plus TuSimple's own rows and x lists where the
labels are TuSimple's (the official scorer works on them as written).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from taokit.data.records import skipped
from taokit.errors import DataError

TUSIMPLE_NO_POINT = -2


@dataclass(frozen=True)
class LaneSample:
    image: Path
    lanes: tuple[np.ndarray, ...]  # each (K, 2) float32 (x, y) in image pixels, ascending y
    raw_file: str  # the image path relative to the image directory (TuSimple's `raw_file`)
    h_samples: tuple[int, ...] | None = None  # TuSimple rows, when the labels are TuSimple's
    tusimple_lanes: tuple[tuple[float, ...], ...] | None = None  # x per row as written (-2: no point)


@dataclass
class LaneReport:
    """What reading labels skipped, for counted warnings."""

    images: int = 0
    lanes: int = 0
    missing_images: list[str] = field(default_factory=list)
    short_lanes: int = 0  # lanes with fewer than 2 points: kept for scoring, not drawn
    invalid_points: int = 0  # NaN or infinite coordinates: dropped, as a row with no point

    def warnings(self) -> list[str]:
        out = []
        if self.missing_images:
            out.append(skipped(self.missing_images, "label(s) without an image were skipped"))
        if self.short_lanes:
            out.append(f"{self.short_lanes} lane(s) with fewer than 2 points are not drawn into the targets")
        if self.invalid_points:
            out.append(f"{self.invalid_points} lane point(s) with NaN or infinite coordinates were dropped")
        return out


def detect_layout(label_dir: Path) -> str:
    """'tusimple', 'culane' or 'masks', from what the directory holds."""
    if not label_dir.is_dir():
        raise DataError(f"{label_dir}: label directory not found; check dataset_config label_directory_path")
    if any(label_dir.glob("*.json")):
        return "tusimple"
    if any(label_dir.rglob("*.lines.txt")):
        return "culane"
    if any(label_dir.glob("*.png")):
        return "masks"
    raise DataError(f"{label_dir}: no lane labels found (TuSimple *.json, CULane *.lines.txt or instance-mask "
                    "*.png)")


def read_lane_dataset(image_dir: Path, label_dir: Path, image_extension: str,
                      report: LaneReport | None = None) -> list[LaneSample]:
    """Every labelled image of one data source, in a stable order."""
    report = report if report is not None else LaneReport()
    image_extension = image_extension.lstrip(".")
    if not image_dir.is_dir():
        raise DataError(f"{image_dir}: image directory not found; check dataset_config image_directory_path")
    layout = detect_layout(label_dir)
    if layout == "tusimple":
        samples = _read_tusimple(image_dir, label_dir, report)
    elif layout == "culane":
        samples = _read_culane(image_dir, label_dir, image_extension, report)
    else:
        samples = _read_masks(image_dir, label_dir, image_extension, report)
    report.images += len(samples)
    report.lanes += sum(len(s.lanes) for s in samples)
    return samples


def _lane(points: list[tuple[float, float]], report: LaneReport) -> np.ndarray | None:
    lane = np.asarray(points, np.float64).reshape(-1, 2)
    # finite in float32, the lane's type: 1e39 is finite as a Python float only
    finite = (np.abs(lane) <= np.finfo(np.float32).max).all(axis=1)
    report.invalid_points += int((~finite).sum())
    lane = lane[finite].astype(np.float32)
    if len(lane) < 2:
        report.short_lanes += 1
        return None
    return lane[np.argsort(lane[:, 1], kind="stable")]


def _read_tusimple(image_dir: Path, label_dir: Path, report: LaneReport) -> list[LaneSample]:
    samples = []
    for path in sorted(label_dir.glob("*.json")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            sample = parse_tusimple_line(line, f"{path}:{number}", image_dir, report)
            if sample is not None:
                samples.append(sample)
    return samples


def parse_tusimple_line(line: str, where: str, image_dir: Path, report: LaneReport) -> LaneSample | None:
    """One TuSimple label line; None (counted) when its image is missing."""
    try:
        entry = json.loads(line)
    except json.JSONDecodeError as err:
        raise DataError(f"{where}: not a JSON object ({err.msg})") from None
    if not isinstance(entry, dict) or not {"raw_file", "h_samples", "lanes"} <= set(entry):
        raise DataError(f"{where}: a TuSimple line needs raw_file, h_samples and lanes")
    rows, lanes = entry["h_samples"], entry["lanes"]
    if not all(isinstance(y, (int, float)) and not isinstance(y, bool) and math.isfinite(y) for y in rows) \
            or not isinstance(lanes, list):
        raise DataError(f"{where}: h_samples must be finite numbers (image rows) and lanes a list of lists")
    for i, xs in enumerate(lanes):
        if not isinstance(xs, list) or len(xs) != len(rows):
            raise DataError(f"{where}: lane {i} has {len(xs) if isinstance(xs, list) else 'no'} points but "
                            f"h_samples has {len(rows)}; TuSimple writes one x per row (-2 for none)")
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs):
            raise DataError(f"{where}: lane {i} holds a value that is not a number; write -2 where a row has no point")
    image = image_dir / str(entry["raw_file"])
    if not image.is_file():
        report.missing_images.append(str(image))
        return None
    parsed = [_lane([(float(x), float(y)) for x, y in zip(xs, rows, strict=True) if x >= 0], report)
              for xs in lanes]
    return LaneSample(image, tuple(lane for lane in parsed if lane is not None), str(entry["raw_file"]),
                      tuple(int(y) for y in rows), tuple(tuple(float(x) for x in xs) for xs in lanes))


def _image_for(label: Path, label_dir: Path, image_dir: Path, suffix: str, extension: str) -> tuple[Path, str]:
    relative = label.relative_to(label_dir).as_posix()[: -len(suffix)] + f".{extension}"
    return image_dir / relative, relative


def _read_culane(image_dir: Path, label_dir: Path, extension: str, report: LaneReport) -> list[LaneSample]:
    samples = []
    for path in sorted(label_dir.rglob("*.lines.txt")):
        image, relative = _image_for(path, label_dir, image_dir, ".lines.txt", extension)
        lanes = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                values = [float(v) for v in line.split()]
            except ValueError:
                raise DataError(f"{path}:{number}: expected numbers 'x y x y ...'") from None
            if len(values) % 2:
                raise DataError(f"{path}:{number}: {len(values)} numbers; CULane writes x y pairs")
            lane = _lane(list(zip(values[0::2], values[1::2], strict=True)), report)
            if lane is not None:
                lanes.append(lane)
        if not image.is_file():
            report.missing_images.append(str(image))
            continue
        samples.append(LaneSample(image, tuple(lanes), relative))
    return samples


def _read_masks(image_dir: Path, label_dir: Path, extension: str, report: LaneReport) -> list[LaneSample]:
    from PIL import Image

    samples = []
    for path in sorted(label_dir.glob("*.png")):
        image, relative = _image_for(path, label_dir, image_dir, ".png", extension)
        if not image.is_file():
            report.missing_images.append(str(image))
            continue
        try:
            with Image.open(path) as img:
                mask = np.asarray(img.convert("L"))
        except OSError as err:
            raise DataError(f"{path}: cannot read the instance mask ({str(err).splitlines()[0][:80]})") from None
        samples.append(LaneSample(image, tuple(mask_lanes(mask, report)), relative))
    return samples


def mask_lanes(mask: np.ndarray, report: LaneReport) -> list[np.ndarray]:
    """Lanes of an instance mask (0 background, k lane k): the mean x of lane k's pixels on every row."""
    lanes = []
    for value in sorted(int(v) for v in np.unique(mask) if v):
        ys, xs = np.nonzero(mask == value)
        rows = np.unique(ys)
        points = [(float(xs[ys == y].mean()), float(y)) for y in rows]
        lane = _lane(points, report)
        if lane is not None:
            lanes.append(lane)
    return lanes

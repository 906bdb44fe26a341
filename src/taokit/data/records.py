"""The one record type every detection dataset reader produces (KITTI, COCO, YOLO, shards)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path


@dataclass(frozen=True)
class BoxLabel:
    """One labelled object, in pixels of the original image (x2 > x1, y2 > y1 after clipping).

    `class_name` is the source class, lower-cased as TAO does; KITTI's 3D fields are kept so that
    shards round-trip, but taokit only trains on the 2D box.
    """

    class_name: str
    x1: float
    y1: float
    x2: float
    y2: float
    truncation: float = 0.0
    occlusion: int = 0
    alpha: float = 0.0

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1


@dataclass(frozen=True)
class ImageRecord:
    """An image and its boxes. `image` is relative to the dataset root (or absolute).

    `frame_id` is TAO's frame id: the image path relative to the root, without its extension.
    width/height are 0 when the reader did not open the image.
    """

    image: str
    frame_id: str
    width: int = 0
    height: int = 0
    boxes: tuple[BoxLabel, ...] = field(default_factory=tuple)

    def path(self, root: Path) -> Path:
        p = Path(self.image)
        return p if p.is_absolute() else root / p


@dataclass
class DatasetReport:
    """Counts a reader collects while reading, reported to the user instead of failing the run."""

    images: int = 0
    objects_per_class: dict[str, int] = field(default_factory=dict)
    labels_without_image: list[str] = field(default_factory=list)
    images_without_labels: int = 0
    clipped_boxes: int = 0
    dropped_boxes: int = 0
    invalid_boxes: int = 0  # NaN or infinite coordinates
    unknown_classes: dict[str, int] = field(default_factory=dict)
    corrupt_images: list[str] = field(default_factory=list)

    def count_object(self, class_name: str) -> None:
        self.objects_per_class[class_name] = self.objects_per_class.get(class_name, 0) + 1

    def count_record(self, record: ImageRecord) -> None:
        """Count one image that was kept, and its objects."""
        self.images += 1
        for box in record.boxes:
            self.count_object(box.class_name)

    def warnings(self) -> list[str]:
        """Human-readable lines for everything that was unusual (empty when the data was clean)."""
        out = []
        if self.labels_without_image:
            out.append(skipped(self.labels_without_image, "label file(s) without an image were skipped"))
        if self.clipped_boxes:
            out.append(f"{self.clipped_boxes} box(es) extended outside their image and were clipped")
        if self.invalid_boxes:
            out.append(f"{self.invalid_boxes} box(es) had NaN or infinite coordinates and were dropped")
        if self.dropped_boxes:
            out.append(f"{self.dropped_boxes} box(es) had no area inside their image and were dropped")
        if self.unknown_classes:
            listed = ", ".join(f"{k} ({v})" for k, v in sorted(self.unknown_classes.items()))
            out.append(f"objects of classes not in target_class_mapping were ignored: {listed}")
        if self.corrupt_images:
            out.append(corrupt_images_line(self.corrupt_images))
        return out


def skipped(items: list[str], what: str) -> str:
    """`N <what> (first: <item>)`: how the dataset reports say what they left out."""
    return f"{len(items)} {what} (first: {items[0]})"


def corrupt_images_line(paths: list[str]) -> str:
    return skipped(paths, "image(s) could not be decoded and were skipped") + "; use --strict to make this an error"


def clip_boxes(boxes: Iterable[BoxLabel], width: int, height: int,
               report: DatasetReport) -> tuple[BoxLabel, ...]:
    """Clip boxes to a width x height image; boxes left with no area are dropped.

    Label tools often write boxes a pixel or two outside the image; clipping keeps them usable
    while the report tells the user how often it happened. A size of 0 means unknown: no clipping.
    """
    kept = []
    for box in boxes:
        if not all(math.isfinite(v) for v in (box.x1, box.y1, box.x2, box.y2)):
            report.invalid_boxes += 1
            continue
        if width <= 0 or height <= 0:
            clipped = box
        else:
            clipped = replace(box, x1=min(max(box.x1, 0.0), width), y1=min(max(box.y1, 0.0), height),
                              x2=min(max(box.x2, 0.0), width), y2=min(max(box.y2, 0.0), height))
        if clipped.x2 <= clipped.x1 or clipped.y2 <= clipped.y1:
            report.dropped_boxes += 1
            continue
        if clipped != box:
            report.clipped_boxes += 1
        kept.append(clipped)
    return tuple(kept)


@dataclass(frozen=True)
class Detection:
    """One detected object: class, box in pixels (of the image it refers to), confidence."""

    class_name: str
    x1: float
    y1: float
    x2: float
    y2: float
    confidence: float

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def width(self) -> float:
        return self.x2 - self.x1

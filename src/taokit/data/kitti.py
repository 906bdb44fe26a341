"""KITTI `label_2` files: one object per line, `type truncated occluded alpha x1 y1 x2 y2 h w l x y z rot_y`.

Class names are lower-cased, as TAO's converter does, so spec class maps use lower case.
`DontCare` regions are skipped: taokit has no use for ignore regions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from taokit.data.image_files import IMAGE_EXTENSIONS, read_labelled_directory
from taokit.data.records import BoxLabel, DatasetReport, ImageRecord
from taokit.errors import DataError

KITTI_FIELDS = 15
FIELD_NAMES = ("type", "truncated", "occluded", "alpha", "x1", "y1", "x2", "y2",
               "h", "w", "l", "x", "y", "z", "rot_y", "score")
IGNORED_CLASSES = frozenset({"dontcare"})


def parse_kitti_line(line: str, *, where: str) -> BoxLabel | None:
    """One label line as an (unclipped) box; None for DontCare. `where` is `file:line` for errors."""
    fields = line.split()
    if len(fields) not in (KITTI_FIELDS, KITTI_FIELDS + 1):
        raise DataError(f"{where}: expected {KITTI_FIELDS} KITTI fields (16 with a score), "
                        f"found {len(fields)}; fix or delete the line")
    values = []
    for index, token in enumerate(fields[1:], start=1):
        try:
            values.append(float(token))
        except ValueError:
            raise DataError(f"{where}: field {index + 1} ({FIELD_NAMES[index]}) is not a number: "
                            f"{token!r}; fix or delete the line") from None
    class_name = fields[0].lower()
    if class_name in IGNORED_CLASSES:
        return None
    occlusion = int(values[1]) if math.isfinite(values[1]) else 0  # not used for training; NaN is no reason to stop
    return BoxLabel(class_name=class_name, x1=values[3], y1=values[4], x2=values[5], y2=values[6],
                    truncation=values[0], occlusion=occlusion, alpha=values[2])


def read_kitti_label(path: Path) -> list[BoxLabel]:
    """Every object of one KITTI label file, unclipped; blank lines are allowed."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file; KITTI labels are plain text") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read label file ({err.strerror})") from None
    boxes = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            box = parse_kitti_line(line, where=f"{path}:{number}")
            if box is not None:
                boxes.append(box)
    return boxes


def read_kitti_dataset(image_dir: Path, label_dir: Path, *, root: Path | None = None,
                       extensions: Iterable[str] = IMAGE_EXTENSIONS, strict: bool = False,
                       report: DatasetReport | None = None) -> tuple[list[ImageRecord], DatasetReport]:
    """Records for every image in `image_dir`, labelled from `label_dir/<stem>.txt`, sorted by name.

    `image` and `frame_id` are relative to `root` (default `image_dir`), so with TAO's
    `root_directory_path` as root the frame ids read `image_2/000001`. Boxes are clipped to the image.
    """
    report = report if report is not None else DatasetReport()
    records = read_labelled_directory(
        image_dir, label_dir, lambda path, _w, _h: read_kitti_label(path),
        root=root if root is not None else image_dir, extensions=extensions, strict=strict, report=report)
    return records, report


def format_detection(class_name: str, x1: float, y1: float, x2: float, y2: float, confidence: float) -> str:
    """A KITTI label line with a confidence, exactly as TAO's DetectNet_v2 inference writes it."""
    return (f"{class_name} 0.00 0 0.00 {x1:.3f} {y1:.3f} {x2:.3f} {y2:.3f} "
            f"0.00 0.00 0.00 0.00 0.00 0.00 0.00 {confidence:.3f}")

"""Ultralytics / Roboflow YOLO exports: `data.yaml` with class names, split folders of images/ and labels/.

Split folders are found the way Ultralytics finds them: a `train:`/`val:` path in data.yaml,
relative to its `path:` (or to the yaml's folder), with Roboflow's `../train/images` also tried
without the leading `../`; failing that, `<root>/<split>/images`. Labels live where the last
`images` folder of the image path is replaced by `labels`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from taokit.data.image_files import read_labelled_directory
from taokit.data.records import BoxLabel, DatasetReport, ImageRecord
from taokit.errors import DataError

DEFAULT_SPLITS = ("train", "valid", "val")


@dataclass(frozen=True)
class YoloSplit:
    name: str
    image_dir: Path
    label_dir: Path


def read_data_yaml(path: Path) -> dict[str, Any]:
    """The parsed data.yaml, with `file:line` errors for YAML that does not parse."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: data.yaml not found; check root_directory_path and data_yaml") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        reason = getattr(err, "problem", None) or "not valid YAML"
        raise DataError(f"{where}: {reason}; fix the YAML") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a mapping with names and train/val entries")
    return data


def class_names(data: dict[str, Any], path: Path) -> list[str]:
    """`names` as a list indexed by class id, lower-cased; accepts a list or an {id: name} mapping."""
    names = data.get("names")
    if isinstance(names, list):
        return [str(n).lower() for n in names]
    if isinstance(names, dict):
        try:
            by_id = {int(k): str(v).lower() for k, v in names.items()}
        except (TypeError, ValueError):
            raise DataError(f"{path}: names: keys must be class ids 0, 1, 2, ...") from None
        if sorted(by_id) != list(range(len(by_id))):
            raise DataError(f"{path}: names: class ids must be 0..{len(by_id) - 1} without gaps")
        return [by_id[i] for i in range(len(by_id))]
    raise DataError(f"{path}: names: missing; list the class names, e.g. names: [car, person]")


def label_dir_for(image_dir: Path) -> Path:
    """Ultralytics' rule: the last `images` folder in the path becomes `labels`."""
    parts = list(image_dir.parts)
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] == "images":
            parts[index] = "labels"
            return Path(*parts)
    raise DataError(f"{image_dir}: a YOLO image folder must be named 'images' (labels go in 'labels')")


def _split_image_dir(data: dict[str, Any], split: str, yaml_path: Path, root: Path) -> Path | None:
    value = data.get(split)
    if value is None:
        conventional = root / split / "images"
        return conventional if conventional.is_dir() else None
    if not isinstance(value, str):
        raise DataError(f"{yaml_path}: {split}: give one image folder as a string, found {value!r}")
    base = yaml_path.parent / str(data.get("path") or "")
    candidate = base / value
    if not candidate.is_dir() and value.startswith("../"):
        candidate = base / value[3:]
    if not candidate.is_dir():
        raise DataError(f"{yaml_path}: {split}: image folder {value!r} not found under {base}")
    return candidate


def find_yolo_splits(root: Path, data_yaml: str = "data.yaml",
                     splits: Sequence[str] = DEFAULT_SPLITS) -> tuple[list[str], list[YoloSplit]]:
    """Class names and the splits present, in `splits` order (a folder named twice is used once)."""
    yaml_path = root / data_yaml
    data = read_data_yaml(yaml_path)
    names = class_names(data, yaml_path)
    found: list[YoloSplit] = []
    for split in splits:
        image_dir = _split_image_dir(data, split, yaml_path, root)
        if image_dir is None or any(s.image_dir.resolve() == image_dir.resolve() for s in found):
            continue
        found.append(YoloSplit(split, image_dir, label_dir_for(image_dir)))
    if not found:
        raise DataError(f"{root}: no YOLO split found (looked for {', '.join(splits)} in {data_yaml} "
                        f"and for <split>/images folders)")
    return names, found


def _parse_yolo_line(line: str, names: list[str], width: int, height: int, where: str) -> BoxLabel:
    fields = line.split()
    if len(fields) != 5 and (len(fields) < 7 or len(fields) % 2 == 0):
        raise DataError(f"{where}: expected 'class cx cy w h' (5 fields) or a polygon, "
                        f"found {len(fields)} fields; fix or delete the line")
    try:
        values = [float(f) for f in fields]
    except ValueError:
        raise DataError(f"{where}: fields must be numbers: {line.strip()!r}; fix or delete the line") from None
    class_id = int(values[0]) if math.isfinite(values[0]) else -1
    if class_id != values[0] or not 0 <= class_id < len(names):
        raise DataError(f"{where}: class {fields[0]} is not a class id of data.yaml names "
                        f"(0..{len(names) - 1}); fix the line or data.yaml")
    if len(values) == 5:
        cx, cy, w, h = values[1:]
        x1, y1, x2, y2 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    else:
        xs, ys = values[1::2], values[2::2]
        x1, y1, x2, y2 = min(xs), min(ys), max(xs), max(ys)
    return BoxLabel(class_name=names[class_id], x1=x1 * width, y1=y1 * height, x2=x2 * width, y2=y2 * height)


def read_yolo_label(path: Path, names: list[str], width: int, height: int) -> list[BoxLabel]:
    """Boxes of one label file in pixels of a width x height image (polygons become their bounds)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read label file ({err})") from None
    return [_parse_yolo_line(line, names, width, height, f"{path}:{number}")
            for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def read_yolo_dataset(root: Path, *, data_yaml: str = "data.yaml", splits: Sequence[str] = DEFAULT_SPLITS,
                      strict: bool = False, report: DatasetReport | None = None
                      ) -> tuple[dict[str, list[ImageRecord]], DatasetReport]:
    """Records per split found (image paths relative to `root`), each split sorted by image name."""
    report = report if report is not None else DatasetReport()
    names, found = find_yolo_splits(root, data_yaml, splits)
    records = {}
    for split in found:
        records[split.name] = read_labelled_directory(
            split.image_dir, split.label_dir, lambda path, w, h: read_yolo_label(path, names, w, h),
            root=root, strict=strict, report=report)
    return records, report

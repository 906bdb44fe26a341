"""COCO detection JSON (`images`, `annotations` with `bbox` as x, y, width, height, `categories`).

Category names lose their spaces and are lower-cased, as TAO's COCO converter does, so a TAO
`target_class_mapping` written for `trafficlight` keeps working. Crowd annotations are skipped:
they mark regions, not single objects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taokit.data.image_files import checked_size, relative_name
from taokit.data.records import BoxLabel, DatasetReport, ImageRecord, clip_boxes
from taokit.errors import DataError


def coco_class_name(name: str) -> str:
    """TAO's rule: spaces removed, lower-cased."""
    return name.replace(" ", "").lower()


def load_coco_json(path: Path) -> dict[str, Any]:
    """The parsed file, with `DataError`s that name the file and position for unreadable JSON."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: annotation file not found; check annotation_files in the spec") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file; COCO annotations are JSON") from None
    except json.JSONDecodeError as err:
        raise DataError(f"{path}:{err.lineno}:{err.colno}: not valid JSON ({err.msg})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object with images, annotations and categories")
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            raise DataError(f"{path}: {key}: missing or not a list; a COCO file needs images, "
                            "annotations and categories")
    if not isinstance(data.setdefault("annotations", []), list):
        raise DataError(f"{path}: annotations: not a list")
    return data


def _field(path: Path, entry: Any, where: str, key: str, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(entry, dict):
        raise DataError(f"{path}: {where}: expected an object, found {type(entry).__name__}")
    value = entry.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DataError(f"{path}: {where}.{key}: missing or of the wrong type ({value!r}); fix the entry")
    return value


def _categories(path: Path, data: dict[str, Any]) -> dict[int, str]:
    return {_field(path, c, f"categories[{i}]", "id", int):
            coco_class_name(_field(path, c, f"categories[{i}]", "name", str))
            for i, c in enumerate(data["categories"])}


def _box(path: Path, ann: dict[str, Any], where: str, categories: dict[int, str]) -> BoxLabel:
    bbox = _field(path, ann, where, "bbox", list)
    if len(bbox) != 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox):
        raise DataError(f"{path}: {where}.bbox: expected [x, y, width, height] numbers, found {bbox!r}")
    category = _field(path, ann, where, "category_id", int)
    if category not in categories:
        raise DataError(f"{path}: {where}.category_id: {category} is not in categories; fix the annotation")
    x, y, w, h = (float(v) for v in bbox)
    return BoxLabel(class_name=categories[category], x1=x, y1=y, x2=x + w, y2=y + h)


def _boxes_by_image(path: Path, data: dict[str, Any], image_ids: set[int]) -> dict[int, list[BoxLabel]]:
    categories = _categories(path, data)
    boxes: dict[int, list[BoxLabel]] = {}
    for index, ann in enumerate(data["annotations"]):
        where = f"annotations[{index}]"
        image_id = _field(path, ann, where, "image_id", int)
        if image_id not in image_ids:
            raise DataError(f"{path}: {where}.image_id: {image_id} is not in images; fix the annotation")
        if ann.get("iscrowd"):
            continue
        boxes.setdefault(image_id, []).append(_box(path, ann, where, categories))
    return boxes


def read_coco(annotation_file: Path, image_dir: Path, *, root: Path | None = None, strict: bool = False,
              report: DatasetReport | None = None) -> tuple[list[ImageRecord], DatasetReport]:
    """Records for every image of `annotation_file`, in file order; images live in `image_dir`.

    `image`/`frame_id` are relative to `root` (default `image_dir`): with TAO's root_directory_path
    they read `<img_dir_name>/<file_name>`. Sizes come from the JSON when given there; an image
    listed but missing on disk is reported and skipped.
    """
    report = report if report is not None else DatasetReport()
    root = root if root is not None else image_dir
    data = load_coco_json(annotation_file)
    ids = {_field(annotation_file, e, f"images[{i}]", "id", int): i for i, e in enumerate(data["images"])}
    boxes = _boxes_by_image(annotation_file, data, set(ids))
    records = []
    for image_id, index in ids.items():
        where = f"images[{index}]"
        entry = data["images"][index]
        image = image_dir / _field(annotation_file, entry, where, "file_name", str)
        size = _image_size(entry, image, strict=strict, report=report)
        if size is None:
            continue
        name = relative_name(image, root)
        frame_id = name[: -len(image.suffix)] if image.suffix else name
        record = ImageRecord(image=name, frame_id=frame_id, width=size[0], height=size[1],
                             boxes=clip_boxes(boxes.get(image_id, []), size[0], size[1], report))
        if image_id not in boxes:
            report.images_without_labels += 1
        report.count_record(record)
        records.append(record)
    return records, report


def _image_size(entry: dict[str, Any], image: Path, *, strict: bool,
                report: DatasetReport) -> tuple[int, int] | None:
    if not image.is_file():
        if strict:
            raise DataError(f"{image}: image listed in the annotations not found; check img_dir_names")
        report.labels_without_image.append(str(image))
        return None
    width, height = entry.get("width"), entry.get("height")
    if not strict and isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    return checked_size(image, strict=strict, report=report)

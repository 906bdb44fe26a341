"""taokit's shard format: what `dataset_convert` writes and `tfrecords_path` globs point at.

TAO writes TFRecords; taokit writes JSON Lines instead, so shards need no TensorFlow and can be
read (and fixed) with any text tool. The layout:

* File names are TAO's: `<prefix>-fold-{p:03d}-of-{P:03d}-shard-{s:05d}-of-{S:05d}`, with the
  fold part left out when P is 0 and the shard part left out when S is 0; the fold of a file is
  read back from its name, so TAO globs such as `.../kitti_trainval/*` keep working.
* Each file is UTF-8, one JSON object per line, one image per object::

    {"image": "image_2/000001.png", "frame_id": "image_2/000001", "width": 1242, "height": 375,
     "objects": [{"class": "car", "box": [x1, y1, x2, y2], "truncation": 0.0, "occlusion": 0,
                  "alpha": -1.57}]}

  `image` is relative to the dataset root (TAO's `image_directory_path` at training time) and
  keeps its extension; `frame_id` is TAO's frame id (the same path without extension); boxes are
  in pixels of the original image, already clipped; class names are lower-cased.
* An empty file is a shard with no images. Files are written atomically (temporary file + rename).
"""

from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from taokit.data.records import BoxLabel, ImageRecord
from taokit.engine.files import atomic_write_text
from taokit.errors import DataError

_FOLD = re.compile(r"-fold-(\d+)-of-(\d+)(?:-shard-\d+-of-\d+)?$")


def shard_name(prefix: str | Path, fold: int, num_folds: int, shard: int, num_shards: int) -> Path:
    """TAO's shard file name; a 0 count leaves its part out (`prefix` alone when both are 0)."""
    name = str(prefix)
    if num_folds:
        name += f"-fold-{fold:03d}-of-{num_folds:03d}"
    if num_shards:
        name += f"-shard-{shard:05d}-of-{num_shards:05d}"
    return Path(name)


def shard_fold(path: Path) -> int | None:
    """The fold a shard file belongs to, from its name; None when the name has no fold part."""
    match = _FOLD.search(path.name)
    return int(match.group(1)) if match else None


def existing_shards(prefix: Path) -> list[Path]:
    """Files that a conversion to `prefix` would write or mix with (the prefix itself included)."""
    if not prefix.parent.is_dir():
        return []
    stems = (f"{prefix.name}-fold-", f"{prefix.name}-shard-")
    return sorted(p for p in prefix.parent.iterdir()
                  if p.name == prefix.name or p.name.startswith(stems))


def record_to_json(record: ImageRecord) -> dict[str, Any]:
    return {
        "image": record.image, "frame_id": record.frame_id, "width": record.width, "height": record.height,
        "objects": [{"class": b.class_name, "box": [b.x1, b.y1, b.x2, b.y2], "truncation": b.truncation,
                     "occlusion": b.occlusion, "alpha": b.alpha} for b in record.boxes],
    }


def record_from_json(data: Any) -> ImageRecord:
    """The inverse of `record_to_json`; raises KeyError/TypeError/ValueError on a malformed object."""
    if not isinstance(data, dict):
        raise TypeError(f"expected an object, found {type(data).__name__}")
    boxes = []
    for obj in data["objects"]:
        x1, y1, x2, y2 = (float(v) for v in obj["box"])
        boxes.append(BoxLabel(class_name=str(obj["class"]), x1=x1, y1=y1, x2=x2, y2=y2,
                              truncation=float(obj.get("truncation", 0.0)),
                              occlusion=int(obj.get("occlusion", 0)), alpha=float(obj.get("alpha", 0.0))))
    return ImageRecord(image=str(data["image"]), frame_id=str(data["frame_id"]), width=int(data["width"]),
                       height=int(data["height"]), boxes=tuple(boxes))


def write_shard(path: Path, records: Iterable[ImageRecord]) -> None:
    """Write one shard file atomically (an empty iterable gives an empty file)."""
    lines = [json.dumps(record_to_json(r), ensure_ascii=False) + "\n" for r in records]
    atomic_write_text(path, "".join(lines))


def read_shard(path: Path) -> list[ImageRecord]:
    """Every record of one shard file, with `file:line` errors for lines that are not records."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a taokit shard (not UTF-8 text; TAO TFRecords are not read); "
                        "convert the dataset with `tao detectnet dataset_convert`") from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(record_from_json(json.loads(line)))
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{number}: not valid JSON ({err.msg}); taokit shards are JSON Lines "
                            "written by dataset_convert") from None
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(f"{path}:{number}: not a taokit shard record ({type(err).__name__}: {err}); "
                            "re-run dataset_convert") from None
    return records


def _matching_files(pattern: str) -> list[Path]:
    expanded = os.path.expanduser(pattern)
    if os.path.isdir(expanded):
        expanded = os.path.join(expanded, "*")
    return sorted(Path(p) for p in glob.glob(expanded, recursive=True) if os.path.isfile(p))


def read_shards(glob_pattern: str | Path) -> dict[int | None, list[ImageRecord]]:
    """Records of every shard the glob matches, grouped by fold (None for files without a fold part).

    Files are read in name order, so the result does not depend on the file system's listing order.
    """
    files = _matching_files(str(glob_pattern))
    if not files:
        raise DataError(f"{glob_pattern}: no shard files match; run dataset_convert first or fix "
                        "tfrecords_path (a glob such as data/shards/kitti_trainval/*)")
    folds: dict[int | None, list[ImageRecord]] = {}
    for path in files:
        folds.setdefault(shard_fold(path), []).extend(read_shard(path))
    return folds

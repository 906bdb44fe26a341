"""DetectNet's dataset_convert: KITTI, COCO or YOLO data to taokit shards, with TAO's folds and file names.

The fold rules are TAO's (tao.md §2.11), so `validation_fold` in a TAO spec picks the same images:

* KITTI `random`: the images are sorted by name; the first `int(val_split / 100 * N)` form fold 0
  (validation), the rest fold 1 (training). With `num_partitions` 0 or 1 everything is one fold.
* KITTI `sequence`: the JSON file (relative to root_directory_path) maps a sequence name to its
  frame ids (image names without extension). Sequences sorted by size (largest first, then by
  name) are dealt round-robin to the `num_partitions` folds and the fold order is then reversed,
  as TAO does, so no sequence straddles two folds. Images in no sequence are not written.
* COCO: one fold per annotation file, in order, each with its own `num_shards` entry.
* YOLO (taokit extension): the `train` split is fold 1 and every other split found (valid/val/...)
  fold 0; without one, `val_split` percent of the sorted training images become fold 0.

Every fold is shuffled with `seed`, then cut into shards TAO's way (equal sizes, the last shard
takes the remainder). A fold with no images writes no files.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from taokit.data.coco import read_coco
from taokit.data.image_files import normalize_extension
from taokit.data.kitti import read_kitti_dataset
from taokit.data.records import DatasetReport, ImageRecord
from taokit.data.shards import existing_shards, shard_name, write_shard
from taokit.data.yolo import read_yolo_dataset
from taokit.errors import DataError, SpecError
from taokit.tasks.detectnet.spec.convert import CocoConfig, DatasetExportConfig, KittiConfig, YoloConfig


@dataclass
class ConvertSummary:
    """What a conversion wrote. Fold keys are as `read_shards` returns them (None: no fold in the name)."""

    shard_paths: list[Path]
    images_per_fold: dict[int | None, int]
    objects_per_class: dict[str, int]
    report: DatasetReport


@dataclass
class ConversionPlan:
    folds: list[list[ImageRecord]]
    num_partitions: int  # P in the file names; 0 leaves the fold part out
    num_shards: list[int] = field(default_factory=list)  # S per fold; 0 is one shard, no shard part


def convert_dataset(spec: DatasetExportConfig, output_prefix: Path, *, strict: bool = False,
                    seed: int = 42) -> ConvertSummary:
    """Read the dataset `spec` describes and write its shards as `<output_prefix>-fold-...`.

    Refuses to run when shards with the same prefix exist: mixing two conversions would silently
    duplicate or drop images.
    """
    output_prefix = Path(output_prefix)
    existing = existing_shards(output_prefix)
    if existing:
        raise DataError(f"{output_prefix}: {len(existing)} shard file(s) with this prefix already exist "
                        f"(first: {existing[0].name}); remove them or pick another -o")
    report = DatasetReport()
    plan = plan_conversion(spec, strict=strict, report=report, seed=seed)
    if not any(plan.folds):
        raise DataError(f"{output_prefix}: no images to write; check the dataset paths in the spec")
    return _write_plan(plan, output_prefix, report)


def plan_conversion(spec: DatasetExportConfig, *, strict: bool, report: DatasetReport, seed: int = 42) -> ConversionPlan:
    """The folds a conversion would write (shuffled, classes renamed), read but not written."""
    if spec.kitti_config is not None:
        plan = _plan_kitti(spec.kitti_config, strict=strict, report=report)
    elif spec.coco_config is not None:
        plan = _plan_coco(spec.coco_config, strict=strict, report=report)
    else:
        assert spec.yolo_config is not None  # the schema guarantees exactly one source
        plan = _plan_yolo(spec.yolo_config, strict=strict, report=report)
    rng = random.Random(seed)
    for i, fold in enumerate(plan.folds):
        rng.shuffle(fold)
        if spec.target_class_mapping:
            plan.folds[i] = [_rename(r, spec.target_class_mapping) for r in fold]
    return plan


def _rename(record: ImageRecord, mapping: dict[str, str]) -> ImageRecord:
    """Apply the convert spec's target_class_mapping; unmapped classes keep their source name."""
    boxes = tuple(replace(b, class_name=mapping.get(b.class_name, b.class_name)) for b in record.boxes)
    return replace(record, boxes=boxes)


def split_validation(records: list[ImageRecord], val_split: float) -> tuple[list[ImageRecord], list[ImageRecord]]:
    """(validation, training): TAO takes the first `int(val_split / 100 * N)` records as validation."""
    count = int(val_split / 100 * len(records))
    return records[:count], records[count:]


def shard_records(records: list[ImageRecord], num_shards: int) -> list[list[ImageRecord]]:
    """TAO's sharding: `N // S` records per shard, the last one taking the remainder (0 means 1 shard)."""
    num_shards = max(num_shards, 1)
    size = len(records) // num_shards
    return [records[i * size: (i + 1) * size if i + 1 < num_shards else len(records)]
            for i in range(num_shards)]


def _write_plan(plan: ConversionPlan, prefix: Path, report: DatasetReport) -> ConvertSummary:
    paths: list[Path] = []
    per_fold: dict[int | None, int] = {}
    objects: Counter[str] = Counter()
    for p, fold in enumerate(plan.folds):
        per_fold[p if plan.num_partitions else None] = len(fold)
        if not fold:
            continue
        num_shards = plan.num_shards[p]
        for s, shard in enumerate(shard_records(fold, num_shards)):
            path = shard_name(prefix, p, plan.num_partitions, s, num_shards)
            write_shard(path, shard)
            paths.append(path)
        objects.update(box.class_name for record in fold for box in record.boxes)
    return ConvertSummary(paths, per_fold, dict(sorted(objects.items())), report)


def _plan_kitti(cfg: KittiConfig, *, strict: bool, report: DatasetReport) -> ConversionPlan:
    root = Path(cfg.root_directory_path)
    records, _ = read_kitti_dataset(root / cfg.image_dir_name, root / cfg.label_dir_name, root=root,
                                    extensions=[cfg.image_extension], strict=strict, report=report)
    if cfg.partition_mode == "sequence":
        folds = _sequence_folds(records, root / cfg.kitti_sequence_to_frames_file,
                                max(cfg.num_partitions, 1), root / cfg.image_dir_name, cfg.image_extension)
    elif cfg.num_partitions == 2:
        folds = list(split_validation(records, cfg.val_split))
    elif cfg.val_split:
        raise SpecError("val_split needs num_partitions 2 (fold 0 = validation, fold 1 = training)",
                        key="kitti_config.val_split")
    else:
        folds = [records]
    return ConversionPlan(folds, cfg.num_partitions, [cfg.num_shards] * len(folds))


def _read_sequences(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: sequence file not found; kitti_sequence_to_frames_file is relative to "
                        "root_directory_path") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: not valid JSON ({err}); expected {{\"sequence\": [\"frame_id\", ...]}}") from None
    if not isinstance(data, dict) or not all(
            isinstance(v, list) and all(isinstance(f, str) for f in v) for v in data.values()):
        raise DataError(f"{path}: expected an object mapping each sequence name to a list of frame ids")
    return data


def _sequence_folds(records: list[ImageRecord], sequence_file: Path, num_folds: int, image_dir: Path,
                    extension: str) -> list[list[ImageRecord]]:
    sequences = _read_sequences(sequence_file)
    extension = normalize_extension(extension)
    by_stem = {Path(r.image).stem: r for r in records}
    ordered = sorted(sequences.items(), key=lambda item: (-len(item[1]), item[0]))
    folds: list[list[ImageRecord]] = [[] for _ in range(num_folds)]
    for index, (name, frames) in enumerate(ordered):
        for frame in frames:
            stem = frame[: -len(extension)] if frame.lower().endswith(extension) else frame
            if stem in by_stem:
                folds[index % num_folds].append(by_stem[stem])
            elif not (image_dir / f"{stem}{extension}").is_file():
                raise DataError(f"{sequence_file}: sequence {name!r} lists frame {frame!r} but "
                                f"{image_dir / (stem + extension)} does not exist; fix the sequence file")
    return folds[::-1] if num_folds > 1 else folds


def _plan_coco(cfg: CocoConfig, *, strict: bool, report: DatasetReport) -> ConversionPlan:
    count = len(cfg.annotation_files)
    if cfg.num_partitions != count and not (cfg.num_partitions == 0 and count == 1):
        raise SpecError(f"must equal the number of annotation_files ({count}): one fold per file",
                        key="coco_config.num_partitions")
    if cfg.num_shards and len(cfg.num_shards) != count:
        raise SpecError(f"give one entry per annotation file ({count})", key="coco_config.num_shards")
    root = Path(cfg.root_directory_path)
    folds = [read_coco(root / annotations, root / images, root=root, strict=strict, report=report)[0]
             for images, annotations in zip(cfg.img_dir_names, cfg.annotation_files, strict=True)]
    return ConversionPlan(folds, cfg.num_partitions, list(cfg.num_shards) or [0] * count)


def _plan_yolo(cfg: YoloConfig, *, strict: bool, report: DatasetReport) -> ConversionPlan:
    splits, _ = read_yolo_dataset(Path(cfg.root_directory_path), data_yaml=cfg.data_yaml,
                                  splits=cfg.splits, strict=strict, report=report)
    train = splits.get("train", [])
    val = [record for name, records in splits.items() if name != "train" for record in records]
    if not val:
        val, train = split_validation(train, cfg.val_split)
    return ConversionPlan([val, train], 2, [cfg.num_shards] * 2)

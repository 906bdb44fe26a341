"""The training and validation records of a DetectNet experiment, from its dataset_config.

Each data source is either shards from dataset_convert (`tfrecords_path`, whose `image` paths are
relative to the source's `image_directory_path`, TAO's rule) or, as a taokit extension, a KITTI
label folder read directly (`label_directory_path`, images from `image_directory_path`). The
records returned carry absolute image paths, so later code never needs the source roots.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from taokit.data.image_files import IMAGE_EXTENSIONS, verify_image
from taokit.data.kitti import read_kitti_dataset
from taokit.data.records import DatasetReport, ImageRecord
from taokit.data.shards import read_shards
from taokit.errors import DataError
from taokit.tasks.detectnet.spec.dataset import DatasetConfig, DataSource

Folds = dict[int | None, list[ImageRecord]]


class TrainValRecords(NamedTuple):
    """Training and validation records (absolute `image` paths) and what reading them found."""

    train: list[ImageRecord]
    val: list[ImageRecord]
    report: DatasetReport


def load_training_records(dataset_config: DatasetConfig, *, strict: bool = False) -> TrainValRecords:
    """Read every data source and split train/val the way TAO does.

    With `validation_data_source`, all data_sources train and that source validates. With
    `validation_fold` k, the records of fold k validate and all others (label folders included)
    train. With neither, everything trains and `val` is empty.
    """
    report = DatasetReport()
    extension = dataset_config.image_extension
    sources = [read_source(s, f"dataset_config.data_sources[{i}]", extension, strict=strict, report=report)
               for i, s in enumerate(dataset_config.data_sources)]
    every = [record for folds in sources for records in folds.values() for record in records]
    if dataset_config.validation_data_source is not None:
        folds = read_source(dataset_config.validation_data_source, "dataset_config.validation_data_source",
                            extension, strict=strict, report=report)
        return TrainValRecords(every, [r for records in folds.values() for r in records], report)
    fold = dataset_config.validation_fold
    if fold is None:
        return TrainValRecords(every, [], report)
    val = [record for folds in sources for record in folds.get(fold, [])]
    if not val:
        found = sorted({f for folds in sources for f in folds if f is not None})
        raise DataError(f"dataset_config.validation_fold: fold {fold} has no images (folds found: "
                        f"{', '.join(map(str, found)) or 'none'}); convert with val_split > 0, pick "
                        "another fold, or use validation_data_source")
    train = [r for folds in sources for f, records in folds.items() if f != fold for r in records]
    return TrainValRecords(train, val, report)


def read_source(source: DataSource, key: str, image_extension: str = "", *, strict: bool = False,
                report: DatasetReport) -> Folds:
    """One data source's records by fold (None for a label folder), with absolute image paths."""
    if not source.image_directory_path:
        raise DataError(f"{key}.image_directory_path: empty; shard and label images are found below it "
                        "(use the root_directory_path given to dataset_convert)")
    image_dir = Path(source.image_directory_path)
    if source.label_directory_path:
        extensions = [image_extension] if image_extension else list(IMAGE_EXTENSIONS)
        records, _ = read_kitti_dataset(image_dir, Path(source.label_directory_path), extensions=extensions,
                                        strict=strict, report=report)
        return {None: [replace(r, image=str(r.path(image_dir).absolute())) for r in records]}
    if not source.tfrecords_path:
        raise DataError(f"{key}: give tfrecords_path (shards from dataset_convert) or label_directory_path")
    shards = read_shards(source.tfrecords_path)
    folds = {fold: _resolve_images(records, image_dir, strict=strict, report=report)
             for fold, records in shards.items()}
    total = sum(len(records) for records in shards.values())
    if total and not any(folds.values()):
        first = next(r for records in shards.values() for r in records)
        raise DataError(f"{key}.image_directory_path: none of the {total} shard images exist below "
                        f"{image_dir} (first: {first.image}); set it to dataset_convert's root_directory_path")
    return folds


def _resolve_images(records: list[ImageRecord], image_dir: Path, *, strict: bool,
                    report: DatasetReport) -> list[ImageRecord]:
    resolved = []
    for record in records:
        path = record.path(image_dir)
        if not path.is_file():
            if strict:
                raise DataError(f"{path}: image of shard record {record.frame_id!r} not found; "
                                "check image_directory_path")
            report.labels_without_image.append(str(path))
            continue
        if strict:
            verify_image(path)
        record = replace(record, image=str(path.absolute()))
        report.count_record(record)
        resolved.append(record)
    return resolved

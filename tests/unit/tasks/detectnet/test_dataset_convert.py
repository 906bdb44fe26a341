"""dataset_convert: TAO's fold rules, shard names and counts, on tiny synthetic KITTI/COCO/YOLO data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from taokit.data.shards import read_shards
from taokit.errors import DataError, SpecError
from taokit.tasks.detectnet.dataset_convert import convert_dataset, shard_records, split_validation
from taokit.tasks.detectnet.spec.convert import DatasetExportConfig


def make_kitti(root: Path, count: int) -> Path:
    """`count` 32x32 PNGs in root/image_2 with one Car (clipped on odd frames) in root/label_2."""
    (root / "image_2").mkdir(parents=True)
    (root / "label_2").mkdir()
    for i in range(count):
        Image.new("RGB", (32, 32), (i, i, i)).save(root / "image_2" / f"{i:06d}.png")
        x2 = 40 if i % 2 else 20
        (root / "label_2" / f"{i:06d}.txt").write_text(
            f"Car 0.0 0 0.1 2 3 {x2} 30 1.5 1.6 3.9 1.0 1.5 20.0 -1.5\n")
    return root


def kitti_spec(root: Path, **kitti: object) -> DatasetExportConfig:
    return DatasetExportConfig.model_validate(
        {"kitti_config": {"root_directory_path": str(root), **kitti}, "image_directory_path": str(root)})


def test_random_mode_folds_shards_and_counts(tmp_path: Path) -> None:
    root = make_kitti(tmp_path / "data", 10)
    summary = convert_dataset(kitti_spec(root, val_split=25, num_shards=2), tmp_path / "out" / "kitti")
    names = [p.name for p in summary.shard_paths]
    assert names == ["kitti-fold-000-of-002-shard-00000-of-00002", "kitti-fold-000-of-002-shard-00001-of-00002",
                     "kitti-fold-001-of-002-shard-00000-of-00002", "kitti-fold-001-of-002-shard-00001-of-00002"]
    assert summary.images_per_fold == {0: 2, 1: 8}
    assert summary.objects_per_class == {"car": 10}
    assert summary.report.clipped_boxes == 5
    folds = read_shards(str(tmp_path / "out" / "*"))
    assert sorted(r.frame_id for r in folds[0]) == ["image_2/000000", "image_2/000001"]  # first int(25% of 10)
    assert len(folds[1]) == 8 and folds[1][0].image.endswith(".png")


def test_same_seed_same_shards(tmp_path: Path) -> None:
    root = make_kitti(tmp_path / "data", 6)
    first = convert_dataset(kitti_spec(root, num_shards=3), tmp_path / "a" / "k", seed=7)
    second = convert_dataset(kitti_spec(root, num_shards=3), tmp_path / "b" / "k", seed=7)
    assert [p.read_text() for p in first.shard_paths] == [p.read_text() for p in second.shard_paths]


def test_val_split_arithmetic_and_sharding() -> None:
    records = list(range(7))
    assert split_validation(records, 14) == ([], records)  # int(0.98) = 0, as in TAO
    assert split_validation(records, 30) == ([0, 1], [2, 3, 4, 5, 6])
    assert shard_records(records, 3) == [[0, 1], [2, 3], [4, 5, 6]]
    assert shard_records(records, 0) == [records]
    assert shard_records([0], 3) == [[], [], [0]]


def test_empty_validation_fold_writes_no_files(tmp_path: Path) -> None:
    root = make_kitti(tmp_path / "data", 3)
    summary = convert_dataset(kitti_spec(root, num_shards=0), tmp_path / "out" / "k")
    assert [p.name for p in summary.shard_paths] == ["k-fold-001-of-002"]
    assert summary.images_per_fold == {0: 0, 1: 3}


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    root = make_kitti(tmp_path / "data", 2)
    convert_dataset(kitti_spec(root, num_shards=1), tmp_path / "out" / "k")
    with pytest.raises(DataError, match="already exist .*remove them or pick another -o"):
        convert_dataset(kitti_spec(root, num_shards=1), tmp_path / "out" / "k")
    convert_dataset(kitti_spec(root, num_shards=1), tmp_path / "out" / "k2")  # another prefix is fine


def test_single_partition_and_val_split_conflict(tmp_path: Path) -> None:
    root = make_kitti(tmp_path / "data", 2)
    summary = convert_dataset(kitti_spec(root, num_partitions=0, num_shards=0), tmp_path / "o" / "k")
    assert [p.name for p in summary.shard_paths] == ["k"] and summary.images_per_fold == {None: 2}
    with pytest.raises(SpecError, match="val_split needs num_partitions 2"):
        convert_dataset(kitti_spec(root, num_partitions=1, val_split=10), tmp_path / "o" / "j")


def test_sequence_mode(tmp_path: Path) -> None:
    root = make_kitti(tmp_path / "data", 6)
    (root / "seq.json").write_text(json.dumps(
        {"s0": ["000000", "000001", "000002"], "s1": ["000003", "000004"], "s2": ["000005"]}))
    spec = kitti_spec(root, partition_mode="sequence", kitti_sequence_to_frames_file="seq.json",
                      num_partitions=2, num_shards=0)
    summary = convert_dataset(spec, tmp_path / "out" / "k")
    folds = read_shards(str(tmp_path / "out" / "*"))
    # s0 (3) and s2 (1) dealt to the first fold, s1 (2) to the second; then the order is reversed.
    assert sorted(r.frame_id[-1] for r in folds[0]) == ["3", "4"]
    assert sorted(r.frame_id[-1] for r in folds[1]) == ["0", "1", "2", "5"]
    assert summary.images_per_fold == {0: 2, 1: 4}
    (root / "seq.json").write_text(json.dumps({"s0": ["000009"]}))
    with pytest.raises(DataError, match="lists frame '000009'"):
        convert_dataset(spec, tmp_path / "out2" / "k")


def test_coco_one_fold_per_annotation_file(tmp_path: Path) -> None:
    for split, count in (("train", 3), ("val", 1)):
        (tmp_path / split).mkdir()
        images = [{"id": i, "file_name": f"{split}{i}.jpg", "width": 32, "height": 32} for i in range(count)]
        for image in images:
            Image.new("RGB", (32, 32)).save(tmp_path / split / image["file_name"])
        anns = [{"id": i, "image_id": i, "category_id": 1, "bbox": [1, 1, 5, 5]} for i in range(count)]
        (tmp_path / f"{split}.json").write_text(json.dumps(
            {"images": images, "annotations": anns, "categories": [{"id": 1, "name": "Person"}]}))
    spec = DatasetExportConfig.model_validate({"coco_config": {
        "root_directory_path": str(tmp_path), "img_dir_names": ["val", "train"],
        "annotation_files": ["val.json", "train.json"], "num_partitions": 2, "num_shards": [1, 2]}})
    summary = convert_dataset(spec, tmp_path / "out" / "coco")
    assert [p.name for p in summary.shard_paths] == [
        "coco-fold-000-of-002-shard-00000-of-00001",
        "coco-fold-001-of-002-shard-00000-of-00002", "coco-fold-001-of-002-shard-00001-of-00002"]
    assert summary.images_per_fold == {0: 1, 1: 3} and summary.objects_per_class == {"person": 4}
    assert read_shards(str(tmp_path / "out" / "*"))[0][0].frame_id == "val/val0"


def test_yolo_train_and_valid_splits(tmp_path: Path) -> None:
    (tmp_path / "data.yaml").write_text("names: [car]\n")
    for split, count in (("train", 4), ("valid", 2)):
        (tmp_path / split / "images").mkdir(parents=True)
        (tmp_path / split / "labels").mkdir()
        for i in range(count):
            Image.new("RGB", (32, 32)).save(tmp_path / split / "images" / f"{i}.jpg")
            (tmp_path / split / "labels" / f"{i}.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    spec = DatasetExportConfig.model_validate({"yolo_config": {"root_directory_path": str(tmp_path),
                                                               "num_shards": 0, "val_split": 50}})
    summary = convert_dataset(spec, tmp_path / "out" / "y")
    assert summary.images_per_fold == {0: 2, 1: 4}  # valid/ exists, so val_split is not used
    assert all(r.image.startswith("valid/images/") for r in read_shards(tmp_path / "out")[0])


def test_convert_spec_class_mapping_renames_classes(tmp_path: Path) -> None:
    root = make_kitti(tmp_path / "data", 4)
    spec = DatasetExportConfig.model_validate(
        {"kitti_config": {"root_directory_path": str(root), "val_split": 0, "num_shards": 1},
         "target_class_mapping": {"car": "vehicle"}})
    summary = convert_dataset(spec, tmp_path / "out" / "kitti")
    assert summary.objects_per_class == {"vehicle": 4}
    records = [r for fold in read_shards(str(tmp_path / "out" / "*")).values() for r in fold]
    assert {b.class_name for r in records for b in r.boxes} == {"vehicle"}

"""load_training_records: shards and KITTI label folders to absolute-path train/val records."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from taokit.errors import DataError
from taokit.tasks.detectnet.data import load_training_records
from taokit.tasks.detectnet.dataset_convert import convert_dataset
from taokit.tasks.detectnet.spec.convert import DatasetExportConfig
from taokit.tasks.detectnet.spec.dataset import DatasetConfig


def make_kitti(root: Path, count: int) -> Path:
    (root / "image_2").mkdir(parents=True)
    (root / "label_2").mkdir()
    for i in range(count):
        Image.new("RGB", (32, 32)).save(root / "image_2" / f"{i:06d}.png")
        (root / "label_2" / f"{i:06d}.txt").write_text(
            f"{'Car' if i % 2 else 'Pedestrian'} 0.0 0 0.1 2 3 20 30 1.5 1.6 3.9 1.0 1.5 20.0 -1.5\n")
    return root


def convert(root: Path, out: Path, val_split: float = 20) -> str:
    spec = DatasetExportConfig.model_validate({"kitti_config": {
        "root_directory_path": str(root), "val_split": val_split, "num_shards": 2}})
    convert_dataset(spec, out / "kitti")
    return str(out / "*")


def dataset_config(**fields: object) -> DatasetConfig:
    return DatasetConfig.model_validate(fields)


def test_round_trip_with_validation_fold(tmp_path: Path) -> None:
    root = make_kitti(tmp_path / "data", 10)
    glob = convert(root, tmp_path / "shards")
    train, val, report = load_training_records(dataset_config(
        data_sources=[{"tfrecords_path": glob, "image_directory_path": str(root)}], validation_fold=0))
    assert (len(train), len(val)) == (8, 2)
    assert sorted(r.frame_id for r in val) == ["image_2/000000", "image_2/000001"]
    assert all(Path(r.image).is_absolute() and Path(r.image).is_file() for r in train + val)
    assert report.images == 10 and report.objects_per_class == {"car": 5, "pedestrian": 5}


def test_no_split_and_validation_source(tmp_path: Path) -> None:
    root = make_kitti(tmp_path / "data", 5)
    other = make_kitti(tmp_path / "other", 3)
    glob = convert(root, tmp_path / "shards", val_split=0)
    train, val, _ = load_training_records(dataset_config(
        data_sources=[{"tfrecords_path": glob, "image_directory_path": str(root)}]))
    assert (len(train), len(val)) == (5, 0)
    train, val, _ = load_training_records(dataset_config(
        data_sources=[{"tfrecords_path": glob, "image_directory_path": str(root)}],
        validation_data_source={"label_directory_path": str(other / "label_2"),
                                "image_directory_path": str(other / "image_2")}))
    assert (len(train), len(val)) == (5, 3)
    assert val[0].frame_id == "000000" and Path(val[0].image) == (other / "image_2" / "000000.png").absolute()


def test_empty_validation_fold_is_an_error(tmp_path: Path) -> None:
    root = make_kitti(tmp_path / "data", 3)
    glob = convert(root, tmp_path / "shards", val_split=0)
    with pytest.raises(DataError, match="validation_fold: fold 0 has no images .folds found: 1."):
        load_training_records(dataset_config(
            data_sources=[{"tfrecords_path": glob, "image_directory_path": str(root)}], validation_fold=0))


def test_wrong_image_directory(tmp_path: Path) -> None:
    root = make_kitti(tmp_path / "data", 2)
    glob = convert(root, tmp_path / "shards")
    with pytest.raises(DataError, match=r"data_sources\[0\]\.image_directory_path: none of the 2 shard images"):
        load_training_records(dataset_config(
            data_sources=[{"tfrecords_path": glob, "image_directory_path": str(root / "image_2")}]))
    (root / "image_2" / "000001.png").unlink()
    train, _, report = load_training_records(dataset_config(
        data_sources=[{"tfrecords_path": glob, "image_directory_path": str(root)}]))
    assert len(train) == 1 and report.labels_without_image == [str(root / "image_2" / "000001.png")]
    with pytest.raises(DataError, match="000001.png: image of shard record"):
        load_training_records(dataset_config(
            data_sources=[{"tfrecords_path": glob, "image_directory_path": str(root)}]), strict=True)


def test_source_needs_shards_or_labels(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"data_sources\[0\]: give tfrecords_path"):
        load_training_records(dataset_config(data_sources=[{"image_directory_path": str(tmp_path)}]))

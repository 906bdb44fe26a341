"""The dataset_convert spec, TAO's `DatasetExportConfig` (tao.md §2.11), plus a YOLO source."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from taokit.spec.base import SpecModel, ignored, one_of


class KittiConfig(SpecModel):
    root_directory_path: str
    image_dir_name: str = "image_2"
    label_dir_name: str = "label_2"
    point_clouds_dir: str = ignored("", "taokit reads 2D boxes only")
    calibrations_dir: str = ignored("", "taokit reads 2D boxes only")
    kitti_sequence_to_frames_file: str = ""
    image_extension: str = ".png"
    num_partitions: int = Field(2, ge=0)
    num_shards: int = Field(10, ge=0)
    partition_mode: Literal["random", "sequence"] = "random"
    val_split: float = Field(0.0, ge=0.0, lt=100.0)

    @model_validator(mode="after")
    def _partitions(self) -> KittiConfig:
        if self.partition_mode == "random" and self.num_partitions not in (0, 1, 2):
            raise ValueError("partition_mode 'random' needs num_partitions 2 (validation and training)")
        if self.partition_mode == "sequence" and not self.kitti_sequence_to_frames_file:
            raise ValueError("partition_mode 'sequence' needs kitti_sequence_to_frames_file")
        return self


class CocoConfig(SpecModel):
    root_directory_path: str
    img_dir_names: list[str] = Field(default_factory=list)
    annotation_files: list[str] = Field(default_factory=list)
    num_partitions: int = Field(1, ge=0)
    num_shards: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _paired(self) -> CocoConfig:
        if len(self.img_dir_names) != len(self.annotation_files):
            raise ValueError("img_dir_names and annotation_files must have the same number of entries")
        if not self.annotation_files:
            raise ValueError("at least one annotation_files entry is needed")
        return self


class YoloConfig(SpecModel):
    """taokit extension: an Ultralytics/Roboflow export (`data.yaml`, `images/`, `labels/`)."""

    root_directory_path: str
    data_yaml: str = "data.yaml"
    splits: list[str] = Field(default_factory=lambda: ["train", "valid", "val"])
    num_shards: int = Field(10, ge=0)
    val_split: float = Field(0.0, ge=0.0, lt=100.0)


class SampleModifierConfig(SpecModel):
    filter_samples_containing_only: list[str] = Field(default_factory=list)
    dominant_target_classes: list[str] = Field(default_factory=list)
    minimum_target_class_imbalance: dict[str, float] = Field(default_factory=dict)
    num_duplicates: int = 0
    max_training_samples: int = 0
    source_to_target_class_mapping: dict[str, str] = Field(default_factory=dict)


class DatasetExportConfig(SpecModel):
    kitti_config: KittiConfig | None = None
    coco_config: CocoConfig | None = None
    yolo_config: YoloConfig | None = None
    sample_modifier_config: SampleModifierConfig = ignored(
        SampleModifierConfig, "sample duplication/filtering is not implemented")
    image_directory_path: str = ""
    target_class_mapping: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> DatasetExportConfig:
        one_of(self, ("kitti_config", "coco_config", "yolo_config"), "dataset source", required=True)
        return self

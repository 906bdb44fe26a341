"""dataset_config and augmentation_config sections of the DetectNet_v2 experiment spec (tao.md §2.2-2.3)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from taokit.spec.base import SpecModel, at_least_one, ignored
from taokit.spec.write import PROTO_ENUM

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class DataSource(SpecModel):
    tfrecords_path: str = ""
    image_directory_path: str = ""
    label_directory_path: str = Field(
        "", description="taokit extension: read KITTI label files from this directory instead of shards")
    source_weight: float = ignored(1.0, "all sources are sampled in proportion to their size")


class DatasetConfig(SpecModel):
    data_sources: Annotated[list[DataSource], at_least_one("data_sources")]
    image_extension: str = "png"
    target_class_mapping: dict[str, str] = Field(default_factory=dict)
    validation_fold: int | None = Field(None, ge=0)
    validation_data_source: DataSource | None = None
    dataloader_mode: Annotated[Literal["MULTISOURCE", "LEGACY", "DEFAULT"], PROTO_ENUM] = ignored(
        "MULTISOURCE", "taokit has one data loader")
    sampling_mode: Annotated[Literal["USER_DEFINED", "PROPORTIONAL", "UNIFORM"], PROTO_ENUM] = ignored(
        "USER_DEFINED", "sources are concatenated")

    @field_validator("target_class_mapping")
    @classmethod
    def _lower_keys(cls, value: dict[str, str]) -> dict[str, str]:
        upper = [k for k in value if k != k.lower()]
        if upper:
            raise ValueError(f"source class names are lower-cased when read; write '{upper[0].lower()}' "
                             f"instead of '{upper[0]}'")
        return value


class Preprocessing(SpecModel):
    output_image_width: int
    output_image_height: int
    output_image_min: int = ignored(0, "images are resized to output_image_width x output_image_height")
    output_image_max: int = ignored(0, "images are resized to output_image_width x output_image_height")
    enable_auto_resize: bool = False  # taokit resizes either way; false only adds a note (training.py)
    output_image_channel: Literal[3] = 3
    crop_left: int = Field(0, ge=0)
    crop_top: int = Field(0, ge=0)
    crop_right: int = Field(0, ge=0)
    crop_bottom: int = Field(0, ge=0)
    min_bbox_width: float = Field(0.0, ge=0.0)
    min_bbox_height: float = Field(0.0, ge=0.0)
    scale_width: float = ignored(0.0, "resizing follows output_image_width/height")
    scale_height: float = ignored(0.0, "resizing follows output_image_width/height")

    @field_validator("output_image_width", "output_image_height")
    @classmethod
    def _multiple_of_16(cls, value: int) -> int:
        if value <= 0 or value % 16:
            raise ValueError(f"must be a positive multiple of 16 (the network stride), got {value}")
        return value


class SpatialAugmentation(SpecModel):
    hflip_probability: Probability = 0.0
    vflip_probability: Probability = Field(
        0.0, description="read by taokit; TAO's default loader never reads it (no vertical flips there)")
    zoom_min: float = Field(1.0, gt=0.0)  # as TAO: > 1 zooms out (objects shrink), placed at random
    zoom_max: float = Field(1.0, gt=0.0)
    translate_max_x: float = Field(0.0, ge=0.0)
    translate_max_y: float = Field(0.0, ge=0.0)
    rotate_rad_max: float = Field(0.0, ge=0.0)
    # TAO replaces an unset (0) probability with 1.0: a spec that only sets rotate_rad_max always rotates
    rotate_probability: Probability = 1.0
    rotate90_probability: Probability = Field(
        0.0, description="taokit extension: probability of a quarter, half or three-quarter turn (half "
                         "only on non-square inputs); with both flips, every dihedral view of overhead imagery")
    mosaic_probability: Probability = Field(
        0.0, description="taokit extension: probability that a training image is a mosaic of four")
    close_mosaic_epochs: int = Field(
        0, ge=0, description="taokit extension: the last N epochs train without mosaics (images as they are)")
    min_box_area_fraction: Unit = Field(
        0.0, description="taokit extension: drop a box that augmentation leaves with less than this share "
                         "of its area (slivers cut by the crop or the mosaic)")

    @field_validator("rotate_probability")
    @classmethod
    def _unset_is_one(cls, value: float) -> float:
        return value or 1.0  # proto3 cannot tell 0 from unset, and TAO reads both as 1.0


class ColorAugmentation(SpecModel):
    color_shift_stddev: Unit = 0.0
    hue_rotation_max: float = Field(0.0, ge=0.0, le=360.0)
    saturation_shift_max: Unit = 0.0
    contrast_scale_max: Unit = 0.0
    contrast_center: Unit = 0.5
    brightness_scale_max: Unit = Field(
        0.0, description="taokit extension: brightness gain drawn from 1 +/- this (HSV's value jitter)")


class AugmentationConfig(SpecModel):
    preprocessing: Preprocessing
    spatial_augmentation: SpatialAugmentation = SpatialAugmentation()
    color_augmentation: ColorAugmentation = ColorAugmentation()

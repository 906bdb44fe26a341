"""dataset_config and augmentation_config of the LaneNet experiment spec."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, field_validator, model_validator

from taokit.spec.base import Extension, SpecModel, at_least_one

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def _flip_probability(value: object) -> object:
    """horizontal_flip takes a probability, or true/false as older specs write it (true: half the images)."""
    if isinstance(value, bool) or value in ("true", "false", "True", "False"):
        return 0.5 if value in (True, "true", "True") else 0.0
    return value


FlipProbability = Annotated[Probability, BeforeValidator(_flip_probability)]


class DataSource(SpecModel):
    image_directory_path: str
    label_directory_path: str = Field(description="TuSimple *.json, CULane *.lines.txt or instance-mask *.png")


class DatasetConfig(SpecModel):
    data_sources: Annotated[list[DataSource], at_least_one("data_sources")]
    image_extension: Extension = Field("jpg", description="images of CULane/mask labels: <stem>.<image_extension>")
    target_class_mapping: dict[str, str] = Field(default_factory=lambda: {"lane": "lane"})
    validation_data_sources: list[DataSource] = Field(default_factory=list)


    @field_validator("target_class_mapping")
    @classmethod
    def _lanes_only(cls, value: dict[str, str]) -> dict[str, str]:
        targets = set(value.values())
        if targets - {"lane"}:
            raise ValueError(f"the only LaneNet class is 'lane'; map label classes to it (got "
                             f"{', '.join(sorted(targets - {'lane'}))})")
        return value


class AugmentationConfig(SpecModel):
    output_width: int = Field(0, ge=0, description="0: model_config.input_image_width")
    output_height: int = Field(0, ge=0, description="0: model_config.input_image_height")
    horizontal_flip: FlipProbability = 0.5
    crop_and_resize_prob: Probability = 0.5
    # A magnification, as the TAO LaneNet guides' specs write it (zoom_min 1.0, zoom_max 2.0): above 1 a crop of
    # 1/zoom of each side resized back (zoom in), below 1 the image shrunk onto a padded canvas (zoom out).
    zoom_min: float = Field(1.0, ge=0.25, le=4.0, description="smallest magnification; < 1 zooms out (pads)")
    zoom_max: float = Field(1.0, ge=0.25, le=4.0, description="largest magnification; 2.0: up to 2x zoom in")

    @model_validator(mode="after")
    def _ordered(self) -> AugmentationConfig:
        if self.zoom_min > self.zoom_max:
            raise ValueError(f"zoom_min ({self.zoom_min}) is larger than zoom_max ({self.zoom_max})")
        return self

"""The LaneNet dataset_convert spec: lane labels in any layout, written out as TuSimple JSON lines."""

from __future__ import annotations

from pydantic import Field, field_validator

from taokit.spec.base import SpecModel
from taokit.tasks.lanenet.spec.data import DataSource


class LaneConvertSpec(SpecModel):
    data_sources: list[DataSource]
    image_extension: str = Field("jpg", description="images of CULane/mask labels: <stem>.<image_extension>")

    @field_validator("data_sources")
    @classmethod
    def _not_empty(cls, value: list[DataSource]) -> list[DataSource]:
        if not value:
            raise ValueError("at least one data_sources block is needed")
        return value

    @field_validator("image_extension")
    @classmethod
    def _bare(cls, value: str) -> str:
        return value.lstrip(".").lower()

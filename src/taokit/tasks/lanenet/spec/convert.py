"""The LaneNet dataset_convert spec: lane labels in any layout, written out as TuSimple JSON lines."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from taokit.spec.base import Extension, SpecModel, at_least_one
from taokit.tasks.lanenet.spec.data import DataSource


class LaneConvertSpec(SpecModel):
    data_sources: Annotated[list[DataSource], at_least_one("data_sources")]
    image_extension: Extension = Field("jpg", description="images of CULane/mask labels: <stem>.<image_extension>")


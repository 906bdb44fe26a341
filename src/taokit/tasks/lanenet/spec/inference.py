"""The LaneNet inference spec: which model, how to batch, how to post-process, what to write."""

from __future__ import annotations

from pydantic import Field

from taokit.spec.base import SpecModel
from taokit.tasks.lanenet.spec.model import PostprocessingConfig


class InferencerConfig(SpecModel):
    model_path: str = ""
    batch_size: int = Field(4, gt=0)
    gpu_index: int = Field(0, ge=0)
    anchor_stride: int = Field(8, ge=1, description="network rows between the points measured on each lane")


class OutputConfig(SpecModel):
    overlay: bool = True
    tusimple_json: bool = True
    culane_lines: bool = True
    overlay_linewidth: int = Field(4, ge=1)


class LaneNetInferenceSpec(SpecModel):
    inferencer_config: InferencerConfig = InferencerConfig()
    postprocessing_config: PostprocessingConfig = PostprocessingConfig()
    output_config: OutputConfig = OutputConfig()

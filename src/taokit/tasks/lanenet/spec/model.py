"""model_config and postprocessing_config of LaneNet: network shape, embedding, clustering, lane sampling."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from taokit.spec.base import SpecModel
from taokit.spec.write import PROTO_ENUM


class ModelConfig(SpecModel):
    arch: Literal["enet", "resnet"] = "enet"
    num_layers: int = Field(18, description="resnet: 18 or 34 (ignored for enet)")
    input_image_width: int = Field(512, ge=32)
    input_image_height: int = Field(256, ge=32)
    input_image_channels: Literal[3] = 3
    anchor_stride: int = Field(8, ge=1, description="network rows between the points measured on each lane")
    embedding_dim: int = Field(4, ge=2)
    pretrained_model_file: str = ""
    load_graph: bool = Field(False, description="train from a pruned model's graph (retrain)")

    @model_validator(mode="after")
    def _sizes(self) -> ModelConfig:
        for name in ("input_image_width", "input_image_height"):  # ENet's encoder and decoder work at stride 8
            if getattr(self, name) % 8:
                raise ValueError(f"{name} must be a multiple of 8, got {getattr(self, name)}")
        if self.arch == "resnet" and self.num_layers not in (18, 34):
            raise ValueError(f"resnet num_layers must be 18 or 34 for LaneNet, got {self.num_layers}")
        return self


class PostprocessingConfig(SpecModel):
    binary_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    # The paper's mean-shift: on the demo data it scores 0.955 where DBSCAN chains neighbouring lanes (0.41)
    clustering_algorithm: Annotated[Literal["DBSCAN", "MEANSHIFT"], PROTO_ENUM] = "MEANSHIFT"
    dbscan_eps: float = Field(0.5, gt=0.0, description="embedding distance; the loss pulls lanes within 0.5")
    dbscan_min_samples: int = Field(10, ge=1)
    meanshift_bandwidth: float = Field(1.5, gt=0.0, description="half of delta_d: lane means are delta_d apart")
    min_lane_pixels: int = Field(100, ge=1, description="smaller clusters are noise, at network resolution")
    max_lanes: int = Field(5, ge=1, description="the strongest lanes by pixel support; TuSimple allows 5")
    fit_order: Literal[0, 2, 3] = Field(2, description="0: the measured points; 2 or 3: a polynomial x(y)")
    max_cluster_pixels: int = Field(1500, ge=100, description="pixels clustered per image; the rest follow")
    h_samples: list[int] = Field(default_factory=list,
                                 description="output rows in image pixels; empty: range(160, 720, 10) scaled")

"""postprocessing_config: clustering and confidence per class (tao.md §2.6, §3.6)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from taokit.spec.base import SpecModel, ignored
from taokit.spec.write import PROTO_ENUM

ClusteringAlgorithm = Annotated[Literal["DBSCAN", "NMS", "HYBRID"], PROTO_ENUM]


class ClusteringConfig(SpecModel):
    coverage_threshold: float = Field(0.005, ge=0.0, le=1.0)
    minimum_bounding_box_height: int = Field(4, ge=0)
    clustering_algorithm: ClusteringAlgorithm = "DBSCAN"
    dbscan_eps: float = Field(0.2, ge=0.0, le=1.0)
    dbscan_min_samples: int = Field(1, ge=0)
    neighborhood_size: int = ignored(0, "DBSCAN works on 1 - IoU distances, not grid neighbourhoods")
    dbscan_confidence_threshold: float = Field(0.1, ge=0.0)
    nms_iou_threshold: float = Field(0.3, ge=0.0, le=1.0)
    nms_confidence_threshold: float = Field(0.0, ge=0.0)
    coverage_peak_window: int = Field(
        0, ge=0, description="taokit extension: > 1 keeps as candidates only the cells whose coverage is the "
                             "highest within this window of cells (3 = the 8 neighbours), as CenterNet picks "
                             "peaks: one box per object instead of one per cell, so that dense objects' good "
                             "boxes rank first; 0 = every cell above coverage_threshold (TAO, DeepStream)")
    nms_box_voting_iou: float = Field(
        0.0, ge=0.0, le=1.0,
        description="taokit extension: > 0 makes each box NMS keeps (NMS and HYBRID) the mean of the candidates "
                    "that overlap it by at least this IoU, itself included, weighted by coverage squared: box "
                    "voting, which averages the noise of neighbouring cells' boxes out of small objects' boxes; "
                    "0 = the kept cell's own box (TAO, DeepStream)")

    @field_validator("coverage_peak_window")
    @classmethod
    def _odd(cls, value: int) -> int:
        if value > 1 and value % 2 == 0:
            raise ValueError(f"must be odd (a window centred on the cell), got {value}; 3 is the usual choice")
        return value


class ConfidenceConfig(SpecModel):
    confidence_threshold: float = Field(0.0, ge=0.0)
    confidence_model_filename: str = ignored("", "taokit has no learned confidence model")
    normalization_mode: str = ignored("", "taokit has no learned confidence model")


class PostProcessingClassConfig(SpecModel):
    clustering_config: ClusteringConfig = ClusteringConfig()
    confidence_config: ConfidenceConfig = ignored(
        ConfidenceConfig, "taokit has no learned confidence model; filter with clustering_config.dbscan_confidence_threshold")


class PostProcessingConfig(SpecModel):
    target_class_config: dict[str, PostProcessingClassConfig] = Field(default_factory=dict)

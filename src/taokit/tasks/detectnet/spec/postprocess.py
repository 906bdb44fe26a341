"""postprocessing_config: clustering and confidence per class (tao.md §2.6, §3.6)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

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

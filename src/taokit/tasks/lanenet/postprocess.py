"""From LaneNet's outputs to lanes: threshold the lane probability, cluster the lane pixels' embeddings,
then turn each cluster into one polyline sampled at the output rows, in original-image pixels.

A cluster becomes points by averaging its pixels in bands of `anchor_stride` network rows; the points
are fitted with a polynomial x(y) (`fit_order` 2 or 3) or joined linearly (0), and sampled at the rows
(TuSimple's h_samples) between the cluster's first and last band. At most `max_lanes` lanes are kept,
those with the most pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from taokit.tasks.lanenet.clustering import cluster_embeddings
from taokit.tasks.lanenet.data import TUSIMPLE_NO_POINT
from taokit.tasks.lanenet.spec.model import PostprocessingConfig


@dataclass(frozen=True)
class LanePrediction:
    xs: tuple[float, ...]  # x at each output row (image pixels); -2 where the lane is not
    support: int  # lane pixels at network resolution

    def points(self, rows: list[int]) -> list[tuple[float, float]]:
        """(x, y) of the rows the lane covers, bottom first (CULane's order)."""
        return [(x, float(y)) for x, y in zip(self.xs, rows, strict=True) if x >= 0][::-1]


def output_rows(config: PostprocessingConfig, image_height: int) -> list[int]:
    """The spec's h_samples, else TuSimple's rows (160..710 step 10 at 720 px) scaled to the image."""
    if config.h_samples:
        return list(config.h_samples)
    return [int(round(y * image_height / 720)) for y in range(160, 720, 10)]


def predict_lanes(prob: np.ndarray, embedding: np.ndarray, image_hw: tuple[int, int], rows: list[int],
                  config: PostprocessingConfig, anchor_stride: int) -> list[LanePrediction]:
    """Lanes of one image. prob: (H, W) lane probability; embedding: (D, H, W); both at network size."""
    ys, xs = np.nonzero(prob > config.binary_threshold)
    if len(ys) == 0:
        return []
    vectors = embedding[:, ys, xs].T.astype(np.float32)
    labels = cluster_embeddings(vectors, config.clustering_algorithm, eps=config.dbscan_eps,
                                min_samples=config.dbscan_min_samples, bandwidth=config.meanshift_bandwidth,
                                max_points=config.max_cluster_pixels)
    ids, counts = np.unique(labels[labels >= 0], return_counts=True)
    order = [k for k, c in sorted(zip(ids, counts, strict=True), key=lambda kc: -kc[1])
             if c >= config.min_lane_pixels][: config.max_lanes]
    net_hw = prob.shape
    lanes = []
    for k in order:
        member = labels == k
        points = _band_points(xs[member], ys[member], anchor_stride)
        if len(points) < 2:
            continue
        # the lane covers its pixels' rows, beyond the first and last band centres
        extent = _to_image(np.array([[0.0, ys[member].min() - 0.5], [0.0, ys[member].max() + 0.5]]), net_hw,
                           image_hw)[:, 1]
        lane_xs = _sample(_to_image(points, net_hw, image_hw), rows, config.fit_order, image_hw[1], extent)
        if any(x >= 0 for x in lane_xs):
            lanes.append(LanePrediction(tuple(lane_xs), int(member.sum())))
    return lanes


def _band_points(xs: np.ndarray, ys: np.ndarray, stride: int) -> np.ndarray:
    bands = ys // stride
    points = [(xs[bands == b].mean(), ys[bands == b].mean()) for b in np.unique(bands)]
    return np.asarray(points, np.float64)


def _to_image(points: np.ndarray, net_hw: tuple[int, int], image_hw: tuple[int, int]) -> np.ndarray:
    scale = np.array([image_hw[1] / net_hw[1], image_hw[0] / net_hw[0]])
    return (points + 0.5) * scale - 0.5  # pixel centres map to pixel centres


def _sample(points: np.ndarray, rows: list[int], fit_order: int, width: int, extent: np.ndarray) -> list[float]:
    y, x = points[:, 1], points[:, 0]
    target = np.asarray(rows, np.float64)
    inside = (target >= extent[0]) & (target <= extent[1])
    if fit_order and len(points) > fit_order + 1:
        values = np.polyval(np.polyfit(y, x, fit_order), target)
    else:
        values = np.interp(target, y, x)
    keep = inside & (values >= 0) & (values < width)
    return [round(float(v), 1) if k else float(TUSIMPLE_NO_POINT) for v, k in zip(values, keep, strict=True)]

"""DetectNet_v2 training targets: the coverage rasterizer and bbox encoding of tao.md §3.2-§3.3.

Runs in data-loader workers, in numpy: per-object ellipse coverage is computed for all objects at
once (4x4 supersampling per grid cell), then objects are painted per class in ascending ymax order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SUPERSAMPLE = 4
# Sub-pixel sample offsets inside a cell: [x, x+1) sampled at 4 evenly spaced points.
_SUB = (np.arange(_SUPERSAMPLE, dtype=np.float32) + 0.5) / _SUPERSAMPLE


@dataclass(frozen=True)
class RasterizerClass:
    """Per-class rasterizer parameters (bbox_rasterizer_config.target_class_config)."""

    cov_center_x: float = 0.5
    cov_center_y: float = 0.5
    cov_radius_x: float = 1.0
    cov_radius_y: float = 1.0
    bbox_min_radius: float = 1.0


@dataclass(frozen=True)
class RasterizerParams:
    classes: tuple[RasterizerClass, ...]
    deadzone_radius: float
    input_hw: tuple[int, int]
    grid_hw: tuple[int, int]
    scale: float = 35.0
    offset: float = 0.5


@dataclass
class Targets:
    """cov (C,H,W), bbox (C,4,H,W) in scale units, cov_norm (C,H,W) = coverage / object area."""

    cov: np.ndarray
    bbox: np.ndarray
    cov_norm: np.ndarray


def _ellipses(boxes_grid: np.ndarray, cls: np.ndarray, params: RasterizerParams) -> tuple[np.ndarray, ...]:
    """Centres, coverage radii, deadzone radii and inverse areas (all (K,)) in grid units."""
    table = np.array([[c.cov_center_x, c.cov_center_y, c.cov_radius_x, c.cov_radius_y, c.bbox_min_radius]
                      for c in params.classes], dtype=np.float32)[cls]
    ccx, ccy, rx, ry, r_min = table.T
    x1, y1, x2, y2 = boxes_grid.T
    cx, cy = x1 + ccx * (x2 - x1), y1 + ccy * (y2 - y1)
    sx = np.where(ccx < 0.5, cx - x1, x2 - cx)
    sy = np.where(ccy < 0.5, cy - y1, y2 - cy)
    csx, csy = np.maximum(rx * sx, 0.1), np.maximum(ry * sy, 0.1)
    # Enforce bbox_min_radius on x, then on y, keeping the ellipse's aspect ratio.
    small = csx < r_min
    csy = np.where(small, r_min * csy / csx, csy)
    csx = np.where(small, r_min, csx)
    small = csy < r_min
    csx = np.where(small, r_min * csx / csy, csx)
    csy = np.where(small, r_min, csy)
    dz = params.deadzone_radius
    dsx = np.maximum((1.0 - dz) * csx + dz * sx, csx)
    dsy = np.maximum((1.0 - dz) * csy + dz * sy, csy)
    inv_area = 1.0 / np.maximum(4.0 * csx * csy, 1.0)
    return cx, cy, csx, csy, dsx, dsy, inv_area


def _area_fractions(cx, cy, rx, ry, grid_hw: tuple[int, int]) -> np.ndarray:  # noqa: ANN001
    """Fraction of each cell inside each ellipse, from 4x4 samples: (K, H, W)."""
    h, w = grid_hw
    xs = (np.arange(w, dtype=np.float32)[:, None] + _SUB[None, :]).reshape(-1)  # (W*4,)
    ys = (np.arange(h, dtype=np.float32)[:, None] + _SUB[None, :]).reshape(-1)  # (H*4,)
    dx = ((xs[None, :] - cx[:, None]) / rx[:, None]) ** 2  # (K, W*4)
    dy = ((ys[None, :] - cy[:, None]) / ry[:, None]) ** 2  # (K, H*4)
    inside = (dy[:, :, None] + dx[:, None, :]) < 1.0  # (K, H*4, W*4)
    k = inside.shape[0]
    return inside.reshape(k, h, _SUPERSAMPLE, w, _SUPERSAMPLE).mean(axis=(2, 4), dtype=np.float32)


def rasterize(boxes: np.ndarray, class_ids: np.ndarray, params: RasterizerParams) -> Targets:
    """Targets for one image. `boxes` (K,4) are x1,y1,x2,y2 in network-input pixels."""
    num_classes = len(params.classes)
    gh, gw = params.grid_hw
    cov = np.zeros((num_classes, gh, gw), np.float32)
    bbox = np.zeros((num_classes, 4, gh, gw), np.float32)
    cov_norm = np.zeros((num_classes, gh, gw), np.float32)
    if len(boxes) == 0:
        return Targets(cov, bbox, cov_norm)
    boxes = np.asarray(boxes, np.float32)
    class_ids = np.asarray(class_ids, np.int64)
    ih, iw = params.input_hw
    sx_px, sy_px = iw / gw, ih / gh  # pixels per grid cell (the stride)
    boxes_grid = boxes / np.array([sx_px, sy_px, sx_px, sy_px], np.float32)
    cx, cy, csx, csy, dsx, dsy, inv_area = _ellipses(boxes_grid, class_ids, params)
    coverage = _area_fractions(cx, cy, csx, csy, (gh, gw))
    deadzone = _area_fractions(cx, cy, dsx, dsy, (gh, gw))
    gx = np.arange(gw, dtype=np.float32)[None, :] * sx_px + params.offset
    gy = np.arange(gh, dtype=np.float32)[:, None] * sy_px + params.offset
    best = np.zeros((num_classes, gh, gw), np.float32)
    for k in np.argsort(boxes[:, 3], kind="stable"):  # ascending ymax: nearer objects drawn on top
        c = class_ids[k]
        a, v = deadzone[k], coverage[k]
        clear = (a >= best[c]) & (a > 0)
        cov[c][clear] = 0.0
        bbox[c][:, clear] = 0.0
        cov_norm[c][clear] = 0.0
        best[c][clear] = 0.0
        take = (v >= best[c]) & (v > 0)
        if not take.any():
            continue
        x1, y1, x2, y2 = boxes[k]
        cov[c][take] = v[take]
        cov_norm[c][take] = v[take] * inv_area[k]
        best[c][take] = v[take]
        enc = (np.broadcast_to(gx - x1, (gh, gw)), np.broadcast_to(gy - y1, (gh, gw)),
               np.broadcast_to(x2 - gx, (gh, gw)), np.broadcast_to(y2 - gy, (gh, gw)))
        for ch in range(4):
            bbox[c, ch][take] = enc[ch][take] / params.scale
    return Targets(cov, bbox, cov_norm)


def peak_coverage(boxes: np.ndarray, class_ids: np.ndarray, params: RasterizerParams) -> np.ndarray:
    """(K,) the highest coverage each object reaches in any grid cell, drawn alone: an object whose peak is
    at most 0.5 never has a cell the cost weighs as foreground."""
    if not len(boxes):
        return np.zeros(0, np.float32)
    ih, iw = params.input_hw
    gh, gw = params.grid_hw
    boxes_grid = np.asarray(boxes, np.float32) / np.array([iw / gw, ih / gh, iw / gw, ih / gh], np.float32)
    cx, cy, csx, csy, *_ = _ellipses(boxes_grid, np.asarray(class_ids, np.int64), params)
    return _area_fractions(cx, cy, csx, csy, (gh, gw)).max(axis=(1, 2))


def farthest_edges(boxes: np.ndarray, class_ids: np.ndarray, params: RasterizerParams) -> np.ndarray:
    """(K,) in pixels, the farthest box edge from the grid point of any cell that regresses the object
    (coverage above 0, drawn alone): the distance a bbox head must be able to output for it. A cell at the
    ellipse's rim is (1 + cov_radius) / 2 of the object from its far edge, not half of it."""
    if not len(boxes):
        return np.zeros(0, np.float32)
    boxes = np.asarray(boxes, np.float32)
    ih, iw = params.input_hw
    gh, gw = params.grid_hw
    sx_px, sy_px = iw / gw, ih / gh
    boxes_grid = boxes / np.array([sx_px, sy_px, sx_px, sy_px], np.float32)
    cx, cy, csx, csy, *_ = _ellipses(boxes_grid, np.asarray(class_ids, np.int64), params)
    covered = _area_fractions(cx, cy, csx, csy, (gh, gw)) > 0  # (K, H, W)
    gx = np.arange(gw, dtype=np.float32) * sx_px + params.offset
    gy = np.arange(gh, dtype=np.float32) * sy_px + params.offset
    x1, y1, x2, y2 = (boxes[:, i, None] for i in range(4))
    across = np.maximum(gx[None] - x1, x2 - gx[None])  # (K, W)
    down = np.maximum(gy[None] - y1, y2 - gy[None])  # (K, H)
    reach = np.maximum(down[:, :, None], across[:, None, :])  # (K, H, W)
    return np.where(covered, reach, 0.0).max(axis=(1, 2)).astype(np.float32)

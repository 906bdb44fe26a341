"""DetectNet_v2 grid decoding: per-cell bbox offsets to pixel boxes at network resolution (tao.md §3.5).

Every cell (i, j) of the output grid predicts, per class, the distances from its centre
(i * stride_x + offset, j * stride_y + offset) to the four box edges, divided by `scale`.
Boxes are clipped to the network input and made non-negative in size, as TAO's training-side
decoder does, so that clustering never sees inverted boxes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating]


def grid_strides(input_hw: tuple[int, int], grid_hw: tuple[int, int]) -> tuple[float, float]:
    """Pixels per output cell along (y, x); 16 for every TAO backbone, but derived, not assumed."""
    return input_hw[0] / grid_hw[0], input_hw[1] / grid_hw[1]


def _edges(
    offsets: FloatArray, gcx: FloatArray, gcy: FloatArray, input_hw: tuple[int, int], scale: float,
) -> FloatArray:
    """Edges from offsets (4, ...) and centres broadcastable to (...): returns (..., 4), clipped."""
    in_h, in_w = input_hw
    x1 = np.clip(gcx - scale * offsets[0], 0.0, in_w)
    y1 = np.clip(gcy - scale * offsets[1], 0.0, in_h)
    x2 = np.maximum(np.clip(gcx + scale * offsets[2], 0.0, in_w), x1)
    y2 = np.maximum(np.clip(gcy + scale * offsets[3], 0.0, in_h), y1)
    return np.stack([x1, y1, x2, y2], axis=-1)


def decode_boxes(bbox: FloatArray, input_hw: tuple[int, int], scale: float = 35.0,
                 offset: float = 0.5) -> FloatArray:
    """Decode one image's bbox tensor (4C, H, W) into boxes (C, H, W, 4) as (x1, y1, x2, y2) pixels."""
    bbox = np.asarray(bbox, dtype=np.float64)
    if bbox.ndim != 3 or bbox.shape[0] % 4:
        raise ValueError(f"bbox must have shape (4C, H, W), got {bbox.shape}")
    grid_h, grid_w = bbox.shape[1:]
    stride_y, stride_x = grid_strides(input_hw, (grid_h, grid_w))
    gcx = np.arange(grid_w) * stride_x + offset
    gcy = (np.arange(grid_h) * stride_y + offset)[:, None]
    per_class = bbox.reshape(-1, 4, grid_h, grid_w).transpose(1, 0, 2, 3)
    return _edges(per_class, gcx, gcy, input_hw, scale)


def decode_batch(bbox: FloatArray, input_hw: tuple[int, int], scale: float = 35.0,
                 offset: float = 0.5) -> FloatArray:
    """Decode a batch (N, 4C, H, W) into boxes (N, C, H, W, 4)."""
    bbox = np.asarray(bbox, dtype=np.float64)
    if bbox.ndim != 4:
        raise ValueError(f"bbox must have shape (N, 4C, H, W), got {bbox.shape}")
    if len(bbox) == 0:
        return np.zeros((0, bbox.shape[1] // 4, *bbox.shape[2:], 4))
    return np.stack([decode_boxes(b, input_hw, scale, offset) for b in bbox])


def local_maximum(values: FloatArray, window: int) -> FloatArray:
    """Each cell's highest value within the `window` x `window` cells centred on it (edges padded with -inf)."""
    r = window // 2
    padded = np.pad(np.asarray(values, np.float64), r, constant_values=-np.inf)
    return np.lib.stride_tricks.sliding_window_view(padded, (window, window)).max(axis=(2, 3))


def class_candidates(
    cov: FloatArray,
    bbox: FloatArray,
    class_index: int,
    coverage_threshold: float,
    input_hw: tuple[int, int],
    scale: float = 35.0,
    offset: float = 0.5,
    peak_window: int = 0,
) -> tuple[FloatArray, FloatArray]:
    """The cells of one class with coverage > threshold, as boxes (K, 4) and coverages (K,); with a
    `peak_window` (odd, > 1) only the cells whose coverage is the highest of their window (ties all kept).

    Only the selected cells are decoded, which is what keeps post-processing cheap on a sparse
    coverage map. Candidates come in row-major cell order, as TAO flattens the grid, so that
    clustering ties resolve the same way.
    """
    cov = np.asarray(cov)
    if cov.ndim != 3:
        raise ValueError(f"cov must have shape (C, H, W), got {cov.shape}")
    grid_h, grid_w = cov.shape[1:]
    if bbox.shape != (4 * cov.shape[0], grid_h, grid_w):
        raise ValueError(f"bbox shape {bbox.shape} does not match cov shape {cov.shape}")
    flat = cov[class_index].reshape(-1)
    above = flat > coverage_threshold
    if peak_window > 1:
        above &= (cov[class_index] >= local_maximum(cov[class_index], peak_window)).reshape(-1)
    cells = np.flatnonzero(above)
    offsets = np.asarray(bbox[4 * class_index:4 * class_index + 4], dtype=np.float64).reshape(4, -1)[:, cells]
    stride_y, stride_x = grid_strides(input_hw, (grid_h, grid_w))
    rows, cols = np.divmod(cells, grid_w)
    boxes = _edges(offsets, cols * stride_x + offset, rows * stride_y + offset, input_hw, scale)
    return boxes.reshape(-1, 4), flat[cells].astype(np.float64)

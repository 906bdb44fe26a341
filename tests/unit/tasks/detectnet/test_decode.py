"""Grid decoding recovers the boxes that were encoded into a hand-made output grid."""

from __future__ import annotations

import numpy as np
import pytest

from taokit.tasks.detectnet.decode import class_candidates, decode_batch, decode_boxes, grid_strides

INPUT_HW = (64, 96)  # 4 x 6 grid at stride 16


def _encode(boxes_by_cell: dict[tuple[int, int, int], tuple[float, float, float, float]], classes: int,
            grid_hw: tuple[int, int], input_hw: tuple[int, int], scale: float, offset: float) -> np.ndarray:
    """The inverse of decoding: bbox offsets (4C, H, W) that decode to the given (class, row, col) boxes."""
    stride_y, stride_x = grid_strides(input_hw, grid_hw)
    bbox = np.zeros((4 * classes, *grid_hw))
    for (c, j, i), (x1, y1, x2, y2) in boxes_by_cell.items():
        gcx, gcy = i * stride_x + offset, j * stride_y + offset
        bbox[4 * c:4 * c + 4, j, i] = [(gcx - x1) / scale, (gcy - y1) / scale,
                                       (x2 - gcx) / scale, (y2 - gcy) / scale]
    return bbox


def test_decode_recovers_known_boxes_exactly() -> None:
    # scale 32 and quarter-pixel coordinates keep every intermediate exactly representable
    known = {(0, 1, 2): (10.5, 2.5, 60.5, 40.25), (1, 3, 5): (70.0, 40.0, 95.75, 63.5),
             (1, 0, 0): (0.0, 0.0, 8.0, 12.0)}
    bbox = _encode(known, 2, (4, 6), INPUT_HW, scale=32.0, offset=0.5)
    boxes = decode_boxes(bbox, INPUT_HW, scale=32.0, offset=0.5)
    assert boxes.shape == (2, 4, 6, 4)
    for (c, j, i), box in known.items():
        assert boxes[c, j, i].tolist() == list(box)


def test_decode_with_tao_scale_and_offset() -> None:
    known = {(0, 2, 3): (20.0, 18.0, 70.0, 61.0)}
    bbox = _encode(known, 1, (4, 6), INPUT_HW, scale=35.0, offset=0.5)
    np.testing.assert_allclose(decode_boxes(bbox, INPUT_HW)[0, 2, 3], known[(0, 2, 3)], rtol=0, atol=1e-12)
    # an all-zero offset decodes to the degenerate box at the cell centre
    assert decode_boxes(bbox, INPUT_HW)[0, 1, 1].tolist() == [16.5, 16.5, 16.5, 16.5]


def test_strides_are_per_axis() -> None:
    # 64 x 96 input on a 4 x 4 grid: stride 16 vertically, 24 horizontally
    known = {(0, 1, 2): (40.0, 10.0, 60.0, 30.0)}
    bbox = _encode(known, 1, (4, 4), INPUT_HW, scale=35.0, offset=0.5)
    np.testing.assert_allclose(decode_boxes(bbox, INPUT_HW)[0, 1, 2], known[(0, 1, 2)], atol=1e-12)
    centre = decode_boxes(np.zeros((4, 4, 4)), INPUT_HW)[0, 1, 2]
    assert centre.tolist() == [48.5, 16.5, 48.5, 16.5]


def test_decode_clips_to_the_input_and_never_inverts() -> None:
    bbox = np.zeros((4, 4, 6))
    bbox[:, 0, 0] = [10.0, 10.0, 10.0, 10.0]        # far outside on every side
    bbox[:, 1, 1] = [-1.0, -1.0, -1.0, -1.0]        # x2 < x1 and y2 < y1 before the fix
    boxes = decode_boxes(bbox, INPUT_HW)
    assert boxes[0, 0, 0].tolist() == [0.0, 0.0, 96.0, 64.0]
    x1, y1, x2, y2 = boxes[0, 1, 1]
    assert x2 == x1 == 16.5 + 35.0 and y2 == y1 == 16.5 + 35.0


def test_decode_batch_matches_single_images() -> None:
    rng = np.random.default_rng(0)
    bbox = rng.normal(0, 1, size=(3, 8, 4, 6)).astype(np.float32)
    batch = decode_batch(bbox, INPUT_HW)
    assert batch.shape == (3, 2, 4, 6, 4)
    for n in range(3):
        np.testing.assert_array_equal(batch[n], decode_boxes(bbox[n], INPUT_HW))
    assert decode_batch(np.zeros((0, 8, 4, 6)), INPUT_HW).shape == (0, 2, 4, 6, 4)


def test_candidates_are_thresholded_cells_in_row_major_order() -> None:
    rng = np.random.default_rng(1)
    cov = rng.uniform(0, 1, size=(2, 4, 6))
    cov[1, 2, 3] = 0.5
    bbox = rng.normal(0, 1, size=(8, 4, 6))
    boxes, covs = class_candidates(cov, bbox, 1, 0.5, INPUT_HW)
    rows, cols = np.nonzero(cov[1] > 0.5)          # strict: the 0.5 cell is not a candidate
    np.testing.assert_array_equal(covs, cov[1, rows, cols])
    np.testing.assert_allclose(boxes, decode_boxes(bbox, INPUT_HW)[1, rows, cols], rtol=0, atol=1e-12)
    assert (2, 3) not in set(zip(rows.tolist(), cols.tolist(), strict=True))


def test_no_candidates_gives_empty_arrays() -> None:
    boxes, covs = class_candidates(np.zeros((1, 4, 6)), np.zeros((4, 4, 6)), 0, 0.0, INPUT_HW)
    assert boxes.shape == (0, 4) and covs.shape == (0,)


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="4C"):
        decode_boxes(np.zeros((3, 4, 6)), INPUT_HW)
    with pytest.raises(ValueError, match="does not match"):
        class_candidates(np.zeros((2, 4, 6)), np.zeros((4, 4, 6)), 0, 0.1, INPUT_HW)

"""Augmentation moves boxes with the pixels; colour transforms keep gray gray when only contrast changes."""

from __future__ import annotations

import numpy as np
import pytest

from taokit.tasks.detectnet.augment import apply_color, color_matrix, crop_and_resize, spatial_matrix, warp
from taokit.tasks.detectnet.spec.dataset import ColorAugmentation, Preprocessing, SpatialAugmentation


def _square_image() -> tuple[np.ndarray, np.ndarray]:
    image = np.zeros((96, 128, 3), np.uint8)
    image[20:50, 30:70] = 255
    return image, np.array([[30, 20, 70, 50]], np.float32)


@pytest.mark.parametrize("seed", range(8))
def test_boxes_follow_the_pixels(seed: int) -> None:
    image, boxes = _square_image()
    aug = SpatialAugmentation(hflip_probability=0.5, vflip_probability=0.5, zoom_min=0.8, zoom_max=1.2,
                              translate_max_x=10, translate_max_y=10)
    matrix = spatial_matrix(aug, 128, 96, np.random.default_rng(seed))
    out, moved = warp(image, boxes.copy(), matrix)
    ys, xs = np.nonzero(out[..., 0] > 127)
    x1, y1, x2, y2 = moved[0]
    assert abs(xs.min() - x1) <= 1.0 and abs(xs.max() + 1 - x2) <= 1.0
    assert abs(ys.min() - y1) <= 1.0 and abs(ys.max() + 1 - y2) <= 1.0


def test_crop_then_resize_scales_boxes() -> None:
    image, boxes = _square_image()
    pre = Preprocessing(output_image_width=64, output_image_height=48, crop_left=0, crop_top=0,
                        crop_right=128, crop_bottom=96)
    out, moved = crop_and_resize(image, boxes, pre)
    assert out.shape == (48, 64, 3)
    np.testing.assert_allclose(moved[0], [15, 10, 35, 25])


def test_color_matrix_off_and_contrast_only() -> None:
    assert color_matrix(ColorAugmentation(), np.random.default_rng(0)) is None
    m = color_matrix(ColorAugmentation(contrast_scale_max=0.5, contrast_center=0.5), np.random.default_rng(1))
    gray = np.full((2, 2, 3), 100, np.uint8)
    out = apply_color(gray, m)
    assert (out == out[..., :1]).all()  # still gray

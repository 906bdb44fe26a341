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
    matrix = spatial_matrix(aug, (128, 96), (128, 96), np.random.default_rng(seed))
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


def _white_area(image: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(image[..., 0] > 127)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)


@pytest.mark.parametrize("seed", range(6))
def test_zoom_above_one_zooms_out_at_a_random_place_as_tao(seed: int) -> None:
    image, boxes = _square_image()  # a 40x30 box
    matrix = spatial_matrix(SpatialAugmentation(zoom_min=2.0, zoom_max=2.0), (128, 96), (128, 96),
                            np.random.default_rng(seed))
    out, moved = warp(image, boxes.copy(), matrix)
    np.testing.assert_allclose(moved[0, 2:] - moved[0, :2], [20, 15], atol=1e-4)  # objects shrink by 1/zoom
    placement = matrix[:2, 2]
    assert (0 <= placement).all() and (placement <= [64, 48]).all()  # the half-size image stays inside
    np.testing.assert_allclose(_white_area(out), moved[0], atol=1.0)


def test_zoom_places_the_image_anywhere_not_only_at_the_centre() -> None:
    aug = SpatialAugmentation(zoom_min=2.0, zoom_max=2.0)
    offsets = np.array([spatial_matrix(aug, (128, 96), (128, 96), np.random.default_rng(s))[0, 2]
                        for s in range(40)])
    assert offsets.min() < 10 and offsets.max() > 54  # the centre would be 32 every time


def test_rotation_needs_only_rotate_rad_max_as_in_tao() -> None:
    aug = SpatialAugmentation.model_validate({"rotate_rad_max": 0.3})
    assert aug.rotate_probability == 1.0
    assert SpatialAugmentation.model_validate({"rotate_rad_max": 0.3, "rotate_probability": 0}).rotate_probability == 1.0
    angles = [spatial_matrix(aug, (64, 64), (64, 64), np.random.default_rng(s))[1, 0] for s in range(5)]
    assert all(abs(a) > 1e-6 for a in angles)


@pytest.mark.parametrize("seed", range(6))
def test_quarter_turns_keep_boxes_tight(seed: int) -> None:
    image = np.zeros((96, 96, 3), np.uint8)
    image[20:50, 30:70] = 255
    boxes = np.array([[30, 20, 70, 50]], np.float32)
    aug = SpatialAugmentation(rotate90_probability=1.0, hflip_probability=0.5, vflip_probability=0.5)
    out, moved = warp(image, boxes.copy(), spatial_matrix(aug, (96, 96), (96, 96), np.random.default_rng(seed)))
    np.testing.assert_allclose(_white_area(out), moved[0], atol=1e-3)  # exact: no interpolation, no hull growth
    assert sorted((moved[0, 2:] - moved[0, :2]).tolist()) == [30.0, 40.0]


def test_non_square_inputs_only_turn_half_way() -> None:
    aug = SpatialAugmentation(rotate90_probability=1.0)
    for s in range(6):
        m = spatial_matrix(aug, (128, 96), (128, 96), np.random.default_rng(s))
        np.testing.assert_allclose(m[:2, :2], -np.eye(2), atol=1e-9)


def test_a_mosaic_keeps_every_box_on_its_pixels() -> None:
    from taokit.tasks.detectnet.augment import augment, mosaic

    rng = np.random.default_rng(4)
    pieces = []
    for k in range(4):
        image = np.zeros((64, 64, 3), np.uint8)
        x, y = 8 + 10 * k, 12 + 6 * k
        image[y:y + 16, x:x + 12] = 255
        pieces.append((image, np.array([[x, y, x + 12, y + 16]], np.float32), np.array([k])))
    canvas, boxes, ids, area = mosaic(pieces, rng)
    assert canvas.shape == (128, 128, 3) and sorted(ids.tolist()) == [0, 1, 2, 3]
    for box in boxes:
        x1, y1, x2, y2 = box.astype(int)
        if x2 > x1 and y2 > y1:
            assert (canvas[y1:y2, x1:x2, 0] == 255).all()
    np.testing.assert_allclose(area, 12 * 16)
    out, moved, keep = augment(canvas, boxes, SpatialAugmentation(min_box_area_fraction=0.5), ColorAugmentation(),
                               rng, (64, 64), centred=True, source_area=area)
    assert out.shape == (64, 64, 3)
    visible = np.prod(moved[:, 2:] - moved[:, :2], axis=1)
    assert (keep == (visible >= 0.5 * 12 * 16 - 1e-6)).all()


def test_slivers_the_crop_leaves_are_dropped() -> None:
    from taokit.tasks.detectnet.augment import augment

    image = np.zeros((64, 64, 3), np.uint8)
    boxes = np.array([[0, 0, 20, 20], [30, 30, 50, 50]], np.float32)
    aug = SpatialAugmentation(translate_max_x=18, min_box_area_fraction=0.3)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        _, moved, keep = augment(image, boxes, aug, ColorAugmentation(), rng)
        visible = np.prod(moved[:, 2:] - moved[:, :2], axis=1) / 400
        assert (keep == (visible >= 0.3 - 1e-6)).all()
        assert keep[1]


def test_brightness_scales_gray_and_keeps_it_gray() -> None:
    gray = np.full((2, 2, 3), 100, np.uint8)
    levels = set()
    for seed in range(6):
        m = color_matrix(ColorAugmentation(brightness_scale_max=0.4), np.random.default_rng(seed))
        out = apply_color(gray, m)
        assert (out == out[..., :1]).all()
        levels.add(int(out[0, 0, 0]))
        assert 60 <= out[0, 0, 0] <= 140
    assert len(levels) > 3

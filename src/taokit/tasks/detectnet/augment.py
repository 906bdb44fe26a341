"""augmentation_config for DetectNet_v2: crop/resize, then a random affine and a colour transform.

Spatial: flip, zoom, translate and rotate are composed into one affine matrix applied with a single
warp; boxes move with their corners. Colour: hue rotation, saturation, contrast and a per-channel
shift are composed into one 3x4 matrix applied in one pass (as TAO's colour transform does).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from taokit.data.image_io import resize_image
from taokit.tasks.detectnet.spec.dataset import ColorAugmentation, Preprocessing, SpatialAugmentation


def crop_and_resize(image: np.ndarray, boxes: np.ndarray, pre: Preprocessing) -> tuple[np.ndarray, np.ndarray]:
    """Apply the preprocessing crop (if any), then resize to the output size; boxes follow."""
    boxes = boxes.astype(np.float32).copy()
    if pre.crop_right > pre.crop_left and pre.crop_bottom > pre.crop_top:
        image = image[pre.crop_top:pre.crop_bottom, pre.crop_left:pre.crop_right]
        boxes -= np.array([pre.crop_left, pre.crop_top, pre.crop_left, pre.crop_top], np.float32)
    h, w = image.shape[:2]
    out_w, out_h = pre.output_image_width, pre.output_image_height
    if (h, w) != (out_h, out_w):
        image = resize_image(image, (out_h, out_w))
        boxes *= np.array([out_w / w, out_h / h, out_w / w, out_h / h], np.float32)
    return np.ascontiguousarray(image), clip_boxes(boxes, out_w, out_h)


def to_source_pixels(boxes: np.ndarray, source_wh: tuple[int, int], pre: Preprocessing) -> np.ndarray:
    """Boxes in network-input pixels back in the stored image's pixels: crop_and_resize undone."""
    w, h = source_wh
    x0 = y0 = 0
    if pre.crop_right > pre.crop_left and pre.crop_bottom > pre.crop_top:
        x0, y0 = pre.crop_left, pre.crop_top
        w, h = min(pre.crop_right, w) - x0, min(pre.crop_bottom, h) - y0
    ratio = np.array([w / pre.output_image_width, h / pre.output_image_height] * 2)
    return np.asarray(boxes, np.float64).reshape(-1, 4) * ratio + np.array([x0, y0, x0, y0])


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return boxes


def spatial_matrix(aug: SpatialAugmentation, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A random 3x3 affine: flips, zoom and rotation about the centre, then a translation."""
    cx, cy = width / 2.0, height / 2.0
    sx = -1.0 if rng.random() < aug.hflip_probability else 1.0
    sy = -1.0 if rng.random() < aug.vflip_probability else 1.0
    zoom = rng.uniform(aug.zoom_min, aug.zoom_max) if aug.zoom_max != aug.zoom_min else aug.zoom_min
    angle = 0.0
    if aug.rotate_rad_max > 0 and rng.random() < aug.rotate_probability:
        angle = rng.uniform(-aug.rotate_rad_max, aug.rotate_rad_max)
    tx = rng.uniform(-aug.translate_max_x, aug.translate_max_x) if aug.translate_max_x else 0.0
    ty = rng.uniform(-aug.translate_max_y, aug.translate_max_y) if aug.translate_max_y else 0.0
    c, s = math.cos(angle), math.sin(angle)
    to_origin = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]], np.float64)
    linear = np.array([[c * zoom * sx, -s * zoom * sy, 0], [s * zoom * sx, c * zoom * sy, 0], [0, 0, 1]])
    back = np.array([[1, 0, cx + tx], [0, 1, cy + ty], [0, 0, 1]], np.float64)
    return back @ linear @ to_origin


def warp(image: np.ndarray, boxes: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Warp the image (same size, black border) and the boxes (axis-aligned hull of moved corners)."""
    h, w = image.shape[:2]
    if np.allclose(matrix, np.eye(3)):
        return image, boxes
    # Boxes use continuous coordinates (pixel i spans [i, i+1)); OpenCV puts pixel centres on integers.
    half = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    pixel_matrix = np.linalg.inv(half) @ matrix @ half
    image = cv2.warpAffine(image, pixel_matrix[:2], (w, h), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT)
    if len(boxes):
        x1, y1, x2, y2 = boxes.T
        corners = np.stack([np.stack([x1, y1], 1), np.stack([x2, y1], 1), np.stack([x1, y2], 1),
                            np.stack([x2, y2], 1)], 1)  # (K, 4, 2)
        moved = corners @ matrix[:2, :2].T + matrix[:2, 2]
        boxes = np.concatenate([moved.min(1), moved.max(1)], axis=1).astype(np.float32)
    return image, clip_boxes(boxes, w, h)


def color_matrix(aug: ColorAugmentation, rng: np.random.Generator) -> np.ndarray | None:
    """A random 3x4 colour transform on RGB in [0, 1], or None when colour augmentation is off."""
    if not (aug.hue_rotation_max or aug.saturation_shift_max or aug.contrast_scale_max or aug.color_shift_stddev):
        return None
    hue = math.radians(rng.uniform(-aug.hue_rotation_max, aug.hue_rotation_max))
    axis = np.ones(3) / math.sqrt(3.0)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotate = np.eye(3) + math.sin(hue) * k + (1 - math.cos(hue)) * (k @ k)  # Rodrigues about the gray axis
    saturation = 1.0 + rng.uniform(-aug.saturation_shift_max, aug.saturation_shift_max)
    luma = np.array([0.299, 0.587, 0.114])
    saturate = saturation * np.eye(3) + (1 - saturation) * np.outer(np.ones(3), luma)
    contrast = 1.0 + rng.uniform(-aug.contrast_scale_max, aug.contrast_scale_max)
    linear = contrast * (saturate @ rotate)
    offset = (1 - contrast) * aug.contrast_center + rng.normal(0.0, aug.color_shift_stddev or 0.0, 3)
    return np.concatenate([linear, offset[:, None]], axis=1).astype(np.float32)


def apply_color(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    rgb = image.astype(np.float32) * (1.0 / 255.0)
    out = rgb @ matrix[:, :3].T + matrix[:, 3]
    return (out.clip(0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def augment(image: np.ndarray, boxes: np.ndarray, spatial: SpatialAugmentation, color: ColorAugmentation,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Training-time augmentation of an image already at the network input size."""
    h, w = image.shape[:2]
    image, boxes = warp(image, boxes, spatial_matrix(spatial, w, h, rng))
    matrix = color_matrix(color, rng)
    if matrix is not None:
        image = apply_color(image, matrix)
    return image, boxes

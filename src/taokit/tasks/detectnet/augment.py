"""augmentation_config for DetectNet_v2: crop/resize, [a mosaic of four,] a random affine and a colour transform.

Spatial: flip, translate, zoom and rotate (TAO's order and semantics) and taokit's 90-degree turns are
composed into one affine matrix applied with a single warp; boxes move with their corners. Colour: hue
rotation, saturation, contrast, taokit's brightness and a per-channel shift are composed into one 3x4
matrix applied in one pass (as TAO's colour transform does).
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


def _crop_window(source_wh: tuple[int, int], pre: Preprocessing) -> tuple[int, int, int, int]:
    """(x0, y0, width, height) of the part of a stored image that crop_and_resize scales to the input."""
    w, h = source_wh
    if pre.crop_right > pre.crop_left and pre.crop_bottom > pre.crop_top:
        return pre.crop_left, pre.crop_top, min(pre.crop_right, w) - pre.crop_left, min(pre.crop_bottom, h) - pre.crop_top
    return 0, 0, w, h


def to_source_pixels(boxes: np.ndarray, source_wh: tuple[int, int], pre: Preprocessing) -> np.ndarray:
    """Boxes in network-input pixels back in the stored image's pixels: crop_and_resize undone."""
    x0, y0, w, h = _crop_window(source_wh, pre)
    ratio = np.array([w / pre.output_image_width, h / pre.output_image_height] * 2)
    return np.asarray(boxes, np.float64).reshape(-1, 4) * ratio + np.array([x0, y0, x0, y0])


def to_network_pixels(boxes: np.ndarray, source_wh: tuple[int, int], pre: Preprocessing) -> np.ndarray:
    """Boxes in the stored image's pixels at the network input, clipped: crop_and_resize's geometry alone."""
    x0, y0, w, h = _crop_window(source_wh, pre)
    ratio = np.array([pre.output_image_width / w, pre.output_image_height / h] * 2, np.float32)
    moved = (np.asarray(boxes, np.float32).reshape(-1, 4) - np.array([x0, y0, x0, y0], np.float32)) * ratio
    return clip_boxes(moved, pre.output_image_width, pre.output_image_height)


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
    return boxes


def _rotation(angle: float, cx: float, cy: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, cx - c * cx + s * cy], [s, c, cy - s * cx - c * cy], [0, 0, 1]], np.float64)


def spatial_matrix(aug: SpatialAugmentation, source_wh: tuple[int, int], out_wh: tuple[int, int],
                   rng: np.random.Generator, centred: bool = False) -> np.ndarray:
    """A random 3x3 affine from source pixels to output pixels, in the order of TAO's default (MULTISOURCE)
    loader: flips, translation, zoom with a random placement, rotation about the output centre; then
    taokit's 90-degree turns.

    As in TAO, `zoom > 1` zooms out (objects shrink by 1/zoom) and the zoomed image lands at a random place:
    inside the output when it is smaller, covering it when it is larger. `centred` zooms about the centre
    instead (a mosaic, whose centre is already random).
    """
    (sw, sh), (w, h) = source_wh, out_wh
    m = np.eye(3)
    if rng.random() < aug.hflip_probability:
        m = np.array([[-1, 0, sw], [0, 1, 0], [0, 0, 1]], np.float64) @ m
    if rng.random() < aug.vflip_probability:
        m = np.array([[1, 0, 0], [0, -1, sh], [0, 0, 1]], np.float64) @ m
    tx = rng.uniform(-aug.translate_max_x, aug.translate_max_x) if aug.translate_max_x else 0.0
    ty = rng.uniform(-aug.translate_max_y, aug.translate_max_y) if aug.translate_max_y else 0.0
    m = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], np.float64) @ m
    zoom = rng.uniform(aug.zoom_min, aug.zoom_max) if aug.zoom_max != aug.zoom_min else aug.zoom_min
    scale = 1.0 / zoom
    free_x, free_y = w - sw * scale, h - sh * scale  # room left (> 0) or overhang (< 0)
    if centred:
        px, py = free_x / 2, free_y / 2
    else:
        px, py = rng.uniform(min(0.0, free_x), max(0.0, free_x)), rng.uniform(min(0.0, free_y), max(0.0, free_y))
    m = np.array([[scale, 0, px], [0, scale, py], [0, 0, 1]], np.float64) @ m
    if aug.rotate_rad_max > 0 and rng.random() < aug.rotate_probability:
        m = _rotation(rng.uniform(-aug.rotate_rad_max, aug.rotate_rad_max), w / 2, h / 2) @ m
    if aug.rotate90_probability and rng.random() < aug.rotate90_probability:
        turns = int(rng.integers(1, 4)) if w == h else 2  # a quarter turn would not fit a non-square input
        m = _rotation(turns * math.pi / 2, w / 2, h / 2) @ m
    return m


def move_boxes(boxes: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Boxes through an affine: the axis-aligned hull of their moved corners, not clipped."""
    if not len(boxes):
        return boxes.astype(np.float32).reshape(-1, 4)
    x1, y1, x2, y2 = boxes.T
    corners = np.stack([np.stack([x1, y1], 1), np.stack([x2, y1], 1), np.stack([x1, y2], 1),
                        np.stack([x2, y2], 1)], 1)  # (K, 4, 2)
    moved = corners @ matrix[:2, :2].T + matrix[:2, 2]
    return np.concatenate([moved.min(1), moved.max(1)], axis=1).astype(np.float32)


def warp(image: np.ndarray, boxes: np.ndarray, matrix: np.ndarray, out_wh: tuple[int, int] | None = None
         ) -> tuple[np.ndarray, np.ndarray]:
    """Warp the image (to `out_wh`, default its own size; black border) and the boxes (clipped hulls)."""
    h, w = image.shape[:2]
    out_w, out_h = out_wh or (w, h)
    if np.allclose(matrix, np.eye(3)) and (out_w, out_h) == (w, h):
        return image, boxes
    # Boxes use continuous coordinates (pixel i spans [i, i+1)); OpenCV puts pixel centres on integers.
    half = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    pixel_matrix = np.linalg.inv(half) @ matrix @ half
    image = cv2.warpAffine(image, pixel_matrix[:2], (out_w, out_h), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT)
    return image, clip_boxes(move_boxes(boxes, matrix), out_w, out_h)


def mosaic(pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]], rng: np.random.Generator
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Four (image, boxes, class ids) of one size H x W on a 2H x 2W canvas, meeting at a random centre.

    Returns the canvas, the boxes clipped to it, their class ids and their areas before clipping (so that
    a box the canvas cuts to a sliver can be told from a small one).
    """
    h, w = pieces[0][0].shape[:2]
    canvas = np.zeros((2 * h, 2 * w, 3), np.uint8)
    xc, yc = int(rng.uniform(w / 2, 1.5 * w)), int(rng.uniform(h / 2, 1.5 * h))
    all_boxes, all_ids, areas = [], [], []
    for k, (image, boxes, ids) in enumerate(pieces):
        x0 = xc - w if k in (0, 2) else xc  # top-left, top-right, bottom-left, bottom-right
        y0 = yc - h if k in (0, 1) else yc
        cx1, cy1, cx2, cy2 = max(x0, 0), max(y0, 0), min(x0 + w, 2 * w), min(y0 + h, 2 * h)
        canvas[cy1:cy2, cx1:cx2] = image[cy1 - y0:cy2 - y0, cx1 - x0:cx2 - x0]
        shifted = boxes.reshape(-1, 4) + np.array([x0, y0, x0, y0], np.float32)
        areas.append(np.prod(np.clip(shifted[:, 2:] - shifted[:, :2], 0, None), axis=1))
        all_boxes.append(clip_boxes(shifted.copy(), 2 * w, 2 * h))
        all_ids.append(ids)
    return (canvas, np.concatenate(all_boxes).astype(np.float32), np.concatenate(all_ids),
            np.concatenate(areas).astype(np.float32))


def color_matrix(aug: ColorAugmentation, rng: np.random.Generator) -> np.ndarray | None:
    """A random 3x4 colour transform on RGB in [0, 1], or None when colour augmentation is off."""
    if not (aug.hue_rotation_max or aug.saturation_shift_max or aug.contrast_scale_max or aug.color_shift_stddev
            or aug.brightness_scale_max):
        return None
    hue = math.radians(rng.uniform(-aug.hue_rotation_max, aug.hue_rotation_max))
    axis = np.ones(3) / math.sqrt(3.0)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rotate = np.eye(3) + math.sin(hue) * k + (1 - math.cos(hue)) * (k @ k)  # Rodrigues about the gray axis
    saturation = 1.0 + rng.uniform(-aug.saturation_shift_max, aug.saturation_shift_max)
    luma = np.array([0.299, 0.587, 0.114])
    saturate = saturation * np.eye(3) + (1 - saturation) * np.outer(np.ones(3), luma)
    contrast = 1.0 + rng.uniform(-aug.contrast_scale_max, aug.contrast_scale_max)
    # taokit's brightness (HSV's value gain): scales every channel alike, after the contrast
    brightness = 1.0 + rng.uniform(-aug.brightness_scale_max, aug.brightness_scale_max) if aug.brightness_scale_max else 1.0
    linear = brightness * contrast * (saturate @ rotate)
    offset = brightness * (1 - contrast) * aug.contrast_center + rng.normal(0.0, aug.color_shift_stddev or 0.0, 3)
    return np.concatenate([linear, offset[:, None]], axis=1).astype(np.float32)


def apply_color(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    rgb = image.astype(np.float32) * (1.0 / 255.0)
    out = rgb @ matrix[:, :3].T + matrix[:, 3]
    return (out.clip(0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def augment(image: np.ndarray, boxes: np.ndarray, spatial: SpatialAugmentation, color: ColorAugmentation,
            rng: np.random.Generator, out_hw: tuple[int, int] | None = None, centred: bool = False,
            source_area: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training-time augmentation to the network input size (`out_hw`, default the image's own).

    Returns the image, the boxes (clipped) and which boxes to keep: with `min_box_area_fraction`, a box
    that keeps less than that share of its area (`source_area`, default its area in `image`) is dropped,
    so that no sliver the crop cut off becomes a target.
    """
    h, w = image.shape[:2]
    out_h, out_w = out_hw or (h, w)
    matrix = spatial_matrix(spatial, (w, h), (out_w, out_h), rng, centred=centred)
    image, moved = warp(image, boxes, matrix, (out_w, out_h))
    keep = np.ones(len(moved), bool)
    if spatial.min_box_area_fraction > 0 and len(moved):
        area = source_area if source_area is not None else np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
        gain = abs(np.linalg.det(matrix[:2, :2]))
        visible = np.prod(np.clip(moved[:, 2:] - moved[:, :2], 0, None), axis=1)
        keep = visible >= spatial.min_box_area_fraction * area * gain - 1e-6
    matrix = color_matrix(color, rng)
    if matrix is not None:
        image = apply_color(image, matrix)
    return image, moved, keep

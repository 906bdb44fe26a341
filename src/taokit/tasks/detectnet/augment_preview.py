"""What the network sees: `tao dataset validate`'s augmentation preview and its small-object check.

The preview is one PNG: a row per training image, a column per augmentation the spec turns on (each alone,
forced on so that it shows), then the sample as training draws it at the first epoch with every
augmentation, and at the close-mosaic tail. Boxes are drawn as training keeps them (slivers dropped), and
the grid cells whose coverage target is above 0.5 are tinted: a box without a tinted cell is an object the
coverage head never learns as foreground.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from taokit.errors import DataError
from taokit.tasks.detectnet.dataset import Sample, TrainDataset, rasterizer_params
from taokit.tasks.detectnet.spec import DetectNetExperiment
from taokit.tasks.detectnet.spec.dataset import ColorAugmentation, SpatialAugmentation
from taokit.tasks.detectnet.spec.model import MAX_BBOX_BINS
from taokit.tasks.detectnet.targets import farthest_edges, peak_coverage, rasterize

ROWS = 4  # training images shown
PANEL = 256  # longest side of one panel, pixels
SMALL_CELLS = 3.0  # a median object under this many grid cells across is small for the grid


@dataclass(frozen=True)
class Column:
    title: str
    spatial: SpatialAugmentation
    color: ColorAugmentation
    epoch: int = 1
    augmented: bool = True  # False: the sample as read, before any draw


def preview_columns(spec: DetectNetExperiment) -> list[Column]:
    """One column per augmentation the spec turns on, each alone; then all of them, as training draws."""
    s, c = spec.augmentation_config.spatial_augmentation, spec.augmentation_config.color_augmentation
    off, no_color = SpatialAugmentation(), ColorAugmentation()
    alone: list[tuple[str, dict[str, float]]] = []
    if s.hflip_probability or s.vflip_probability:
        flips = "+".join(k for k, p in (("h", s.hflip_probability), ("v", s.vflip_probability)) if p)
        alone.append((f"flip {flips}", {"hflip_probability": float(s.hflip_probability > 0),
                                        "vflip_probability": float(s.vflip_probability > 0)}))
    if (s.zoom_min, s.zoom_max) != (1.0, 1.0):
        alone.append((f"zoom {s.zoom_min:g}-{s.zoom_max:g}", {"zoom_min": s.zoom_min, "zoom_max": s.zoom_max}))
    if s.translate_max_x or s.translate_max_y:
        alone.append((f"translate {s.translate_max_x:g},{s.translate_max_y:g}px",
                      {"translate_max_x": s.translate_max_x, "translate_max_y": s.translate_max_y}))
    if s.rotate_rad_max:
        alone.append((f"rotate {s.rotate_rad_max:g} rad", {"rotate_rad_max": s.rotate_rad_max, "rotate_probability": 1.0}))
    if s.rotate90_probability:
        alone.append(("90-degree turns", {"rotate90_probability": 1.0}))
    if s.mosaic_probability:
        alone.append(("mosaic of 4", {"mosaic_probability": 1.0, "min_box_area_fraction": s.min_box_area_fraction}))
    columns = [Column("as read", off, no_color, augmented=False)]
    columns += [Column(title, off.model_copy(update=keys), no_color) for title, keys in alone]
    if c != no_color:
        columns.append(Column("colour", off, c))
    columns.append(Column("training, epoch 1", s, c))
    epochs = spec.training_config.num_epochs
    if s.mosaic_probability and s.close_mosaic_epochs:
        columns.append(Column(f"last {s.close_mosaic_epochs} epochs", s, c, epoch=epochs))
    return columns


def _panel(image: np.ndarray, boxes: np.ndarray, class_ids: np.ndarray, data: TrainDataset, title: str):  # noqa: ANN202
    from PIL import Image, ImageDraw

    from taokit.tasks.detectnet.visualize import default_color

    h, w = image.shape[:2]
    cov = rasterize(boxes, class_ids, data.params).cov.max(axis=0) if len(boxes) else None
    shown = image.astype(np.float32)
    if cov is not None:  # tint the cells training treats as foreground (target > 0.5)
        gh, gw = cov.shape
        cell = np.kron((cov > 0.5).astype(np.float32), np.ones((math.ceil(h / gh), math.ceil(w / gw)), np.float32))[:h, :w]
        shown[..., 1] = shown[..., 1] * (1 - 0.45 * cell) + 255 * 0.45 * cell
    scale = PANEL / max(h, w)
    pil = Image.fromarray(shown.clip(0, 255).astype(np.uint8)).resize((round(w * scale), round(h * scale)))
    draw = ImageDraw.Draw(pil)
    for (x1, y1, x2, y2), k in zip(boxes.tolist(), class_ids.tolist(), strict=True):
        draw.rectangle([x1 * scale, y1 * scale, x2 * scale, y2 * scale], outline=default_color(int(k) + 1))
    draw.rectangle([0, 0, draw.textbbox((0, 0), title)[2] + 4, 12], fill=(0, 0, 0))
    draw.text((2, 0), title, fill=(255, 255, 255))
    return pil


def save_preview(spec: DetectNetExperiment, samples: list[Sample], grid_hw: tuple[int, int], path: Path,
                 rows: int = ROWS) -> bool:
    """Write the preview PNG (atomically) for up to `rows` training images, spread over the dataset;
    False (nothing written) when no picked image decodes."""
    from PIL import Image

    from taokit.engine.files import atomic_write_with

    data = TrainDataset(samples, spec, spec.random_seed, grid_hw)
    picks = sorted({int(i) for i in np.linspace(0, len(samples) - 1, min(rows, len(samples)))})
    columns = preview_columns(spec)
    panels = []
    for index in picks:
        try:
            image, boxes, class_ids = data.resized(index)
            row = []
            for column in columns:
                data.spatial, data.color = column.spatial, column.color
                out = data.augmented(column.epoch, index, image, boxes, class_ids) if column.augmented else \
                    (image, boxes, class_ids)
                row.append(_panel(*data.keep_trainable(*out), data, column.title))
        except DataError:
            continue  # an undecodable image (or a mosaic piece): the image scan reports it
        panels += row
    if not panels:
        return False
    (pw, ph), shown = panels[0].size, len(panels) // len(columns)
    sheet = Image.new("RGB", (pw * len(columns) + 2 * (len(columns) - 1), ph * shown + 2 * (shown - 1)),
                      (255, 255, 255))
    for k, panel in enumerate(panels):
        line, col = divmod(k, len(columns))
        sheet.paste(panel, (col * (pw + 2), line * (ph + 2)))
    atomic_write_with(path, lambda handle: sheet.save(handle, format="PNG"))
    return True


def small_object_advice(spec: DetectNetExperiment, samples: list[Sample], grid_hw: tuple[int, int],
                        limit: int = 2000) -> list[str]:
    """Lines saying when objects are small for the grid (median under SMALL_CELLS cells across), when
    many of them never get a foreground cell (coverage above 0.5), and when some are too large for the edge
    distributions (bbox_distribution_bins), with what to change. Reads up to
    `limit` training images' sizes (headers only)."""
    from PIL import Image

    from taokit.tasks.detectnet.augment import to_network_pixels

    pre = spec.augmentation_config.preprocessing
    params = rasterizer_params(spec, grid_hw)
    bins = spec.model_config_.bbox_distribution_bins
    sizes, peaks, reaches = [], [], []
    for sample in samples[:limit]:
        if not len(sample.boxes):
            continue
        try:
            with Image.open(sample.image) as opened:
                w, h = opened.size
        except OSError:
            continue  # the image scan reports it
        boxes = to_network_pixels(sample.boxes, (w, h), pre)
        kept = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        sizes.append(boxes[kept, 2:] - boxes[kept, :2])
        peaks.append(peak_coverage(boxes[kept], sample.class_ids[kept], params))
        if bins:
            reaches.append(farthest_edges(boxes[kept], sample.class_ids[kept], params))
    if not sizes:
        return []
    size, peak = np.concatenate(sizes), np.concatenate(peaks)
    stride = pre.output_image_width / grid_hw[1]
    w, h = np.median(size, axis=0)
    cells = min(w, h) / stride
    lines = []
    if cells < SMALL_CELLS:
        todo = ["model_config.output_stride: 8"] if stride > 8 else []
        todo.append("a larger input (augmentation_config.preprocessing output_image_width/height)")
        lines.append(f"objects are small for the grid: the median object is {w:.0f}x{h:.0f} px at the network "
                     f"input, {cells:.1f} cells across at stride {stride:g} (under {SMALL_CELLS:g}); try "
                     + " or ".join(todo))
    starved = float(np.mean(peak <= 0.5))
    if starved > 0.1:
        lines.append(f"{100 * starved:.0f}% of the objects have no grid cell with a coverage target above 0.5 (the "
                     "cost never weighs them as foreground): raise bbox_rasterizer_config's bbox_min_radius "
                     "(grid cells; 1.0 or more) or cov_radius_x/y, or use a finer grid")
    if bins:  # a distribution reaches bins-1 cells from a cell's grid point; farther edges are cut there
        need = np.concatenate(reaches) / stride
        cut = float(np.mean(need > bins - 1))
        if cut > 0.01:
            enough = int(np.ceil(np.percentile(need, 99))) + 1  # bins for 99% of the objects
            coarser = "model_config.output_stride: 16" if stride < 16 else "a smaller input"
            fix = f"raise it to {enough}" if enough <= MAX_BBOX_BINS else f"it stops at {MAX_BBOX_BINS}: use {coarser}"
            lines.append(f"{100 * cut:.0f}% of the objects have box edges more than {(bins - 1) * stride:g} px "
                         f"from a grid point that regresses them ({bins - 1} cells of {stride:g} px, the reach of "
                         f"model_config.bbox_distribution_bins {bins}): the boxes are cut there; {fix}")
    return lines

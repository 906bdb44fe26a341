"""`tao dataset generate lanenet`: synthetic road scenes with TuSimple labels (the demo and test data).

Each scene is a road seen from a car: 2-4 lane lines in perspective, straight or curved, solid or
dashed, white or yellow, under random shadows, with a car-like occluder now and then. Labels follow
TuSimple exactly: JSON lines with `raw_file`, `h_samples` (160..710 step 10, scaled to the image height)
and one x per row (-2 where the lane is not in the image), drawn through dashes and occluders as
TuSimple's annotators did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from taokit.engine.files import atomic_write_text


@dataclass(frozen=True)
class SceneLayout:
    width: int = 1280
    height: int = 720


def tusimple_rows(height: int) -> list[int]:
    """TuSimple's rows (160..710 step 10 on 720-pixel images), scaled to `height`."""
    return [int(round(y * height / 720)) for y in range(160, 720, 10)]


def _lane_xs(ys: np.ndarray, base: float, curve: float, horizon: float, vp_x: float, height: int, width: int
             ) -> np.ndarray:
    depth = (ys - horizon) / (height - horizon)  # 1 at the bottom row, 0 at the horizon
    return vp_x + base * depth * width + curve * (1.0 - depth) ** 2 * width


def _scene(rng: np.random.Generator, layout: SceneLayout) -> tuple[np.ndarray, list[list[float]], list[int]]:
    w, h = layout.width, layout.height
    horizon = h * rng.uniform(0.36, 0.44)
    vp_x = w * rng.uniform(0.42, 0.58)
    curve = rng.uniform(-0.25, 0.25) if rng.random() < 0.6 else 0.0
    image = np.empty((h, w, 3), np.uint8)
    sky = np.array(rng.uniform([150, 170, 190], [200, 215, 240]), np.float32)
    image[: int(horizon)] = sky.astype(np.uint8)
    ground = np.array(rng.uniform([60, 90, 40], [100, 140, 80]), np.float32)
    image[int(horizon):] = ground.astype(np.uint8)
    count = int(rng.integers(2, 5))
    spacing = rng.uniform(0.28, 0.38)
    first = -spacing * (count - 1) / 2 + rng.uniform(-0.12, 0.12)
    bases = [first + i * spacing for i in range(count)]
    rows = np.arange(int(horizon) + 1, h, dtype=np.float32)
    edges = [_lane_xs(rows, b, curve, horizon, vp_x, h, w) for b in (bases[0] - 0.1, bases[-1] + 0.1)]
    road = np.concatenate([np.stack([edges[0], rows], 1), np.stack([edges[1], rows], 1)[::-1]]).astype(np.int32)
    asphalt = int(rng.integers(70, 120))
    cv2.fillPoly(image, [road], (asphalt, asphalt, asphalt + int(rng.integers(-5, 6))))
    top = horizon + (h - horizon) * rng.uniform(0.04, 0.12)  # lanes fade out before the horizon
    for base in bases:
        _draw_lane(image, rng, base, curve, horizon, vp_x, top)
    _shadows(image, rng, horizon)
    _occluder(image, rng, horizon, vp_x)
    noise = rng.normal(0.0, 4.0, image.shape)
    image = np.clip(image.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    h_samples = tusimple_rows(h)
    lanes = []
    for base in bases:
        ys = np.asarray(h_samples, np.float32)
        xs = _lane_xs(ys, base, curve, horizon, vp_x, h, w)
        keep = (ys >= top) & (xs >= 0) & (xs < w)
        lanes.append([round(float(x), 1) if k else -2 for x, k in zip(xs, keep, strict=True)])
    return image, lanes, h_samples


def _draw_lane(image: np.ndarray, rng: np.random.Generator, base: float, curve: float, horizon: float,
               vp_x: float, top: float) -> None:
    h, w = image.shape[:2]
    ys = np.arange(int(top), h, 2, dtype=np.float32)
    xs = _lane_xs(ys, base, curve, horizon, vp_x, h, w)
    color = (235, 235, 235) if rng.random() < 0.75 else (225, 190, 40)
    dashed = rng.random() < 0.5
    period, phase = rng.uniform(0.25, 0.4), rng.uniform(0, 1)
    for (x0, y0), (x1, y1) in zip(zip(xs, ys, strict=True), zip(xs[1:], ys[1:], strict=True), strict=False):
        depth = (y0 - horizon) / (h - horizon)
        if dashed and ((1.0 / max(depth, 1e-3)) * 0.35 / period + phase) % 1.0 > 0.55:
            continue  # dashes get shorter with distance, as in perspective
        thickness = max(1, int(round(2 + 14 * depth * w / 1280)))
        cv2.line(image, (int(x0), int(y0)), (int(x1), int(y1)), color, thickness, cv2.LINE_AA)


def _shadows(image: np.ndarray, rng: np.random.Generator, horizon: float) -> None:
    h, w = image.shape[:2]
    for _ in range(int(rng.integers(0, 3))):
        y0 = rng.uniform(horizon, h)
        band = np.array([[0, y0], [w, y0 + rng.uniform(-80, 80)], [w, y0 + rng.uniform(40, 160)],
                         [0, y0 + rng.uniform(40, 160)]], np.int32)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [band], 1)
        image[mask.astype(bool)] = (image[mask.astype(bool)] * rng.uniform(0.45, 0.7)).astype(np.uint8)


def _occluder(image: np.ndarray, rng: np.random.Generator, horizon: float, vp_x: float) -> None:
    if rng.random() > 0.35:
        return
    h, w = image.shape[:2]
    depth = rng.uniform(0.15, 0.5)
    y = horizon + depth * (h - horizon)
    size = depth * w * 0.25
    x = vp_x + rng.uniform(-0.4, 0.4) * depth * w
    color = tuple(int(c) for c in rng.integers(20, 200, 3))
    cv2.rectangle(image, (int(x - size / 2), int(y - size * 0.7)), (int(x + size / 2), int(y)), color, -1)


def generate(output_dir: Path, num_images: int = 300, *, seed: int = 0, layout: SceneLayout = SceneLayout(),
             val_fraction: float = 0.2) -> dict[str, int]:
    """Write images/ and TuSimple labels (train_labels/, val_labels/); returns images per split."""
    rng = np.random.default_rng(seed)
    images = output_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    val_count = max(1, int(round(num_images * val_fraction))) if num_images > 1 else 0
    lines: dict[str, list[str]] = {"train": [], "val": []}
    for i in range(num_images):
        image, lanes, h_samples = _scene(rng, layout)
        name = f"{i:05d}.jpg"
        cv2.imwrite(str(images / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
        split = "val" if i >= num_images - val_count else "train"
        lines[split].append(json.dumps({"lanes": lanes, "h_samples": h_samples, "raw_file": name}))
    for split, entries in lines.items():
        atomic_write_text(output_dir / f"{split}_labels" / f"label_data_{split}.json",
                          "".join(e + "\n" for e in entries))
    return {split: len(entries) for split, entries in lines.items()}

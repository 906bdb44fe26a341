"""A small synthetic ImageFolder dataset: one shape per class, random colour, size and place, on noise.

The class is the shape (circle, square, triangle, cross), never the colour, so a model has to look at
outlines. Written as `train/`, `val/` and `test/` folders of `<class>/<image>.png`, deterministic per seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("circle", "cross", "square", "triangle")
SPLITS = (("train", 0.7), ("val", 0.15), ("test", 0.15))


def _background(rng: np.random.Generator, size: int, base: np.ndarray) -> Image.Image:
    noise = rng.normal(0, rng.uniform(3, 15), (size, size, 3))
    grad = np.linspace(-20, 20, size)[:, None, None] * rng.uniform(-1, 1, 3)
    return Image.fromarray(np.clip(base + grad + noise, 0, 255).astype(np.uint8))


def _draw(draw: ImageDraw.ImageDraw, shape: str, box: tuple[float, float, float, float],
          color: tuple[int, ...], width: int) -> None:
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    if shape == "circle":
        draw.ellipse(box, fill=color)
    elif shape == "square":
        draw.rectangle(box, fill=color)
    elif shape == "triangle":
        draw.polygon([(cx, y1), (x2, y2), (x1, y2)], fill=color)
    else:
        draw.rectangle([cx - width, y1, cx + width, y2], fill=color)
        draw.rectangle([x1, cy - width, x2, cy + width], fill=color)


def _image(rng: np.random.Generator, shape: str, size: int) -> Image.Image:
    base = rng.uniform(30, 225, 3)
    image = _background(rng, size, base)
    draw = ImageDraw.Draw(image)
    side = rng.uniform(0.4, 0.8) * size
    x1, y1 = rng.uniform(0, size - side, 2)
    # a random colour, pushed away from the background so that the outline is always visible
    color = rng.uniform(0, 255, 3)
    offset = color.mean() - base.mean()
    color = np.clip(color + np.sign(offset or 1.0) * max(0.0, 80 - abs(offset)), 0, 255)
    color = tuple(int(c) for c in color)
    _draw(draw, shape, (x1, y1, x1 + side, y1 + side), color, max(1, int(side * 0.12)))
    return image


def generate(output_dir: Path, num_images: int = 1200, *, seed: int = 0, size: int = 64) -> dict[str, int]:
    """Write about `num_images` images over the splits; returns the image count per split."""
    rng = np.random.default_rng(seed)
    per_class = max(1, num_images // len(CLASSES))
    counts = {}
    for split, share in SPLITS:
        n = max(1, round(per_class * share))
        for name in CLASSES:
            folder = output_dir / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                _image(rng, name, size).save(folder / f"{name}_{i:04d}.png")
        counts[split] = n * len(CLASSES)
    return counts

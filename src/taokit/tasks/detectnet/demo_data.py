"""A small synthetic KITTI dataset: cars, pedestrians and cyclists as distinct shapes on textured ground.

Each class has its own silhouette and aspect ratio (cars wide with wheels, pedestrians tall with a
head, cyclists two wheels under a rider), with random size, colour, position and some overlap, on
backgrounds of noise, gradients and distractor strokes. Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from taokit.engine.files import atomic_write_text

CLASSES = ("car", "pedestrian", "cyclist")


@dataclass(frozen=True)
class DemoLayout:
    width: int = 320
    height: int = 192
    max_objects: int = 5


def _background(rng: np.random.Generator, layout: DemoLayout) -> Image.Image:
    h, w = layout.height, layout.width
    base = rng.uniform(60, 190, 3)
    grad = np.linspace(-30, 30, h)[:, None, None] * rng.uniform(-1, 1, 3)
    noise = rng.normal(0, rng.uniform(4, 14), (h, w, 3))
    img = np.clip(base + grad + noise, 0, 255).astype(np.uint8)
    pil = Image.fromarray(img)
    draw = ImageDraw.Draw(pil)
    for _ in range(rng.integers(2, 7)):  # distractor strokes and blobs that are not objects
        color = tuple(int(c) for c in rng.integers(0, 255, 3))
        x, y = rng.integers(0, w), rng.integers(0, h)
        if rng.random() < 0.5:
            draw.line([(x, y), (x + rng.integers(-80, 80), y + rng.integers(-20, 20))], fill=color,
                      width=int(rng.integers(1, 4)))
        else:
            r = int(rng.integers(3, 9))
            draw.rectangle([x, y, x + r, y + r], fill=color)
    return pil


def _color(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(c) for c in rng.integers(0, 256, 3))  # type: ignore[return-value]


def _draw_car(draw: ImageDraw.ImageDraw, box: tuple[float, ...], rng: np.random.Generator) -> None:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    body = _color(rng)
    draw.rectangle([x1, y1 + 0.35 * h, x2, y1 + 0.8 * h], fill=body)
    draw.rectangle([x1 + 0.22 * w, y1, x2 - 0.22 * w, y1 + 0.4 * h], fill=body)
    draw.rectangle([x1 + 0.28 * w, y1 + 0.07 * h, x2 - 0.28 * w, y1 + 0.33 * h], fill=(170, 210, 235))
    r = 0.2 * h
    for cx in (x1 + 0.22 * w, x2 - 0.22 * w):
        draw.ellipse([cx - r, y2 - 2 * r, cx + r, y2], fill=(20, 20, 20))


def _draw_pedestrian(draw: ImageDraw.ImageDraw, box: tuple[float, ...], rng: np.random.Generator) -> None:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    cx = (x1 + x2) / 2
    draw.ellipse([cx - 0.22 * w, y1, cx + 0.22 * w, y1 + 0.18 * h], fill=(230, 190, 160))
    draw.rectangle([x1 + 0.1 * w, y1 + 0.18 * h, x2 - 0.1 * w, y1 + 0.6 * h], fill=_color(rng))
    legs = _color(rng)
    draw.rectangle([x1 + 0.15 * w, y1 + 0.6 * h, cx - 0.05 * w, y2], fill=legs)
    draw.rectangle([cx + 0.05 * w, y1 + 0.6 * h, x2 - 0.15 * w, y2], fill=legs)


def _draw_cyclist(draw: ImageDraw.ImageDraw, box: tuple[float, ...], rng: np.random.Generator) -> None:
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    r = 0.24 * w
    stroke = max(2, int(0.06 * w))
    for cx in (x1 + r, x2 - r):
        draw.ellipse([cx - r, y2 - 2 * r, cx + r, y2], outline=(25, 25, 25), width=stroke)
    frame = _color(rng)
    draw.line([(x1 + r, y2 - r), (x1 + 0.5 * w, y1 + 0.55 * h), (x2 - r, y2 - r)], fill=frame, width=stroke)
    draw.rectangle([x1 + 0.38 * w, y1 + 0.15 * h, x1 + 0.62 * w, y1 + 0.55 * h], fill=_color(rng))
    draw.ellipse([x1 + 0.4 * w, y1, x1 + 0.6 * w, y1 + 0.16 * h], fill=(230, 190, 160))


_DRAW = {"car": _draw_car, "pedestrian": _draw_pedestrian, "cyclist": _draw_cyclist}
# (min height, max height, width/height aspect) per class, in pixels of a 192-pixel-high image.
_SIZE = {"car": (26, 70, 2.0), "pedestrian": (36, 100, 0.42), "cyclist": (34, 84, 0.85)}


def _sample_box(cls: str, rng: np.random.Generator, layout: DemoLayout) -> tuple[float, float, float, float]:
    lo, hi, aspect = _SIZE[cls]
    scale = layout.height / 192.0
    h = rng.uniform(lo, hi) * scale
    w = h * aspect * rng.uniform(0.85, 1.15)
    x1 = rng.uniform(-0.1 * w, layout.width - 0.9 * w)
    y1 = rng.uniform(0.05 * layout.height, layout.height - 0.95 * h)
    return (x1, y1, x1 + w, y1 + h)


def _label_line(cls: str, box: tuple[float, ...], layout: DemoLayout) -> str:
    x1, y1, x2, y2 = box
    cx1, cy1 = max(0.0, x1), max(0.0, y1)
    cx2, cy2 = min(float(layout.width), x2), min(float(layout.height), y2)
    truncation = 1.0 - ((cx2 - cx1) * (cy2 - cy1)) / max((x2 - x1) * (y2 - y1), 1e-6)
    name = cls.capitalize() if cls != "pedestrian" else "Pedestrian"
    return (f"{name} {truncation:.2f} 0 0.00 {cx1:.2f} {cy1:.2f} {cx2:.2f} {cy2:.2f} "
            "0.00 0.00 0.00 0.00 0.00 0.00 0.00")


def render_image(rng: np.random.Generator, layout: DemoLayout) -> tuple[Image.Image, list[str]]:
    """One image and its KITTI label lines. Objects lower in the image are drawn later (in front)."""
    img = _background(rng, layout)
    draw = ImageDraw.Draw(img)
    objects = []
    for _ in range(int(rng.integers(1, layout.max_objects + 1))):
        cls = CLASSES[int(rng.integers(0, len(CLASSES)))]
        objects.append((cls, _sample_box(cls, rng, layout)))
    objects.sort(key=lambda o: o[1][3])
    kept: list[str] = []
    drawn: list[tuple[float, ...]] = []
    for cls, box in objects:
        if any(_overlap(box, other) > 0.5 for other in drawn):
            continue  # keep occlusion partial: a hidden object cannot be labelled fairly
        _DRAW[cls](draw, box, rng)
        drawn.append(box)
        kept.append(_label_line(cls, box, layout))
    return img, kept


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Fraction of box `b` covered by box `a`."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return iw * ih / max((b[2] - b[0]) * (b[3] - b[1]), 1e-6)


def generate(output_dir: Path, num_images: int = 400, num_test_images: int = 8, seed: int = 0,
             layout: DemoLayout = DemoLayout()) -> dict[str, int]:
    """Write `training/image_2`, `training/label_2` and `testing/image_2` under `output_dir`.

    Returns object counts per class.
    """
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(CLASSES, 0)
    for split, n, labelled in (("training", num_images, True), ("testing", num_test_images, False)):
        image_dir = output_dir / split / "image_2"
        image_dir.mkdir(parents=True, exist_ok=True)
        if labelled:
            (output_dir / split / "label_2").mkdir(parents=True, exist_ok=True)
        for i in range(n):
            img, lines = render_image(rng, layout)
            img.save(image_dir / f"{i:06d}.png")
            if labelled:
                atomic_write_text(output_dir / split / "label_2" / f"{i:06d}.txt", "\n".join(lines) + "\n")
                for line in lines:
                    counts[line.split()[0].lower()] += 1
    return counts

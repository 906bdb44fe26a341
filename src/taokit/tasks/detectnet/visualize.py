"""Annotated images: boxes with `class:confidence` labels in each class's bbox_color."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from taokit.data.records import Detection

_PALETTE = [(0, 255, 0), (255, 0, 0), (0, 255, 255), (255, 255, 0), (255, 0, 255), (0, 128, 255)]


def default_color(index: int) -> tuple[int, int, int]:
    return _PALETTE[index % len(_PALETTE)]


def draw_detections(image: np.ndarray, detections: list[Detection], colors: dict[str, tuple[int, int, int]],
                    line_width: int = 2) -> Image.Image:
    pil = Image.fromarray(image)
    draw = ImageDraw.Draw(pil)
    for det in detections:
        color = colors.get(det.class_name, (255, 0, 0))
        draw.rectangle([det.x1, det.y1, det.x2, det.y2], outline=color, width=max(1, line_width))
        text = f"{det.class_name}:{det.confidence:.2f}"
        left, top, right, bottom = draw.textbbox((det.x1, det.y1), text)
        y = max(0.0, det.y1 - (bottom - top) - 2)
        draw.rectangle([det.x1, y, det.x1 + (right - left) + 2, y + (bottom - top) + 2], fill=color)
        draw.text((det.x1 + 1, y), text, fill=(0, 0, 0))
    return pil

"""Decoding images for training and inference: RGB uint8 arrays, one-line errors naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from taokit.errors import DataError


def read_rgb(path: Path) -> np.ndarray:
    """Decode an image file as an (H, W, 3) uint8 RGB array (grayscale and RGBA are converted)."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except FileNotFoundError:
        raise DataError(f"{path}: image not found") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise DataError(f"{path}: cannot decode image ({str(err).splitlines()[0][:120]})") from None

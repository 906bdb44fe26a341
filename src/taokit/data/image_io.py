"""Decoding images for training and inference: RGB uint8 arrays, one-line errors naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from taokit.errors import DataError


def resize_image(image: np.ndarray, hw: tuple[int, int], interpolation: str = "bilinear") -> np.ndarray:
    """Resize an HWC image to `hw` (height, width); a no-op when it already has that size.

    Shrinking in both directions with bilinear interpolation uses area averaging instead, as
    TAO's pipelines do: bilinear sampling aliases when it drops pixels.
    """
    import cv2

    h, w = hw
    if image.shape[:2] == (h, w):
        return image
    shrink = image.shape[0] > h and image.shape[1] > w
    if interpolation == "bilinear":
        flag = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    elif interpolation == "bicubic":
        flag = cv2.INTER_CUBIC
    else:
        raise ValueError(f"unknown interpolation '{interpolation}'")
    return cv2.resize(image, (w, h), interpolation=flag)


def read_rgb(path: Path) -> np.ndarray:
    """Decode an image file as an (H, W, 3) uint8 RGB array (grayscale and RGBA are converted)."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except FileNotFoundError:
        raise DataError(f"{path}: image not found") from None
    except Image.DecompressionBombError as err:
        raise DataError(f"{path}: refusing to decode an image this large ({str(err).split('(')[0].strip()}); "
                        "a decompression bomb?") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise DataError(f"{path}: cannot decode image ({str(err).splitlines()[0][:120]})") from None

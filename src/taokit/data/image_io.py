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
    """Decode an image file as an (H, W, 3) uint8 RGB array (grayscale and RGBA are converted).

    The one decoder of training, evaluation and inference, so that a model sees the same pixels in all
    three (a tuned spec reproduces its numbers through either). PIL reads the header (size limits
    against decompression bombs); OpenCV decodes, releasing the GIL for the loader threads, with EXIF
    orientation ignored as TAO's pipelines ignore it (labels are in stored pixels). PIL decodes what
    OpenCV cannot.
    """
    import cv2

    try:
        with Image.open(path) as img:
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION) \
                if img.format in _OPENCV_FORMATS and img.mode in ("RGB", "L", "RGBA", "P", "LA", "YCbCr") else None
            if bgr is not None and bgr.shape[:2] == (img.height, img.width):
                return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            return np.asarray(img.convert("RGB"))
    except FileNotFoundError:
        raise DataError(f"{path}: image not found") from None
    except Image.DecompressionBombError as err:
        raise DataError(f"{path}: refusing to decode an image this large ({str(err).split('(')[0].strip()}); "
                        "a decompression bomb?") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as err:
        raise DataError(f"{path}: cannot decode image ({str(err).splitlines()[0][:120]})") from None


_OPENCV_FORMATS = ("JPEG", "PNG", "BMP", "TIFF", "WEBP")

"""Resizing, TAO's crops, flips, rotation, colour jitter and the three preprocessing modes.

Augmentation works on HWC uint8 RGB arrays with a numpy generator per sample (reproducible with any
number of workers); the network sees CHW uint8 in its channel order, normalised on the device.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from taokit.data.image_io import resize_image
from taokit.tasks.classification.spec.unified import AugmentSection

CROP_PADDING = 32  # TAO's center crop: resize to cover (W + 32, H + 32), then crop the middle
_DEFAULTS = {"caffe": ((103.939, 116.779, 123.68), (1.0, 1.0, 1.0)),  # BGR pixels, mean only
             "torch": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),  # RGB in [0, 1]
             "tf": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))}  # RGB in [0, 1] -> [-1, 1]


@dataclass(frozen=True)
class Preprocess:
    """x_network = (pixel * scale - mean) / std per channel, channels in BGR order when `bgr`."""

    mode: str
    bgr: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    scale: float  # 1 (caffe, pixel units) or 1/255

    @classmethod
    def from_mode(cls, mode: str, mean: list[float] | None = None, std: list[float] | None = None) -> Preprocess:
        d_mean, d_std = _DEFAULTS[mode]
        if mode == "tf":
            mean, std = None, None  # tf mode has no parameters
        return cls(mode, mode == "caffe", tuple(mean or d_mean), tuple(std or d_std),  # type: ignore[arg-type]
                   1.0 if mode == "caffe" else 1.0 / 255.0)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocess:
        return cls(data["mode"], bool(data["bgr"]), tuple(data["mean"]), tuple(data["std"]),  # type: ignore[arg-type]
                   float(data["scale"]))

    def channel_params(self) -> tuple[np.ndarray, np.ndarray]:
        """(offset, factor) per channel in pixel units: x = (pixel - offset) * factor."""
        offset = np.asarray(self.mean, np.float32) / self.scale
        factor = self.scale / np.asarray(self.std, np.float32)
        return offset, factor

    def apply(self, chw: np.ndarray) -> np.ndarray:
        """CHW uint8 (network channel order) -> CHW float32 network input."""
        offset, factor = self.channel_params()
        return ((chw.astype(np.float32) - offset[:, None, None]) * factor[:, None, None]).astype(np.float32)


def _cover(image: np.ndarray, min_w: float, min_h: float, interpolation: str) -> np.ndarray:
    """Resize keeping the aspect ratio so that the image covers min_w x min_h."""
    h, w = image.shape[:2]
    ratio = max(min_w / w, min_h / h)
    hw = (max(int(h * ratio), int(np.ceil(min_h))), max(int(w * ratio), int(np.ceil(min_w))))
    return resize_image(image, hw, interpolation)


def center_crop(image: np.ndarray, hw: tuple[int, int], interpolation: str) -> np.ndarray:
    """TAO's evaluation crop. As in TAO, an image already at the input size is left alone."""
    th, tw = hw
    if image.shape[:2] == (th, tw):
        return image
    image = _cover(image, tw + CROP_PADDING, th + CROP_PADDING, interpolation)
    h, w = image.shape[:2]
    top, left = int(round(h / 2)) - int(round(th / 2)), int(round(w / 2)) - int(round(tw / 2))
    return image[top:top + th, left:left + tw]


def random_crop(image: np.ndarray, hw: tuple[int, int], interpolation: str, fraction: tuple[float, float],
                rng: np.random.Generator) -> np.ndarray:
    """TAO's training crop: cover (W, H) / f for f ~ U(fraction), then crop W x H at a random place."""
    th, tw = hw
    if image.shape[:2] == (th, tw) and fraction[1] >= 1.0 and fraction[0] >= 1.0:
        return image
    f = rng.uniform(*fraction)
    image = _cover(image, tw / f, th / f, interpolation)
    h, w = image.shape[:2]
    top, left = int(rng.integers(0, h - th + 1)), int(rng.integers(0, w - tw + 1))
    return image[top:top + th, left:left + tw]


def color_jitter(image: np.ndarray, a: AugmentSection, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast and saturation scale by U(1 - x, 1 + x); hue turns by U(-h, h) of the circle."""
    out = image.astype(np.float32)
    if a.brightness:
        out *= rng.uniform(1 - a.brightness, 1 + a.brightness)
    if a.contrast:
        mean = out.mean()
        out = (out - mean) * rng.uniform(1 - a.contrast, 1 + a.contrast) + mean
    if a.saturation:
        gray = out @ np.asarray([0.299, 0.587, 0.114], np.float32)
        out = gray[..., None] + (out - gray[..., None]) * rng.uniform(1 - a.saturation, 1 + a.saturation)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if a.hue:
        hsv = cv2.cvtColor(out, cv2.COLOR_RGB2HSV)
        shift = int(round(rng.uniform(-a.hue, a.hue) * 180))
        hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + shift) % 180).astype(np.uint8)
        out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return out


def rotate(image: np.ndarray, angle: float) -> np.ndarray:
    if angle % 90 == 0:
        return np.ascontiguousarray(np.rot90(image, -int(angle // 90) % 4))
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REFLECT)


@dataclass(frozen=True)
class TrainTransform:
    hw: tuple[int, int]
    interpolation: str
    augment: AugmentSection

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        a = self.augment
        if a.random_crop:
            image = random_crop(image, self.hw, self.interpolation, (a.crop_fraction_min, a.crop_fraction_max), rng)
        image = resize_image(image, self.hw, self.interpolation)
        if a.color_probability and rng.random() < a.color_probability:
            image = color_jitter(image, a, rng)
        if a.hflip_probability and rng.random() < a.hflip_probability:
            image = image[:, ::-1]
        if a.vflip_probability and rng.random() < a.vflip_probability:
            image = image[::-1]
        if a.rotate_probability and a.rotate_angles and rng.random() < a.rotate_probability:
            image = resize_image(rotate(image, float(rng.choice(a.rotate_angles))), self.hw, self.interpolation)
        return image


@dataclass(frozen=True)
class EvalTransform:
    hw: tuple[int, int]
    interpolation: str
    center_crop: bool

    def __call__(self, image: np.ndarray) -> np.ndarray:
        if self.center_crop:
            image = center_crop(image, self.hw, self.interpolation)
        return resize_image(image, self.hw, self.interpolation)


def to_network(image: np.ndarray, bgr: bool) -> np.ndarray:
    """HWC uint8 RGB -> CHW uint8 in the network's channel order."""
    chw = image.transpose(2, 0, 1)
    return np.ascontiguousarray(chw[::-1] if bgr else chw)

"""Torch datasets for LaneNet: images at the network size with binary and instance targets drawn on the fly.

Targets are the label polylines drawn `lane_width` pixels thick (at 1280 px image width, scaled), through
dashes and occlusions as the labels run. Training samples are addressed as (epoch, index) and augmented
with a generator seeded by (seed, epoch, index): runs are reproducible with any number of workers.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from taokit.data.image_io import read_rgb, resize_image
from taokit.tasks.common.readable import ReadableSamples
from taokit.tasks.lanenet.data import LaneSample
from taokit.tasks.lanenet.spec import LaneNetExperiment


def draw_targets(lanes: list[np.ndarray], hw: tuple[int, int], thickness: int) -> tuple[np.ndarray, np.ndarray]:
    """(binary 0/1, instance 0..K) masks of the lanes (network pixels) at size `hw`."""
    binary = np.zeros(hw, np.uint8)
    instances = np.zeros(hw, np.uint8)
    far = 16 * max(hw)  # a label point absurdly far outside would overflow int32; its line still leaves the image
    for k, lane in enumerate(lanes, start=1):
        points = np.clip(np.round(lane), -far, far).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(instances, [points], False, k, thickness)
    binary[instances > 0] = 1
    return binary, instances


def line_thickness(lane_width: int, network_width: int) -> int:
    return max(2, int(round(lane_width * network_width / 1280)))


def augment(image: np.ndarray, lanes: list[np.ndarray], spec: LaneNetExperiment, rng: np.random.Generator
            ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Random zoom (a magnification: crop-and-resize in, pad out) and horizontal flip; lanes move with the pixels.

    Both zooms change the frame, not the pixels: to_network's one resize to the network input does the
    scaling, so a zoomed image costs no extra resample.
    """
    a = spec.augmentation_config
    h, w = image.shape[:2]
    lanes = [lane.copy() for lane in lanes]
    zoom = rng.uniform(a.zoom_min, a.zoom_max) if rng.random() < a.crop_and_resize_prob else 1.0
    if zoom > 1.0:  # a window of 1/zoom of each side
        cw, ch = max(1, int(round(w / zoom))), max(1, int(round(h / zoom)))
        x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        image = image[y0:y0 + ch, x0:x0 + cw]
        for lane in lanes:
            lane -= (x0, y0)
    elif zoom < 1.0:  # the image on a black canvas 1/zoom of each side
        cw, ch = int(round(w / zoom)), int(round(h / zoom))
        x0, y0 = int(rng.integers(0, cw - w + 1)), int(rng.integers(0, ch - h + 1))
        canvas = np.zeros((ch, cw, *image.shape[2:]), image.dtype)
        canvas[y0:y0 + h, x0:x0 + w] = image
        image = canvas
        for lane in lanes:
            lane += (x0, y0)
    if rng.random() < a.horizontal_flip:
        image = image[:, ::-1]
        for lane in lanes:
            lane[:, 0] = image.shape[1] - 1 - lane[:, 0]
    return np.ascontiguousarray(image), lanes


def to_network(image: np.ndarray, lanes: list[np.ndarray], hw: tuple[int, int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Resize to the network input; lane points scale with it."""
    h, w = image.shape[:2]
    scale = np.array([hw[1] / w, hw[0] / h], np.float32)
    return resize_image(image, hw), [lane * scale for lane in lanes]


class TrainDataset(Dataset):
    def __init__(self, samples: list[LaneSample], spec: LaneNetExperiment, seed: int) -> None:
        self.samples, self.spec, self.seed = samples, spec, seed
        self.hw = spec.input_hw
        self.thickness = line_thickness(spec.train_config.lane_width, self.hw[1])
        self.readable = ReadableSamples(len(samples))

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        epoch, index = key
        return self.readable.get(index, lambda i: self._load(epoch, i))

    def _load(self, epoch: int, index: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        sample = self.samples[index]
        rng = np.random.default_rng((self.seed, epoch, index))
        image, lanes = augment(read_rgb(sample.image), list(sample.lanes), self.spec, rng)
        image, lanes = to_network(image, lanes, self.hw)
        binary, instances = draw_targets(lanes, self.hw, self.thickness)
        return (torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))), torch.from_numpy(binary),
                torch.from_numpy(instances))


class EvalDataset(Dataset):
    """(image CHW uint8 at the network size, original (height, width), index) for evaluation."""

    def __init__(self, samples: list[LaneSample], hw: tuple[int, int]) -> None:
        self.samples, self.hw = samples, hw
        self.readable = ReadableSamples(len(samples))

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        return self.readable.get(index, self._load)

    def _load(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        image = read_rgb(self.samples[index].image)
        resized = resize_image(image, self.hw)
        return (torch.from_numpy(np.ascontiguousarray(resized.transpose(2, 0, 1))),
                torch.tensor(image.shape[:2]), index)

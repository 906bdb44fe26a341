"""Torch datasets for DetectNet_v2: records -> (uint8 image, coverage/bbox targets) at the network size.

Training samples are addressed as (epoch, index) by `engine.sampler.EpochSampler`, and every random draw of the
augmentation comes from a generator seeded with (seed, epoch, index): runs are reproducible with any
number of workers and resume exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from taokit.data.image_io import read_rgb
from taokit.data.records import DatasetReport, ImageRecord
from taokit.tasks.common.readable import ReadableSamples
from taokit.tasks.detectnet.augment import augment, crop_and_resize, mosaic
from taokit.tasks.detectnet.loss_mask import build_loss_mask
from taokit.tasks.detectnet.spec import DetectNetExperiment
from taokit.tasks.detectnet.targets import RasterizerClass, RasterizerParams, rasterize


@dataclass(frozen=True)
class Sample:
    """An image and its target-class boxes (original pixels)."""

    image: Path
    boxes: np.ndarray  # (K, 4) float32
    class_ids: np.ndarray  # (K,) int64, index into the network's classes


def to_samples(records: list[ImageRecord], class_names: list[str], mapping: dict[str, str],
               report: DatasetReport | None = None) -> list[Sample]:
    """Map source classes to target classes (TAO's target_class_mapping); unmapped ones are counted."""
    index = {name: i for i, name in enumerate(class_names)}
    mapping = mapping or {name: name for name in class_names}
    samples = []
    for record in records:
        boxes, ids = [], []
        for box in record.boxes:
            target = mapping.get(box.class_name)
            if target is None or target not in index:
                if report is not None:
                    report.unknown_classes[box.class_name] = report.unknown_classes.get(box.class_name, 0) + 1
                continue
            boxes.append((box.x1, box.y1, box.x2, box.y2))
            ids.append(index[target])
        samples.append(Sample(Path(record.image), np.asarray(boxes, np.float32).reshape(-1, 4),
                              np.asarray(ids, np.int64)))
    return samples


def rasterizer_params(spec: DetectNetExperiment, grid_hw: tuple[int, int]) -> RasterizerParams:
    """The targets' geometry; `grid_hw` is the model's output grid (its stride decides it, not the spec)."""
    classes = tuple(RasterizerClass(**spec.rasterizer_config(n).model_dump()) for n in spec.class_names)
    bbox = spec.model_config_.objective_set.bbox
    return RasterizerParams(classes, spec.bbox_rasterizer_config.deadzone_radius, spec.input_hw, grid_hw,
                            bbox.scale, bbox.offset)


class TrainDataset(Dataset):
    """Augmented images with their rasterized targets."""

    def __init__(self, samples: list[Sample], spec: DetectNetExperiment, seed: int, grid_hw: tuple[int, int],
                 augment_images: bool = True, strict: bool = False):
        self.samples = samples
        self.readable = ReadableSamples(len(samples), strict)
        self.pre = spec.augmentation_config.preprocessing
        self.spatial = spec.augmentation_config.spatial_augmentation
        self.color = spec.augmentation_config.color_augmentation
        self.params = rasterizer_params(spec, grid_hw)
        self.seed = seed
        self.epochs = spec.training_config.num_epochs
        self.augment_images = augment_images
        # (C, 2, H, W) cost weights as a fifth item, only when loss_mask_label_filter has filters
        self.loss_mask = build_loss_mask(spec.loss_mask_label_filter, spec.class_names)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: tuple[int, int] | int) -> tuple[torch.Tensor, ...]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        return self.readable.get(index, lambda i: self._load(epoch, i))

    def _load(self, epoch: int, index: int) -> tuple[torch.Tensor, ...]:
        image, boxes, class_ids = self.resized(index)
        if self.augment_images:
            image, boxes, class_ids = self.augmented(epoch, index, image, boxes, class_ids)
        image, boxes, class_ids = self.keep_trainable(image, boxes, class_ids)
        t = rasterize(boxes, class_ids, self.params)
        out = (torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))), torch.from_numpy(t.cov),
               torch.from_numpy(t.bbox), torch.from_numpy(t.cov_norm))
        if self.loss_mask is None:
            return out
        return (*out, torch.from_numpy(self.loss_mask.rasterize(boxes, class_ids, t.cov, self.params.input_hw)))

    def keep_trainable(self, image: np.ndarray, boxes: np.ndarray, class_ids: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The boxes that become targets: min_bbox_width/height, and as TAO none narrower than a pixel (TAO
        drops those when reading labels; here after augmentation, which makes new ones)."""
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        keep = (w >= max(self.pre.min_bbox_width, 1.0)) & (h >= max(self.pre.min_bbox_height, 1.0))
        return image, boxes[keep], class_ids[keep]

    def resized(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sample `index` at the network input size, before augmentation."""
        sample = self.samples[index]
        image, boxes = crop_and_resize(read_rgb(sample.image), sample.boxes, self.pre)
        return image, boxes, sample.class_ids

    def mosaic_in(self, epoch: int) -> bool:
        """Whether epoch `epoch` (1-based) may draw mosaics: not in the last `close_mosaic_epochs`."""
        return self.spatial.mosaic_probability > 0 and epoch <= self.epochs - self.spatial.close_mosaic_epochs

    def augmented(self, epoch: int, index: int, image: np.ndarray, boxes: np.ndarray, class_ids: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The sample as training sees it at `epoch`: every draw seeded by (seed, epoch, index)."""
        rng = np.random.default_rng((self.seed, epoch, index))
        area = None
        tiled = self.mosaic_in(epoch) and rng.random() < self.spatial.mosaic_probability
        if tiled:
            others = rng.integers(0, len(self.samples), 3)
            pieces = [(image, boxes, class_ids), *(self.resized(int(i)) for i in others)]
            image, boxes, class_ids, area = mosaic(pieces, rng)
        out_hw = (self.pre.output_image_height, self.pre.output_image_width)
        image, boxes, keep = augment(image, boxes, self.spatial, self.color, rng, out_hw, centred=tiled,
                                     source_area=area)
        return image, boxes[keep], class_ids[keep]


class EvalDataset(Dataset):
    """Images at the network size with their ground truth in network-input pixels.

    Evaluation happens in network-input coordinates, as in TAO (whose images already have that size):
    per-axis scaling leaves IoU unchanged, and evaluation_box_config sizes mean network pixels.
    """

    def __init__(self, samples: list[Sample], spec: DetectNetExperiment, strict: bool = False) -> None:
        self.samples = samples
        self.pre = spec.augmentation_config.preprocessing
        self.readable = ReadableSamples(len(samples), strict)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
        return self.readable.get(index, self._load)

    def _load(self, index: int) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
        sample = self.samples[index]
        image, boxes = crop_and_resize(read_rgb(sample.image), sample.boxes, self.pre)
        keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        return (torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))), boxes[keep],
                sample.class_ids[keep])


def collate_eval(batch: list[tuple[torch.Tensor, np.ndarray, np.ndarray]]) -> tuple[torch.Tensor, list, list]:
    images, boxes, ids = zip(*batch, strict=True)
    return torch.stack(images), list(boxes), list(ids)

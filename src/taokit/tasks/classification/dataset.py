"""Torch datasets for classification: (CHW uint8 image, label) pairs, and batch-level mixup.

Training samples are addressed as (epoch, index) and augmented with a generator seeded by
(seed, epoch, index), so runs are reproducible with any number of workers and resume exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from taokit.data.image_io import read_rgb
from taokit.tasks.classification.transforms import EvalTransform, TrainTransform, to_network
from taokit.tasks.common.readable import ReadableSamples


class TrainDataset(Dataset):
    def __init__(self, samples: list[tuple[Path, int]], transform: TrainTransform, bgr: bool, seed: int) -> None:
        self.samples, self.transform, self.bgr, self.seed = samples, transform, bgr, seed
        self.readable = ReadableSamples(len(samples))

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: tuple[int, int]) -> tuple[torch.Tensor, int]:
        epoch, index = key
        return self.readable.get(index, lambda i: self._load(epoch, i))

    def _load(self, epoch: int, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        rng = np.random.default_rng((self.seed, epoch, index))
        image = self.transform(read_rgb(path), rng)
        return torch.from_numpy(to_network(image, self.bgr)), label


class EvalDataset(Dataset):
    def __init__(self, samples: list[tuple[Path, int]], transform: EvalTransform, bgr: bool) -> None:
        self.samples, self.transform, self.bgr = samples, transform, bgr
        self.readable = ReadableSamples(len(samples))

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.readable.get(index, self._load)

    def _load(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        return torch.from_numpy(to_network(self.transform(read_rgb(path)), self.bgr)), label


class MixUp:
    """mixup (Zhang et al.): blend each batch with a shuffled copy, lambda ~ Beta(alpha, alpha).

    Keeps its own generator so that a resumed run draws the same lambdas (saved in checkpoints).
    """

    def __init__(self, alpha: float, seed: int) -> None:
        self.alpha = alpha
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
        """(mixed images, shuffled labels, lambda): the loss is lam * CE(labels) + (1 - lam) * CE(shuffled)."""
        if self.alpha <= 0:
            return images, labels, 1.0
        gamma = torch._standard_gamma(torch.full((2,), self.alpha), generator=self.generator)
        lam = float(gamma[0] / gamma.sum())
        perm = torch.randperm(images.shape[0], generator=self.generator).to(images.device)
        return images * lam + images[perm] * (1 - lam), labels[perm], lam

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.set_state(state["generator"])

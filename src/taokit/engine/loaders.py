"""The training DataLoader every task uses, so that the three differ only in their datasets."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

from taokit.engine.sampler import EpochSampler


def training_loader(dataset: Dataset[Any], sampler: EpochSampler, *, batch_size: int, workers: int,
                    device: torch.device, collate_fn: Callable[[list[Any]], Any] | None = None) -> DataLoader[Any]:
    """Batches of a rank's share of an epoch.

    Workers are clamped to the CPU count (a spec written for a 32-core server must run on a laptop) and kept
    across epochs; a batch is at most the rank's share; the partial last batch is dropped when there is more
    than one, so every step sees a full batch (BatchNorm statistics from a few images are noise); memory is
    pinned for CUDA.
    """
    workers = min(workers, os.cpu_count() or 1)
    batch = min(batch_size, len(sampler))
    return DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=workers, drop_last=len(sampler) > batch,
                      persistent_workers=workers > 0, pin_memory=device.type == "cuda",
                      prefetch_factor=2 if workers else None, collate_fn=collate_fn)

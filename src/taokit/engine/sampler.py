"""The training sampler every task uses: a seeded shuffle per epoch, split evenly across DDP ranks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import Sampler

from taokit.engine.hooks import Hook, LoopState


class EpochSampler(Sampler[tuple[int, int]]):
    """Yields (epoch, index) pairs, so datasets can seed their augmentation by (seed, epoch, index).

    The order depends only on (seed, epoch): a resumed run sees the same batches as an uninterrupted
    one, whatever the number of workers. Ranks get equally many samples (the order wraps around), so
    no rank waits for another at the last step of an epoch.
    """

    def __init__(self, size: int, seed: int, *, shuffle: bool = True, rank: int = 0, world_size: int = 1) -> None:
        self.size, self.seed, self.shuffle = size, seed, shuffle
        self.rank, self.world_size = rank, world_size
        self.epoch = 1

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-self.size // self.world_size)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        if self.shuffle:
            order = np.random.default_rng((self.seed, self.epoch)).permutation(self.size)
        else:
            order = np.arange(self.size)
        order = np.resize(order, len(self) * self.world_size)
        for index in order[self.rank :: self.world_size]:
            yield self.epoch, int(index)


class SamplerEpoch(Hook):
    """Tells an EpochSampler which epoch starts, so each epoch (and a resumed one) has its own order."""

    def __init__(self, sampler: EpochSampler) -> None:
        self.sampler = sampler

    def before_epoch(self, state: LoopState) -> None:
        self.sampler.set_epoch(state.epoch)

"""The fit loop's one callback protocol: tasks add behaviour at epoch and validation boundaries.

A hook overrides only what it needs. Every method runs on every DDP rank except `after_validation`,
which runs where validation runs (the main rank); `state.is_main` tells a hook where it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from taokit.engine.tensorboard import EventWriter


@dataclass
class LoopState:
    """What a hook may read: where the loop is, the (unwrapped) model and the TensorBoard writer."""

    epoch: int
    epochs: int
    is_main: bool
    model: nn.Module
    events: EventWriter
    lr: float = 0.0  # the learning rate of the last step


class Hook:
    def before_epoch(self, state: LoopState) -> None:
        """Before the first batch of `state.epoch` (e.g. reset per-epoch meters)."""

    def after_validation(self, state: LoopState, metrics: dict[str, float]) -> None:
        """Main rank only, model in eval mode under no_grad (e.g. TensorBoard previews)."""

    def after_epoch(self, state: LoopState, kpi: dict[str, Any]) -> None:
        """After the epoch's training, validation and status line; `kpi` is what status.json got."""
